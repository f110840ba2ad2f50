// The Mbed TLS HTTPS client against the emulator (keep-alive reuse, TLS session resumption) and
// against a hostile server (time budget, unsolicited and interim responses).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>

#include "harness.hpp"
#include "hostile_tls_server.hpp"
#include "mbedtls_https_client.hpp"

namespace swas::it {
namespace {

HttpRequest state_request(int port, bool close) {
  HttpRequest r{"GET", "/__emulator/state", {{"Host", "localhost:" + std::to_string(port)}}, ""};
  if (close) r.headers.push_back({"Connection", "close"});
  return r;
}

TEST(HttpsClient, KeepsTheConnectionAliveAndResumesTheSessionWhenItMustReconnect) {
  TempDir dir;
  Emulator emulator(dir, "[]");
  auto client = MbedTlsHttpsClient::create({cert_dir() + "/ca.pem", 5000, 1 << 20});
  ASSERT_TRUE(client.has_value()) << client.error();
  const Endpoint ep{"localhost", static_cast<std::uint16_t>(emulator.port()), ""};
  ASSERT_TRUE((*client)->round_trip(ep, state_request(emulator.port(), false)).has_value());
  ASSERT_TRUE((*client)->round_trip(ep, state_request(emulator.port(), true)).has_value());
  EXPECT_EQ((*client)->handshakes(), 1u);
  EXPECT_EQ((*client)->reused(), 1u) << "the second request should reuse the kept-alive connection";
  // The server closed after the second response: the third request needs a new connection, and
  // the session ticket from the first handshake lets it skip the full handshake.
  auto third = (*client)->round_trip(ep, state_request(emulator.port(), false));
  ASSERT_TRUE(third.has_value()) << third.error().detail;
  EXPECT_EQ(third->status, 200);
  EXPECT_EQ((*client)->handshakes(), 1u);
  EXPECT_EQ((*client)->resumed(), 1u);
}

// The tests below talk to a hostile server (hostile_tls_server.hpp) holding a trusted certificate.

HttpRequest get(int port, const std::string& target) {
  return HttpRequest{"GET", target, {{"Host", "localhost:" + std::to_string(port)}}, ""};
}

std::unique_ptr<MbedTlsHttpsClient> client_with_timeout(std::uint32_t timeout_ms) {
  auto client = MbedTlsHttpsClient::create({cert_dir() + "/ca.pem", timeout_ms, 64 * 1024});
  if (!client) throw std::runtime_error(client.error());
  return std::move(*client);
}

// Answers every request on every connection with its own target as the body.
void echo_requests(HostileTlsServer::Connection& c) {
  while (auto target = c.read_request())
    if (!c.write(http_response(*target))) return;
}

TEST(HttpsClient, TimeoutBoundsTheWholeAttemptAgainstAServerTricklingItsAnswer) {
  // One byte every 300 ms: each read is quick, the whole answer would take about 18 s.
  const std::string answer = http_response("{\"RequestId\":\"trickled\"}");
  HostileTlsServer server([&](HostileTlsServer::Connection& c) {
    if (!c.read_request()) return;
    for (char byte : answer)
      if (!c.write(std::string(1, byte)) || !c.sleep_ms(300)) return;
  });
  const auto trickle_ms = 300 * static_cast<long>(answer.size());
  auto client = client_with_timeout(1000);
  const auto start = std::chrono::steady_clock::now();
  auto response = client->round_trip({"localhost", server.port(), ""}, get(server.port(), "/"));
  const auto took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(response.has_value()) << "a trickled answer came back after " << took_ms << " ms";
  EXPECT_EQ(response.error().kind, TransportFailure::Timeout) << response.error().detail;
  EXPECT_LT(took_ms, 2500) << "timeout_ms 1000 must bound the attempt, not each read (trickle: "
                           << trickle_ms << " ms)";
  std::printf("trickling server: the attempt ended after %ld ms (budget 1000 ms, trickle %ld ms)\n",
              static_cast<long>(took_ms), trickle_ms);
}

TEST(HttpsClient, AnUnsolicitedSecondResponseIsNeverTakenAsTheNextAnswer) {
  // The first connection answers its first request twice, in two TLS records.
  HostileTlsServer server([](HostileTlsServer::Connection& c) {
    if (c.index() == 0) {
      auto target = c.read_request();
      if (!target || !c.write(http_response(*target)) || !c.write(http_response("unsolicited"))) return;
    }
    echo_requests(c);
  });
  auto client = client_with_timeout(5000);
  const Endpoint ep{"localhost", server.port(), ""};
  auto first = client->round_trip(ep, get(server.port(), "/first"));
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_EQ(first->body, "/first");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the extra answer arrives while idle
  auto second = client->round_trip(ep, get(server.port(), "/second"));
  ASSERT_TRUE(second.has_value()) << second.error().detail;
  EXPECT_EQ(second->body, "/second");
  EXPECT_EQ(server.connections(), 2) << "the connection that held an unsolicited answer must be dropped";
  EXPECT_EQ(client->reused(), 0u);
}

TEST(HttpsClient, BytesBeyondTheResponseInItsRecordEndTheConnection) {
  // Both answers in one TLS record: a small one (the extra answer arrives with the first) and a
  // large one (the extra answer is still partly inside Mbed TLS when the first is complete).
  for (std::size_t size : {10u, 3000u}) {
    SCOPED_TRACE("body size " + std::to_string(size));
    HostileTlsServer server([size](HostileTlsServer::Connection& c) {
      if (c.index() == 0) {
        auto target = c.read_request();
        if (!target) return;
        const std::string pad(size, 'x');
        if (!c.write(http_response(*target + pad) + http_response("unsolicited" + pad))) return;
      }
      echo_requests(c);
    });
    auto client = client_with_timeout(5000);
    const Endpoint ep{"localhost", server.port(), ""};
    auto first = client->round_trip(ep, get(server.port(), "/first"));
    ASSERT_TRUE(first.has_value()) << first.error().detail;
    EXPECT_EQ(first->body, "/first" + std::string(size, 'x'));
    auto second = client->round_trip(ep, get(server.port(), "/second"));
    ASSERT_TRUE(second.has_value()) << second.error().detail;
    EXPECT_EQ(second->body, "/second");
    EXPECT_EQ(server.connections(), 2);
    EXPECT_EQ(client->reused(), 0u);
  }
}

TEST(HttpsClient, InterimResponsesAreSkippedAndTheFinalOneReturned) {
  HostileTlsServer server([](HostileTlsServer::Connection& c) {
    while (auto target = c.read_request()) {
      if (!c.write("HTTP/1.1 100 Continue\r\n\r\n") || !c.sleep_ms(50) ||
          !c.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n") ||
          !c.write(http_response("final " + *target)))
        return;
    }
  });
  auto client = client_with_timeout(5000);
  const Endpoint ep{"localhost", server.port(), ""};
  for (const char* target : {"/one", "/two"}) {
    auto response = client->round_trip(ep, get(server.port(), target));
    ASSERT_TRUE(response.has_value()) << response.error().detail;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, std::string("final ") + target);
    EXPECT_EQ(find_header(response->headers, "link"), nullptr) << "an interim response's headers leaked";
  }
  EXPECT_EQ(client->reused(), 1u) << "the connection stays usable after interim responses";
}

TEST(HttpsClient, EndlessInterimResponsesAreAProtocolError) {
  HostileTlsServer server([](HostileTlsServer::Connection& c) {
    if (!c.read_request()) return;
    for (int i = 0; i < 1000; ++i)
      if (!c.write("HTTP/1.1 100 Continue\r\n\r\n")) return;
  });
  auto client = client_with_timeout(5000);
  auto response = client->round_trip({"localhost", server.port(), ""}, get(server.port(), "/"));
  ASSERT_FALSE(response.has_value()) << "status " << response->status;
  EXPECT_EQ(response.error().kind, TransportFailure::Protocol) << response.error().detail;
  EXPECT_NE(response.error().detail.find("interim"), std::string::npos) << response.error().detail;
}

}  // namespace
}  // namespace swas::it
