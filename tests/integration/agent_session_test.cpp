// What the agent does with its MQTT session and its status, and that one command's retries leave
// the others alone: the offline status at a clean stop, the status re-publish interval, the
// subscription after the broker lost the session, a command in backoff while another completes.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <string>
#include <thread>

#include "harness.hpp"
#include "hostile_tls_server.hpp"

namespace swas::it {
namespace {

const char* kInstances = R"([{"InstanceId":"i-1","RegionId":"cn-hangzhou","state":"Running"},
                            {"InstanceId":"i-2","RegionId":"cn-hangzhou","state":"Running"}])";

std::string status_topic(const std::string& gateway) { return "swas/" + gateway + "/status"; }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A clean stop (SIGTERM) disconnects normally, so the broker discards the agent's last will: the
// retained status says "offline" only because the agent published it itself before leaving.
TEST(Session, ACleanStopLeavesTheRetainedStatusOffline) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kInstances);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  {
    MqttProbe online(broker.uri());
    online.subscribe(status_topic(Agent::gateway_id()));
    ASSERT_TRUE(online.wait_on_topic(status_topic(Agent::gateway_id()), 1, 10s));
    EXPECT_EQ(Json(online.on_topic(status_topic(Agent::gateway_id())).back().payload).str({"state"}), "online");
  }
  agent.process().signal(SIGTERM);
  ASSERT_EQ(agent.process().wait_exit(15s), std::optional<int>(0)) << agent.process().log();
  // What a dashboard that subscribes now is told: the retained status, and nothing else.
  MqttProbe later(broker.uri());
  later.subscribe(status_topic(Agent::gateway_id()));
  ASSERT_TRUE(later.wait_on_topic(status_topic(Agent::gateway_id()), 1, 10s)) << "no retained status";
  const Json status(later.on_topic(status_topic(Agent::gateway_id())).back().payload);
  EXPECT_EQ(status.str({"state"}), "offline") << status.text;
  EXPECT_EQ(status.str({"gateway_id"}), Agent::gateway_id()) << status.text;
}

// mqtt.status_interval_s: 0 (the default) publishes the status only when something changed, so an
// idle agent stays silent; 1 publishes it again every second, changed or not. Agent "gw-it" has 0,
// agent "gw-b" 1; gw-b's own publications are the clock: after three of them gw-it's start-up
// status is out, and while gw-b publishes three more, gw-it publishes nothing.
TEST(Session, AnIdleAgentRepublishesItsStatusOnlyAtItsInterval) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kInstances);
  MqttProbe probe(broker.uri());
  probe.subscribe(status_topic("gw-it"));
  probe.subscribe(status_topic("gw-b"));
  Agent quiet(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  AgentOptions every_second(broker.uri(), emulator.endpoint());
  every_second.env = {{"SWAS_GATEWAY_ID", "gw-b"}};
  every_second.mqtt_extra = R"(,"status_interval_s":1)";
  Agent ticking(dir, every_second);

  ASSERT_TRUE(probe.wait_on_topic(status_topic("gw-b"), 3, 15s)) << ticking.process().log();
  const auto start_up = probe.on_topic(status_topic("gw-it")).size();
  EXPECT_GE(start_up, 1u) << "the start-up status of the quiet agent";
  ASSERT_TRUE(probe.wait_on_topic(status_topic("gw-b"), 6, 15s)) << ticking.process().log();
  EXPECT_EQ(probe.on_topic(status_topic("gw-it")).size(), start_up)
      << "an idle agent with status_interval_s 0 published its status again";
  // gw-b's are re-publications, not changes: nothing happened between them.
  const auto ticks = probe.on_topic(status_topic("gw-b"));
  for (std::size_t i = 3; i < ticks.size(); ++i) EXPECT_EQ(ticks[i].payload, ticks[2].payload) << i;
}

// A broker without persistence forgets every session when it restarts: the agent reconnects with
// "session present: no" and must subscribe again, or it never hears another command.
TEST(Session, AfterTheBrokerLostTheSessionTheAgentSubscribesAgain) {
  TempDir dir;
  Mosquitto broker(dir);  // not persistent
  Emulator emulator(dir, kInstances);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  const std::string subscribed = "subscribed to " + Agent::command_topic();
  ASSERT_EQ(count_of(agent.process().log(), subscribed), 1u);
  broker.restart();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (count_of(agent.process().log(), subscribed) < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(count_of(agent.process().log(), subscribed), 2u) << agent.process().log();
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("after-restart", "i-1"));
  auto r = probe.wait_result("after-restart", 15s);
  ASSERT_TRUE(r.has_value()) << "the agent no longer receives commands\n" << agent.process().log();
  EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
}

// One command's retries happen in its own worker: while "stuck" is failing and waiting to try
// again (the cloud answers 503 for its instance, every time; backoff up to 10 minutes, a deadline
// of an hour), another command is sent, answered and completed. Were the retries to hold up the
// others, "quick" would wait for "stuck"'s deadline.
TEST(Session, OneCommandsRetriesDoNotHoldUpAnother) {
  TempDir dir;
  Mosquitto broker(dir);
  std::atomic<int> stuck_calls{0}, quick_calls{0};
  HostileTlsServer cloud([&](HostileTlsServer::Connection& c) {
    while (auto target = c.read_request()) {
      std::string answer;
      if (target->find("InstanceId=i-stuck&") != std::string::npos) {
        ++stuck_calls;
        answer = http_response(R"({"RequestId":"R-503","Code":"ServiceUnavailable","Message":"try later"})", 503,
                               "Service Unavailable");
      } else {
        ++quick_calls;
        answer = http_response(R"({"RequestId":"R-quick"})");
      }
      if (!c.write(answer)) return;
    }
  });
  AgentOptions o(broker.uri(), "https://localhost:" + std::to_string(cloud.port()));
  o.retry_json = R"({"max_attempts":100,"backoff_base_ms":600000,"backoff_max_ms":600000,"deadline_ms":3600000})";
  o.extra_config = R"(,"follow":{"enabled":false})";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("stuck", "i-stuck"));
  ASSERT_TRUE(agent.process().wait_for_log("command stuck: cloud answered HTTP 503; will retry", 15s))
      << agent.process().log();
  probe.publish(Agent::command_topic(), stop_command("quick", "i-quick"));
  auto quick = probe.wait_result("quick", 15s);
  ASSERT_TRUE(quick.has_value()) << "a command waited for another command's retries\n" << agent.process().log();
  EXPECT_TRUE(Json(quick->payload).is_true({"ok"})) << quick->payload;
  EXPECT_EQ(quick_calls.load(), 1);
  EXPECT_GE(stuck_calls.load(), 1);
  EXPECT_TRUE(probe.results_for("stuck").empty()) << "the stuck command is still retrying";
}

}  // namespace
}  // namespace swas::it
