// The workflow through fake ports: one result per command, the journal, the retry rule, routing.
#include "command_processor.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "fakes.hpp"
#include "signer.hpp"

namespace swas {
namespace {

using namespace fakes;

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

HttpResponse http(int status, std::string body, std::vector<Header> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class ProcessorTest : public ::testing::Test {
 protected:
  ProcessorTest() {
    settings.command_topic = "swas/gw-001/commands";
    settings.gateway_id = "gw-001";
  }
  CommandProcessor& make(std::optional<Credentials> creds = Credentials("AKID", "SECRET", "")) {
    processor = std::make_unique<CommandProcessor>(settings, std::move(creds), clock, entropy, journal, publisher,
                                                   telemetry, logger);
    return *processor;
  }
  IncomingMessage message(const std::string& payload, const std::string& response_topic = "",
                          const std::string& correlation = "") {
    return IncomingMessage{"swas/gw-001/commands", payload, response_topic, correlation, clock.now_ms, std::nullopt};
  }
  // Intake and, when accepted, execution: what the agent does for one message.
  void send(const std::string& payload, const std::string& response_topic = "", const std::string& correlation = "") {
    if (auto item = processor->intake(message(payload, response_topic, correlation)))
      processor->execute(*item, transport);
  }
  Json last() const { return Json(publisher.published.back().payload); }

  ProcessorSettings settings;
  FakeClock clock;
  FakeEntropy entropy;
  FakeTransport transport;
  FakePublisher publisher;
  FakeJournal journal;
  FakeTelemetry telemetry;
  FakeLogger logger;
  std::unique_ptr<CommandProcessor> processor;
};

TEST_F(ProcessorTest, SuccessIsJournaledThenPublishedOnTheCommandTopic) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  send(kCommand);
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(publisher.published[0].topic, "swas/gw-001/commands");
  EXPECT_EQ(publisher.published[0].journal_id, "c-1");
  EXPECT_EQ(publisher.published[0].payload,
            R"({"type":"result","id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou",)"
            R"("ClientToken":"tok-1","ok":true,"RequestId":"REQ-1"})");
  ASSERT_TRUE(journal.entries.count("c-1"));
  EXPECT_TRUE(journal.entries["c-1"].finished);
  EXPECT_EQ(journal.entries["c-1"].rec.client_token, "tok-1");
  EXPECT_EQ(journal.entries["c-1"].payload, publisher.published[0].payload);
  EXPECT_EQ(telemetry.succeeded, 1);
  EXPECT_EQ(telemetry.received_count, 1);
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
  // The rest of the signed input: the nonce is FakeEntropy's first 16 bytes.
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-signature-nonce"), "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(*find_header(s.request.headers, "x-acs-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::vector<std::string> signed_names;
  for (const auto& h : s.request.headers)
    if (is_signed_header_name(h.name)) signed_names.push_back(h.name);
  EXPECT_EQ(signed_names.size(), 7u) << ::testing::PrintToString(signed_names);
  // Computed once, independently of our signer, by the official Alibaba Cloud SDK for exactly these
  // headers, query and credentials: @alicloud/openapi-util 0.3.3 (pinned in tests/interop),
  // OpenApiUtil.getAuthorization(request, 'ACS3-HMAC-SHA256', <empty-body SHA-256>, 'AKID', 'SECRET').
  EXPECT_EQ(*find_header(s.request.headers, "Authorization"),
            "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
            "x-acs-security-token;x-acs-signature-nonce;x-acs-version,"
            "Signature=07c49dd84124fe33c1d93a3b13f6cbbd1529b4cdaba1d9f9ae92dcd1aa074af7");
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

TEST_F(ProcessorTest, CloudErrorIsKeptVerbatimAndNotRetried) {
  make();
  transport.reply(403, R"({"RequestId":"R-403","HostId":"swas.cn-hangzhou.aliyuncs.com","Code":"IncorrectInstanceStatus",)"
                       R"("Message":"The state of the current instance does not support this operation.","Recommend":"https://x"})");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 1u);
  const Json r = last();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.str("error", "source"), "cloud");
  EXPECT_EQ(r.num("error", "HttpStatus"), 403);
  EXPECT_EQ(r.str("error", "Code"), "IncorrectInstanceStatus");
  EXPECT_EQ(r.str("error", "Message"), "The state of the current instance does not support this operation.");
  EXPECT_EQ(r.str("error", "RequestId"), "R-403");
  EXPECT_EQ(r.str("error", "HostId"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(telemetry.failed, 1);
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
  EXPECT_EQ(last().str("RequestId"), "R3");
  EXPECT_EQ(publisher.published.size(), 1u);
}

// Random bytes from a seeded generator: backoffs drawn as a real entropy source draws them, and
// the same on every run.
class SeededEntropy final : public Entropy {
 public:
  explicit SeededEntropy(std::uint32_t seed) : rng_(seed) {}
  void fill(unsigned char* out, std::size_t len) override {
    for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<unsigned char>(rng_() >> 24);
  }

 private:
  std::mt19937 rng_;
};

// Full jitter (docs/reliability.md): the wait before attempt n+1 is uniform in
// [0, min(backoff_max_ms, backoff_base_ms * 2^(n-1))]. Checked from both sides over many commands:
// never above the cap, and spread over the whole range (a zero wait, a fixed wait, a cap that does
// not double or a range cut short all fail).
TEST(Backoff, IsFullJitterOverTheWholeRangeUpToTheCap) {
  ProcessorSettings settings;
  settings.command_topic = "swas/gw-001/commands";
  settings.gateway_id = "gw-001";
  settings.retry = RetryPolicy{6, 100, 400, 600000};
  FakeClock clock;
  SeededEntropy entropy(20261203);
  FakeTransport transport;
  FakePublisher publisher;
  FakeJournal journal;
  journal.max_records = 100000;
  FakeTelemetry telemetry;
  FakeLogger logger;
  CommandProcessor processor(settings, Credentials("AKID", "SECRET", ""), clock, entropy, journal, publisher, telemetry,
                             logger);
  constexpr int kCommands = 400;
  const std::uint32_t caps[] = {100, 200, 400, 400, 400};
  std::vector<std::vector<std::uint32_t>> waits(5);
  for (int c = 0; c < kCommands; ++c) {
    clock.sleeps.clear();
    for (int i = 0; i < 6; ++i) transport.fail(TransportFailure::Timeout, "read timed out");
    const std::string id = "b-" + std::to_string(c);
    auto item = processor.intake(IncomingMessage{settings.command_topic,
                                                 R"({"id":")" + id + R"(","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})",
                                                 "", "", clock.now_ms, std::nullopt});
    ASSERT_TRUE(item.has_value());
    processor.execute(*item, transport);
    ASSERT_EQ(clock.sleeps.size(), 5u) << id;
    for (std::size_t i = 0; i < 5; ++i) waits[i].push_back(clock.sleeps[i]);
  }
  for (std::size_t i = 0; i < 5; ++i) {
    const double cap = caps[i];
    const auto [lo, hi] = std::minmax_element(waits[i].begin(), waits[i].end());
    double mean = 0;
    for (const auto w : waits[i]) mean += w;
    mean /= static_cast<double>(waits[i].size());
    EXPECT_LE(*hi, caps[i]) << "wait " << i + 1 << " above its cap";
    EXPECT_GE(*hi, 0.95 * cap) << "wait " << i + 1 << " never near its cap " << cap;
    EXPECT_LE(*lo, 0.05 * cap) << "wait " << i + 1 << " never near 0";
    EXPECT_NEAR(mean, cap / 2, 0.05 * cap) << "wait " << i + 1 << ": the mean of a uniform wait is half its cap";
  }
}

TEST_F(ProcessorTest, TheDeadlineEndsRetriesBeforeTheAttemptBound) {
  settings.retry = RetryPolicy{100, 1000, 1000, 5000};
  make();
  transport.clock = &clock;
  transport.ms_per_call = 2000;  // each attempt takes 2 s, the deadline is 5 s
  for (int i = 0; i < 100; ++i) transport.fail(TransportFailure::Timeout, "read timed out");
  send(kCommand);
  EXPECT_LE(transport.sent.size(), 3u);
  EXPECT_EQ(last().str("error", "Code"), "CloudUnreachable");
}

TEST_F(ProcessorTest, ThrottlingIsRetriedAfterTheCloudsDelay) {
  make();
  transport.script.emplace_back(http(400, R"({"RequestId":"R","Code":"Throttling.User","Message":"slow down"})",
                                     {{"x-acs-retry-after", "1500"}}));
  transport.reply(200, R"({"RequestId":"R2"})");
  send(kCommand);
  ASSERT_EQ(clock.sleeps.size(), 1u);
  EXPECT_GE(clock.sleeps[0], 1500u);
  EXPECT_TRUE(last().ok());
}

TEST_F(ProcessorTest, ExpiredTimestampCorrectsTheClockOnceAndSucceeds) {
  make();
  clock.now_ms = 1700000000000 - 20 * 60 * 1000;  // gateway 20 minutes behind the cloud
  transport.script.emplace_back(http(400, R"({"RequestId":"R","Code":"InvalidTimeStamp.Expired","Message":"expired"})",
                                     {{"Date", "Tue, 14 Nov 2023 22:13:20 GMT"}}));
  transport.reply(200, R"({"RequestId":"R2"})");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(*find_header(transport.sent[0].request.headers, "x-acs-date"), "2023-11-14T21:53:20Z");
  EXPECT_EQ(*find_header(transport.sent[1].request.headers, "x-acs-date"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(clock.offset, 20 * 60 * 1000 + 500);  // Date is whole seconds: its middle is used
  EXPECT_TRUE(last().ok());
  EXPECT_NE(logger.all().find("1200.5 s behind"), std::string::npos) << logger.all();
  // From then on the offset is used with no failed attempt first.
  transport.reply(200, R"({"RequestId":"R3"})");
  send(R"({"id":"c-2","action":"StopInstance","InstanceId":"i-2","RegionId":"cn-hangzhou"})");
  EXPECT_EQ(*find_header(transport.sent[2].request.headers, "x-acs-date"), "2023-11-14T22:13:20Z");
}

TEST_F(ProcessorTest, ExpiredTimestampIsRetriedOnlyOnce) {
  make();
  for (int i = 0; i < 3; ++i)
    transport.script.emplace_back(http(400, R"({"RequestId":"R","Code":"InvalidTimeStamp.Expired","Message":"expired"})",
                                       {{"Date", "Tue, 14 Nov 2023 22:13:20 GMT"}}));
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(last().str("error", "Code"), "InvalidTimeStamp.Expired");
}

TEST_F(ProcessorTest, NonceUsedIsRetriedOnceWithANewNonce) {
  make();
  transport.reply(400, R"({"RequestId":"R","Code":"SignatureNonceUsed","Message":"used"})");
  transport.reply(400, R"({"RequestId":"R","Code":"SignatureNonceUsed","Message":"used"})");
  send(kCommand);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_NE(*find_header(transport.sent[0].request.headers, "x-acs-signature-nonce"),
            *find_header(transport.sent[1].request.headers, "x-acs-signature-nonce"));
  EXPECT_EQ(last().str("error", "Code"), "SignatureNonceUsed");
}

TEST_F(ProcessorTest, NetworkFailureAfterAllAttemptsIsCloudUnreachableSayingWhich) {
  settings.retry.max_attempts = 4;
  make();
  for (int i = 0; i < 4; ++i) transport.fail(TransportFailure::Tls, "the certificate of localhost was refused: expired");
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 4u);
  const Json r = last();
  EXPECT_EQ(r.str("error", "source"), "agent");
  EXPECT_EQ(r.str("error", "Code"), "CloudUnreachable");
  EXPECT_NE(r.str("error", "Message").find("TLS failed"), std::string::npos);
  EXPECT_NE(r.str("error", "Message").find("after 4 attempts"), std::string::npos);
}

TEST_F(ProcessorTest, ShutdownStopsRetryingAndLeavesTheCommandToResume) {
  make();
  clock.shutting_down = true;
  transport.fail(TransportFailure::Connect, "refused");
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_FALSE(journal.entries["c-1"].finished);
  make();
  EXPECT_EQ(processor->recover().size(), 1u);
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
  EXPECT_EQ(publisher.published[1].payload,
            R"({"type":"result","id":"c-2","ok":false,"error":{"source":"agent","Code":"MissingParameter","Message":"InstanceId is required"}})");
  EXPECT_TRUE(journal.entries["c-2"].finished);  // a resend of c-2 gets the same answer
  EXPECT_EQ(telemetry.rejected, 2);
}

TEST_F(ProcessorTest, NonCommandsAreIgnoredSilently) {
  make();
  send(R"({"type":"result","id":"c-1","ok":true})");
  send(R"({"type":"status","state":"online"})");
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_TRUE(journal.entries.empty());
  EXPECT_EQ(telemetry.received_count, 0);
}

TEST_F(ProcessorTest, FinishedDuplicateGetsTheSameResultWithoutASecondCall) {
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

TEST_F(ProcessorTest, DuplicateOfACommandInFlightIsAnsweredWhenItFinishes) {
  make();
  auto item = processor->intake(message(kCommand));
  ASSERT_TRUE(item.has_value());
  EXPECT_FALSE(processor->intake(message(kCommand, "reply/dup", "c2")).has_value());
  EXPECT_TRUE(publisher.published.empty());
  transport.reply(200, R"({"RequestId":"REQ-1"})");
  processor->execute(*item, transport);
  ASSERT_EQ(publisher.published.size(), 2u);
  EXPECT_EQ(publisher.published[1].topic, "reply/dup");
  EXPECT_EQ(publisher.published[0].payload, publisher.published[1].payload);
  EXPECT_EQ(transport.sent.size(), 1u);
}

TEST_F(ProcessorTest, FullOrBrokenJournalAnswersBusyAndRunsNothing) {
  make();
  journal.max_records = 0;
  send(kCommand);
  EXPECT_EQ(last().str("error", "Code"), "Busy");
  EXPECT_NE(last().str("error", "Message").find("journal is full"), std::string::npos);
  journal.max_records = 10;
  journal.fail_writes = true;
  send(R"({"id":"c-9","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})");
  EXPECT_EQ(last().str("error", "Code"), "Busy");
  EXPECT_NE(last().str("error", "Message").find("disk I/O error"), std::string::npos);
  EXPECT_TRUE(transport.sent.empty());
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

TEST_F(ProcessorTest, ExpiredCommandsAreAnsweredAndNeverExecuted) {
  make();
  send(R"({"id":"old","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","expiresAt":"2023-11-14T22:00:00Z"})");
  EXPECT_EQ(last().str("error", "Code"), "CommandExpired");
  // MQTT 5 Message Expiry: 5 s left when received, run 10 s later.
  auto msg = message(R"({"id":"mq","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})");
  msg.message_expiry_s = 5;
  auto item = processor->intake(msg);
  ASSERT_TRUE(item.has_value());
  clock.now_ms += 10000;
  processor->execute(*item, transport);
  EXPECT_EQ(last().str("error", "Code"), "CommandExpired");
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(telemetry.rejected, 2);
  // Not yet expired: it runs.
  transport.reply(200, R"({"RequestId":"R"})");
  send(R"({"id":"fresh","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","expiresAt":"2099-01-01T00:00:00Z"})");
  EXPECT_TRUE(last().ok());
}

// Crash points: the journal survives, the processor is built anew, recover() runs.
TEST_F(ProcessorTest, CrashAfterAcceptanceResumesWithTheSameToken) {
  make();
  auto item = processor->intake(message(R"({"id":"k1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})"));
  ASSERT_TRUE(item.has_value());
  const std::string token = item->command.client_token;
  make();  // "restart"
  auto resumed = processor->recover();
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_TRUE(resumed[0].resumed);
  EXPECT_EQ(resumed[0].command.client_token, token);
  transport.reply(200, R"({"RequestId":"R"})");
  processor->execute(resumed[0], transport);
  EXPECT_NE(transport.sent[0].request.target.find("ClientToken=" + token), std::string::npos);
  EXPECT_TRUE(last().ok());
  EXPECT_TRUE(processor->recover().empty());
}

// The cloud as the API documents it: a ClientToken seen before gets the first answer again and
// changes nothing; another token for an instance already stopped is refused (403
// IncorrectInstanceStatus). `die_after_the_cloud_acted` makes the next round trip end the
// "process" (an exception out of execute()) after the cloud has acted and answered: the answer
// never reached the agent.
class IdempotentCloud final : public HttpsTransport {
 public:
  struct ProcessDied {};
  bool die_after_the_cloud_acted = false;
  std::set<std::string> stopped;
  std::vector<std::string> tokens;  // the ClientToken of every request, in order

  Expected<HttpResponse, TransportError> round_trip(const Endpoint&, const HttpRequest& request) override {
    const std::string token = query_value(request.target, "ClientToken");
    const std::string instance = query_value(request.target, "InstanceId");
    tokens.push_back(token);
    auto it = answers_.find(token);
    if (it == answers_.end()) {
      HttpResponse r;
      if (stopped.insert(instance).second) {
        r.status = 200;
        r.body = R"({"RequestId":"R-)" + std::to_string(tokens.size()) + "\"}";
      } else {
        r.status = 403;
        r.body = R"({"RequestId":"R-)" + std::to_string(tokens.size()) +
                 R"(","Code":"IncorrectInstanceStatus","Message":"The state of the current instance does not support this operation."})";
      }
      it = answers_.emplace(token, r).first;
    }
    if (die_after_the_cloud_acted) {
      die_after_the_cloud_acted = false;
      throw ProcessDied{};
    }
    return it->second;
  }

 private:
  static std::string query_value(const std::string& target, const std::string& name) {
    const std::size_t at = target.find(name + "=");
    if (at == std::string::npos) return "";
    const std::size_t from = at + name.size() + 1;
    return target.substr(from, target.find('&', from) - from);
  }
  std::map<std::string, HttpResponse> answers_;
};

TEST_F(ProcessorTest, CrashAfterTheCloudAnsweredResumesWithTheSameTokenAndGetsTheCloudsFirstAnswer) {
  make();
  IdempotentCloud cloud;
  // No ClientToken in the command: the agent derives it, and must derive the same one again.
  auto item = processor->intake(message(R"({"id":"k2","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})"));
  ASSERT_TRUE(item.has_value());
  cloud.die_after_the_cloud_acted = true;
  EXPECT_THROW(processor->execute(*item, cloud), IdempotentCloud::ProcessDied);
  ASSERT_EQ(cloud.tokens.size(), 1u);
  EXPECT_EQ(cloud.stopped.count("i-1"), 1u) << "the cloud stopped the instance";
  EXPECT_TRUE(publisher.published.empty());
  EXPECT_FALSE(journal.entries.at("k2").finished) << "the result was never recorded";

  make();  // the agent starts again on the same journal
  auto resumed = processor->recover();
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_TRUE(resumed[0].resumed);
  processor->execute(resumed[0], cloud);
  ASSERT_EQ(cloud.tokens.size(), 2u);
  EXPECT_EQ(cloud.tokens[1], cloud.tokens[0]) << "the resumed call must carry the first call's ClientToken";
  ASSERT_EQ(publisher.published.size(), 1u);
  const Json r = last();
  EXPECT_TRUE(r.ok()) << publisher.published.back().payload;
  EXPECT_EQ(r.str("RequestId"), "R-1") << "the cloud's answer to the call made before the crash";
  EXPECT_EQ(r.str("ClientToken"), cloud.tokens[0]);
  EXPECT_TRUE(journal.entries.at("k2").finished);
  EXPECT_TRUE(processor->recover().empty());
}

TEST_F(ProcessorTest, CrashBeforeTheBrokerAckRepublishesTheRecordedResult) {
  make();
  transport.reply(200, R"({"RequestId":"R"})");
  send(kCommand);
  const std::string payload = publisher.published[0].payload;
  publisher.published.clear();
  make();  // the PUBACK never came
  EXPECT_TRUE(processor->recover().empty());
  EXPECT_EQ(processor->republish_unacknowledged(clock.now_ms + 1), 1u);
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(publisher.published[0].payload, payload);
  EXPECT_EQ(publisher.published[0].journal_id, "c-1");
  journal.acknowledge("c-1");
  publisher.published.clear();
  EXPECT_EQ(processor->republish_unacknowledged(clock.now_ms + 1), 0u);
  EXPECT_TRUE(transport.sent.size() == 1u);
}

TEST_F(ProcessorTest, ForbiddenCommandsAreRecordedAndNeverSent) {
  settings.policy.allowed_regions = {"cn-shanghai"};
  make();
  send(kCommand);
  EXPECT_EQ(last().str("error", "Code"), "Forbidden");
  EXPECT_NE(last().str("error", "Message").find("allowed_regions"), std::string::npos);
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_TRUE(journal.entries["c-1"].finished);
}

TEST_F(ProcessorTest, OverTheRateLimitIsThrottledButDuplicatesStillGetTheirResult) {
  settings.policy.rate_limit = RateLimit{1, 1};  // one a minute
  make();
  transport.reply(200, R"({"RequestId":"R"})");
  send(kCommand);
  EXPECT_TRUE(last().ok());
  send(R"({"id":"c-2","action":"StopInstance","InstanceId":"i-2","RegionId":"cn-hangzhou"})");
  EXPECT_EQ(last().str("error", "Code"), "Throttled");
  EXPECT_FALSE(journal.entries.count("c-2"));  // not recorded: a later resend runs
  send(kCommand);
  EXPECT_TRUE(last().ok());  // the duplicate gets its recorded result
  clock.now_ms += 60000;
  transport.reply(200, R"({"RequestId":"R2"})");
  send(R"({"id":"c-2","action":"StopInstance","InstanceId":"i-2","RegionId":"cn-hangzhou"})");
  EXPECT_TRUE(last().ok());
  EXPECT_EQ(transport.sent.size(), 2u);
}

TEST_F(ProcessorTest, UnauthenticatedCommandsCannotPreemptTheRealOne) {
  settings.command_key = "0123456789abcdef-command-key";
  make();
  // An attacker on the broker sends an unsigned command with the id the dashboard will use.
  send(R"({"id":"c-7","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})");
  EXPECT_EQ(last().str("error", "Code"), "Unauthenticated");
  EXPECT_FALSE(journal.entries.count("c-7"));
  // The dashboard's signed command still runs.
  const std::string issued = "2023-11-14T22:13:00Z";
  const SignedFields f{"c-7", "StopInstance", "i-1", "cn-hangzhou", "", issued, ""};
  const std::string sig = command_signature(settings.command_key, "gw-001", f);
  transport.reply(200, R"({"RequestId":"R"})");
  const std::string signed_cmd = R"({"id":"c-7","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","issuedAt":")" +
                                 issued + R"(","signature":")" + sig + "\"}";
  send(signed_cmd);
  EXPECT_TRUE(last().ok()) << publisher.published.back().payload;
  // A replay of the signed command is a duplicate: its recorded result, no second call.
  send(signed_cmd);
  EXPECT_TRUE(last().ok());
  EXPECT_EQ(transport.sent.size(), 1u);
}

