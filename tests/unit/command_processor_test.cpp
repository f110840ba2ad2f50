// The workflow through fake ports: one result per command, the retry rule, routing, duplicates.
#include "command_processor.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "fakes.hpp"
#include "signer.hpp"

namespace swas {
namespace {

using fakes::FakeClock;
using fakes::FakeEntropy;
using fakes::FakeLogger;
using fakes::FakePublisher;
using fakes::FakeTransport;

// Parses a published result for assertions.
struct Json {
  explicit Json(const std::string& s) : root(cJSON_Parse(s.c_str()), &cJSON_Delete) {}
  std::string str(const char* a, const char* b = nullptr) const {
    const cJSON* n = cJSON_GetObjectItemCaseSensitive(root.get(), a);
    if (b) n = cJSON_GetObjectItemCaseSensitive(n, b);
    return cJSON_IsString(n) ? n->valuestring : "<absent>";
  }
  double num(const char* a, const char* b) const {
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root.get(), a), b)->valuedouble;
  }
  bool ok() const { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root.get(), "ok")); }
  bool id_is_null() const { return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root.get(), "id")); }
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root;
};

const char* kCommand =
    R"({"id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","ClientToken":"tok-1"})";

class ProcessorTest : public ::testing::Test {
 protected:
  ProcessorTest() { settings.command_topic = "swas/gw-001/commands"; settings.gateway_id = "gw-001"; }
  CommandProcessor& make(std::optional<Credentials> creds = Credentials("AKID", "SECRET", "")) {
    processor = std::make_unique<CommandProcessor>(settings, std::move(creds), clock, entropy, transport,
                                                   publisher, logger);
    return *processor;
  }
  void send(const std::string& payload, const std::string& response_topic = "",
            const std::string& correlation = "") {
    processor->handle(IncomingMessage{"swas/gw-001/commands", payload, response_topic, correlation});
  }
  Json last() const { return Json(publisher.published.back().payload); }

  ProcessorSettings settings;
  FakeClock clock;
  FakeEntropy entropy;
  FakeTransport transport;
  FakePublisher publisher;
  FakeLogger logger;
  std::unique_ptr<CommandProcessor> processor;
};

TEST_F(ProcessorTest, SuccessPublishesTheRequestIdOnTheCommandTopic) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kCommand);
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(publisher.published[0].topic, "swas/gw-001/commands");
  EXPECT_EQ(publisher.published[0].payload,
            R"({"type":"result","id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou",)"
            R"("ClientToken":"tok-1","ok":true,"RequestId":"REQ-1"})");
}

TEST_F(ProcessorTest, RequestGoesToTheRegionEndpointSignedWithTheCredentials) {
  make(Credentials("AKID", "SECRET", "STS-TOKEN"));
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 1u);
  const auto& s = transport.sent[0];
  EXPECT_EQ(s.endpoint.host, "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(s.endpoint.port, 443);
  EXPECT_EQ(s.request.method, "POST");
  EXPECT_EQ(s.request.target, "/?ClientToken=tok-1&InstanceId=i-1&RegionId=cn-hangzhou");
  EXPECT_EQ(*find_header(s.request.headers, "host"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-action"), "StopInstance");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-version"), "2020-06-01");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-date"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-security-token"), "STS-TOKEN");
  EXPECT_EQ(s.request.body, "");
  // Verify the Authorization independently of the builder: re-sign what was sent.
  std::vector<Header> signed_headers;
  for (const auto& h : s.request.headers)
    if (is_signed_header_name(h.name)) signed_headers.push_back(h);
  const auto expected = sign_request_v3("POST", "/", {{"ClientToken", "tok-1"}, {"InstanceId", "i-1"},
                                        {"RegionId", "cn-hangzhou"}}, signed_headers,
                                        kEmptyPayloadSha256, "AKID", "SECRET");
  EXPECT_EQ(*find_header(s.request.headers, "Authorization"), expected);
  EXPECT_EQ(logger.all().find("SECRET"), std::string::npos);
}

