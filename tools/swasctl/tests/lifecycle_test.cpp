// `swasctl stop --wait`: which lifecycle messages count, what is printed, and the exit statuses.
// The messages are the contract's examples (docs/contract.md, "Following a stop to `Stopped`").
#include <gtest/gtest.h>

#include "cli.hpp"
#include "lifecycle_report.hpp"
#include "result_report.hpp"

namespace swasctl {
namespace {

const char* const kProgress =
    R"({"type":"lifecycle","id":"c-1","InstanceId":"i-1","RegionId":"cn-hangzhou","RequestId":"R-1",)"
    R"("Status":"Stopping","final":false,"elapsedMs":412})";
const char* const kStopped =
    R"({"type":"lifecycle","id":"c-1","InstanceId":"i-1","RegionId":"cn-hangzhou","RequestId":"R-1",)"
    R"("Status":"Stopped","final":true,"outcome":"Stopped","elapsedMs":31870})";
const char* const kTimedOut =
    R"({"type":"lifecycle","id":"c-1","InstanceId":"i-1","RegionId":"cn-hangzhou","RequestId":"R-1",)"
    R"("Status":"Stopping","final":true,"outcome":"TimedOut","elapsedMs":600412,)"
    R"("Message":"the instance was still Stopping 600 s after the stop (follow.deadline_s); no longer followed"})";
const char* const kPollFailed =
    R"({"type":"lifecycle","id":"c-1","InstanceId":"i-1","RegionId":"cn-hangzhou","RequestId":"R-1",)"
    R"("Status":null,"final":true,"outcome":"PollFailed","elapsedMs":1290,)"
    R"("Message":"ListInstanceStatus failed: Forbidden.RAM","error":{"source":"cloud","HttpStatus":403,)"
    R"("Code":"Forbidden.RAM","Message":"User not authorized to operate on the specified resource.",)"
    R"("RequestId":"5E1B"}})";

// A final message for c-1 with this outcome and Status.
std::string final_with(const std::string& outcome, const std::string& status_json) {
  return R"({"type":"lifecycle","id":"c-1","Status":)" + status_json + R"(,"final":true,"outcome":")" + outcome +
         R"(","elapsedMs":2000,"Message":"words"})";
}

TEST(Lifecycle, ProgressIsTheStatusAndTheTime) {
  const auto m = parse_lifecycle(kProgress, "c-1");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->final);
  EXPECT_EQ(m->status, "Stopping");
  EXPECT_EQ(m->elapsed_ms, 412);
  EXPECT_EQ(describe_lifecycle(*m), "Stopping (0.4 s)\n");
}

TEST(Lifecycle, StoppedIsExit0) {
  const auto m = parse_lifecycle(kStopped, "c-1");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->final);
  EXPECT_EQ(m->outcome, "Stopped");
  EXPECT_EQ(describe_lifecycle(*m), "Stopped after 31.9 s\n");
  EXPECT_EQ(exit_code_for_outcome(m->outcome), kExitOk);
}

TEST(Lifecycle, TimedOutIsExit5WithStatusAndMessage) {
  const auto m = parse_lifecycle(kTimedOut, "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(describe_lifecycle(*m),
            "TimedOut after 600.4 s (Status Stopping): the instance was still Stopping 600 s after the stop "
            "(follow.deadline_s); no longer followed\n");
  EXPECT_EQ(exit_code_for_outcome(m->outcome), kExitNotStopped);
  EXPECT_EQ(kExitNotStopped, 5);
}

