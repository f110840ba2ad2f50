// The processor under the account's rate quota (docs/contract.md, "The account's rate quota") and
// with InstanceIds commands, through a scripted pacer and the other fakes: a throttled answer is
// not a failed attempt, the expiry ends the wait, progress messages, one follow per instance.
#include "command_processor.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "fakes.hpp"
#include "result_message.hpp"
#include "time_format.hpp"

namespace swas {
namespace {

using namespace fakes;

struct Json {
  explicit Json(const std::string& s) : root(cJSON_Parse(s.c_str()), &cJSON_Delete) {}
  const cJSON* get(const char* a, const char* b = nullptr) const {
    const cJSON* n = cJSON_GetObjectItemCaseSensitive(root.get(), a);
    return b ? cJSON_GetObjectItemCaseSensitive(n, b) : n;
  }
  std::string str(const char* a, const char* b = nullptr) const {
    const cJSON* n = get(a, b);
    return cJSON_IsString(n) ? n->valuestring : cJSON_IsNull(n) ? "<null>" : "<absent>";
  }
  double num(const char* a, const char* b = nullptr) const {
    const cJSON* n = get(a, b);
    return cJSON_IsNumber(n) ? n->valuedouble : -1;
  }
  bool ok() const { return cJSON_IsTrue(get("ok")); }
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root;
};

HttpResponse http(int status, std::string body, std::vector<Header> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

const char* kThrottleBody =
    R"({"RequestId":"THR-REQ","HostId":"swas.cn-hangzhou.aliyuncs.com","Code":"Throttling.User",)"
    R"("Message":"Request was denied due to user flow control.","Recommend":"https://api.aliyun.com/troubleshoot"})";

const char* kCommand =
    R"({"id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou","ClientToken":"tok-1"})";
const char* kMany =
    R"({"id":"c-7","action":"StopInstance","InstanceIds":["i-1","i-2","i-3"],"RegionId":"cn-hangzhou",)"
    R"("ClientToken":"tok-7","ForceStop":true})";

class FakeSink final : public FollowSink {
 public:
  bool accept = true;
  std::vector<std::pair<FollowRecord, bool>> got;
  std::vector<std::size_t> published_when_handed;
  FakePublisher* publisher = nullptr;
  bool follow(FollowRecord record, bool journaled) override {
    published_when_handed.push_back(publisher->published.size());
    if (accept) got.emplace_back(std::move(record), journaled);
    return accept;
  }
};

class PacedProcessorTest : public ::testing::Test {
 protected:
  PacedProcessorTest() {
    settings.command_topic = "swas/gw-001/commands";
    settings.gateway_id = "gw-001";
    pacer.clock = &clock;
    pacer.quota_texts = {{"StopInstance", "10/60s"}};
    sink.publisher = &publisher;
  }
  CommandProcessor& make(bool paced = true) {
    processor = std::make_unique<CommandProcessor>(settings, Credentials("AKID", "SECRET", ""), clock, entropy,
                                                   journal, publisher, telemetry, logger);
    if (paced) processor->set_pacer(&pacer);
    return *processor;
  }
  IncomingMessage message(const std::string& payload, const std::string& response_topic = "reply/x",
                          const std::string& correlation = "corr",
                          std::optional<std::uint32_t> expiry_s = std::nullopt) {
    return IncomingMessage{"swas/gw-001/commands", payload, response_topic, correlation, clock.now_ms, expiry_s};
  }
  void send(const std::string& payload, std::optional<std::uint32_t> expiry_s = std::nullopt) {
    if (auto item = processor->intake(message(payload, "reply/x", "corr", expiry_s)))
      processor->execute(*item, transport);
  }
  void throttle(std::optional<std::string> retry_after = std::nullopt) {
    std::vector<Header> headers;
    if (retry_after) headers.push_back({"x-acs-retry-after", *retry_after});
    transport.script.emplace_back(http(400, kThrottleBody, headers));
  }
  std::vector<OutgoingMessage> of_type(const std::string& type) const {
    std::vector<OutgoingMessage> out;
    for (const auto& m : publisher.published)
      if (Json(m.payload).str("type") == type) out.push_back(m);
    return out;
  }
  Json result() const {
    const auto results = of_type("result");
    EXPECT_EQ(results.size(), 1u);
    return Json(results.empty() ? "{}" : results.back().payload);
  }

  ProcessorSettings settings;
  FakeClock clock;
  FakeEntropy entropy;
  FakeTransport transport;
  FakePublisher publisher;
  FakeJournal journal;
  FakeTelemetry telemetry;
  FakeLogger logger;
  FakePacer pacer;
  FakeSink sink;
  std::unique_ptr<CommandProcessor> processor;
};

TEST_F(PacedProcessorTest, ThrottledAnswersAreNotFailedAttemptsAndTheCommandSucceedsWithOneClientToken) {
  // Two attempts and a 15 s deadline: five throttled calls of 4 s, each after a 10 s wait for the
  // turn, spend neither.
  settings.retry = RetryPolicy{2, 100, 100, 15000};
  make();
  transport.clock = &clock;
  transport.ms_per_call = 4000;
  for (int i = 0; i < 5; ++i) throttle(i == 2 ? std::optional<std::string>("1500") : std::nullopt);
  transport.reply(500, R"({"RequestId":"R5","Code":"InternalError","Message":"m"})");
  transport.reply(200, R"({"RequestId":"REQ-OK"})");
  for (int i = 0; i < 7; ++i) pacer.script.push_back(FakePacer::wait_then_go(std::nullopt, 10000));
  const std::int64_t arrival = clock.now_ms;
  send(kCommand);
  const Json r = result();
  EXPECT_TRUE(r.ok()) << publisher.published.back().payload;
  EXPECT_EQ(r.str("RequestId"), "REQ-OK");
  ASSERT_EQ(transport.sent.size(), 7u);
  std::set<std::string> nonces;
  for (const auto& s : transport.sent) {
    EXPECT_EQ(s.request.target, "/?ClientToken=tok-1&InstanceId=i-1&RegionId=cn-hangzhou");
    nonces.insert(*find_header(s.request.headers, "x-acs-signature-nonce"));
  }
  EXPECT_EQ(nonces.size(), 7u);
  // Every call took its turn, and each turn was ended as the call ended.
  ASSERT_EQ(pacer.acquired.size(), 7u);
  for (const auto& a : pacer.acquired) {
    EXPECT_EQ(a.action, "StopInstance");
    EXPECT_EQ(a.deadline_ms, arrival + 3600 * 1000);  // cloud.quota_max_wait_s after arrival
  }
  ASSERT_EQ(pacer.ended_calls.size(), 7u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(pacer.ended_calls[i].end, CallEnd::Throttled) << i;
  EXPECT_EQ(pacer.ended_calls[2].retry_after_ms, 1500u);
  EXPECT_EQ(pacer.ended_calls[5].end, CallEnd::Answered);  // the 500 is the cloud's answer
  EXPECT_EQ(pacer.ended_calls[6].end, CallEnd::Answered);
  EXPECT_EQ(pacer.unended, 0);
  // The retry rule's own backoff: once, after the 500; the throttles waited in the pacer.
  EXPECT_EQ(clock.sleeps.size(), 1u);
  EXPECT_EQ(telemetry.succeeded, 1);
  EXPECT_EQ(telemetry.failed, 0);
  EXPECT_TRUE(journal.entries["c-1"].finished);
}

TEST_F(PacedProcessorTest, A429IsThrottledWhateverItsCode) {
  settings.retry = RetryPolicy{1, 100, 100, 120000};
  make();
  transport.reply(429, R"({"RequestId":"R","Code":"TooManyRequests","Message":"m"})");
  transport.reply(429, "<html>slow down</html>");
  transport.reply(200, R"({"RequestId":"REQ-OK"})");
  send(kCommand);
  EXPECT_TRUE(result().ok());
  ASSERT_EQ(pacer.ended_calls.size(), 3u);
  EXPECT_EQ(pacer.ended_calls[0].end, CallEnd::Throttled);
  EXPECT_EQ(pacer.ended_calls[1].end, CallEnd::Throttled);
  EXPECT_EQ(pacer.ended_calls[2].end, CallEnd::Answered);
}

TEST_F(PacedProcessorTest, UnansweredCallsAreFailedAttemptsAndEndAsNoAnswer) {
  settings.retry = RetryPolicy{2, 100, 100, 120000};
  make();
  transport.fail(TransportFailure::Timeout, "read timed out");
  transport.fail(TransportFailure::Connect, "refused");
  transport.reply(200, R"({"RequestId":"never"})");
  send(kCommand);
  EXPECT_EQ(result().str("error", "Code"), "CloudUnreachable");
  EXPECT_EQ(transport.sent.size(), 2u);
  ASSERT_EQ(pacer.ended_calls.size(), 2u);
  EXPECT_EQ(pacer.ended_calls[0].end, CallEnd::NoAnswer);
  EXPECT_EQ(pacer.ended_calls[1].end, CallEnd::NoAnswer);
  EXPECT_EQ(pacer.unended, 0);
}

TEST_F(PacedProcessorTest, ExpiryWhileThrottledIsTheCloudsThrottlingErrorVerbatim) {
  make();
  const std::int64_t expires = clock.now_ms + 120000;
  throttle();
  pacer.script = {FakePacer::go(), FakePacer::wait_until_deadline(std::nullopt)};
  send(std::string(R"({"id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou",)") +
       R"("ClientToken":"tok-1","expiresAt":")" + format_iso8601_utc(expires / 1000) + "\"}");
  ASSERT_EQ(pacer.acquired.size(), 2u);
  EXPECT_EQ(pacer.acquired[1].deadline_ms, expires);  // expiresAt, not cloud.quota_max_wait_s
  EXPECT_EQ(transport.sent.size(), 1u);
  const StopCommand cmd{"c-1", "StopInstance", "i-1", "cn-hangzhou", "tok-1", false, expires};
  const CloudError e{400, "Throttling.User", "Request was denied due to user flow control.", "THR-REQ",
                     "swas.cn-hangzhou.aliyuncs.com", "https://api.aliyun.com/troubleshoot"};
  ASSERT_FALSE(of_type("result").empty());
  EXPECT_EQ(of_type("result").back().payload, encode_cloud_error(cmd, e));
  EXPECT_EQ(of_type("result").back().journal_id, "c-1");
  EXPECT_EQ(journal.entries["c-1"].payload, encode_cloud_error(cmd, e));
  EXPECT_EQ(telemetry.failed, 1);
}

TEST_F(PacedProcessorTest, TheMqttMessageExpiryBoundsTheWaitToo) {
  make();
  pacer.script = {FakePacer::wait_until_deadline(std::nullopt)};
  const std::int64_t arrival = clock.now_ms;
  send(kCommand, 90);
  ASSERT_EQ(pacer.acquired.size(), 1u);
  EXPECT_EQ(pacer.acquired[0].deadline_ms, arrival + 90000);
  EXPECT_EQ(result().str("error", "Code"), "RateLimited");
}

TEST_F(PacedProcessorTest, NeverGettingATurnIsRateLimitedAndNothingIsSent) {
  settings.quota_max_wait_s = 600;
  make();
  pacer.script = {FakePacer::wait_until_deadline(24000)};
  const std::int64_t arrival = clock.now_ms;
  send(R"({"id":"c-20261203-0009","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})");
  EXPECT_TRUE(transport.sent.empty());
  ASSERT_EQ(pacer.acquired.size(), 1u);
  EXPECT_EQ(pacer.acquired[0].deadline_ms, arrival + 600000);
  EXPECT_TRUE(pacer.ended_calls.empty());
  const Json r = result();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.str("error", "source"), "agent");
  EXPECT_EQ(r.str("error", "Code"), "RateLimited");
  const std::string message = r.str("error", "Message");
  EXPECT_EQ(message.rfind("waited 600 s for the cloud's rate limit of StopInstance", 0), 0u) << message;
  EXPECT_NE(message.find("not sent"), std::string::npos) << message;
  // Validated: the result names the command's fields, like every agent error after validation.
  EXPECT_EQ(r.str("InstanceId"), "i-1");
  EXPECT_EQ(r.str("ClientToken").size(), 36u);
  EXPECT_TRUE(journal.entries["c-20261203-0009"].finished);
  EXPECT_EQ(telemetry.failed, 1);
  // The wait was announced first, in the contract's words.
  const auto progress = of_type("progress");
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].payload,
            R"({"type":"progress","id":"c-20261203-0009","stage":"RateLimited","action":"StopInstance",)"
            R"("waitMs":24000,"Message":"waiting for the cloud's rate limit of StopInstance (cloud.quota 10/60s); )"
            R"(the stop is sent in about 24 s"})");
  EXPECT_EQ(publisher.published.front().payload, progress[0].payload);
}