TEST_F(ProcessorTest, BusyAnswerNamesTheCommandAndIgnoresNonCommands) {
  make();
  auto busy = processor->busy_answer(message(kCommand), "the queue is full");
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(Json(busy->payload).str("error", "Code"), "Busy");
  EXPECT_EQ(Json(busy->payload).str("id"), "c-1");
  EXPECT_FALSE(processor->busy_answer(message(R"({"type":"result","id":"x"})"), "x").has_value());
  auto invalid = processor->busy_answer(message("nope"), "x");
  ASSERT_TRUE(invalid.has_value());
  EXPECT_EQ(Json(invalid->payload).str("error", "Code"), "InvalidCommand");
  // Even Busy never goes to an unusable Response Topic.
  auto wild = processor->busy_answer(message(kCommand, "swas/gw-001/replies/#", "c"), "x");
  ASSERT_TRUE(wild.has_value());
  EXPECT_EQ(wild->topic, "swas/gw-001/commands");
  EXPECT_EQ(Json(wild->payload).str("error", "Code"), "InvalidCommand");
}

// A Response Topic the broker would disconnect the agent for, or that would bloat the journal,
// is refused on the command topic before anything is journaled (issue 11).
TEST_F(ProcessorTest, UnusableResponseTopicsAreRefusedOnTheCommandTopicAndNeverJournaled) {
  settings.command_key = "0123456789abcdef-command-key";  // even the Unauthenticated refusal
  make();
  const std::vector<std::string> bad = {"swas/gw/replies/#", "a/+/b", "+", "#", "$SYS/x", "a\x01b",
                                        std::string("a\0b", 3), "\xff\xfe", std::string(257, 'r')};
  int n = 0;
  for (const auto& topic : bad) {
    const std::string id = "r-" + std::to_string(n++);
    send(R"({"id":")" + id + R"(","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})", topic, "corr");
    ASSERT_EQ(publisher.published.back().topic, "swas/gw-001/commands") << topic;
    EXPECT_EQ(publisher.published.back().correlation_data, "") << topic;
    EXPECT_EQ(publisher.published.back().journal_id, "") << "never republished: " << topic;
    EXPECT_EQ(last().str("error", "Code"), "InvalidCommand") << topic;
    EXPECT_EQ(last().str("id"), id);
    EXPECT_NE(last().str("error", "Message").find("Response Topic"), std::string::npos);
    EXPECT_FALSE(journal.entries.count(id)) << topic;
  }
  // An invalid command with a wildcard route: its refusal also goes to the command topic.
  send(R"({"id":"inv","action":"StartInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})", "x/#");
  EXPECT_EQ(publisher.published.back().topic, "swas/gw-001/commands");
  // An unreadable payload with a wildcard route is answered nowhere.
  const auto before = publisher.published.size();
  send("not json", "x/#");
  EXPECT_EQ(publisher.published.size(), before);
  EXPECT_TRUE(transport.sent.empty());
}