TEST(Lifecycle, PollFailedIsExit6WithTheError) {
  const auto m = parse_lifecycle(kPollFailed, "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, "");
  EXPECT_EQ(describe_lifecycle(*m),
            "PollFailed after 1.3 s (no Status seen): ListInstanceStatus failed: Forbidden.RAM\n"
            "    error cloud 403 Forbidden.RAM: User not authorized to operate on the specified resource. "
            "(RequestId 5E1B)\n");
  EXPECT_EQ(exit_code_for_outcome(m->outcome), kExitWontStop);
  EXPECT_EQ(kExitWontStop, 6);
}

TEST(Lifecycle, EveryOtherOutcomeIsExit6) {
  for (const char* outcome : {"UnexpectedStatus", "NotFound", "PollFailed", "NotFollowed", "SomethingNew"})
    EXPECT_EQ(exit_code_for_outcome(outcome), kExitWontStop) << outcome;
  const auto m = parse_lifecycle(final_with("UnexpectedStatus", R"("Running")"), "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(describe_lifecycle(*m), "UnexpectedStatus after 2.0 s (Status Running): words\n");
  const auto gone = parse_lifecycle(final_with("NotFound", "null"), "c-1");
  ASSERT_TRUE(gone);
  EXPECT_EQ(describe_lifecycle(*gone), "NotFound after 2.0 s (no Status seen): words\n");
}

TEST(Lifecycle, SecondsAreRoundedToATenth) {
  LifecycleMessage m;
  m.status = "Stopping";
  for (const auto& [ms, text] : std::vector<std::pair<long long, std::string>>{
           {0, "0.0 s"}, {49, "0.0 s"}, {50, "0.1 s"}, {999, "1.0 s"}, {1290, "1.3 s"}, {600412, "600.4 s"}}) {
    m.elapsed_ms = ms;
    EXPECT_EQ(describe_lifecycle(m), "Stopping (" + text + ")\n") << ms;
  }
  m.elapsed_ms = -1;  // absent
  EXPECT_EQ(describe_lifecycle(m), "Stopping\n");
}

TEST(Lifecycle, OptionalFieldsMayBeAbsent) {
  const auto m = parse_lifecycle(R"({"type":"lifecycle","id":"c-1","final":true,"outcome":"NotFollowed"})", "c-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(describe_lifecycle(*m), "NotFollowed (no Status seen)\n");
  EXPECT_TRUE(parse_lifecycle(R"({"type":"lifecycle","id":"c-1","final":false,"Status":"Pending"})", "c-1"));
}

TEST(Lifecycle, MessagesThatDoNotCount) {
  const std::vector<std::string> ignored = {
      "",
      "not json",
      "[1,2]",
      "null",
      std::string(kProgress) + "trailing",                                     // data after the value
      R"({"type":"result","id":"c-1","ok":true,"RequestId":"R-1"})",           // the result
      R"({"type":"lifecycle","id":"c-2","Status":"Stopping","final":false})",  // another command
      R"({"type":"lifecycle","id":"c-1\u0000x","Status":"Stopping","final":false})",  // cJSON would read "c-1"
      R"({"type":"lifecycle","id":7,"Status":"Stopping","final":false})",
      R"({"type":"lifecycle","Status":"Stopping","final":false})",
      R"({"type":"Lifecycle","id":"c-1","Status":"Stopping","final":false})",
      R"({"id":"c-1","Status":"Stopping","final":false})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping"})",                  // no final
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":"false"})",  // final not a boolean
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":0})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopped","final":true})",      // final without outcome
      R"({"type":"lifecycle","id":"c-1","Status":"Stopped","final":true,"outcome":7})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopped","final":true,"outcome":""})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopped","final":true,"outcome":"Stop\u001b[2Jped"})",
      R"({"type":"lifecycle","id":"c-1","Status":5,"final":false})",
      R"({"type":"lifecycle","id":"c-1","Status":"","final":false})",
      R"({"type":"lifecycle","id":"c-1","Status":")" + std::string(65, 'S') + R"(","final":false})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stop\nping","final":false})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":false,"elapsedMs":"412"})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":false,"elapsedMs":-1})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":false,"elapsedMs":1e300})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":false,"Message":["x"]})",
      R"({"type":"lifecycle","id":"c-1","Status":"Stopping","final":true,"outcome":"PollFailed","error":"boom"})",
      R"({"type":"lifecycle","id":"c-1","final":false,"Status":"Stopping","pad":")" +
          std::string(kMaxLifecyclePayload, 'x') + R"("})",
  };
  for (const std::string& payload : ignored) EXPECT_FALSE(parse_lifecycle(payload, "c-1")) << payload.substr(0, 120);
}