TEST_F(PacedProcessorTest, AnInstanceIdsCommandWaitsForStopInstancesAndIsRateLimitedAsOne) {
  make();
  pacer.script = {FakePacer::wait_until_deadline(std::nullopt)};
  send(kMany);
  ASSERT_EQ(pacer.acquired.size(), 1u);
  EXPECT_EQ(pacer.acquired[0].action, "StopInstances");
  const Json p(of_type("progress").at(0).payload);
  EXPECT_EQ(p.str("action"), "StopInstances");
  EXPECT_EQ(p.str("waitMs"), "<null>");
  EXPECT_EQ(p.str("Message"),
            "waiting for the cloud's rate limit of StopInstances; the stop is sent as soon as the cloud takes calls "
            "again");
  const Json r = result();
  EXPECT_EQ(r.str("error", "Code"), "RateLimited");
  EXPECT_NE(r.str("error", "Message").find("rate limit of StopInstances"), std::string::npos);
  EXPECT_EQ(cJSON_GetArraySize(r.get("InstanceIds")), 3);
  EXPECT_TRUE(cJSON_IsTrue(r.get("ForceStop")));
}

TEST_F(PacedProcessorTest, ProgressGoesOnTheResultsRouteAtMostOnceEvery30Seconds) {
  make();
  // Seven throttled calls; each turn is announced (on_wait) and takes 10 s.
  for (int i = 0; i < 7; ++i) throttle();
  transport.reply(200, R"({"RequestId":"REQ-OK"})");
  pacer.script.push_back(FakePacer::wait_then_go(24000, 10000));
  for (int i = 0; i < 7; ++i) pacer.script.push_back(FakePacer::wait_then_go(std::nullopt, 10000));
  send(kCommand);
  // on_wait at 0, 10, ... 70 s: progress at 0, 30 and 60 s.
  const auto progress = of_type("progress");
  ASSERT_EQ(progress.size(), 3u);
  for (const auto& m : progress) {
    EXPECT_EQ(m.topic, "reply/x");
    EXPECT_EQ(m.correlation_data, "corr");
    EXPECT_EQ(m.journal_id, "");  // not journaled, not republished
    EXPECT_FALSE(m.retained);
    EXPECT_EQ(Json(m.payload).str("stage"), "RateLimited");
    EXPECT_EQ(Json(m.payload).str("id"), "c-1");
  }
  EXPECT_EQ(Json(progress[0].payload).num("waitMs"), 24000);
  EXPECT_EQ(Json(progress[1].payload).str("waitMs"), "<null>");
  EXPECT_EQ(Json(progress[1].payload).str("Message"),
            "waiting for the cloud's rate limit of StopInstance (the cloud answered Throttling.User); the stop is sent "
            "as soon as the cloud takes calls again");
  EXPECT_FALSE(journal.entries["c-1"].payload.empty());
  for (const auto& [id, e] : journal.entries) EXPECT_EQ(Json(e.payload).str("type"), "result") << id;
  // The result on the same route, after them.
  const OutgoingMessage& last = publisher.published.back();
  EXPECT_EQ(Json(last.payload).str("type"), "result");
  EXPECT_EQ(last.topic, "reply/x");
  EXPECT_EQ(last.correlation_data, "corr");
  EXPECT_EQ(last.journal_id, "c-1");
  EXPECT_TRUE(Json(last.payload).ok());
}