TEST_F(ProcessorTest, EndpointOverrideSetsHostAndPort) {
  settings.endpoint_override = Endpoint{"localhost", 8443, "localhost:8443"};
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kCommand);
  EXPECT_EQ(transport.sent[0].endpoint.host, "localhost");
  EXPECT_EQ(transport.sent[0].endpoint.port, 8443);
  EXPECT_EQ(*find_header(transport.sent[0].request.headers, "host"), "localhost:8443");
}

TEST_F(ProcessorTest, CloudErrorIsKeptVerbatim) {
  make();
  transport.reply(403, R"({"RequestId":"R-403","HostId":"swas.cn-hangzhou.aliyuncs.com","Code":"IncorrectInstanceStatus",)"
                       R"("Message":"The state of the current instance does not support this operation.","Recommend":"https://x"})");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 1u);  // 4xx is never retried
  const Json r = last();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.str("error", "source"), "cloud");
  EXPECT_EQ(r.num("error", "HttpStatus"), 403);
  EXPECT_EQ(r.str("error", "Code"), "IncorrectInstanceStatus");
  EXPECT_EQ(r.str("error", "Message"), "The state of the current instance does not support this operation.");
  EXPECT_EQ(r.str("error", "RequestId"), "R-403");
  EXPECT_EQ(r.str("error", "HostId"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(r.str("ClientToken"), "tok-1");
}

TEST_F(ProcessorTest, RetriesServerErrorsWithFreshNonceAndDateButTheSameToken) {
  make();
  transport.clock = &clock;
  transport.ms_per_call = 1500;
  transport.reply(500, R"({"RequestId":"R1","Code":"InternalError","Message":"m"})");
  transport.reply(503, R"({"RequestId":"R2","Code":"ServiceUnavailable","Message":"m"})");
  transport.reply(200, R"({"RequestId":"R3"})");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(clock.sleeps.size(), 2u);
  std::set<std::string> nonces;
  for (const auto& s : transport.sent) {
    nonces.insert(*find_header(s.request.headers, "x-acs-signature-nonce"));
    EXPECT_NE(s.request.target.find("ClientToken=tok-1"), std::string::npos);
  }
  EXPECT_EQ(nonces.size(), 3u);
  EXPECT_NE(*find_header(transport.sent[0].request.headers, "x-acs-date"),
            *find_header(transport.sent[2].request.headers, "x-acs-date"));
  EXPECT_TRUE(last().ok());
  EXPECT_EQ(last().str("RequestId"), "R3");
  EXPECT_EQ(publisher.published.size(), 1u);
}

TEST_F(ProcessorTest, BackoffIsBoundedByTheCap) {
  settings.retry = RetryPolicy{6, 100, 400};
  make();
  for (int i = 0; i < 6; ++i) transport.fail(TransportFailure::Timeout, "read timed out");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 6u);
  ASSERT_EQ(clock.sleeps.size(), 5u);
  const std::uint32_t caps[] = {100, 200, 400, 400, 400};
  for (std::size_t i = 0; i < clock.sleeps.size(); ++i) EXPECT_LE(clock.sleeps[i], caps[i]) << i;
}

TEST_F(ProcessorTest, NetworkFailureAfterAllAttemptsIsCloudUnreachableSayingWhich) {
  make();
  for (int i = 0; i < 4; ++i) transport.fail(TransportFailure::Tls, "the certificate of localhost was refused: expired");
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 4u);
  const Json r = last();
  EXPECT_EQ(r.str("error", "source"), "agent");
  EXPECT_EQ(r.str("error", "Code"), "CloudUnreachable");
  EXPECT_NE(r.str("error", "Message").find("TLS failed"), std::string::npos);
  EXPECT_NE(r.str("error", "Message").find("expired"), std::string::npos);
}

TEST_F(ProcessorTest, PersistentServerErrorEndsWithTheCloudsLastAnswer) {
  make();
  for (int i = 0; i < 4; ++i) transport.reply(500, R"({"RequestId":"R","Code":"InternalError","Message":"m"})");
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 4u);
  EXPECT_EQ(last().str("error", "Code"), "InternalError");
  EXPECT_EQ(last().num("error", "HttpStatus"), 500);
}