TEST(Lifecycle, HostileTextIsMadePrintableAndBounded) {
  const auto m = parse_lifecycle(
      R"({"type":"lifecycle","id":"c-1","Status":"Running","final":true,"outcome":"UnexpectedStatus",)"
      R"("Message":"line\u001b[2J\none)" + std::string(3000, 'x') + R"(","error":{"Code":7,"HttpStatus":"403"}})",
      "c-1");
  ASSERT_TRUE(m);
  const std::string text = describe_lifecycle(*m);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.rfind("UnexpectedStatus (Status Running): line [2J one"), 0u) << text;
  EXPECT_LT(text.size(), 1200u);
  EXPECT_NE(text.find("\n    error ? (no Code)\n"), std::string::npos) << text;  // wrong types: shown as absent
}

TEST(LifecycleWatch, PrintsProgressThenTheFinalAndIgnoresTheRest) {
  LifecycleWatch w("c-1", false);
  EXPECT_FALSE(w.heard());
  EXPECT_EQ(w.take("garbage"), "");
  EXPECT_EQ(w.take(R"({"type":"result","id":"c-1","ok":true,"RequestId":"R-1"})"), "");  // a redelivered result
  EXPECT_EQ(w.take(R"({"type":"lifecycle","id":"c-9","Status":"Stopped","final":true,"outcome":"Stopped"})"), "");
  EXPECT_FALSE(w.heard());
  EXPECT_EQ(w.take(kProgress), "Stopping (0.4 s)\n");
  EXPECT_TRUE(w.heard());
  EXPECT_EQ(w.last_status(), "Stopping");
  EXPECT_EQ(w.take(kProgress), "");  // a redelivery: same Status as the line before
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.take(kStopped), "Stopped after 31.9 s\n");
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.exit_code(), kExitOk);
  EXPECT_EQ(w.take(kTimedOut), "");  // nothing after the final message
  EXPECT_EQ(w.exit_code(), kExitOk);
}

TEST(LifecycleWatch, AChangedStatusIsShownAgain) {
  LifecycleWatch w("c-1", false);
  auto progress = [](const char* status, int ms) {
    return std::string(R"({"type":"lifecycle","id":"c-1","final":false,"Status":")") + status +
           R"(","elapsedMs":)" + std::to_string(ms) + "}";
  };
  EXPECT_EQ(w.take(progress("Stopping", 100)), "Stopping (0.1 s)\n");
  EXPECT_EQ(w.take(progress("Pending", 200)), "Pending (0.2 s)\n");
  EXPECT_EQ(w.take(progress("Stopping", 300)), "Stopping (0.3 s)\n");
  EXPECT_EQ(w.take(final_with("TimedOut", R"("Stopping")")), "TimedOut after 2.0 s (Status Stopping): words\n");
  EXPECT_EQ(w.exit_code(), kExitNotStopped);
}

TEST(LifecycleWatch, ProgressLinesAreBounded) {
  LifecycleWatch w("c-1", false);
  std::string out;
  for (int i = 0; i < 300; ++i)
    out += w.take(std::string(R"({"type":"lifecycle","id":"c-1","final":false,"Status":")") +
                  (i % 2 ? "Pending" : "Stopping") + R"("})");
  out += w.take(final_with("NotFound", "null"));
  std::size_t lines = 0;
  for (const char c : out) lines += c == '\n';
  EXPECT_EQ(lines, kMaxProgressShown + 2) << out;
  EXPECT_NE(out.find("(more progress not shown)\nNotFound after 2.0 s"), std::string::npos) << out;
  EXPECT_EQ(w.exit_code(), kExitWontStop);
}

