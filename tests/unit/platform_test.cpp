// Platform pieces that need no network: HTTP response framing, the bounded queue, the CLI, files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "files.hpp"
#include "http_response_reader.hpp"
#include "limits.hpp"
#include "mbedtls_https_client.hpp"
#include "stderr_logger.hpp"
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

// The bounds themselves (docs/limits.md): a response of exactly limits::kMaxHttpResponseBytes, head
// and body, is read and one byte more is refused; 100 header lines are read and a 101st refused.
TEST(HttpResponseReader, TheSizeAndHeaderBoundsAreReachedAndNotPassed) {
  const std::size_t max = limits::kMaxHttpResponseBytes;
  const auto answer = [](std::size_t total, int headers) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n";
    for (int i = 1; i < headers - 1; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
    const std::size_t fixed = head.size() + std::string("X-Pad: \r\n\r\nok").size();
    return head + "X-Pad: " + std::string(total - fixed, 'p') + "\r\n\r\nok";
  };
  ASSERT_EQ(answer(max, 2).size(), max);
  for (const std::size_t step : {std::size_t{4096}, std::size_t{16384}, max}) {
    HttpResponseReader at(max);
    EXPECT_EQ(feed_all(at, answer(max, 2), step), HttpResponseReader::State::Complete) << step << ": " << at.error();
    EXPECT_EQ(at.response().body, "ok");
    HttpResponseReader over(max);
    EXPECT_EQ(feed_all(over, answer(max + 1, 2), step), HttpResponseReader::State::Error) << step;
    EXPECT_NE(over.error().find("larger than 65536"), std::string::npos) << over.error();
  }
  HttpResponseReader hundred(max);
  EXPECT_EQ(feed_all(hundred, answer(3000, 100), 7), HttpResponseReader::State::Complete) << hundred.error();
  EXPECT_EQ(hundred.response().headers.size(), 100u);
  HttpResponseReader hundred_and_one(max);
  EXPECT_EQ(feed_all(hundred_and_one, answer(3000, 101), 7), HttpResponseReader::State::Error);
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

// --- push_wait and pop_many (commit cd7cfa1) ---------------------------------------------------
// "Blocked" is observed, not timed: a thread under test is blocked when the scheduler shows it
// asleep ('S' in /proc) before it returned, while nothing else holds the queue's lock. Time limits
// only end a test that would otherwise hang, as a failure.

// The scheduler state of thread `tid` of this process ('R' running, 'S' asleep, '?' gone).
char thread_state(long tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(f, line);
  const auto name_end = line.rfind(')');  // the thread's name may hold spaces and parentheses
  return name_end == std::string::npos || name_end + 2 >= line.size() ? '?' : line[name_end + 2];
}

// Waits (yielding) until `done()` holds; false after 20 s, which only a failing run reaches.
bool eventually(const std::function<bool()>& done) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::yield();
  }
  return true;
}

// Runs `body` on a thread of its own and says whether it is blocked (asleep before it returned).
class Actor {
 public:
  explicit Actor(std::function<void()> body)
      : thread_([this, b = std::move(body)] {
          tid_ = ::syscall(SYS_gettid);
          started_ = true;
          b();
          returned_ = true;
        }) {}
  ~Actor() {
    if (thread_.joinable()) thread_.join();
  }
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;
  // Waits until the thread is asleep (true) or has returned (false).
  bool blocks() {
    EXPECT_TRUE(eventually([this] { return started_.load(); }));
    EXPECT_TRUE(eventually([this] { return returned_ || thread_state(tid_) == 'S'; }));
    return !returned_;
  }
  // Waits until the thread returned; false (a failure) when it never does within the limit.
  bool returns() { return eventually([this] { return returned_.load(); }); }
  bool returned() const { return returned_; }

 private:
  std::atomic<long> tid_{0};
  std::atomic<bool> started_{false}, returned_{false};
  std::thread thread_;  // last: starts once the flags exist
};

