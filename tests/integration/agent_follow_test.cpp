// Following a stop to Stopped (issue 12): the real agent polls the emulator's ListInstanceStatus
// and publishes lifecycle messages on the result's route.
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

#include "harness.hpp"

namespace swas::it {
namespace {

// The emulator's stopping times (ms) and fault outcomes per instance.
const char* kInstances = R"([
  {"InstanceId":"i-quick","RegionId":"cn-hangzhou","stopping_ms":800},
  {"InstanceId":"i-a","RegionId":"cn-hangzhou","stopping_ms":1500},
  {"InstanceId":"i-b","RegionId":"cn-hangzhou","stopping_ms":1500},
  {"InstanceId":"i-c","RegionId":"cn-hangzhou","stopping_ms":1500},
  {"InstanceId":"i-slow","RegionId":"cn-hangzhou","stopping_ms":4000},
  {"InstanceId":"i-long","RegionId":"cn-hangzhou","stopping_ms":600000},
  {"InstanceId":"i-stuck","RegionId":"cn-hangzhou","stopping_ms":100,"stop_outcome":"StuckStopping"},
  {"InstanceId":"i-back","RegionId":"cn-hangzhou","stopping_ms":300,"stop_outcome":"BackToRunning"}])";

std::string follow_config(const std::string& members) { return R"(,"follow":{)" + members + "}"; }

class Follow : public ::testing::Test {
 protected:
  void start(const std::string& follow_members = R"("interval_ms":150)") {
    broker = std::make_unique<Mosquitto>(dir);
    emulator = std::make_unique<Emulator>(dir, kInstances);
    AgentOptions o(broker->uri(), emulator->endpoint());
    o.extra_config = follow_config(follow_members);
    agent = std::make_unique<Agent>(dir, o);
    probe = std::make_unique<MqttProbe>(broker->uri());
    probe->subscribe(Agent::command_topic());
  }
  Json result(const std::string& id) {
    auto r = probe->wait_result(id);
    EXPECT_TRUE(r.has_value()) << "no result for " << id << "\nagent log:\n" << agent->process().log();
    return Json(r ? r->payload : "{}");
  }
  Json final_message(const std::string& id, std::chrono::milliseconds timeout = 15s) {
    auto r = probe->wait_lifecycle(id, true, timeout);
    EXPECT_TRUE(r.has_value()) << "no final lifecycle message for " << id << "\nagent log:\n"
                               << agent->process().log();
    return Json(r ? r->payload : "{}");
  }

  TempDir dir;
  std::unique_ptr<Mosquitto> broker;
  std::unique_ptr<Emulator> emulator;
  std::unique_ptr<Agent> agent;
  std::unique_ptr<MqttProbe> probe;
};

TEST_F(Follow, ResultThenStoppingThenStoppedOnTheSameRoute) {
  start();
  probe->subscribe("replies/f-1");
  probe->publish(Agent::command_topic(), stop_command("f-1", "i-quick"), "replies/f-1", "corr-f-1");
  const Json r = result("f-1");
  ASSERT_TRUE(r.is_true({"ok"})) << r.text;
  const Json fin = final_message("f-1");
  EXPECT_EQ(fin.str({"type"}), "lifecycle");
  EXPECT_EQ(fin.str({"outcome"}), "Stopped");
  EXPECT_EQ(fin.str({"Status"}), "Stopped");
  EXPECT_EQ(fin.str({"InstanceId"}), "i-quick");
  EXPECT_EQ(fin.str({"RegionId"}), "cn-hangzhou");
  EXPECT_EQ(fin.str({"RequestId"}), r.str({"RequestId"}));
  EXPECT_GE(fin.num({"elapsedMs"}), 800) << "Stopped cannot be seen before the emulator's 800 ms stopping time";
  EXPECT_EQ(fin.str({"Message"}), "<absent>");

  // In order, all on the Response Topic with the Correlation Data: result, Stopping, Stopped.
  const auto all = probe->messages_for("f-1");
  ASSERT_EQ(all.size(), 3u) << "expected result, one Stopping, Stopped";
  EXPECT_EQ(Json(all[0].payload).str({"type"}), "result");
  const Json progress(all[1].payload);
  EXPECT_EQ(progress.str({"Status"}), "Stopping");
  EXPECT_FALSE(progress.is_true({"final"}));
  EXPECT_EQ(progress.str({"outcome"}), "<absent>");
  EXPECT_LE(progress.num({"elapsedMs"}), fin.num({"elapsedMs"}));
  EXPECT_EQ(Json(all[2].payload).str({"outcome"}), "Stopped");
  for (const auto& m : all) {
    EXPECT_EQ(m.topic, "replies/f-1");
    EXPECT_EQ(m.correlation, "corr-f-1");
  }
  EXPECT_GE(emulator->calls("ListInstanceStatus"), 2);
  EXPECT_EQ(emulator->calls("StopInstance"), 1);
}