TEST(LifecycleWatch, JsonPrintsEachMessageAsReceivedOnOneLine) {
  LifecycleWatch w("c-1", true);
  EXPECT_EQ(w.take("not json"), "");
  EXPECT_EQ(w.take(kProgress), std::string(kProgress) + "\n");
  EXPECT_EQ(w.take(kProgress), "");
  // Laid out over lines, or with a raw control character inside a string: written again on one
  // line, the control character escaped.
  const std::string spread = "{\n  \"type\": \"lifecycle\", \"id\": \"c-1\", \"final\": true,\n"
                             "  \"outcome\": \"UnexpectedStatus\", \"Status\": \"Running\", \"Message\": \"a\x1b[2Jb\"\n}";
  EXPECT_EQ(w.take(spread),
            R"({"type":"lifecycle","id":"c-1","final":true,"outcome":"UnexpectedStatus","Status":"Running",)"
            R"("Message":"a\u001b[2Jb"})"
            "\n");
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.exit_code(), kExitWontStop);
}

// Lifecycle messages of a command naming several instances (docs/contract.md, "Many instances").
std::string of(const std::string& instance, const std::string& status, bool final, const std::string& outcome = "",
               int elapsed_ms = 500) {
  return R"({"type":"lifecycle","id":"c-1","InstanceId":")" + instance + R"(","RegionId":"cn-hangzhou",)"
         R"("RequestId":"R-1","Status":")" + status + R"(","final":)" + (final ? "true" : "false") +
         (outcome.empty() ? "" : R"(,"outcome":")" + outcome + "\"") + R"(,"elapsedMs":)" +
         std::to_string(elapsed_ms) + "}";
}

TEST(FollowWatch, OneInstancePrintsExactlyWhatLifecycleWatchDoes) {
  FollowWatch w("c-1", {"i-1"}, false);
  EXPECT_EQ(w.take(of("i-1", "Stopping", false, "", 412)), "Stopping (0.4 s)\n");
  EXPECT_EQ(w.take(of("i-9", "Stopped", true, "Stopped")), "");  // another instance
  EXPECT_EQ(w.take(kStopped), "Stopped after 31.9 s\n");         // no summary for one instance
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.exit_code(false), kExitOk);
}

TEST(FollowWatch, EveryInstanceFollowedToItsOwnFinalMessage) {
  FollowWatch w("c-1", {"i-1", "i-2", "i-3"}, false);
  EXPECT_FALSE(w.heard());
  EXPECT_EQ(w.take(of("i-2", "Stopping", false, "", 300)), "i-2  Stopping (0.3 s)\n");
  EXPECT_EQ(w.take(of("i-1", "Stopping", false, "", 300)), "i-1  Stopping (0.3 s)\n");
  EXPECT_EQ(w.take(of("i-1", "Stopping", false, "", 500)), "");  // the same Status for i-1 again
  EXPECT_EQ(w.take(of("i-1", "Stopped", true, "Stopped", 1500)), "i-1  Stopped after 1.5 s\n");
  EXPECT_EQ(w.take(of("i-1", "Running", true, "UnexpectedStatus")), "");  // i-1 has ended
  EXPECT_EQ(w.take(of("i-3", "Stopped", true, "Stopped", 900)), "i-3  Stopped after 0.9 s\n");
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.unfinished(), "i-2 (Stopping)");
  EXPECT_EQ(w.unfinished_count(), 1u);
  EXPECT_EQ(w.take(of("i-2", "Stopped", true, "Stopped", 2000)),
            "i-2  Stopped after 2.0 s\n"
            "3 of 3 instances Stopped\n");
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.exit_code(false), kExitOk);
}

TEST(FollowWatch, MessagesForOtherInstancesOrWithoutOneDoNotCount) {
  FollowWatch w("c-1", {"i-1", "i-2"}, false);
  EXPECT_EQ(w.take(of("i-3", "Stopped", true, "Stopped")), "");
  EXPECT_EQ(w.take(of("", "Stopped", true, "Stopped")), "");
  EXPECT_EQ(w.take(R"({"type":"lifecycle","id":"c-1","Status":"Stopped","final":true,"outcome":"Stopped"})"), "");
  EXPECT_EQ(w.take(R"({"type":"lifecycle","id":"c-1","InstanceId":["i-1"],"Status":"Stopped","final":true,)"
                   R"("outcome":"Stopped"})"),
            "");
  EXPECT_EQ(w.take(R"({"type":"lifecycle","id":"c-2","InstanceId":"i-1","Status":"Stopped","final":true,)"
                   R"("outcome":"Stopped"})"),
            "");
  EXPECT_FALSE(w.heard());
  EXPECT_EQ(w.exit_code(true), kExitTimeout);  // nothing heard: the gateway may not follow stops
}