// Declared after a test's threads: at its end (also of a test that failed) wakes whatever still waits
// on `q`, so that those threads can be joined.
template <typename T>
class Release {
 public:
  explicit Release(WorkQueue<T>& q) : q_(q) {}
  Release(const Release&) = delete;
  Release& operator=(const Release&) = delete;
  ~Release() {
    q_.close();
    q_.force_push(T{});
    std::vector<T> rest;
    q_.pop_many(rest, 1u << 20);  // wakes every pusher, even with a close() that does not
  }

 private:
  WorkQueue<T>& q_;
};

TEST(WorkQueue, PushWaitBlocksWhileFullAndTakesTheRoomAPopMakes) {
  WorkQueue<int> q(1);
  int first = 1;
  ASSERT_TRUE(q.push_wait(first));  // room: returns at once
  std::atomic<bool> pushed{false};
  Actor pusher([&] {
    int second = 2;
    pushed = q.push_wait(second);
  });
  Release<int> release(q);
  ASSERT_TRUE(pusher.blocks());
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.pop(), 1);
  ASSERT_TRUE(pusher.returns()) << "the pop's room never reached the waiting pusher";
  EXPECT_TRUE(pushed);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.pop(), 2);
}

TEST(WorkQueue, PushWaitOnAClosedQueueIsRefusedAtOnceAndLeavesTheItem) {
  WorkQueue<std::string> q(1);
  std::string kept = "kept";
  ASSERT_TRUE(q.push_wait(kept));
  q.close();
  // Full and closed: refused, not blocked.
  std::atomic<bool> refused{false};
  std::string item = "untouched";
  {
    Actor pusher([&] { refused = !q.push_wait(item); });
    Release<std::string> release(q);
    EXPECT_FALSE(pusher.blocks()) << "push_wait waits on a closed queue";
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(item, "untouched");
  // Closed with room: refused too.
  WorkQueue<std::string> empty(4);
  empty.close();
  EXPECT_FALSE(empty.push_wait(item));
  EXPECT_EQ(item, "untouched");
  EXPECT_EQ(empty.size(), 0u);
}

TEST(WorkQueue, CloseReleasesEveryBlockedPusherWithItsItemUntouched) {
  WorkQueue<std::string> q(1);
  std::string first = "first";
  ASSERT_TRUE(q.push_wait(first));
  std::vector<std::string> items = {"p0", "p1", "p2"};
  std::atomic<int> refused{0};
  std::vector<std::unique_ptr<Actor>> pushers;
  for (auto& item : items) pushers.push_back(std::make_unique<Actor>([&] { refused += q.push_wait(item) ? 0 : 1; }));
  {
    Release<std::string> release(q);
    for (auto& p : pushers) ASSERT_TRUE(p->blocks());
    q.close();
    for (std::size_t i = 0; i < pushers.size(); ++i)
      EXPECT_TRUE(pushers[i]->returns()) << "pusher " << i << " still waits after the close";
  }
  pushers.clear();
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(items, (std::vector<std::string>{"p0", "p1", "p2"}));
}

TEST(WorkQueue, PopManyTakesAtMostMaxInOrderAndIsFalseOnceClosedAndDrained) {
  WorkQueue<int> q(8);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(q.try_push(i));
  std::vector<int> out = {99, 98};  // cleared first
  ASSERT_TRUE(q.pop_many(out, 3));
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.size(), 2u);
  int six = 6;
  ASSERT_TRUE(q.push_wait(six));
  q.close();
  ASSERT_TRUE(q.pop_many(out, 16));  // closed: what is left still comes out
  EXPECT_EQ(out, (std::vector<int>{4, 5, 6}));
  EXPECT_FALSE(q.pop_many(out, 16));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(q.pop_many(out, 16));
}