TEST_F(ProcessorTest, OversizedCorrelationDataIsRefusedAndTheLimitItselfAccepted) {
  make();
  send(kCommand, "dash/replies/1", std::string(257, 'c'));
  EXPECT_EQ(publisher.published.back().topic, "swas/gw-001/commands");
  EXPECT_EQ(last().str("error", "Code"), "InvalidCommand");
  EXPECT_FALSE(journal.entries.count("c-1"));
  transport.reply(200, R"({"RequestId":"R"})");
  send(kCommand, std::string(256, 't'), std::string(256, 'c'));
  EXPECT_EQ(publisher.published.back().topic, std::string(256, 't'));
  EXPECT_TRUE(last().ok());
}

TEST_F(ProcessorTest, ResponseTopicsOutsideTheAllowedFiltersAreForbidden) {
  settings.policy.allowed_response_topics = {"swas/gw-001/replies/#", "dash/+/r"};
  make();
  send(kCommand, "elsewhere/replies/1", "c");
  EXPECT_EQ(publisher.published.back().topic, "swas/gw-001/commands");
  EXPECT_EQ(last().str("error", "Code"), "Forbidden");
  EXPECT_FALSE(journal.entries.count("c-1"));
  transport.reply(200, R"({"RequestId":"R"})");
  send(kCommand, "swas/gw-001/replies/session-9", "c");
  EXPECT_EQ(publisher.published.back().topic, "swas/gw-001/replies/session-9");
  EXPECT_TRUE(last().ok());
}