// The precedence: 6 (will not stop) over 5 (not Stopped in time) over 3 (nothing heard) over 0.
TEST(FollowWatch, TheWorstInstanceDecidesTheExitStatus) {
  {
    FollowWatch w("c-1", {"i-1", "i-2", "i-3"}, false);
    w.take(of("i-1", "Stopping", true, "TimedOut"));
    w.take(of("i-2", "Running", true, "UnexpectedStatus"));
    const std::string last = w.take(of("i-3", "Stopped", true, "Stopped"));
    EXPECT_EQ(last, "i-3  Stopped after 0.5 s\n1 of 3 instances Stopped; TimedOut i-1; UnexpectedStatus i-2\n");
    EXPECT_EQ(w.exit_code(false), kExitWontStop);
  }
  {
    FollowWatch w("c-1", {"i-1", "i-2"}, false);
    w.take(of("i-1", "Stopping", true, "TimedOut"));
    EXPECT_EQ(w.take(of("i-2", "Stopped", true, "Stopped")),
              "i-2  Stopped after 0.5 s\n1 of 2 instances Stopped; TimedOut i-1\n");
    EXPECT_EQ(w.exit_code(false), kExitNotStopped);
  }
  {
    // The wait ran out: one Stopped, one still Stopping, one never reported: 5.
    FollowWatch w("c-1", {"i-1", "i-2", "i-3"}, false);
    w.take(of("i-1", "Stopped", true, "Stopped"));
    w.take(of("i-2", "Stopping", false));
    EXPECT_EQ(w.exit_code(true), kExitNotStopped);
    EXPECT_EQ(w.unfinished(), "i-2 (Stopping), i-3 (nothing reported)");
    EXPECT_EQ(w.unfinished_count(), 2u);
    // ... and one that will not stop makes it 6, whatever the others.
    w.take(of("i-3", "Running", true, "UnexpectedStatus"));
    EXPECT_EQ(w.exit_code(true), kExitWontStop);
  }
  {
    // An outcome this swasctl does not know counts as "will not stop", and appears in the summary.
    FollowWatch w("c-1", {"i-1", "i-2"}, false);
    w.take(of("i-1", "Stopped", true, "Stopped"));
    EXPECT_EQ(w.take(of("i-2", "Odd", true, "SomethingNew")),
              "i-2  SomethingNew after 0.5 s (Status Odd)\n1 of 2 instances Stopped; SomethingNew i-2\n");
    EXPECT_EQ(w.exit_code(false), kExitWontStop);
  }
}

TEST(FollowWatch, JsonPrintsEachMessageAsReceivedAndNoSummary) {
  FollowWatch w("c-1", {"i-1", "i-2"}, true);
  const std::string a = of("i-1", "Stopped", true, "Stopped");
  const std::string b = of("i-2", "Stopped", true, "Stopped");
  EXPECT_EQ(w.take(a), a + "\n");
  EXPECT_EQ(w.take(of("i-7", "Stopped", true, "Stopped")), "");
  EXPECT_EQ(w.take(b), b + "\n");
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.exit_code(false), kExitOk);
}

// Without --wait swasctl takes the first result and stops listening: a lifecycle message,
// before or after it, is never taken for the result.
TEST(LifecycleWatch, ALifecycleMessageIsNeverAResult) {
  for (const char* payload : {kProgress, kStopped, kTimedOut, kPollFailed})
    EXPECT_FALSE(is_result_for(payload, "c-1")) << payload;
}

}  // namespace
}  // namespace swasctl