TEST(WorkQueue, PopManyWaitsWhileEmptyAndIsReleasedByAPushOrTheClose) {
  WorkQueue<int> q(4);
  std::vector<int> got;
  std::atomic<bool> result{false};
  {
    Actor consumer([&] { result = q.pop_many(got, 4); });
    std::optional<Release<int>> release;  // only for a failure: a passing run closes nothing here
    ASSERT_TRUE(consumer.blocks()) << "pop_many returned from an empty, open queue";
    int seven = 7;
    ASSERT_TRUE(q.push_wait(seven));
    if (!consumer.returns()) {
      ADD_FAILURE() << "a push did not wake the waiting pop_many";
      release.emplace(q);
    }
  }
  EXPECT_TRUE(result);
  EXPECT_EQ(got, std::vector<int>{7});
  {
    Actor consumer([&] { result = q.pop_many(got, 4); });
    Release<int> release(q);
    ASSERT_TRUE(consumer.blocks());
    q.close();
    EXPECT_TRUE(consumer.returns()) << "the close did not wake the waiting pop_many";
  }
  EXPECT_FALSE(result);
  EXPECT_TRUE(got.empty());
}

TEST(WorkQueue, PopManyMakesRoomForEveryPusherItFreesASlotFor) {
  WorkQueue<int> q(2);
  int a = 1, b = 2;
  ASSERT_TRUE(q.push_wait(a));
  ASSERT_TRUE(q.push_wait(b));
  std::atomic<int> pushed{0};
  Actor p3([&] {
    int v = 3;
    pushed += q.push_wait(v) ? 1 : 0;
  });
  ASSERT_TRUE(p3.blocks());
  Actor p4([&] {
    int v = 4;
    pushed += q.push_wait(v) ? 1 : 0;
  });
  Release<int> release(q);
  ASSERT_TRUE(p4.blocks());
  std::vector<int> out;
  ASSERT_TRUE(q.pop_many(out, 2));
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
  EXPECT_TRUE(p3.returns()) << "a pusher was left waiting with room in the queue";
  EXPECT_TRUE(p4.returns()) << "a pusher was left waiting with room in the queue";
  q.close();  // releases any left behind (the test has then failed)
  EXPECT_EQ(pushed, 2);
  ASSERT_TRUE(q.pop_many(out, 4));
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<int>{3, 4}));
}