TEST(TopicFilters, MatchAndValidateLikeMqtt) {
  EXPECT_TRUE(topic_matches_filter("a/b/c", "a/#"));
  EXPECT_TRUE(topic_matches_filter("a", "a/#"));
  EXPECT_TRUE(topic_matches_filter("a/b/c", "a/+/c"));
  EXPECT_FALSE(topic_matches_filter("a/b/c/d", "a/+/c"));
  EXPECT_FALSE(topic_matches_filter("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches_filter("$SYS/a", "#"));
  EXPECT_TRUE(is_valid_topic_filter("swas/gw-1/replies/#"));
  EXPECT_TRUE(is_valid_topic_filter("+/x/+"));
  EXPECT_FALSE(is_valid_topic_filter("a/#/b"));
  EXPECT_FALSE(is_valid_topic_filter("a/b#"));
  EXPECT_FALSE(is_valid_topic_filter("a+/b"));
  EXPECT_FALSE(is_valid_topic_filter("$SYS/#"));
  EXPECT_FALSE(is_valid_topic_filter(""));
}

// A hostile endpoint's Date can move the agent's clock by at most 24 h (limits.hpp), and signed
// commands are judged by the gateway's own clock, whatever the correction (issue 11).
TEST_F(ProcessorTest, ACloudDateBeyondTheBoundIsNotBelieved) {
  make();
  clock.now_ms = 1700000000000 - 48LL * 3600 * 1000;  // the cloud claims 48 h later
  transport.script.emplace_back(http(400, R"({"RequestId":"R","Code":"InvalidTimeStamp.Expired","Message":"expired"})",
                                     {{"Date", "Tue, 14 Nov 2023 22:13:20 GMT"}}));
  send(kCommand);
  EXPECT_EQ(clock.offset, 0);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(last().str("error", "Code"), "InvalidTimeStamp.Expired");
  EXPECT_NE(logger.all().find("48 h away"), std::string::npos) << logger.all();
}

TEST_F(ProcessorTest, TheClockCorrectionNeverWidensTheSignedCommandWindow) {
  settings.command_key = "0123456789abcdef-command-key";
  make();
  clock.offset = -24LL * 3600 * 1000 + 1000;  // a hostile cloud set the agent's time back a day
  const std::string issued = "2023-11-13T22:13:20Z";  // a command signed a day ago
  const SignedFields f{"old-1", "StopInstance", "i-1", "cn-hangzhou", "", issued, ""};
  const std::string sig = command_signature(settings.command_key, "gw-001", f);
  send(R"({"id":"old-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","issuedAt":")" + issued +
       R"(","signature":")" + sig + "\"}");
  EXPECT_EQ(last().str("error", "Code"), "Unauthenticated");
  EXPECT_TRUE(transport.sent.empty());
}

// --- intake_many: several messages journaled as one change (commit cd7cfa1) ---------------------

// One agent's processor with its own fakes, so that two can be given the same messages (one with
// intake() one by one, one with intake_many()) and compared.
struct World {
  explicit World(const ProcessorSettings& s)
      : processor(s, Credentials("AKID", "SECRET", ""), clock, entropy, journal, publisher, telemetry, logger) {}
  IncomingMessage message(const std::string& payload, const std::string& response_topic = "",
                          const std::string& correlation = "") const {
    return IncomingMessage{"swas/gw-001/commands", payload, response_topic, correlation, clock.now_ms, std::nullopt};
  }
  // A command finished before the batch (its recorded result is `payload`).
  void seed_finished(const std::string& id, const std::string& payload) {
    JournalRecord rec;
    rec.id = id;
    rec.route = Route{"swas/gw-001/commands", ""};
    journal.entries[id] = FakeJournal::Entry{rec, true, false, payload, {}};
  }
  // Every published message, as one comparable string each, in publication order.
  std::vector<std::string> published() const {
    std::vector<std::string> out;
    for (const auto& m : publisher.published)
      out.push_back(m.topic + " | " + m.correlation_data + " | " + m.journal_id + " | " + m.payload);
    return out;
  }
  FakeClock clock;
  FakeEntropy entropy;
  FakeTransport transport;
  FakePublisher publisher;
  FakeJournal journal;
  FakeTelemetry telemetry;
  FakeLogger logger;
  CommandProcessor processor;
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string item_summary(const ExecutionItem& item) {
  return item.command.id + " | " + item.route.topic + " | " + item.route.correlation_data + " | " +
         item.command.client_token + " | " + std::to_string(item.accepted_ms) + " | " +
         (item.expires_at_ms ? std::to_string(*item.expires_at_ms) : "-") + " | " +
         (item.told_ms ? std::to_string(*item.told_ms) : "-");
}

std::vector<std::string> summaries(const std::vector<ExecutionItem>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item_summary(item));
  return out;
}

std::string stop(const std::string& id, const std::string& region = "cn-hangzhou") {
  return R"({"id":")" + id + R"(","action":"StopInstance","InstanceId":"i-)" + id + R"(","RegionId":")" + region + "\"}";
}

