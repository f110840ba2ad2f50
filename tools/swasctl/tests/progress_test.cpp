// The agent's progress messages (docs/contract.md, "The account's rate quota"): which count and
// what swasctl prints for them while it waits for the result.
#include <gtest/gtest.h>

#include "lifecycle_report.hpp"
#include "progress_report.hpp"
#include "result_report.hpp"

namespace swasctl {
namespace {

using namespace std::chrono_literals;

// The contract's example.
const char* const kQueued =
    R"({"type":"progress","id":"c-1","stage":"RateLimited","action":"StopInstance","waitMs":24000,)"
    R"("Message":"waiting for the cloud's rate limit of StopInstance (cloud.quota 10/60s); the stop is sent in )"
    R"(about 24 s"})";

TEST(Progress, TheContractsExample) {
  const auto m = parse_progress(kQueued, "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stage, "RateLimited");
  EXPECT_EQ(m->action, "StopInstance");
  EXPECT_EQ(m->wait_ms, 24000);
  EXPECT_EQ(describe_progress(*m, 29000ms, 30s, 30s),
            "QUEUED  for the cloud's rate limit of StopInstance: the gateway sends the stop in about 24 s\n"
            "    waiting for the cloud's rate limit of StopInstance (cloud.quota 10/60s); the stop is sent in about "
            "24 s\n");
}

TEST(Progress, AWaitLongerThanTheTimeoutLeftSaysSo) {
  auto m = parse_progress(kQueued, "c-1");
  ASSERT_TRUE(m);
  const std::string text = describe_progress(*m, 20000ms, 30s, 30s);
  EXPECT_NE(text.find("\nhint: swasctl waits for the result 20 s more (--timeout 30s; progress does not extend "
                      "it)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("expires unsent 30s after it was sent (--expires)"), std::string::npos) << text;
  EXPECT_NE(text.find("give both more time"), std::string::npos) << text;
}

// waitMs null: queued behind other calls waiting for their turn, or a throttling hold probing.
TEST(Progress, AnUnknownWaitSaysSoAndGivesTheHint) {
  const auto m = parse_progress(
      R"({"type":"progress","id":"c-1","stage":"RateLimited","action":"StopInstances","waitMs":null,)"
      R"("Message":"waiting for the cloud's rate limit of StopInstances (cloud.quota 10/60s), queued behind 3 )"
      R"(call(s) waiting for it; the stop is sent as soon as the cloud takes calls again"})",
      "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->wait_ms, -1);
  const std::string text = describe_progress(*m, 25000ms, 30s, 30s);
  EXPECT_EQ(text.rfind("QUEUED  for the cloud's rate limit of StopInstances: the wait is not known yet (the "
                       "gateway's words below say why)\n    waiting for the cloud's rate limit of StopInstances "
                       "(cloud.quota 10/60s), queued behind 3 call(s)",
                       0),
            0u)
      << text;
  EXPECT_NE(text.find("\nhint: swasctl waits for the result 25 s more"), std::string::npos) << text;
}

TEST(Progress, AStageThisSwasctlDoesNotKnowIsShownAsItIs) {
  const auto m = parse_progress(R"({"type":"progress","id":"c-1","stage":"Queued","waitMs":1500,"Message":"m"})",
                                "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(describe_progress(*m, 1000ms, 30s, 30s), "PROGRESS  Queued, about 2 s\n    m\n");  // no rate-limit hint
}

TEST(Progress, MessagesThatDoNotCount) {
  const std::vector<std::string> ignored = {
      "",
      "not json",
      "[]",
      std::string(kQueued) + "x",
      R"({"type":"progress","id":"c-2","stage":"RateLimited","waitMs":1})",  // another command
      R"({"type":"progress","id":"c-1\u0000x","stage":"RateLimited","waitMs":1})",
      R"({"type":"progress","id":7,"stage":"RateLimited"})",
      R"({"type":"Progress","id":"c-1","stage":"RateLimited"})",
      R"({"type":"progress","id":"c-1"})",  // no stage
      R"({"type":"progress","id":"c-1","stage":""})",
      R"({"type":"progress","id":"c-1","stage":7})",
      R"({"type":"progress","id":"c-1","stage":"Rate\u001bLimited"})",
      R"({"type":"progress","id":"c-1","stage":")" + std::string(65, 'S') + R"("})",
      R"({"type":"progress","id":"c-1","stage":"RateLimited","action":5})",
      R"({"type":"progress","id":"c-1","stage":"RateLimited","waitMs":"24000"})",
      R"({"type":"progress","id":"c-1","stage":"RateLimited","waitMs":-1})",
      R"({"type":"progress","id":"c-1","stage":"RateLimited","waitMs":1e300})",
      R"({"type":"progress","id":"c-1","stage":"RateLimited","Message":{"x":1}})",
      R"({"type":"progress","id":"c-1","stage":"RateLimited","pad":")" + std::string(kMaxLifecyclePayload, 'x') +
          R"("})",
  };
  for (const std::string& payload : ignored) EXPECT_FALSE(parse_progress(payload, "c-1")) << payload.substr(0, 100);
}

TEST(Progress, HostileTextIsMadePrintableAndBounded) {
  const auto m = parse_progress(R"({"type":"progress","id":"c-1","stage":"RateLimited","waitMs":1000,)"
                                R"("Message":"a\u001b[2J\nb)" + std::string(3000, 'x') + R"("})",
                                "c-1");
  ASSERT_TRUE(m);
  const std::string text = describe_progress(*m, 30000ms, 30s, 30s);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("\n    a [2J b"), std::string::npos) << text;
  EXPECT_LT(text.size(), 1200u);
}

// A progress message is never the result, nor a lifecycle message.
TEST(Progress, IsNeverAResultNorALifecycleMessage) {
  EXPECT_FALSE(is_result_for(kQueued, "c-1"));
  EXPECT_FALSE(parse_lifecycle(kQueued, "c-1"));
  FollowWatch w("c-1", {"i-1"}, false);
  EXPECT_EQ(w.take(kQueued), "");
  EXPECT_FALSE(w.heard());
  const char* const result = R"({"type":"result","id":"c-1","ok":true,"RequestId":"R"})";
  EXPECT_FALSE(parse_progress(result, "c-1"));
}

}  // namespace
}  // namespace swasctl