TEST_F(PacedProcessorTest, TheProgressIntervalIsPerCommand) {
  make();
  pacer.script = {FakePacer::wait_then_go(5000, 0), FakePacer::wait_then_go(5000, 0)};
  transport.reply(200, R"({"RequestId":"R1"})");
  transport.reply(200, R"({"RequestId":"R2"})");
  send(kCommand);
  send(R"({"id":"c-2","action":"StopInstance","InstanceId":"i-2","RegionId":"cn-hangzhou"})");
  const auto progress = of_type("progress");
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(Json(progress[0].payload).str("id"), "c-1");
  EXPECT_EQ(Json(progress[1].payload).str("id"), "c-2");
}

TEST_F(PacedProcessorTest, ShuttingDownWhileWaitingLeavesTheCommandAcceptedToResume) {
  make();
  pacer.script = {FakePacer::shutting_down()};
  send(kMany);
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_TRUE(of_type("result").empty());
  EXPECT_FALSE(journal.entries["c-7"].finished);
  make();
  const auto items = processor->recover();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].command.instance_ids, (std::vector<std::string>{"i-1", "i-2", "i-3"}));
  EXPECT_TRUE(items[0].command.force_stop);
  EXPECT_EQ(items[0].command.client_token, "tok-7");
  EXPECT_EQ(items[0].command.api_action(), "StopInstances");
  EXPECT_TRUE(items[0].resumed);
}

