// HttpRequestReader: framing, fragments, pipelining, keep-alive and its size bound.
#include <gtest/gtest.h>

#include "http_request_reader.hpp"
#include "http_response_writer.hpp"

namespace swas::emulator {
namespace {

using Status = HttpRequestReader::Status;

const char kPost[] =
    "POST /?InstanceId=i-1&RegionId=cn-hangzhou HTTP/1.1\r\n"
    "Host: localhost:8443\r\n"
    "x-acs-action: StopInstance\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "hello";

TEST(HttpRequestReader, ReadsOneRequest) {
  HttpRequestReader reader;
  ASSERT_EQ(reader.feed(kPost), Status::kComplete);
  bool keep_alive = false;
  const HttpRequest request = reader.take(keep_alive);
  EXPECT_TRUE(keep_alive);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/?InstanceId=i-1&RegionId=cn-hangzhou");
  EXPECT_EQ(*find_header(request.headers, "host"), "localhost:8443");
  EXPECT_EQ(*find_header(request.headers, "X-ACS-ACTION"), "StopInstance");
  EXPECT_EQ(request.body, "hello");
  EXPECT_EQ(reader.feed({}), Status::kNeedMore);
}

TEST(HttpRequestReader, ReadsByteByByte) {
  HttpRequestReader reader;
  const std::string text = kPost;
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    ASSERT_EQ(reader.feed(text.substr(i, 1)), Status::kNeedMore) << i;
  ASSERT_EQ(reader.feed(text.substr(text.size() - 1)), Status::kComplete);
  bool keep_alive = false;
  const HttpRequest request = reader.take(keep_alive);
  EXPECT_EQ(*find_header(request.headers, "x-acs-action"), "StopInstance");
  EXPECT_EQ(request.headers.size(), 3u);
  EXPECT_EQ(request.body, "hello");
}

TEST(HttpRequestReader, KeepsPipelinedRequestForTheNextTake) {
  HttpRequestReader reader;
  const std::string two = std::string(kPost) +
                          "GET /__emulator/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(reader.feed(two), Status::kComplete);
  bool keep_alive = false;
  EXPECT_EQ(reader.take(keep_alive).method, "POST");
  ASSERT_EQ(reader.feed({}), Status::kComplete);
  const HttpRequest second = reader.take(keep_alive);
  EXPECT_EQ(second.method, "GET");
  EXPECT_EQ(second.target, "/__emulator/state");
  EXPECT_FALSE(keep_alive);
}

TEST(HttpRequestReader, Http10WithoutKeepAliveCloses) {
  HttpRequestReader reader;
  ASSERT_EQ(reader.feed("GET / HTTP/1.0\r\n\r\n"), Status::kComplete);
  bool keep_alive = true;
  reader.take(keep_alive);
  EXPECT_FALSE(keep_alive);
}

TEST(HttpRequestReader, DecodesChunkedBody) {
  HttpRequestReader reader;
  ASSERT_EQ(reader.feed("POST /__emulator/faults HTTP/1.1\r\nHost: x\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n0\r\n\r\n"),
            Status::kComplete);
  bool keep_alive = false;
  EXPECT_EQ(reader.take(keep_alive).body, "{\"a\":");
}

TEST(HttpRequestReader, RefusesRequestsOverTheBound) {
  HttpRequestReader streamed(1024);
  EXPECT_EQ(streamed.feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Status::kNeedMore);
  Status status = Status::kNeedMore;
  for (int i = 0; i < 20 && status == Status::kNeedMore; ++i)
    status = streamed.feed("64\r\n" + std::string(100, 'x') + "\r\n");
  EXPECT_EQ(status, Status::kTooLarge);
  EXPECT_EQ(streamed.feed("more"), Status::kTooLarge);  // stays failed

  HttpRequestReader announced(1024);
  EXPECT_EQ(announced.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"),
            Status::kTooLarge);

  HttpRequestReader headers(limits::kMaxHttpRequestBytes);
  std::string huge = "GET / HTTP/1.1\r\nX-Big: " + std::string(limits::kMaxHttpRequestBytes, 'a');
  EXPECT_EQ(headers.feed(huge), Status::kTooLarge);
}

TEST(HttpRequestReader, RefusesGarbage) {
  HttpRequestReader reader;
  EXPECT_EQ(reader.feed("\x16\x03\x01 not http\r\n\r\n"), Status::kMalformed);
}

TEST(HttpResponseWriter, AddsLengthAndConnection) {
  HttpResponse response{200, {{"x-acs-request-id", "ID"}}, "{}"};
  EXPECT_EQ(serialize_http_response(response, true),
            "HTTP/1.1 200 OK\r\nx-acs-request-id: ID\r\nContent-Length: 2\r\n"
            "Connection: keep-alive\r\n\r\n{}");
  response.status = 503;
  EXPECT_NE(serialize_http_response(response, false).find("503 Service Unavailable\r\n"),
            std::string::npos);
  EXPECT_NE(serialize_http_response(response, false).find("Connection: close\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace swas::emulator