TEST_F(Follow, OnePollPerIntervalCoversEveryInstanceOfTheRegion) {
  start(R"("interval_ms":400)");
  for (const char* id : {"i-a", "i-b", "i-c"})
    probe->publish(Agent::command_topic(), stop_command(std::string("s-") + id, id));
  for (const char* id : {"i-a", "i-b", "i-c"}) {
    const Json fin = final_message(std::string("s-") + id);
    EXPECT_EQ(fin.str({"outcome"}), "Stopped") << fin.text;
  }
  // Every poll names the instances still followed then: at least one named all three, and there
  // were far fewer polls than three separate followers would have made.
  const Json state = emulator->state();
  std::size_t widest = 0;
  const auto polls = emulator_log(state, "ListInstanceStatus");
  for (const cJSON* e : polls) {
    const std::string ids = cJSON_GetObjectItem(e, "InstanceIds")->valuestring;
    std::size_t n = 0;
    for (const char* id : {"\"i-a\"", "\"i-b\"", "\"i-c\""}) n += ids.find(id) != std::string::npos ? 1 : 0;
    widest = std::max(widest, n);
  }
  EXPECT_EQ(widest, 3u);
  // 1.5 s of stopping at one poll per 400 ms: about 5 polls (the first right after a result, one
  // more at the deadline-free cadence); 3 independent followers would need 3 times that.
  EXPECT_LE(polls.size(), 9u) << state.text;
}

TEST_F(Follow, StuckStoppingTimesOutAtTheDeadline) {
  start(R"("interval_ms":200,"deadline_s":1)");
  probe->publish(Agent::command_topic(), stop_command("f-stuck", "i-stuck"));
  ASSERT_TRUE(result("f-stuck").is_true({"ok"}));
  const Json fin = final_message("f-stuck");
  EXPECT_EQ(fin.str({"outcome"}), "TimedOut") << fin.text;
  EXPECT_EQ(fin.str({"Status"}), "Stopping");
  EXPECT_GE(fin.num({"elapsedMs"}), 1000);
  EXPECT_NE(fin.str({"Message"}).find("follow.deadline_s"), std::string::npos) << fin.text;
}

TEST_F(Follow, BackToRunningIsUnexpectedStatus) {
  start();
  probe->publish(Agent::command_topic(), stop_command("f-back", "i-back"));
  ASSERT_TRUE(result("f-back").is_true({"ok"}));
  const Json fin = final_message("f-back");
  EXPECT_EQ(fin.str({"outcome"}), "UnexpectedStatus") << fin.text;
  EXPECT_EQ(fin.str({"Status"}), "Running");
  // Running is never a progress message.
  for (const auto& m : probe->lifecycle_for("f-back")) {
    if (!Json(m.payload).is_true({"final"})) {
      EXPECT_NE(Json(m.payload).str({"Status"}), "Running") << m.payload;
    }
  }
}

TEST_F(Follow, PollsThatKeepFailingEndAsPollFailedWithTheCloudsError) {
  start();
  probe->publish(Agent::command_topic(), stop_command("f-fail", "i-long"));
  ASSERT_TRUE(result("f-fail").is_true({"ok"}));
  ASSERT_TRUE(probe->wait_lifecycle("f-fail", false).has_value()) << agent->process().log();  // Stopping
  emulator->set_faults(R"({"status":503,"count":1000})");
  const Json fin = final_message("f-fail");
  EXPECT_EQ(fin.str({"outcome"}), "PollFailed") << fin.text;
  EXPECT_EQ(fin.str({"Status"}), "Stopping");
  EXPECT_EQ(fin.str({"error", "source"}), "cloud");
  EXPECT_EQ(fin.num({"error", "HttpStatus"}), 503);
  EXPECT_NE(fin.str({"Message"}).find("after 4 attempts"), std::string::npos) << fin.text;  // cloud.retry.max_attempts
}