// The same messages through intake() one by one and through one intake_many(): the same items in
// the same order, the same answers (as a set: intake_many publishes what it answers before the
// journal, such as Throttled, ahead of what it answers after), the same journal.
class IntakeManyTest : public ::testing::Test {
 protected:
  IntakeManyTest() {
    settings.command_topic = "swas/gw-001/commands";
    settings.gateway_id = "gw-001";
  }
  void build() {
    one_by_one = std::make_unique<World>(settings);
    batched = std::make_unique<World>(settings);
  }
  // Feeds `msgs` to both worlds; returns the batched world's items (the other's are in `single_items`).
  std::vector<ExecutionItem> feed(const std::vector<IncomingMessage>& msgs) {
    single_items.clear();
    for (const auto& m : msgs)
      if (auto item = one_by_one->processor.intake(m)) single_items.push_back(std::move(*item));
    return batched->processor.intake_many(msgs);
  }
  // Executes each world's items, every call answered 200.
  void execute(World& w, const std::vector<ExecutionItem>& items) {
    for (const auto& item : items) {
      w.transport.reply(200, R"({"RequestId":"REQ-)" + item.command.id + "\"}");
      w.processor.execute(item, w.transport);
    }
  }
  void expect_same_journals() {
    ASSERT_EQ(one_by_one->journal.entries.size(), batched->journal.entries.size());
    for (const auto& [id, e] : one_by_one->journal.entries) {
      ASSERT_TRUE(batched->journal.entries.count(id)) << id;
      const auto& b = batched->journal.entries.at(id);
      EXPECT_EQ(e.finished, b.finished) << id;
      EXPECT_EQ(e.payload, b.payload) << id;
      EXPECT_EQ(e.rec.route.topic, b.rec.route.topic) << id;
      EXPECT_EQ(e.rec.client_token, b.rec.client_token) << id;
      EXPECT_EQ(e.waiters.size(), b.waiters.size()) << id;
    }
  }
  void expect_same_telemetry() {
    EXPECT_EQ(one_by_one->telemetry.received_count, batched->telemetry.received_count);
    EXPECT_EQ(one_by_one->telemetry.rejected, batched->telemetry.rejected);
    EXPECT_EQ(one_by_one->telemetry.succeeded, batched->telemetry.succeeded);
  }
  // The answers published for a command id (by the payload's "id"), in order.
  static std::vector<OutgoingMessage> answers_for(const World& w, const std::string& id) {
    std::vector<OutgoingMessage> out;
    for (const auto& m : w.publisher.published)
      if (Json(m.payload).str("id") == id) out.push_back(m);
    return out;
  }

  ProcessorSettings settings;
  std::unique_ptr<World> one_by_one, batched;
  std::vector<ExecutionItem> single_items;
};

