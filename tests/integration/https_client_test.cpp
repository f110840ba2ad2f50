// The Mbed TLS HTTPS client against the emulator: keep-alive reuse and TLS session resumption.
#include <gtest/gtest.h>

#include "harness.hpp"
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

}  // namespace
}  // namespace swas::it