TEST_F(PacedProcessorTest, WithoutAPacerAThrottleIsStillAFailedAttempt) {
  settings.retry = RetryPolicy{2, 100, 100, 120000};
  make(false);
  throttle();
  throttle();
  send(kCommand);
  EXPECT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(result().str("error", "Code"), "Throttling.User");
  EXPECT_TRUE(of_type("progress").empty());
}

// --- InstanceIds commands: one call, one result, one follow per instance ----------------------

TEST_F(PacedProcessorTest, AnInstanceIdsCommandIsOneStopInstancesCallAndOneResult) {
  make();
  transport.reply(200, R"({"RequestId":"REQ-7"})");
  send(kMany);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(*find_header(transport.sent[0].request.headers, "x-acs-action"), "StopInstances");
  EXPECT_EQ(transport.sent[0].request.target,
            "/?ClientToken=tok-7&ForceStop=true&InstanceIds=%5B%22i-1%22%2C%22i-2%22%2C%22i-3%22%5D&RegionId=cn-hangzhou");
  EXPECT_EQ(pacer.acquired.at(0).action, "StopInstances");
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(publisher.published[0].payload,
            R"({"type":"result","id":"c-7","action":"StopInstance","InstanceIds":["i-1","i-2","i-3"],)"
            R"("RegionId":"cn-hangzhou","ClientToken":"tok-7","ForceStop":true,"ok":true,"RequestId":"REQ-7"})");
  const JournalRecord& rec = journal.entries["c-7"].rec;
  EXPECT_EQ(rec.instance_ids, (std::vector<std::string>{"i-1", "i-2", "i-3"}));
  EXPECT_TRUE(rec.force_stop);
  EXPECT_EQ(rec.instance_id, "");
}

