// The account's rate quota and many instances in one command (issue 13): the real agent against
// the emulator with quotas switched on.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "harness.hpp"

namespace swas::it {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string instance(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "q-%03zu", i);
  return buf;
}

std::string instances(std::size_t n, int stopping_ms = 300) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i)
    out += std::string(i ? "," : "") + R"({"InstanceId":")" + instance(i) +
           R"(","RegionId":"cn-hangzhou","stopping_ms":)" + std::to_string(stopping_ms) + "}";
  return out + "]";
}

struct Quota : public ::testing::Test {
  void start(const std::string& agent_extra, std::size_t n = 40, const std::string& cloud_extra = "") {
    broker = std::make_unique<Mosquitto>(dir);
    emulator = std::make_unique<Emulator>(dir, instances(n));
    emulator->set_quotas(R"({"quotas":{"StopInstance":"10/5s","StopInstances":"10/5s"}})");
    AgentOptions o(broker->uri(), emulator->endpoint());
    o.extra_config = agent_extra;
    o.cloud_extra = cloud_extra;
    agent = std::make_unique<Agent>(dir, o);
    probe = std::make_unique<MqttProbe>(broker->uri());
    probe->subscribe(Agent::command_topic());
  }
  double quota_calls(const char* action, const char* what) {
    return emulator->state().num({"quota_calls", action, Emulator::kAccessKeyId, what});
  }
  // 40 single-instance commands published at once; every result and every final lifecycle message.
  struct Run {
    std::size_t ok = 0, stopped = 0;
    double seconds = 0;
  };
  Run forty_at_once() {
    const auto t0 = SteadyClock::now();
    for (std::size_t i = 0; i < 40; ++i) probe->publish(Agent::command_topic(), stop_command("q-" + std::to_string(i), instance(i)));
    Run r;
    probe->wait_count("lifecycle", true, 40, 120s);
    r.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    for (std::size_t i = 0; i < 40; ++i) {
      const auto results = probe->results_for("q-" + std::to_string(i));
      if (!results.empty() && Json(results.front().payload).is_true({"ok"})) ++r.ok;
      for (const auto& m : probe->lifecycle_for("q-" + std::to_string(i)))
        if (Json(m.payload).str({"outcome"}) == "Stopped") ++r.stopped;
    }
    return r;
  }

  TempDir dir;
  std::unique_ptr<Mosquitto> broker;
  std::unique_ptr<Emulator> emulator;
  std::unique_ptr<Agent> agent;
  std::unique_ptr<MqttProbe> probe;
};

TEST_F(Quota, FortyCommandsAtOnceUnderAnUnknownQuotaAllEndStopped) {
  start(R"(,"follow":{"interval_ms":500})");
  const Run r = forty_at_once();
  EXPECT_EQ(r.ok, 40u) << agent->process().log();
  EXPECT_EQ(r.stopped, 40u);
  const Json state = emulator->state();
  for (std::size_t i = 0; i < 40; ++i) EXPECT_EQ(state.num({"stops", instance(i).c_str()}), 1) << instance(i);
  const double allowed = quota_calls("StopInstance", "allowed");
  const double throttled = quota_calls("StopInstance", "throttled");
  EXPECT_EQ(allowed, 40);
  // Without a configured quota the agent learns it from the cloud: each throttled answer holds
  // every StopInstance call, and only one probe goes out while held. The bound reached here: at
  // most the 4 workers' calls in flight when a window fills, plus the held probes (1 s, 2 s, 4 s
  // apart) until the window opens again, per window of the 4 windows 40 calls need.
  EXPECT_LE(throttled, 24) << "throttled " << throttled;
  std::printf("FIGURES quota 10/5s, 40 commands at once, no cloud.quota: %.1f s to the last Stopped, "
              "%d StopInstance calls allowed, %d throttled\n",
              r.seconds, static_cast<int>(allowed), static_cast<int>(throttled));
}

TEST_F(Quota, WithTheQuotaConfiguredNothingIsThrottled) {
  start(R"(,"follow":{"interval_ms":500})", 40, R"(,"quota":{"StopInstance":"10/5s"})");
  const Run r = forty_at_once();
  EXPECT_EQ(r.ok, 40u) << agent->process().log();
  EXPECT_EQ(r.stopped, 40u);
  EXPECT_EQ(quota_calls("StopInstance", "allowed"), 40);
  EXPECT_LT(quota_calls("StopInstance", "throttled"), 1) << "a configured quota must never be exceeded";
  // 40 calls at 10 per 5 s cannot end before the fourth window opens (15 s after the first).
  EXPECT_GE(r.seconds, 15.0);
  // Commands that had to wait at least a second were told why, on their route.
  std::size_t told = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    for (const auto& m : probe->of_type("q-" + std::to_string(i), "progress")) {
      const Json p(m.payload);
      EXPECT_EQ(p.str({"stage"}), "RateLimited") << m.payload;
      EXPECT_EQ(p.str({"action"}), "StopInstance");
      EXPECT_NE(p.str({"Message"}).find("cloud.quota 10/5s"), std::string::npos) << m.payload;
      ++told;
    }
  }
  // Commands accepted while others waited for their turn are told at once; the four the workers
  // took while the first window was full wait about 5 s and are told when they begin to wait (or
  // were told on acceptance): at least those four, whatever the timing.
  EXPECT_GE(told, 4u) << "commands waiting for the quota must be told why";
  std::printf("FIGURES quota 10/5s, 40 commands at once, cloud.quota 10/5s: %.1f s to the last Stopped, "
              "0 throttled, %zu progress messages\n", r.seconds, told);
}