TEST_F(Follow, AFollowSurvivesAKillAndNothingIsReportedTwice) {
  start(R"("interval_ms":150)");
  probe->publish(Agent::command_topic(), stop_command("f-kill", "i-slow"));
  ASSERT_TRUE(result("f-kill").is_true({"ok"}));
  ASSERT_TRUE(probe->wait_lifecycle("f-kill", false).has_value()) << agent->process().log();  // Stopping
  agent->process().signal(SIGKILL);
  ASSERT_TRUE(agent->process().wait_exit(5s).has_value());
  agent->restart();
  const Json fin = final_message("f-kill");
  EXPECT_EQ(fin.str({"outcome"}), "Stopped") << fin.text;
  EXPECT_GE(fin.num({"elapsedMs"}), 4000);
  std::size_t progress = 0, finals = 0;
  for (const auto& m : probe->lifecycle_for("f-kill")) (Json(m.payload).is_true({"final"}) ? finals : progress)++;
  EXPECT_EQ(progress, 1u) << "Stopping was reported before the kill and must not be reported again";
  EXPECT_EQ(finals, 1u);
  EXPECT_EQ(probe->results_for("f-kill").size(), 1u);
  EXPECT_NE(agent->process().log().find("resuming 1 follow(s)"), std::string::npos) << agent->process().log();
}

TEST_F(Follow, BeyondMaxInstancesAStopIsAnsweredNotFollowed) {
  start(R"("interval_ms":150,"max_instances":1)");
  probe->publish(Agent::command_topic(), stop_command("f-first", "i-long"));
  ASSERT_TRUE(result("f-first").is_true({"ok"}));
  probe->publish(Agent::command_topic(), stop_command("f-second", "i-quick"));
  ASSERT_TRUE(result("f-second").is_true({"ok"}));
  const Json fin = final_message("f-second");
  EXPECT_EQ(fin.str({"outcome"}), "NotFollowed") << fin.text;
  EXPECT_TRUE(fin.is_null({"Status"}));
  EXPECT_NE(fin.str({"Message"}).find("follow.max_instances"), std::string::npos) << fin.text;
  // The first is still followed.
  EXPECT_FALSE(probe->wait_lifecycle("f-first", true, 500ms).has_value());
}

TEST_F(Follow, DisabledMeansNoPollAndNoLifecycleMessage) {
  start(R"("enabled":false,"interval_ms":100)");
  probe->publish(Agent::command_topic(), stop_command("f-off", "i-quick"));
  ASSERT_TRUE(result("f-off").is_true({"ok"}));
  // A later command's result: by then a follower would long have polled (interval 100 ms).
  std::this_thread::sleep_for(1s);
  probe->publish(Agent::command_topic(), stop_command("f-off-2", "i-a"));
  ASSERT_TRUE(result("f-off-2").is_true({"ok"}));
  EXPECT_EQ(emulator->calls("ListInstanceStatus"), 0);
  EXPECT_TRUE(probe->lifecycle_for("f-off").empty());
}

TEST_F(Follow, FailedStopsAreNotFollowed) {
  start();
  probe->publish(Agent::command_topic(), stop_command("f-404", "i-nope"));
  EXPECT_EQ(result("f-404").str({"error", "Code"}), "InvalidInstanceId.NotFound");
  probe->publish(Agent::command_topic(), stop_command("f-ok", "i-quick"));
  ASSERT_TRUE(result("f-ok").is_true({"ok"}));
  final_message("f-ok");
  EXPECT_TRUE(probe->lifecycle_for("f-404").empty());
  const Json state = emulator->state();
  for (const cJSON* e : emulator_log(state, "ListInstanceStatus"))
    EXPECT_EQ(std::string(cJSON_GetObjectItem(e, "InstanceIds")->valuestring).find("i-nope"), std::string::npos);
}

}  // namespace
}  // namespace swas::it