// Several pushers through a small queue: nothing lost or doubled, each pusher's items in its order.
TEST(WorkQueue, ManyPushersThroughASmallQueueLoseNothingAndKeepTheirOrder) {
  constexpr int kPushers = 3, kEach = 2000;
  WorkQueue<int> q(4);
  std::vector<std::thread> pushers;
  for (int p = 0; p < kPushers; ++p)
    pushers.emplace_back([&q, p] {
      for (int i = 0; i < kEach; ++i) {
        int v = p * kEach + i;
        if (!q.push_wait(v)) return;
      }
    });
  std::vector<int> last(kPushers, -1);
  int received = 0;
  std::size_t most = 0;
  std::vector<int> out;
  while (received < kPushers * kEach && q.pop_many(out, 3)) {
    most = std::max(most, out.size());
    for (int v : out) {
      EXPECT_GT(v % kEach, last[static_cast<std::size_t>(v / kEach)]);
      last[static_cast<std::size_t>(v / kEach)] = v % kEach;
      ++received;
    }
    EXPECT_LE(q.size(), 4u);
  }
  q.close();
  for (auto& t : pushers) t.join();
  EXPECT_EQ(received, kPushers * kEach);
  EXPECT_LE(most, 3u);
  EXPECT_EQ(q.size(), 0u);
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

// A fresh directory (mode 0700) for one test's files, removed with them at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string base = ::testing::TempDir();  // "/tmp/": no "//" in the names errors quote back
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    std::string tmpl = base + "/swas-files-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~ScratchDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // A file holding `text` with `mode`.
  std::string secret(const std::string& name, unsigned mode = 0600) const {
    const std::string p = file(name);
    std::ofstream(p) << "secret";
    ::chmod(p.c_str(), mode);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool has(const std::optional<std::string>& err, const std::string& part) {
  return err.has_value() && err->find(part) != std::string::npos;
}

TEST(Files, SecretFilesWritableByGroupOrOthersAreRefused) {
  // Found in review (issue 11): a command key file of mode 0602 was accepted, so another local
  // user could replace the key.
  ScratchDir d;
  for (unsigned mode : {0602u, 0620u, 0622u, 0606u}) {
    const std::string p = d.secret("key", mode);
    char m[8];
    std::snprintf(m, sizeof m, "%04o", mode);
    const auto err = check_private_file(p);
    EXPECT_TRUE(has(err, "writable by group or others")) << mode << ": " << err.value_or("accepted");
    EXPECT_TRUE(has(err, m)) << err.value_or("accepted");
    EXPECT_TRUE(has(err, "chmod 600 " + p)) << err.value_or("accepted");
  }
  EXPECT_FALSE(check_private_file(d.secret("key", 0600)).has_value());
}

TEST(Files, SecretFilesInADirectoryOthersCanWriteAreRefused) {
  ScratchDir d;
  const std::string dir = d.file("etc");
  ::mkdir(dir.c_str(), 0700);
  const std::string p = dir + "/key";
  std::ofstream(p) << "secret";
  ::chmod(p.c_str(), 0600);
  for (unsigned mode : {0777u, 0770u, 0707u, 0730u}) {
    ::chmod(dir.c_str(), mode);
    const auto err = check_private_file(p);
    EXPECT_TRUE(has(err, "directory " + dir + " is writable by group or others")) << mode << ": " << err.value_or("accepted");
    EXPECT_TRUE(has(err, "chmod go-w " + dir)) << err.value_or("accepted");
  }
  // With the sticky bit (like /tmp) only the file's owner, the directory's owner and root can
  // rename or remove the file.
  ::chmod(dir.c_str(), 01777);
  EXPECT_FALSE(check_private_file(p).has_value()) << check_private_file(p).value_or("");
  ::chmod(dir.c_str(), 0750);
  EXPECT_FALSE(check_private_file(p).has_value()) << check_private_file(p).value_or("");
  // Every directory on the way counts, not only the last one.
  ::chmod(d.path().c_str(), 0777);
  EXPECT_TRUE(has(check_private_file(p), "directory " + d.path() + " is writable")) << check_private_file(p).value_or("accepted");
  ::chmod(d.path().c_str(), 0700);
  EXPECT_FALSE(check_private_file(p).has_value());
}

TEST(Files, SecretFilesInADirectoryOfAnotherUserAreRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing a directory's owner needs root";
  ScratchDir d;
  const std::string dir = d.file("etc");
  ::mkdir(dir.c_str(), 0755);
  const std::string p = dir + "/key";
  std::ofstream(p) << "secret";
  ::chmod(p.c_str(), 0600);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  const auto err = check_private_file(p);
  EXPECT_TRUE(has(err, "directory " + dir + " is owned by uid 65534")) << err.value_or("accepted");
  EXPECT_TRUE(has(err, "chown root " + dir)) << err.value_or("accepted");
}

TEST(Files, SymlinksToSecretsMustBeOwnedByRootOrTheAgentsUser) {
  ScratchDir d;
  const std::string real = d.secret("real-key");
  const std::string link = d.file("key-link");
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  EXPECT_FALSE(check_private_file(link).has_value()) << check_private_file(link).value_or("");
  // A problem with the file behind the link names the real file and the fix on it.
  ::chmod(real.c_str(), 0644);
  auto err = check_private_file(link);
  EXPECT_TRUE(has(err, link + " -> " + real)) << err.value_or("accepted");
  EXPECT_TRUE(has(err, "chmod 600 " + real)) << err.value_or("accepted");
  ::chmod(real.c_str(), 0600);
  // A link in a directory others can write, to a file in a safe one: the link could be replaced.
  const std::string open_dir = d.file("open");
  ::mkdir(open_dir.c_str(), 0777);
  ::chmod(open_dir.c_str(), 0777);
  const std::string open_link = open_dir + "/key-link";
  ASSERT_EQ(::symlink(real.c_str(), open_link.c_str()), 0);
  EXPECT_TRUE(has(check_private_file(open_link), "chmod go-w " + open_dir)) << check_private_file(open_link).value_or("accepted");
  // At most 40 links are followed, as by the kernel.
  const std::string loop_a = d.file("loop-a"), loop_b = d.file("loop-b");
  ASSERT_EQ(::symlink(loop_b.c_str(), loop_a.c_str()), 0);
  ASSERT_EQ(::symlink(loop_a.c_str(), loop_b.c_str()), 0);
  EXPECT_TRUE(has(check_private_file(loop_a), std::strerror(ELOOP))) << check_private_file(loop_a).value_or("accepted");
  if (::geteuid() != 0) GTEST_SKIP() << "changing a symbolic link's owner needs root";
  ASSERT_EQ(::lchown(link.c_str(), 65534, 65534), 0);
  err = check_private_file(link);
  EXPECT_TRUE(has(err, link + " is a symbolic link owned by uid 65534")) << err.value_or("accepted");
  // A link on the way to the file counts too (here: a directory reached through the link).
  const std::string dir_link = d.file("dir-link");
  ASSERT_EQ(::symlink(d.path().c_str(), dir_link.c_str()), 0);
  ASSERT_EQ(::lchown(dir_link.c_str(), 65534, 65534), 0);
  EXPECT_TRUE(has(check_private_file(dir_link + "/real-key"), dir_link + " is a symbolic link owned by uid 65534"))
      << check_private_file(dir_link + "/real-key").value_or("accepted");
}

// What StderrLogger writes for `text`, read back from a real file put in place of stderr.
std::string logged(std::string_view text) {
  const std::string path = ::testing::TempDir() + "/swas-logger-test.log";
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ::dup2(fd, 2);
  ::close(fd);
  StderrLogger(LogLevel::Info).write(LogLevel::Warn, text);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::ifstream in(path, std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return out;
}

TEST(StderrLogger, EveryControlCharacterIsEscapedOnOneLine) {
  // Found in review (issue 11): only CR and LF were replaced, so an action holding ESC sequences
  // reached the terminal of whoever reads the log.
  const std::string line = logged("action \"\x1b[31mStop\x1b[0m\"\r\nforged\tline\x7f \xc2\x9b" "2J caf\xc3\xa9 \xff\xc0\xaf");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  for (char c : line.substr(0, line.size() - 1)) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 || u == 0x7F) << "raw control byte " << int(u) << " in: " << line;
  }
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << line;
  const std::string want = " warn action \"\\x1b[31mStop\\x1b[0m\"\\r\\nforged\\tline\\x7f \\xc2\\x9b2J caf\xc3\xa9 \\xff\\xc0\\xaf\n";
  EXPECT_NE(line.find(want), std::string::npos) << line;
}

TEST(StderrLogger, EscapeLogText) {
  EXPECT_EQ(escape_log_text("plain text, caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 ~"), "plain text, caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 ~");
  EXPECT_EQ(escape_log_text("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_log_text(std::string("\x00\x01\x1b[31m\x1f\x7f", 9)), "\\x00\\x01\\x1b[31m\\x1f\\x7f");
  // C1 controls as their UTF-8 bytes; U+00A0 (the first code point after them) passes.
  EXPECT_EQ(escape_log_text("\xc2\x80|\xc2\x9b|\xc2\x9f|\xc2\xa0"), "\\xc2\\x80|\\xc2\\x9b|\\xc2\\x9f|\xc2\xa0");
  // Not UTF-8: each bad byte alone, and what follows is read again.
  EXPECT_EQ(escape_log_text("\xff"), "\\xff");
  EXPECT_EQ(escape_log_text("\x80" "a"), "\\x80a");                  // stray continuation byte
  EXPECT_EQ(escape_log_text("\xc0\xaf"), "\\xc0\\xaf");              // overlong "/"
  EXPECT_EQ(escape_log_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");     // surrogate
  EXPECT_EQ(escape_log_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // over U+10FFFF
  EXPECT_EQ(escape_log_text("\xe4\xb8" "a"), "\\xe4\\xb8a");         // truncated
  EXPECT_EQ(escape_log_text("\xe4\xb8"), "\\xe4\\xb8");              // truncated at the end
  EXPECT_EQ(escape_log_text("\xc2\n"), "\\xc2\\n");
}

}  // namespace
}  // namespace swas