TEST_F(PacedProcessorTest, AnInstanceIdsSuccessJournalsOneFollowPerInstanceAndHandsEachOver) {
  settings.follow_deadline_s = 600;
  make();
  processor->set_follow_sink(&sink);
  transport.reply(200, R"({"RequestId":"REQ-7"})");
  const std::int64_t arrival = clock.now_ms;
  send(kMany);
  std::vector<std::string> keys;
  for (const auto& [key, row] : journal.follow_rows) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"c-7\x1fi-1", "c-7\x1fi-2", "c-7\x1fi-3"}));
  for (const auto& [key, row] : journal.follow_rows) {
    EXPECT_TRUE(row.rec.many) << key;
    EXPECT_EQ(row.rec.id, "c-7");
    EXPECT_EQ(row.rec.request_id, "REQ-7");
    EXPECT_EQ(row.rec.key(), key);
    EXPECT_FALSE(row.finished);
  }
  ASSERT_EQ(sink.got.size(), 3u);
  const char* instances[] = {"i-1", "i-2", "i-3"};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& [rec, journaled] = sink.got[i];
    EXPECT_TRUE(journaled);
    EXPECT_EQ(rec.id, "c-7");
    EXPECT_EQ(rec.instance_id, instances[i]);
    EXPECT_TRUE(rec.many);
    EXPECT_EQ(rec.region_id, "cn-hangzhou");
    EXPECT_EQ(rec.route.topic, "reply/x");
    EXPECT_EQ(rec.route.correlation_data, "corr");
    EXPECT_EQ(rec.accepted_ms, arrival);
    EXPECT_EQ(rec.deadline_ms, arrival + 600000);
    EXPECT_EQ(sink.published_when_handed[i], 1u);  // after the result
  }
}