TEST_F(IntakeManyTest, AMixedBatchGivesWhatIntakeOneByOneGivesWithOneJournalCall) {
  settings.policy.allowed_regions = {"cn-hangzhou"};
  settings.policy.rate_limit = RateLimit{1, 4};  // four commands now, then one a minute
  build();
  for (World* w : {one_by_one.get(), batched.get()}) w->seed_finished("done", "DONE-RESULT");
  World& w = *batched;
  const std::vector<IncomingMessage> msgs = {
      w.message(stop("a"), "reply/a", "ca"),                                      // accepted (token 1)
      w.message("{oops"),                                                         // unreadable
      w.message(R"({"type":"status","state":"online"})"),                         // not a command
      w.message(stop("done"), "reply/done", "cd"),                                // finished earlier (token 2)
      w.message(stop("b")),                                                       // accepted (token 3)
      w.message(stop("a"), "reply/a2", "ca2"),                                    // a again, same batch (token 4)
      w.message(stop("f", "cn-shanghai"), "reply/f"),                             // Forbidden by policy
      w.message(stop("t")),                                                       // over the rate limit
      w.message(R"({"id":"i","action":"StopInstance","RegionId":"cn-hangzhou"})"),  // invalid, with an id
  };
  const auto items = feed(msgs);
  EXPECT_EQ(batched->journal.begin_many_calls, 1);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].command.id, "a");
  EXPECT_EQ(items[0].route.topic, "reply/a");
  EXPECT_EQ(items[0].route.correlation_data, "ca");
  EXPECT_EQ(items[1].command.id, "b");
  EXPECT_EQ(summaries(items), summaries(single_items));

  // One answer for each command that needs one now: not the status message, not a (answered when
  // it finishes), not b.
  ASSERT_EQ(batched->publisher.published.size(), 5u) << ::testing::PrintToString(batched->published());
  EXPECT_EQ(sorted(batched->published()), sorted(one_by_one->published()));
  EXPECT_EQ(answers_for(w, "a").size(), 0u);
  EXPECT_EQ(answers_for(w, "b").size(), 0u);
  std::vector<OutgoingMessage> done_answers;
  for (const auto& m : w.publisher.published)  // its recorded payload (not JSON here), verbatim
    if (m.payload == "DONE-RESULT") done_answers.push_back(m);
  ASSERT_EQ(done_answers.size(), 1u);
  EXPECT_EQ(done_answers[0].topic, "reply/done");
  EXPECT_EQ(done_answers[0].correlation_data, "cd");
  ASSERT_EQ(answers_for(w, "f").size(), 1u);
  EXPECT_EQ(Json(answers_for(w, "f")[0].payload).str("error", "Code"), "Forbidden");
  EXPECT_EQ(answers_for(w, "f")[0].topic, "reply/f");
  ASSERT_EQ(answers_for(w, "t").size(), 1u);
  EXPECT_EQ(Json(answers_for(w, "t")[0].payload).str("error", "Code"), "Throttled");
  ASSERT_EQ(answers_for(w, "i").size(), 1u);
  EXPECT_EQ(Json(answers_for(w, "i")[0].payload).str("error", "Code"), "MissingParameter");
  std::size_t unreadable = 0;
  for (const auto& m : w.publisher.published) unreadable += Json(m.payload).id_is_null() ? 1 : 0;
  EXPECT_EQ(unreadable, 1u);
  expect_same_journals();
  EXPECT_FALSE(batched->journal.entries.count("t"));  // Throttled: not recorded
  EXPECT_TRUE(batched->journal.entries.at("f").finished);
  EXPECT_TRUE(batched->journal.entries.at("i").finished);
  EXPECT_FALSE(batched->journal.entries.at("a").finished);

  // Executing: a's result goes to both of a's routes, once each; b's to the command topic.
  execute(*one_by_one, single_items);
  execute(*batched, items);
  EXPECT_EQ(batched->transport.sent.size(), 2u);
  const auto a = answers_for(w, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].topic, "reply/a");
  EXPECT_EQ(a[0].correlation_data, "ca");
  EXPECT_EQ(a[1].topic, "reply/a2");
  EXPECT_EQ(a[1].correlation_data, "ca2");
  EXPECT_EQ(a[0].payload, a[1].payload);
  EXPECT_TRUE(Json(a[0].payload).ok());
  EXPECT_EQ(sorted(batched->published()), sorted(one_by_one->published()));
  expect_same_journals();
  expect_same_telemetry();
}