TEST_F(Quota, FortyInstancesInOneCommandTakeOneCall) {
  start(R"(,"follow":{"interval_ms":500})");
  std::string ids = "[";
  for (std::size_t i = 0; i < 40; ++i) ids += std::string(i ? "," : "") + "\"" + instance(i) + "\"";
  ids += "]";
  probe->publish(Agent::command_topic(),
                 R"({"id":"many-1","action":"StopInstance","RegionId":"cn-hangzhou","InstanceIds":)" + ids + "}");
  const auto result = probe->wait_result("many-1");
  ASSERT_TRUE(result.has_value()) << agent->process().log();
  const Json r(result->payload);
  EXPECT_TRUE(r.is_true({"ok"})) << r.text;
  EXPECT_EQ(cJSON_GetArraySize(r.at({"InstanceIds"})), 40);
  EXPECT_FALSE(r.is_true({"ForceStop"}));
  EXPECT_EQ(r.str({"InstanceId"}), "<absent>");
  ASSERT_EQ(probe->wait_count("lifecycle", true, 40, 60s), 40u) << agent->process().log();
  std::set<std::string> stopped;
  for (const auto& m : probe->lifecycle_for("many-1")) {
    const Json l(m.payload);
    if (l.is_true({"final"})) {
      EXPECT_EQ(l.str({"outcome"}), "Stopped") << m.payload;
      EXPECT_EQ(l.str({"RequestId"}), r.str({"RequestId"}));
      stopped.insert(l.str({"InstanceId"}));
    }
  }
  EXPECT_EQ(stopped.size(), 40u);
  const Json state = emulator->state();
  EXPECT_EQ(state.num({"actions", "StopInstances"}), 1);
  EXPECT_LT(state.num({"actions", "StopInstance"}), 0);  // absent: never called
  std::printf("FIGURES 40 instances in one InstanceIds command: %d StopInstances call, %d ListInstanceStatus calls\n",
              static_cast<int>(state.num({"actions", "StopInstances"})),
              static_cast<int>(state.num({"actions", "ListInstanceStatus"})));
}

TEST_F(Quota, OneIdOutsideThePolicyRefusesTheWholeCommand) {
  start(R"(,"policy":{"allowed_instances":["q-*"]})", 2);
  probe->publish(Agent::command_topic(),
                 R"({"id":"many-2","action":"StopInstance","RegionId":"cn-hangzhou","InstanceIds":["q-000","x-1","q-001"],"ForceStop":true})");
  const auto result = probe->wait_result("many-2");
  ASSERT_TRUE(result.has_value());
  const Json r(result->payload);
  EXPECT_EQ(r.str({"error", "Code"}), "Forbidden") << r.text;
  EXPECT_NE(r.str({"error", "Message"}).find("x-1"), std::string::npos) << r.text;
  EXPECT_EQ(emulator->state().num({"requests"}), 0);
}

TEST_F(Quota, ACommandThatCannotGetATurnBeforeItsExpiryIsRateLimitedAndNeverSent) {
  start("", 2, R"(,"quota":{"StopInstance":"1/60s"},"quota_max_wait_s":2)");
  probe->publish(Agent::command_topic(), stop_command("first", instance(0)));
  ASSERT_TRUE(probe->wait_result("first").has_value());
  probe->publish(Agent::command_topic(), stop_command("second", instance(1)));
  const auto result = probe->wait_result("second", 20s);
  ASSERT_TRUE(result.has_value()) << agent->process().log();
  const Json r(result->payload);
  EXPECT_EQ(r.str({"error", "Code"}), "RateLimited") << r.text;
  EXPECT_EQ(r.str({"error", "source"}), "agent");
  const auto progress = probe->of_type("second", "progress");
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(Json(progress.front().payload).str({"stage"}), "RateLimited");
  EXPECT_EQ(emulator->calls("StopInstance"), 1);
}

}  // namespace
}  // namespace swas::it