TEST_F(ProcessorTest, ShutdownStopsRetrying) {
  make();
  clock.shutting_down = true;
  transport.fail(TransportFailure::Connect, "refused");
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(last().str("error", "Code"), "CloudUnreachable");
}

TEST_F(ProcessorTest, UnreadableCloudAnswerIsAnAgentErrorWithTheStatus) {
  make();
  transport.reply(200, "<html>proxy</html>");
  send(kCommand);
  EXPECT_EQ(last().str("error", "Code"), "InvalidCloudResponse");
  EXPECT_EQ(last().num("error", "HttpStatus"), 200);
}

TEST_F(ProcessorTest, InvalidCommandsGetOneErrorAndNothingIsSent) {
  make();
  send("{oops");
  send(R"({"id":"c-2","action":"StopInstance","RegionId":"cn-hangzhou"})");
  EXPECT_TRUE(transport.sent.empty());
  ASSERT_EQ(publisher.published.size(), 2u);
  EXPECT_TRUE(Json(publisher.published[0].payload).id_is_null());
  EXPECT_EQ(Json(publisher.published[0].payload).str("error", "Code"), "InvalidCommand");
  EXPECT_EQ(publisher.published[1].payload,
            R"({"type":"result","id":"c-2","ok":false,"error":{"source":"agent","Code":"MissingParameter","Message":"InstanceId is required"}})");
}

TEST_F(ProcessorTest, NonCommandsAreIgnoredSilently) {
  make();
  send(R"({"type":"result","id":"c-1","ok":true})");
  send(R"({"type":"status","state":"online"})");
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_TRUE(transport.sent.empty());
}

TEST_F(ProcessorTest, DuplicateIdGetsTheSameResultWithoutASecondCall) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kCommand);
  send(kCommand, "reply/here", "corr-2");
  EXPECT_EQ(transport.sent.size(), 1u);
  ASSERT_EQ(publisher.published.size(), 2u);
  EXPECT_EQ(publisher.published[0].payload, publisher.published[1].payload);
  EXPECT_EQ(publisher.published[1].topic, "reply/here");
  EXPECT_EQ(publisher.published[1].correlation_data, "corr-2");
}

TEST_F(ProcessorTest, TransientFailuresAreNotRememberedSoAResendTriesAgain) {
  make();
  for (int i = 0; i < 4; ++i) transport.fail(TransportFailure::Connect, "refused");
  send(kCommand);
  transport.reply(200, R"({"RequestId":"REQ-2"})");
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 5u);
  EXPECT_TRUE(last().ok());
}

TEST_F(ProcessorTest, ResponseTopicAndCorrelationDataAreHonoured) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kCommand, "dash/replies/1", std::string("\x00\x01\xff", 3));
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(publisher.published[0].topic, "dash/replies/1");
  EXPECT_EQ(publisher.published[0].correlation_data, std::string("\x00\x01\xff", 3));
}

TEST_F(ProcessorTest, NoCredentialsMeansCredentialsMissingAndNoCall) {
  make(std::nullopt);
  send(kCommand);
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(last().str("error", "Code"), "CredentialsMissing");
}

TEST(BusyAnswer, NamesTheCommandAndIgnoresNonCommands) {
  const IncomingMessage msg{"t", kCommand, "", ""};
  auto busy = busy_answer(msg, "gw-001", "swas/gw-001/commands");
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(Json(busy->payload).str("error", "Code"), "Busy");
  EXPECT_EQ(Json(busy->payload).str("id"), "c-1");
  EXPECT_FALSE(busy_answer(IncomingMessage{"t", R"({"type":"result","id":"x"})", "", ""}, "gw", "t").has_value());
  auto invalid = busy_answer(IncomingMessage{"t", "nope", "", ""}, "gw", "t");
  ASSERT_TRUE(invalid.has_value());
  EXPECT_EQ(Json(invalid->payload).str("error", "Code"), "InvalidCommand");
}

}  // namespace
}  // namespace swas