TEST_F(IntakeManyTest, ADuplicateWithinTheBatchIsAnsweredOnBothRoutesWhenTheFirstFinishes) {
  build();
  World& w = *batched;
  const auto items = feed({w.message(stop("x"), "reply/1", "c1"), w.message(stop("x"), "reply/2", "c2")});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].route.topic, "reply/1");
  EXPECT_TRUE(w.publisher.published.empty());
  execute(*batched, items);
  execute(*one_by_one, single_items);
  ASSERT_EQ(w.publisher.published.size(), 2u);
  EXPECT_EQ(w.publisher.published[0].topic, "reply/1");
  EXPECT_EQ(w.publisher.published[1].topic, "reply/2");
  EXPECT_EQ(w.publisher.published[1].correlation_data, "c2");
  EXPECT_EQ(w.publisher.published[0].payload, w.publisher.published[1].payload);
  EXPECT_EQ(w.transport.sent.size(), 1u);
  EXPECT_EQ(w.published(), one_by_one->published());
}

// A refusal is recorded and finished during the batch: a later delivery of the same id in the
// same batch gets that recorded answer, as it does from intake() one by one.
TEST_F(IntakeManyTest, ADuplicateWithinTheBatchOfARefusedCommandGetsTheRecordedRefusal) {
  settings.policy.allowed_regions = {"cn-hangzhou"};
  build();
  World& w = *batched;
  const std::string invalid = R"({"id":"i","action":"StopInstance","RegionId":"cn-hangzhou"})";
  const auto items = feed({w.message(stop("f", "cn-shanghai"), "reply/f1"), w.message(invalid, "reply/i1"),
                           w.message(stop("f", "cn-shanghai"), "reply/f2"), w.message(invalid, "reply/i2")});
  EXPECT_TRUE(items.empty());
  const auto f = answers_for(w, "f");
  ASSERT_EQ(f.size(), 2u) << ::testing::PrintToString(w.published());
  EXPECT_EQ(f[0].topic, "reply/f1");
  EXPECT_EQ(f[1].topic, "reply/f2");
  EXPECT_EQ(f[0].payload, f[1].payload);
  EXPECT_EQ(Json(f[1].payload).str("error", "Code"), "Forbidden");
  const auto i = answers_for(w, "i");
  ASSERT_EQ(i.size(), 2u);
  EXPECT_EQ(i[1].topic, "reply/i2");
  EXPECT_EQ(Json(i[1].payload).str("error", "Code"), "MissingParameter");
  EXPECT_EQ(sorted(w.published()), sorted(one_by_one->published()));
  EXPECT_TRUE(w.journal.entries.at("f").waiters.empty());  // nobody left waiting for a finished id
  expect_same_journals();
}

// Over the rate limit, a duplicate of a known command still gets its result (docs/contract.md,
// Throttled) — also when the first delivery is earlier in the same batch.
TEST_F(IntakeManyTest, ADuplicateWithinTheBatchOverTheRateLimitIsAnsweredWithTheResultNotThrottled) {
  settings.policy.rate_limit = RateLimit{1, 1};  // one a minute
  build();
  World& w = *batched;
  const auto items = feed({w.message(stop("x"), "reply/1"), w.message(stop("x"), "reply/2")});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(single_items.size(), 1u);
  EXPECT_TRUE(one_by_one->publisher.published.empty());
  EXPECT_TRUE(w.publisher.published.empty()) << ::testing::PrintToString(w.published());
  execute(*batched, items);
  execute(*one_by_one, single_items);
  const auto x = answers_for(w, "x");
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[1].topic, "reply/2");
  EXPECT_TRUE(Json(x[1].payload).ok());
  EXPECT_EQ(w.published(), one_by_one->published());
}