TEST_F(PacedProcessorTest, AFullMailboxDropsEveryFollowOfTheCommandAndSaysNotFollowedPerInstance) {
  make();
  processor->set_follow_sink(&sink);
  sink.accept = false;
  transport.reply(200, R"({"RequestId":"REQ-7"})");
  send(kMany);
  EXPECT_TRUE(journal.follow_rows.empty());
  const auto lifecycle = of_type("lifecycle");
  ASSERT_EQ(lifecycle.size(), 3u);
  const char* instances[] = {"i-1", "i-2", "i-3"};
  for (std::size_t i = 0; i < 3; ++i) {
    const Json j(lifecycle[i].payload);
    EXPECT_EQ(j.str("id"), "c-7");
    EXPECT_EQ(j.str("InstanceId"), instances[i]);
    EXPECT_EQ(j.str("outcome"), "NotFollowed");
    EXPECT_EQ(lifecycle[i].topic, "reply/x");
  }
}

TEST_F(PacedProcessorTest, AFailedInstanceIdsCommandIsNotFollowed) {
  make();
  processor->set_follow_sink(&sink);
  transport.reply(403, R"({"RequestId":"R","Code":"IncorrectInstanceStatus","Message":"m"})");
  send(kMany);
  EXPECT_TRUE(sink.got.empty());
  EXPECT_TRUE(journal.follow_rows.empty());
  EXPECT_EQ(result().str("error", "Code"), "IncorrectInstanceStatus");
  EXPECT_EQ(cJSON_GetArraySize(result().get("InstanceIds")), 3);
}

TEST_F(PacedProcessorTest, PolicyRefusingOneOfManyIdsForbidsTheCommandAndSendsNothing) {
  settings.policy.allowed_instances = {"i-1", "i-3"};
  make();
  send(kMany);
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_TRUE(pacer.acquired.empty());
  const Json r = result();
  EXPECT_EQ(r.str("error", "Code"), "Forbidden");
  EXPECT_EQ(r.str("error", "Message"), "instance i-2 is not in this gateway's policy.allowed_instances");
  EXPECT_EQ(cJSON_GetArraySize(r.get("InstanceIds")), 3);
  EXPECT_TRUE(journal.entries["c-7"].finished);  // recorded like a validation error
}

}  // namespace
}  // namespace swas

namespace swas {
namespace {

// Accepted behind calls already waiting for their turn: told at once (not only when a worker takes
// it), and not told again within 30 s when its own wait begins.
TEST_F(PacedProcessorTest, ACommandAcceptedBehindWaitingCallsIsToldAtOnceAndOnlyOnce) {
  make();
  pacer.waiting_calls = 3;
  auto item = processor->intake(message(kCommand));
  ASSERT_TRUE(item.has_value());
  auto progress = of_type("progress");
  ASSERT_EQ(progress.size(), 1u) << "told on acceptance";
  EXPECT_EQ(progress[0].topic, "reply/x");
  EXPECT_EQ(Json(progress[0].payload).str("waitMs"), "<null>");
  EXPECT_NE(Json(progress[0].payload).str("Message").find("queued behind 3 call(s) waiting for it"), std::string::npos)
      << progress[0].payload;
  transport.reply(200, R"({"RequestId":"REQ-OK"})");
  pacer.script.push_back(FakePacer::wait_then_go(5000, 5000));
  processor->execute(*item, transport);
  EXPECT_EQ(of_type("progress").size(), 1u) << "its own wait began within 30 s of the first message";
  EXPECT_TRUE(result().ok());
}

TEST_F(PacedProcessorTest, NothingWaitingMeansNoMessageOnAcceptance) {
  make();
  pacer.waiting_calls = 0;
  ASSERT_TRUE(processor->intake(message(kCommand)).has_value());
  EXPECT_TRUE(of_type("progress").empty());
}

}  // namespace
}  // namespace swas
