// Platform pieces that need no network: HTTP response framing, the bounded queue, the CLI, files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "cli.hpp"
#include "files.hpp"
#include "http_response_reader.hpp"
#include "mbedtls_https_client.hpp"
#include "work_queue.hpp"

namespace swas {
namespace {

HttpResponseReader::State feed_all(HttpResponseReader& r, const std::string& s, std::size_t step) {
  for (std::size_t i = 0; i < s.size() && r.state() == HttpResponseReader::State::NeedMore; i += step)
    r.feed(s.data() + i, std::min(step, s.size() - i));
  return r.state();
}

TEST(HttpResponseReader, ContentLengthInAnySplit) {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Thu, 26 Oct 2023 10:22:32 GMT\r\n"
                           "Content-Length: 16\r\n\r\n{\"RequestId\":\"R\"}";
  for (std::size_t step : {1u, 3u, 7u, 1000u}) {
    HttpResponseReader r(64 * 1024);
    // Content-Length 16 is one short of the body: the reader must stop at exactly 16 bytes.
    ASSERT_EQ(feed_all(r, wire, step), HttpResponseReader::State::Complete) << step;
    EXPECT_EQ(r.response().status, 200);
    EXPECT_EQ(r.response().body, "{\"RequestId\":\"R\"");
    EXPECT_EQ(*find_header(r.response().headers, "date"), "Thu, 26 Oct 2023 10:22:32 GMT");
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST(HttpResponseReader, Chunked) {
  const std::string wire = "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"Cod\r\n"
                           "a\r\ne\":\"X\"}xxx\r\n0\r\n\r\n";
  HttpResponseReader r(64 * 1024);
  ASSERT_EQ(feed_all(r, wire, 2), HttpResponseReader::State::Complete);
  EXPECT_EQ(r.response().status, 403);
  EXPECT_EQ(r.response().body, "{\"Code\":\"X\"}xxx");
}

TEST(HttpResponseReader, ConnectionCloseAndReadUntilEof) {
  HttpResponseReader r(64 * 1024);
  const std::string wire = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody";
  EXPECT_EQ(feed_all(r, wire, 5), HttpResponseReader::State::NeedMore);
  EXPECT_EQ(r.feed(nullptr, 0), HttpResponseReader::State::Complete);
  EXPECT_EQ(r.response().body, "body");
  EXPECT_FALSE(r.keep_alive());
}

TEST(HttpResponseReader, ErrorsAndBounds) {
  {
    HttpResponseReader r(64 * 1024);
    EXPECT_EQ(feed_all(r, "NOT HTTP\r\n\r\n", 100), HttpResponseReader::State::Error);
  }
  {
    HttpResponseReader r(64 * 1024);
    EXPECT_EQ(r.feed(nullptr, 0), HttpResponseReader::State::Error);
    EXPECT_EQ(r.bytes_seen(), 0u);
  }
  {
    HttpResponseReader r(64 * 1024);
    feed_all(r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100);
    EXPECT_EQ(r.feed(nullptr, 0), HttpResponseReader::State::Error);  // truncated body
  }
  {
    HttpResponseReader r(100);
    EXPECT_EQ(feed_all(r, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + std::string(500, 'x'), 50),
              HttpResponseReader::State::Error);
    EXPECT_NE(r.error().find("larger than 100"), std::string::npos);
  }
}

TEST(HttpResponseReader, InterimResponsesAreSkippedWithinBounds) {
  const std::string final_answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (std::size_t step : {1u, 5u, 1000u}) {
    HttpResponseReader r(64 * 1024);
    ASSERT_EQ(feed_all(r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + final_answer, step),
              HttpResponseReader::State::Complete) << step;
    EXPECT_EQ(r.response().status, 200);
    EXPECT_EQ(r.response().body, "ok");
    EXPECT_EQ(r.response().headers.size(), 1u) << "the interim response's headers were kept";
    EXPECT_TRUE(r.keep_alive());
    EXPECT_FALSE(r.trailing_bytes());
  }
  std::string four, five;
  for (int i = 0; i < 4; ++i) four += "HTTP/1.1 100 Continue\r\n\r\n";
  five = four + "HTTP/1.1 100 Continue\r\n\r\n";
  {
    HttpResponseReader r(64 * 1024);
    EXPECT_EQ(feed_all(r, four + final_answer, 7), HttpResponseReader::State::Complete);
  }
  {
    HttpResponseReader r(64 * 1024);
    EXPECT_EQ(feed_all(r, five + final_answer, 7), HttpResponseReader::State::Error);
    EXPECT_NE(r.error().find("interim"), std::string::npos) << r.error();
  }
  {
    HttpResponseReader r(64 * 1024);  // the agent never asks to switch protocols
    EXPECT_EQ(feed_all(r, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n" + final_answer, 3),
              HttpResponseReader::State::Error);
  }
  {
    HttpResponseReader r(60);  // interim responses count towards the size bound
    EXPECT_EQ(feed_all(r, "HTTP/1.1 100 Continue\r\nX: " + std::string(20, 'y') + "\r\n\r\n" + final_answer, 1000),
              HttpResponseReader::State::Error);
  }
}

TEST(HttpResponseReader, BytesAfterTheResponseAreReported) {
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  {
    HttpResponseReader r(64 * 1024);
    EXPECT_EQ(r.feed(answer.data(), answer.size()), HttpResponseReader::State::Complete);
    EXPECT_FALSE(r.trailing_bytes());
  }
  {
    HttpResponseReader r(64 * 1024);
    const std::string two = answer + answer;
    EXPECT_EQ(r.feed(two.data(), two.size()), HttpResponseReader::State::Complete);
    EXPECT_EQ(r.response().body, "ok");
    EXPECT_TRUE(r.trailing_bytes());
  }
}

TEST(SerializeRequest, AddsContentLength) {
  HttpRequest req{"POST", "/?a=b", {{"host", "h"}}, ""};
  EXPECT_EQ(serialize_request(req), "POST /?a=b HTTP/1.1\r\nhost: h\r\nContent-Length: 0\r\n\r\n");
}

TEST(WorkQueue, BoundedAndDrainsAfterClose) {
  WorkQueue<int> q(2);
  int a = 1, b = 2, c = 3;
  EXPECT_TRUE(q.try_push(a));
  EXPECT_TRUE(q.try_push(b));
  EXPECT_FALSE(q.try_push(c));  // at the bound: refused at once, item untouched
  EXPECT_EQ(c, 3);
  q.close();
  EXPECT_FALSE(q.try_push(c));
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(Cli, Forms) {
  auto o = parse_cli({"--config", "/x.json", "--log-level=debug", "--check-config"});
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->config_path, "/x.json");
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_TRUE(o->check_config);
  EXPECT_FALSE(parse_cli({"--config"}).has_value());
  EXPECT_FALSE(parse_cli({"--log-level", "loud"}).has_value());
  EXPECT_FALSE(parse_cli({"extra"}).has_value());
  EXPECT_EQ(parse_cli({"--gateway-id", "gw-9"})->gateway_id, "gw-9");
  EXPECT_FALSE(parse_cli({"--gateway-id"}).has_value());
  EXPECT_TRUE(parse_cli({"--help"})->help);
  EXPECT_TRUE(parse_cli({"--version"})->version);
  EXPECT_NE(usage_text().find("--check-config"), std::string::npos);
}

TEST(Files, PrivateFileCheckNamesTheModeAndFix) {
  const std::string path = ::testing::TempDir() + "/secret-test.json";
  std::ofstream(path) << "{}";
  ::chmod(path.c_str(), 0644);
  auto err = check_private_file(path);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("0644"), std::string::npos);
  EXPECT_NE(err->find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  EXPECT_FALSE(check_private_file(path).has_value());
  ::chmod(path.c_str(), 0400);
  EXPECT_FALSE(check_private_file(path).has_value());
  auto big = read_text_file(path, 1);
  EXPECT_FALSE(big.has_value());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace swas