// The other cases of a duplicate over the rate limit: the first delivery was refused (its
// recorded answer), did not fit in the journal (Throttled, as the first was never recorded).
TEST_F(IntakeManyTest, ADuplicateWithinTheBatchOverTheRateLimitGetsWhatIntakeOneByOneGives) {
  settings.policy.rate_limit = RateLimit{1, 2};
  build();
  for (World* w : {one_by_one.get(), batched.get()}) w->journal.max_records = 2;
  World& w = *batched;
  const std::string invalid_i = R"({"id":"i","action":"StopInstance","RegionId":"cn-hangzhou"})";
  const auto items = feed({w.message(stop("y")),                 // token 1, recorded
                           w.message(invalid_i, "reply/i1"),     // recorded and refused
                           w.message(stop("q"), "reply/q1"),     // token 2, the journal is full: Busy
                           w.message(stop("q"), "reply/q2"),     // over the limit, q never recorded
                           w.message(stop("i"), "reply/i2"),     // over the limit, i refused above
                           w.message(stop("z"), "reply/z")});    // over the limit
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].command.id, "y");
  EXPECT_EQ(summaries(items), summaries(single_items));
  const auto i = answers_for(w, "i");
  ASSERT_EQ(i.size(), 2u) << ::testing::PrintToString(w.published());
  EXPECT_EQ(i[1].topic, "reply/i2");
  EXPECT_EQ(i[1].payload, i[0].payload);
  EXPECT_EQ(Json(i[1].payload).str("error", "Code"), "MissingParameter");
  const auto q = answers_for(w, "q");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].topic, "reply/q1");
  EXPECT_EQ(Json(q[0].payload).str("error", "Code"), "Busy");
  EXPECT_EQ(q[1].topic, "reply/q2");
  EXPECT_EQ(Json(q[1].payload).str("error", "Code"), "Throttled");
  ASSERT_EQ(answers_for(w, "z").size(), 1u);
  EXPECT_EQ(Json(answers_for(w, "z")[0].payload).str("error", "Code"), "Throttled");
  EXPECT_EQ(w.publisher.published.size(), 5u);
  EXPECT_EQ(sorted(w.published()), sorted(one_by_one->published()));
  expect_same_journals();
  expect_same_telemetry();
}

TEST_F(IntakeManyTest, AFailingJournalAnswersEveryScreenedCommandBusyAndRunsNothing) {
  settings.policy.allowed_regions = {"cn-hangzhou"};
  build();
  for (World* w : {one_by_one.get(), batched.get()}) w->journal.fail_writes = true;
  World& w = *batched;
  const std::vector<IncomingMessage> msgs = {w.message(stop("a"), "reply/a", "ca"), w.message("{oops"),
                                             w.message(R"({"id":"i","action":"StopInstance","RegionId":"cn-hangzhou"})"),
                                             w.message(stop("b")), w.message(stop("f", "cn-shanghai")),
                                             w.message(R"({"type":"status","state":"online"})")};
  const auto items = feed(msgs);
  EXPECT_TRUE(items.empty());
  EXPECT_EQ(w.journal.begin_many_calls, 1);
  EXPECT_TRUE(w.journal.entries.empty());
  for (const std::string id : {"a", "b", "f"}) {
    const auto answers = answers_for(w, id);
    ASSERT_EQ(answers.size(), 1u) << id;
    EXPECT_EQ(Json(answers[0].payload).str("error", "Code"), "Busy") << id;
    EXPECT_NE(Json(answers[0].payload).str("error", "Message").find("disk I/O error"), std::string::npos) << id;
    EXPECT_EQ(answers[0].journal_id, "") << "a Busy answer is not recorded: " << id;
  }
  EXPECT_EQ(answers_for(w, "a")[0].topic, "reply/a");
  EXPECT_EQ(answers_for(w, "a")[0].correlation_data, "ca");
  // A command invalid anyway gets its validation error (as busy_answer() gives it).
  ASSERT_EQ(answers_for(w, "i").size(), 1u);
  EXPECT_EQ(Json(answers_for(w, "i")[0].payload).str("error", "Code"), "MissingParameter");
  EXPECT_EQ(w.publisher.published.size(), 5u);  // a, unreadable, i, b, f
  // Each is the answer busy_answer() gives the same message for the same reason (what intake
  // published before it built the answer itself).
  for (const std::size_t k : {std::size_t{0}, std::size_t{2}, std::size_t{3}, std::size_t{4}}) {
    const auto busy = w.processor.busy_answer(msgs[k], "the journal failed: disk I/O error");
    ASSERT_TRUE(busy.has_value()) << k;
    const std::string id = Json(busy->payload).str("id");
    ASSERT_EQ(answers_for(w, id).size(), 1u) << id;
    EXPECT_EQ(answers_for(w, id)[0].payload, busy->payload) << id;
    EXPECT_EQ(answers_for(w, id)[0].topic, busy->topic) << id;
    EXPECT_EQ(answers_for(w, id)[0].correlation_data, busy->correlation_data) << id;
  }
  EXPECT_EQ(sorted(w.published()), sorted(one_by_one->published()));
  expect_same_telemetry();
  EXPECT_TRUE(w.transport.sent.empty());
}

TEST_F(IntakeManyTest, AFullJournalAnswersBusyForWhatDoesNotFitAndAcceptsWhatDoes) {
  build();
  for (World* w : {one_by_one.get(), batched.get()}) w->journal.max_records = 2;
  World& w = *batched;
  const auto items = feed({w.message(stop("a")), w.message(stop("b")), w.message(stop("c"), "reply/c"),
                           w.message(stop("a"), "reply/a2")});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].command.id, "a");
  EXPECT_EQ(items[1].command.id, "b");
  EXPECT_EQ(summaries(items), summaries(single_items));
  ASSERT_EQ(w.publisher.published.size(), 1u);
  EXPECT_EQ(w.publisher.published[0].topic, "reply/c");
  EXPECT_EQ(Json(w.publisher.published[0].payload).str("id"), "c");
  EXPECT_EQ(Json(w.publisher.published[0].payload).str("error", "Code"), "Busy");
  EXPECT_NE(Json(w.publisher.published[0].payload).str("error", "Message").find("journal is full"), std::string::npos);
  EXPECT_EQ(w.published(), one_by_one->published());
  EXPECT_FALSE(w.journal.entries.count("c"));
  EXPECT_EQ(w.journal.entries.at("a").waiters.size(), 1u);  // a's duplicate waits for a's result
  expect_same_journals();
}

TEST_F(IntakeManyTest, ABatchWithNothingToJournalMakesNoJournalCall) {
  build();
  World& w = *batched;
  const auto items = feed({w.message("{oops"), w.message(R"({"type":"status","state":"online"})")});
  EXPECT_TRUE(items.empty());
  EXPECT_EQ(w.journal.begin_many_calls, 0);
  EXPECT_EQ(w.publisher.published.size(), 1u);
  EXPECT_TRUE(batched->processor.intake_many({}).empty());
  EXPECT_EQ(w.journal.begin_many_calls, 0);
}

}  // namespace
}  // namespace swas
