// swasctl against the real swas-agent, a real mosquitto and the SWAS emulator (tests/integration
// harness): exit statuses 0 to 6, the text it prints, and `status`. `stop --wait` is also run
// against a scripted stand-in agent, which sends what the real one never does (hostile and
// misplaced lifecycle messages).
#include <signal.h>

#include <mqtt/async_client.h>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace swas::it {
namespace {

const char* const kRunning = "ace0706b2ac4454d984295a94213ct01";
const char* const kStopped = "ace0706b2ac4454d984295a94213ct02";
const char* const kRunning2 = "ace0706b2ac4454d984295a94213ct03";
// For stop --wait: Stopping for 2 s, then Stopped; stuck in Stopping; back to Running.
const char* const kSlow = "ace0706b2ac4454d984295a94213ct04";
const char* const kStuck = "ace0706b2ac4454d984295a94213ct05";
const char* const kBounce = "ace0706b2ac4454d984295a94213ct06";
// Stopped together with one command (InstanceIds): Stopping for 0.5, 1 and 1.5 s.
const char* const kTrio[] = {"ace0706b2ac4454d984295a94213ct07", "ace0706b2ac4454d984295a94213ct08",
                             "ace0706b2ac4454d984295a94213ct09"};

struct CtlRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  std::chrono::milliseconds elapsed{0};
};

class SwasctlTest : public ::testing::Test {
 protected:
  CtlRun swasctl(std::vector<std::string> args, std::chrono::milliseconds limit = 30s) {
    args.insert(args.begin(), SWASCTL_BIN);
    const std::string log = dir_.file("swasctl-" + std::to_string(++runs_) + ".log");
    const auto start = std::chrono::steady_clock::now();
    Process p(args, log);
    CtlRun r;
    r.exit_code = p.wait_exit(limit).value_or(-1);
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    r.output = p.log();
    return r;
  }
  std::vector<std::string> stop_args(const std::string& gateway, const std::string& instance) {
    return {"stop", "--broker", mosquitto_.uri(), "--gateway", gateway, "--instance", instance,
            "--region", "cn-hangzhou"};
  }
  // `follow`: the agent's follow settings, a JSON object; `quota`: its cloud.quota, one too;
  // `tune` adjusts anything else before the agent starts.
  void start_agent(const std::string& follow = "", const std::string& quota = "",
                   const std::function<void(AgentOptions&)>& tune = {}) {
    AgentOptions o(mosquitto_.uri(), emulator_.endpoint());
    if (!follow.empty()) o.extra_config = R"(,"follow":)" + follow;
    if (!quota.empty()) o.cloud_extra = R"(,"quota":)" + quota;
    if (tune) tune(o);
    agent_ = std::make_unique<Agent>(dir_, o);
  }

  TempDir dir_;
  Mosquitto mosquitto_{dir_};
  Emulator emulator_{dir_, std::string(R"([{"InstanceId":")") + kRunning +
                               R"(","RegionId":"cn-hangzhou","state":"Running"},{"InstanceId":")" + kStopped +
                               R"(","RegionId":"cn-hangzhou","state":"Stopped"},{"InstanceId":")" + kRunning2 +
                               R"(","RegionId":"cn-hangzhou","state":"Running"},{"InstanceId":")" + kSlow +
                               R"(","RegionId":"cn-hangzhou","stopping_ms":2000},{"InstanceId":")" + kStuck +
                               R"(","RegionId":"cn-hangzhou","stop_outcome":"StuckStopping"},{"InstanceId":")" + kBounce +
                               R"(","RegionId":"cn-hangzhou","stopping_ms":600,"stop_outcome":"BackToRunning"},{"InstanceId":")" + kTrio[0] +
                               R"(","RegionId":"cn-hangzhou","stopping_ms":500},{"InstanceId":")" + kTrio[1] +
                               R"(","RegionId":"cn-hangzhou","stopping_ms":1000},{"InstanceId":")" + kTrio[2] +
                               R"(","RegionId":"cn-hangzhou","stopping_ms":1500}])"};
  std::unique_ptr<Agent> agent_;
  int runs_ = 0;
};

// A stand-in agent for gateway gw-fake: answers every command on swas/gw-fake/commands with
// `script`, in order, on the command's response topic. "{id}" in a payload stands for the
// command's id; a reply with own_correlation false carries other correlation data.
class ScriptedAgent {
 public:
  struct Reply {
    std::string payload;
    bool own_correlation = true;
  };
  static std::string gateway_id() { return "gw-fake"; }

  ScriptedAgent(const std::string& uri, std::vector<Reply> script)
      : script_(std::move(script)),
        client_(uri, "scripted-agent-" + std::to_string(free_port()), mqtt::create_options(MQTTVERSION_5)) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) { answer(m); });
    client_.connect(mqtt::connect_options_builder().mqtt_version(MQTTVERSION_5).clean_start(true).finalize())
        ->wait_for(10s);
    client_.subscribe("swas/gw-fake/commands", 1)->wait_for(5s);
  }
  ~ScriptedAgent() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(2s);
    } catch (...) {
    }
  }
  int commands() const { return commands_; }
  // The last command's payload as received.
  std::string last_command() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_command_;
  }

 private:
  void answer(const mqtt::const_message_ptr& m) {
    if (!m) return;
    ++commands_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_command_ = m->get_payload_str();
    }
    const Json command(m->get_payload_str());
    const mqtt::properties& props = m->get_properties();
    if (!props.contains(mqtt::property::RESPONSE_TOPIC)) return;
    const auto topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
    const auto correlation = props.contains(mqtt::property::CORRELATION_DATA)
                                 ? mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA)
                                 : std::string();
    for (const Reply& reply : script_) {
      std::string payload = reply.payload;
      for (std::size_t at; (at = payload.find("{id}")) != std::string::npos;)
        payload.replace(at, 4, command.str({"id"}));
      auto msg = mqtt::make_message(topic, payload, 1, false);
      mqtt::properties out;
      out.add(mqtt::property(mqtt::property::CORRELATION_DATA, reply.own_correlation ? correlation : "someone-else"));
      msg->set_properties(out);
      client_.publish(msg);  // in order (QoS 1, one connection); not waited for inside Paho's callback
    }
  }

  std::vector<Reply> script_;
  std::atomic<int> commands_{0};
  mutable std::mutex mutex_;
  std::string last_command_;
  mqtt::async_client client_;
};

const char* const kFakeResult =
    R"({"type":"result","id":"{id}","action":"StopInstance","InstanceId":"i-fake","RegionId":"cn-hangzhou",)"
    R"("ok":true,"RequestId":"R-fake"})";

std::string fake_lifecycle(const std::string& status, bool final, const std::string& outcome = "",
                           int elapsed_ms = 412, const std::string& extra = "") {
  return R"({"type":"lifecycle","id":"{id}","InstanceId":"i-fake","RegionId":"cn-hangzhou","RequestId":"R-fake",)"
         R"("Status":)" + (status.empty() ? std::string("null") : "\"" + status + "\"") +
         R"(,"final":)" + (final ? "true" : "false") + (outcome.empty() ? "" : R"(,"outcome":")" + outcome + "\"") +
         R"(,"elapsedMs":)" + std::to_string(elapsed_ms) + extra + "}";
}

// For a command naming i-a, i-b and i-c (InstanceIds).
const char* const kFakeResult3 =
    R"({"type":"result","id":"{id}","action":"StopInstance","InstanceIds":["i-a","i-b","i-c"],)"
    R"("RegionId":"cn-hangzhou","ClientToken":"tok","ForceStop":true,"ok":true,"RequestId":"R-fake3"})";

std::string fake_lifecycle_of(const std::string& instance, const std::string& status, bool final,
                              const std::string& outcome = "", int elapsed_ms = 412) {
  return R"({"type":"lifecycle","id":"{id}","InstanceId":")" + instance +
         R"(","RegionId":"cn-hangzhou","RequestId":"R-fake3","Status":")" + status + R"(","final":)" +
         (final ? "true" : "false") + (outcome.empty() ? "" : R"(,"outcome":")" + outcome + "\"") +
         R"(,"elapsedMs":)" + std::to_string(elapsed_ms) + "}";
}

// The agent's progress message while the command waits for the rate limit (the contract's form).
std::string fake_progress(int wait_ms) {
  return R"({"type":"progress","id":"{id}","stage":"RateLimited","action":"StopInstances","waitMs":)" +
         std::to_string(wait_ms) +
         R"json(,"Message":"waiting for the cloud's rate limit of StopInstances (cloud.quota 10/60s)"})json";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The table line of `gateway` in swasctl status output ("" when absent).
std::string line_of(const std::string& output, const std::string& gateway) {
  const std::size_t at = output.find("\n" + gateway + " ");
  if (at == std::string::npos) return "";
  return output.substr(at + 1, output.find('\n', at + 1) - at - 1);
}

// Publishes retained messages, as agents do with their status.
void publish_retained(const std::string& uri, const std::string& topic, const std::string& payload) {
  mqtt::async_client client(uri, "retainer-" + std::to_string(free_port()), mqtt::create_options(MQTTVERSION_5));
  client.connect(mqtt::connect_options_builder().mqtt_version(MQTTVERSION_5).clean_start(true).finalize())
      ->wait_for(10s);
  client.publish(mqtt::make_message(topic, payload, 1, true))->wait_for(5s);
  client.disconnect()->wait_for(5s);
}

TEST_F(SwasctlTest, StopOfARunningInstancePrintsTheRequestIdAndExits0) {
  start_agent();
  const CtlRun r = swasctl(stop_args(Agent::gateway_id(), kRunning));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("OK  RequestId ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(std::string("InstanceId ") + kRunning), std::string::npos) << r.output;
  EXPECT_EQ(emulator_.state().num({"stops", kRunning}), 1);
}

// The index of the first line starting with `prefix`, or -1.
int line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
  return -1;
}

TEST_F(SwasctlTest, WaitPrintsStoppingThenStoppedAndExits0) {
  start_agent(R"({"interval_ms":200,"deadline_s":30})");
  auto args = stop_args(Agent::gateway_id(), kSlow);
  args.insert(args.end(), {"--wait", "--wait-timeout", "30s"});
  const CtlRun r = swasctl(args, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.output << agent_->process().log();
  const auto lines = lines_of(r.output);
  ASSERT_GE(lines.size(), 4u) << r.output;
  EXPECT_EQ(lines[0].rfind("OK  RequestId ", 0), 0u) << r.output;
  const int stopping = line_starting(lines, "Stopping (");
  EXPECT_GE(stopping, 2) << r.output;
  EXPECT_EQ(lines.back().rfind("Stopped after ", 0), 0u) << r.output;
  EXPECT_EQ(line_starting(lines, "Stopped after "), static_cast<int>(lines.size()) - 1) << r.output;
  EXPECT_EQ(emulator_.state().num({"stops", kSlow}), 1);
}

TEST_F(SwasctlTest, WaitWithJsonPrintsTheAgentsLifecycleMessages) {
  start_agent(R"({"interval_ms":200,"deadline_s":30})");
  auto args = stop_args(Agent::gateway_id(), kRunning);
  args.insert(args.end(), {"--wait", "--json", "--id", "ctl-wait-json-1"});
  const CtlRun r = swasctl(args, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.output << agent_->process().log();
  const auto lines = lines_of(r.output);
  ASSERT_GE(lines.size(), 2u) << r.output;
  const Json result(lines.front());
  EXPECT_EQ(result.str({"type"}), "result") << r.output;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const Json m(lines[i]);
    EXPECT_EQ(m.str({"type"}), "lifecycle") << lines[i];
    EXPECT_EQ(m.str({"id"}), "ctl-wait-json-1") << lines[i];
    EXPECT_EQ(m.str({"RequestId"}), result.str({"RequestId"})) << lines[i];
  }
  const Json last(lines.back());
  EXPECT_TRUE(last.is_true({"final"})) << r.output;
  EXPECT_EQ(last.str({"outcome"}), "Stopped") << r.output;
  EXPECT_EQ(last.str({"Status"}), "Stopped") << r.output;
}

// Three --instance: one command, one StopInstances call, each instance followed to Stopped.
TEST_F(SwasctlTest, WaitForThreeInstancesOfOneCommandAllStoppedExits0) {
  start_agent(R"({"interval_ms":200,"deadline_s":30})");
  const CtlRun r = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(), "--region",
                            "cn-hangzhou", "--instance", kTrio[0], "--instance", kTrio[1], "--instance", kTrio[2],
                            "--id", "ctl-trio-1", "--wait", "--wait-timeout", "30s"},
                           60s);
  EXPECT_EQ(r.exit_code, 0) << r.output << agent_->process().log();
  const auto lines = lines_of(r.output);
  ASSERT_GE(lines.size(), 7u) << r.output;
  EXPECT_EQ(lines[0].rfind("OK  RequestId ", 0), 0u) << r.output;
  EXPECT_EQ(lines[1].rfind("    command ctl-trio-1, 3 instances, RegionId cn-hangzhou, ClientToken ", 0), 0u) << r.output;
  EXPECT_EQ(lines[2], std::string("    InstanceIds ") + kTrio[0] + " " + kTrio[1] + " " + kTrio[2]) << r.output;
  for (const char* instance : kTrio) {
    const int stopped = line_starting(lines, std::string(instance) + "  Stopped after ");
    EXPECT_GE(stopped, 3) << instance << "\n" << r.output;
  }
  EXPECT_EQ(lines.back(), "3 of 3 instances Stopped") << r.output;
  const Json state = emulator_.state();
  EXPECT_EQ(state.num({"actions", "StopInstances"}), 1) << state.text;
  EXPECT_EQ(state.at({"actions", "StopInstance"}), nullptr) << state.text;
  for (const char* instance : kTrio) EXPECT_EQ(state.num({"stops", instance}), 1) << instance;
}

// The real agent paces StopInstances to its cloud.quota (1 call in 4 s): a second command right
// after the first waits for its turn, says so with a progress message (QUEUED on stderr, before
// the result), and then gets its result.
TEST_F(SwasctlTest, ARateLimitedStopPrintsQueuedThenItsResult) {
  start_agent("", R"({"StopInstances":"1/4s"})");
  const CtlRun first = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(), "--region",
                                "cn-hangzhou", "--instance", kRunning, "--force"});
  ASSERT_EQ(first.exit_code, 0) << first.output << agent_->process().log();
  EXPECT_EQ(first.output.find("QUEUED"), std::string::npos) << first.output;
  const CtlRun second = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(), "--region",
                                 "cn-hangzhou", "--instance", kRunning2, "--force", "--id", "ctl-paced-1"},
                                60s);
  EXPECT_EQ(second.exit_code, 0) << second.output << agent_->process().log();
  const auto lines = lines_of(second.output);
  ASSERT_GE(lines.size(), 4u) << second.output;
  // The agent may give the expected wait (waitMs) or not (null: "queued behind" other calls).
  EXPECT_EQ(lines[0].rfind("QUEUED  for the cloud's rate limit of StopInstances: ", 0), 0u) << second.output;
  EXPECT_NE(lines[1].find("(cloud.quota 1/4s)"), std::string::npos) << second.output;  // the agent's words
  const int ok = line_starting(lines, "OK  RequestId ");
  EXPECT_GE(ok, 2) << second.output;  // after the progress
  const bool known = lines[0].find("the gateway sends the stop in about ") != std::string::npos;
  // The hint comes only when the wait is unknown: a known one (about 4 s) is well within --timeout.
  EXPECT_EQ(line_starting(lines, "hint:"), known ? -1 : 2) << second.output;
  EXPECT_EQ(emulator_.state().num({"actions", "StopInstances"}), 2);
}

// Progress does not extend --timeout: under a quota of 1 call a minute the second command is
// queued for about 60 s, swasctl says its --timeout is shorter and gives up at it (3), and the
// command, expired, is never sent: the agent records RateLimited, which the same --id then gets.
TEST_F(SwasctlTest, ARateLimitedStopThatOutlastsTheTimeoutIsNotSent) {
  start_agent("", R"({"StopInstances":"1/60s"})");
  ASSERT_EQ(swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(), "--region",
                     "cn-hangzhou", "--instance", kRunning, "--instance", kRunning2})
                .exit_code,
            0);
  const std::vector<std::string> args = {"stop", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(),
                                         "--region", "cn-hangzhou", "--instance", kSlow, "--instance", kBounce,
                                         "--timeout", "3s", "--id", "ctl-paced-2"};
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 3) << r.output << agent_->process().log();
  EXPECT_EQ(r.output.rfind("QUEUED  for the cloud's rate limit of StopInstances: ", 0), 0u) << r.output;
  // About 60 s, or not known: either way beyond the 3 s left, so the hint says so.
  EXPECT_NE(r.output.find("\nhint: swasctl waits for the result "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(--timeout 3s; progress does not extend it)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TIMEOUT  no result from gateway gw-it within 3s (command ctl-paced-2)\n"
                          "hint: the command was waiting for the cloud's rate limit"),
            std::string::npos)
      << r.output;
  // The same id: the agent's recorded answer (once the command's expiry passed), RateLimited.
  const CtlRun again = swasctl(args);
  EXPECT_EQ(again.exit_code, 1) << again.output << agent_->process().log();
  EXPECT_NE(again.output.find("FAILED  agent RateLimited: "), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("\nhint: the gateway waited for the cloud's rate limit"), std::string::npos) << again.output;
  const Json state = emulator_.state();
  EXPECT_EQ(state.num({"actions", "StopInstances"}), 1) << state.text;
  EXPECT_LT(state.num({"stops", kSlow}), 1) << state.text;
}

TEST_F(SwasctlTest, WaitForAnInstanceStuckInStoppingExits5) {
  start_agent(R"({"interval_ms":200,"deadline_s":2})");
  auto args = stop_args(Agent::gateway_id(), kStuck);
  args.insert(args.end(), {"--wait", "--wait-timeout", "30s"});
  const CtlRun r = swasctl(args, 60s);
  EXPECT_EQ(r.exit_code, 5) << r.output << agent_->process().log();
  const auto lines = lines_of(r.output);
  EXPECT_GE(line_starting(lines, "Stopping ("), 2) << r.output;
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("TimedOut after ", 0), 0u) << r.output;
  EXPECT_NE(lines.back().find("(Status Stopping)"), std::string::npos) << r.output;
}

TEST_F(SwasctlTest, WaitForAnInstanceThatGoesBackToRunningExits6) {
  start_agent(R"({"interval_ms":200,"deadline_s":30})");
  auto args = stop_args(Agent::gateway_id(), kBounce);
  args.insert(args.end(), {"--wait", "--wait-timeout", "30s"});
  const CtlRun r = swasctl(args, 60s);
  EXPECT_EQ(r.exit_code, 6) << r.output << agent_->process().log();
  const auto lines = lines_of(r.output);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("UnexpectedStatus after ", 0), 0u) << r.output;
  EXPECT_NE(lines.back().find("(Status Running)"), std::string::npos) << r.output;
}

TEST_F(SwasctlTest, WaitOnAGatewayThatDoesNotFollowExits3) {
  start_agent(R"({"enabled":false})");
  auto args = stop_args(Agent::gateway_id(), kRunning);
  args.insert(args.end(), {"--wait", "--wait-timeout", "2s"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_EQ(r.output.rfind("OK  RequestId ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("TIMEOUT  no lifecycle message from gateway gw-it within 2s"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("follow.enabled false"), std::string::npos) << r.output;
  const Json state = emulator_.state();
  EXPECT_EQ(state.num({"actions", "StopInstance"}), 1);
  EXPECT_EQ(state.at({"actions", "ListInstanceStatus"}), nullptr) << state.text;  // never polled
}

// With the agent following (its defaults), swasctl without --wait still prints just the result.
TEST_F(SwasctlTest, WithoutWaitAFollowingAgentChangesNothing) {
  start_agent();
  const CtlRun r = swasctl(stop_args(Agent::gateway_id(), kRunning));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto lines = lines_of(r.output);
  ASSERT_EQ(lines.size(), 2u) << r.output;
  EXPECT_EQ(lines[0].rfind("OK  RequestId ", 0), 0u) << r.output;
  EXPECT_EQ(lines[1].rfind("    command ", 0), 0u) << r.output;
}

// Without --wait swasctl prints the result and leaves, exactly as before lifecycle messages
// existed: one before the result is not taken for it, those after it are not waited for.
TEST_F(SwasctlTest, WithoutWaitLifecycleMessagesChangeNothing) {
  ScriptedAgent fake(mosquitto_.uri(), {{fake_lifecycle("Stopped", true, "Stopped")},
                                        {fake_lifecycle("Stopping", false)},
                                        {kFakeResult},
                                        {fake_lifecycle("Stopping", true, "TimedOut")}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-nowait-1"});
  const CtlRun text = swasctl(args);
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_EQ(text.output, "OK  RequestId R-fake\n    command ctl-nowait-1, InstanceId i-fake, RegionId cn-hangzhou\n");
  args.push_back("--json");
  const CtlRun json = swasctl(args);
  EXPECT_EQ(json.exit_code, 0) << json.output;
  std::string result = kFakeResult;
  result.replace(result.find("{id}"), 4, "ctl-nowait-1");
  EXPECT_EQ(json.output, result + "\n");
  EXPECT_EQ(fake.commands(), 2);
}

// Everything a hostile or broken sender could put on the response topic, between a lifecycle
// message that comes too early and the real ones: none of it counts.
TEST_F(SwasctlTest, WaitIgnoresMessagesThatDoNotCount) {
  ScriptedAgent fake(
      mosquitto_.uri(),
      {{fake_lifecycle("Stopped", true, "Stopped")},  // before the result: ignored
       {kFakeResult},
       {"not json"},
       {R"({"type":"lifecycle","id":"someone-else","Status":"Stopped","final":true,"outcome":"Stopped"})"},
       {fake_lifecycle("Stopped", true, "Stopped"), false},  // other correlation data
       {R"({"type":"lifecycle","id":"{id}","Status":"Stopped","final":"true","outcome":"Stopped"})"},
       {R"({"type":"lifecycle","id":"{id}","Status":5,"final":true,"outcome":"Stopped"})"},
       {R"({"type":"lifecycle","id":"{id}","Status":"Stopped","final":true,"outcome":"Stopped","elapsedMs":"1"})"},
       {R"({"type":"lifecycle","id":"{id}","Status":"Stopped","final":true})"},
       {fake_lifecycle("Stopped", true, "Stopped", 1, R"(,"pad":")" + std::string(70000, 'x') + "\"")},
       {kFakeResult},  // a redelivered result
       {fake_lifecycle("Stopping", false, "", 412)},
       {fake_lifecycle("Stopping", false, "", 612)},  // the same Status again
       {fake_lifecycle("Running", true, "UnexpectedStatus", 1234, R"(,"Message":"seen Running twice\u001b[2J")")},
       {fake_lifecycle("Stopped", true, "Stopped")}});  // after the final one
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-hostile-1", "--wait", "--wait-timeout", "20s"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_EQ(r.output,
            "OK  RequestId R-fake\n"
            "    command ctl-hostile-1, InstanceId i-fake, RegionId cn-hangzhou\n"
            "Stopping (0.4 s)\n"
            "UnexpectedStatus after 1.2 s (Status Running): seen Running twice [2J\n");
}

TEST_F(SwasctlTest, WaitWithJsonPrintsEachMessageOnALine) {
  ScriptedAgent fake(mosquitto_.uri(), {{kFakeResult},
                                        {fake_lifecycle("Stopping", false, "", 300)},
                                        {fake_lifecycle("Stopped", true, "Stopped", 1500)}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-json-wait-1", "--wait", "--json"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto lines = lines_of(r.output);
  ASSERT_EQ(lines.size(), 3u) << r.output;
  EXPECT_EQ(Json(lines[0]).str({"type"}), "result");
  EXPECT_EQ(Json(lines[1]).str({"Status"}), "Stopping");
  EXPECT_EQ(Json(lines[2]).str({"outcome"}), "Stopped");
  EXPECT_EQ(Json(lines[2]).str({"id"}), "ctl-json-wait-1");
}

// An agent that does not follow stops (older, or follow.enabled false) sends only the result.
TEST_F(SwasctlTest, WaitWithoutAnyLifecycleMessageExits3) {
  ScriptedAgent fake(mosquitto_.uri(), {{kFakeResult}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-silent-1", "--wait", "--wait-timeout", "1s"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_EQ(r.output.rfind("OK  RequestId R-fake\n", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("TIMEOUT  no lifecycle message from gateway gw-fake within 1s after the result "
                          "(command ctl-silent-1)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("older agent"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("follow.enabled false"), std::string::npos) << r.output;
}

TEST_F(SwasctlTest, WaitThatRunsOutAfterProgressExits5) {
  ScriptedAgent fake(mosquitto_.uri(), {{kFakeResult}, {fake_lifecycle("Stopping", false)}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-slow-1", "--wait", "--wait-timeout", "1s"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("\nStopping (0.4 s)\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NOT STOPPED  the instance was still Stopping when swasctl stopped waiting after 1s "
                          "(command ctl-slow-1)"),
            std::string::npos)
      << r.output;
}

// The agent follows successful stops only: after an error there is nothing to wait for. (A wait
// would outlast the process limit below, and the exit status would be -1.)
TEST_F(SwasctlTest, WaitAfterARefusedStopExits1AtOnce) {
  ScriptedAgent fake(mosquitto_.uri(),
                     {{R"({"type":"result","id":"{id}","ok":false,"error":{"source":"cloud","HttpStatus":403,)"
                       R"("Code":"IncorrectInstanceStatus","Message":"no","RequestId":"R-2"}})"}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--wait", "--wait-timeout", "30m"});
  const CtlRun r = swasctl(args, 20s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("FAILED  cloud 403 IncorrectInstanceStatus: no (RequestId R-2)\n", 0), 0u) << r.output;
}

// Several --instance options: one command with InstanceIds (and ForceStop with --force), its
// one result listing them, then each instance followed to its own final message.
TEST_F(SwasctlTest, WaitFollowsEveryInstanceOfOneCommand) {
  ScriptedAgent fake(mosquitto_.uri(),
                     {{kFakeResult3},
                      {fake_lifecycle_of("i-b", "Stopping", false, "", 300)},
                      {fake_lifecycle_of("i-a", "Stopping", false, "", 300)},
                      {fake_lifecycle_of("i-x", "Stopped", true, "Stopped")},  // not one of ours
                      {fake_lifecycle_of("i-a", "Stopped", true, "Stopped", 1500)},
                      {fake_lifecycle_of("i-c", "Stopped", true, "Stopped", 1600)},
                      {fake_lifecycle_of("i-b", "Stopped", true, "Stopped", 2100)}});
  const CtlRun r = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", ScriptedAgent::gateway_id(),
                            "--instance", "i-a", "--instance", "i-b", "--instance=i-c", "--region", "cn-hangzhou",
                            "--force", "--id", "ctl-three-1", "--wait", "--wait-timeout", "20s"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "OK  RequestId R-fake3\n"
            "    command ctl-three-1, 3 instances, RegionId cn-hangzhou, ClientToken tok, ForceStop true\n"
            "    InstanceIds i-a i-b i-c\n"
            "i-b  Stopping (0.3 s)\n"
            "i-a  Stopping (0.3 s)\n"
            "i-a  Stopped after 1.5 s\n"
            "i-c  Stopped after 1.6 s\n"
            "i-b  Stopped after 2.1 s\n"
            "3 of 3 instances Stopped\n");
  EXPECT_EQ(fake.commands(), 1);
  const Json command(fake.last_command());
  EXPECT_EQ(command.text, R"({"type":"command","id":"ctl-three-1","action":"StopInstance",)"
                          R"("InstanceIds":["i-a","i-b","i-c"],"RegionId":"cn-hangzhou","ForceStop":true})");
}

// 6 (an instance will not stop) wins over 5 (another not Stopped in time).
TEST_F(SwasctlTest, WaitWithSeveralInstancesExitsWithTheWorstOutcome) {
  ScriptedAgent fake(mosquitto_.uri(), {{kFakeResult3},
                                        {fake_lifecycle_of("i-a", "Stopping", true, "TimedOut", 5000)},
                                        {fake_lifecycle_of("i-b", "Running", true, "UnexpectedStatus", 900)},
                                        {fake_lifecycle_of("i-c", "Stopped", true, "Stopped", 800)}});
  const CtlRun r = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", ScriptedAgent::gateway_id(),
                            "--instance", "i-a", "--instance", "i-b", "--instance", "i-c", "--region", "cn-hangzhou",
                            "--wait", "--wait-timeout", "20s"});
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("\ni-c  Stopped after 0.8 s\n1 of 3 instances Stopped; TimedOut i-a; UnexpectedStatus i-b\n"),
            std::string::npos)
      << r.output;
}

// The wait runs out with one instance Stopped, one Stopping and one never reported: exit 5,
// naming the two.
TEST_F(SwasctlTest, WaitWithSeveralInstancesThatRunsOutNamesTheUnfinished) {
  ScriptedAgent fake(mosquitto_.uri(), {{kFakeResult3},
                                        {fake_lifecycle_of("i-a", "Stopped", true, "Stopped", 800)},
                                        {fake_lifecycle_of("i-b", "Stopping", false, "", 300)}});
  const CtlRun r = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", ScriptedAgent::gateway_id(),
                            "--instance", "i-a", "--instance", "i-b", "--instance", "i-c", "--region", "cn-hangzhou",
                            "--id", "ctl-three-2", "--wait", "--wait-timeout", "1s"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("NOT STOPPED  2 of 3 instances had no final state when swasctl stopped waiting after 1s "
                          "(command ctl-three-2): i-b (Stopping), i-c (nothing reported)\n"),
            std::string::npos)
      << r.output;
}

// While the command waits for the cloud's rate limit the agent says so: a QUEUED line (on
// stderr), never taken for the result; the result that follows is printed as usual.
TEST_F(SwasctlTest, ProgressIsPrintedAndIsNotTheResult) {
  ScriptedAgent fake(mosquitto_.uri(), {{fake_progress(24000)}, {kFakeResult}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-queued-1", "--timeout", "40s"});
  const CtlRun r = swasctl(args, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "QUEUED  for the cloud's rate limit of StopInstances: the gateway sends the stop in about 24 s\n"
            "    waiting for the cloud's rate limit of StopInstances (cloud.quota 10/60s)\n"
            "OK  RequestId R-fake\n"
            "    command ctl-queued-1, InstanceId i-fake, RegionId cn-hangzhou\n");
  // --json: stdout is still the result alone; the progress line goes to stderr.
  args.push_back("--json");
  const std::string out = dir_.file("json-stdout.txt");
  std::string command = "'" + std::string(SWASCTL_BIN) + "'";
  for (const std::string& a : args) command += " '" + a + "'";
  ASSERT_EQ(std::system((command + " >'" + out + "' 2>/dev/null").c_str()), 0);
  std::string result = kFakeResult;
  result.replace(result.find("{id}"), 4, "ctl-queued-1");
  EXPECT_EQ(read_file(out), result + "\n");
}

// Progress does not extend --timeout: only progress came, so exit 3, with a hint that says the
// command was waiting for the rate limit (not that the gateway may be offline).
TEST_F(SwasctlTest, ProgressDoesNotExtendTheTimeout) {
  ScriptedAgent fake(mosquitto_.uri(), {{fake_progress(60000)}});
  auto args = stop_args(ScriptedAgent::gateway_id(), "i-fake");
  args.insert(args.end(), {"--id", "ctl-queued-2", "--timeout", "1500ms"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_GE(r.elapsed, 1500ms);
  EXPECT_NE(r.output.find("QUEUED  for the cloud's rate limit of StopInstances: the gateway sends the stop in about "
                          "60 s\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\nhint: swasctl waits for the result "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TIMEOUT  no result from gateway gw-fake within 1.5s (command ctl-queued-2)\n"
                          "hint: the command was waiting for the cloud's rate limit"),
            std::string::npos)
      << r.output;
}

// A command over the gateway's 8192-byte limit would be answered InvalidCommand with id null,
// which swasctl could not match: it is refused before anything is sent.
TEST_F(SwasctlTest, ACommandOverThePayloadLimitIsNotSent) {
  ScriptedAgent fake(mosquitto_.uri(), {{kFakeResult}});
  std::vector<std::string> args = {"stop", "--broker", mosquitto_.uri(), "--gateway", ScriptedAgent::gateway_id(),
                                    "--region", "cn-hangzhou"};
  for (int i = 0; i < 100; ++i) args.insert(args.end(), {"--instance", std::string(100, 'x') + std::to_string(i)});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("over the gateway's limit of 8192"), std::string::npos) << r.output;
  // A marker published after swasctl exited reaches the stand-in after anything swasctl published
  // (the broker forwards in the order it received): once it is there, nothing else came.
  MqttProbe probe(mosquitto_.uri());
  probe.publish("swas/" + ScriptedAgent::gateway_id() + "/commands", marker_command("ctl-marker"));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (fake.last_command().find("ctl-marker") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_NE(fake.last_command().find("ctl-marker"), std::string::npos) << "the marker never reached the stand-in";
  EXPECT_EQ(fake.commands(), 1) << "swasctl sent something before the marker";
}

TEST_F(SwasctlTest, StopOfAStoppedInstanceExits1WithIncorrectInstanceStatusAndAHint) {
  start_agent();
  const CtlRun r = swasctl(stop_args(Agent::gateway_id(), kStopped));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("FAILED  cloud 403 IncorrectInstanceStatus: ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("(RequestId "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\nhint: "), std::string::npos) << r.output;
}

TEST_F(SwasctlTest, JsonPrintsTheAgentsResultAndTheSameIdStopsOnce) {
  start_agent();
  auto args = stop_args(Agent::gateway_id(), kRunning);
  args.insert(args.end(), {"--json", "--id", "ctl-json-1", "--client-token", "tok-ctl-json-1"});
  const CtlRun first = swasctl(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const Json j(first.output);
  ASSERT_TRUE(j.valid()) << first.output;
  EXPECT_EQ(j.str({"type"}), "result");
  EXPECT_EQ(j.str({"id"}), "ctl-json-1");
  EXPECT_EQ(j.str({"ClientToken"}), "tok-ctl-json-1");
  EXPECT_TRUE(j.is_true({"ok"}));
  const CtlRun again = swasctl(args);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(Json(again.output).str({"RequestId"}), j.str({"RequestId"}));
  EXPECT_EQ(emulator_.state().num({"stops", kRunning}), 1);
}

TEST_F(SwasctlTest, AnAgentErrorExits1) {
  start_agent();
  const CtlRun r = swasctl(stop_args(Agent::gateway_id(), std::string(300, 'x')));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("FAILED  agent InvalidParameter: ", 0), 0u) << r.output;
}

TEST_F(SwasctlTest, NoAgentExits3AfterTheTimeout) {
  auto args = stop_args("gw-nobody", kRunning);
  args.insert(args.end(), {"--timeout", "1500ms", "--id", "ctl-lost-1"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_GE(r.elapsed, 1500ms);
  EXPECT_LT(r.elapsed, 10s);
  EXPECT_NE(r.output.find("TIMEOUT  no result from gateway gw-nobody within 1.5s (command ctl-lost-1)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--id ctl-lost-1"), std::string::npos) << r.output;
}

// The agent keeps its MQTT session while it is away, so the broker queues commands for it. The
// broker itself drops the one swasctl gave up on, by swasctl's MQTT Message Expiry (the --timeout
// by default), so the agent never sees it; a long --expires lets one run when the gateway is back.
// (The agent's own expiry, CommandExpired, is the next test.)
TEST_F(SwasctlTest, ACommandThatExpiredWhileTheGatewayWasAwayNeverRuns) {
  start_agent();
  agent_->process().signal(SIGTERM);
  ASSERT_EQ(agent_->process().wait_exit(15s), 0) << agent_->process().log();
  auto expiring = stop_args(Agent::gateway_id(), kRunning);
  expiring.insert(expiring.end(), {"--timeout", "1s", "--id", "ctl-expiring-1"});
  EXPECT_EQ(swasctl(expiring).exit_code, 3);
  auto lasting = stop_args(Agent::gateway_id(), kRunning2);
  lasting.insert(lasting.end(), {"--timeout", "1s", "--expires", "10m", "--id", "ctl-lasting-1"});
  EXPECT_EQ(swasctl(lasting).exit_code, 3);
  std::this_thread::sleep_for(1500ms);  // past the first command's expiry
  agent_->restart();  // same client id and journal: the broker resumes its session
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (emulator_.state().num({"stops", kRunning2}) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(emulator_.state().num({"stops", kRunning2}), 1) << agent_->process().log();
  EXPECT_LT(emulator_.state().num({"stops", kRunning}), 1) << agent_->process().log();
}

// The agent's own expiry: the broker delivers the command at once, well within its MQTT Message
// Expiry (--expires 1s), and the agent journals it with that expiry; its only worker is busy with
// another stop whose answer takes 3 s, so when the worker takes this one it has expired. The agent
// answers CommandExpired and never calls the cloud for it, and swasctl reports that (exit 1).
TEST_F(SwasctlTest, ACommandThatExpiresWhileTheGatewayIsBusyIsAnsweredCommandExpiredAndNeverSent) {
  start_agent(R"({"enabled":false})", "", [](AgentOptions& o) {
    o.extra_config += R"(,"commands":{"max_in_flight":1})";
    o.cloud_timeout_ms = 10000;
  });
  emulator_.set_faults(R"({"delay_ms":3000})");
  MqttProbe probe(mosquitto_.uri());
  probe.publish("swas/" + Agent::gateway_id() + "/commands", stop_command("ctl-busy-1", kRunning2));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (emulator_.state().num({"requests"}) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(emulator_.state().num({"requests"}), 1) << "the first stop never reached the cloud";
  auto args = stop_args(Agent::gateway_id(), kRunning);
  args.insert(args.end(), {"--timeout", "15s", "--expires", "1s", "--id", "ctl-expires-1"});
  const CtlRun r = swasctl(args);
  EXPECT_EQ(r.exit_code, 1) << r.output << agent_->process().log();
  EXPECT_NE(r.output.find("CommandExpired"), std::string::npos) << r.output;
  EXPECT_NE(agent_->process().log().find("command ctl-expires-1 expired before it ran"), std::string::npos)
      << agent_->process().log();
  const Json state = emulator_.state();
  for (const cJSON* e : emulator_log(state, "StopInstance"))
    EXPECT_NE(std::string(cJSON_GetObjectItem(e, "InstanceId")->valuestring), kRunning) << "the expired stop was sent";
  EXPECT_LT(state.num({"stops", kRunning}), 1);
}

TEST_F(SwasctlTest, BadUsageExits2) {
  const CtlRun missing = swasctl({"stop", "--broker", mosquitto_.uri(), "--gateway", "gw-it", "--region", "cn-hangzhou"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("--instance is required"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("usage: swasctl stop"), std::string::npos) << missing.output;
  EXPECT_EQ(swasctl({"stop", "--broker", "http://x", "--gateway", "g", "--instance", "i", "--region", "r"}).exit_code, 2);
  EXPECT_EQ(swasctl({"frobnicate"}).exit_code, 2);
  const CtlRun help = swasctl({"stop", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--client-token"), std::string::npos);
}

TEST_F(SwasctlTest, UnreachableBrokerExits4) {
  const CtlRun r = swasctl({"stop", "--broker", "tcp://127.0.0.1:" + std::to_string(free_port()), "--gateway", "gw-it",
                         "--instance", kRunning, "--region", "cn-hangzhou", "--timeout", "2s"});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("connecting to tcp://127.0.0.1:"), std::string::npos) << r.output;
}

TEST_F(SwasctlTest, StatusListsRetainedStatusMessages) {
  publish_retained(mosquitto_.uri(), "swas/gw-a/status",
                   R"({"type":"status","state":"online","gateway_id":"gw-a","version":"0.1.0",)"
                   R"("started_at":"2026-11-26T03:00:00Z","counters":{"received":7,"succeeded":5,"failed":1,)"
                   R"("rejected":1,"in_flight":0},"last_error":"cloud 403 IncorrectInstanceStatus"})");
  publish_retained(mosquitto_.uri(), "swas/gw-b/status",
                   R"({"type":"status","state":"offline","gateway_id":"gw-b","version":"0.1.0"})");
  const CtlRun all = swasctl({"status", "--broker", mosquitto_.uri(), "--wait", "1s"});
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("GATEWAY"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("\ngw-a     online   0.1.0    7         5          1       1         0          "
                            "cloud 403 IncorrectInstanceStatus\n"),
            std::string::npos)
      << all.output;
  EXPECT_NE(all.output.find("\ngw-b     offline  0.1.0    -"), std::string::npos) << all.output;

  const CtlRun offline = swasctl({"status", "--broker", mosquitto_.uri(), "--gateway", "gw-b"});
  EXPECT_EQ(offline.exit_code, 1) << offline.output;
  const CtlRun json = swasctl({"status", "--broker", mosquitto_.uri(), "--gateway", "gw-a", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(Json(json.output).root->type, cJSON_Array) << json.output;
  const CtlRun none = swasctl({"status", "--broker", mosquitto_.uri(), "--gateway", "gw-none", "--wait", "500ms"});
  EXPECT_EQ(none.exit_code, 3) << none.output;
  EXPECT_NE(none.output.find("no status message on swas/gw-none/status within 500ms"), std::string::npos);
}

TEST_F(SwasctlTest, TlsBrokerWithLogin) {
  const std::string passwd = dir_.file("mosquitto.passwd");
  ASSERT_EQ(std::system(("mosquitto_passwd -b -c '" + passwd + "' operator 's3cret' >/dev/null 2>&1").c_str()), 0);
  const std::string port = std::to_string(free_port());
  const std::string conf = dir_.file("tls-mosquitto.conf");
  write_file(conf, "listener " + port + " 127.0.0.1\ncafile " + cert_dir() + "/ca.pem\ncertfile " + cert_dir() +
                       "/server.pem\nkeyfile " + cert_dir() + "/server.key\nallow_anonymous false\npassword_file " +
                       passwd + "\npersistence false\nuser root\n",  // when root: read the 0700 test dir
             0644);
  Process broker({SWAS_MOSQUITTO, "-c", conf}, dir_.file("tls-mosquitto.log"));
  ASSERT_TRUE(broker.wait_for_log("running", 5s)) << broker.log();
  write_file(dir_.file("right"), "s3cret\n", 0600);
  write_file(dir_.file("wrong"), "guess\n", 0600);
  write_file(dir_.file("open"), "s3cret\n", 0644);
  auto status = [&](const std::string& ca, const std::string& password_file) {
    return swasctl({"status", "--broker", "ssl://localhost:" + port, "--cafile", cert_dir() + "/" + ca, "--username",
                    "operator", "--password-file", dir_.file(password_file), "--wait", "300ms"});
  };
  const CtlRun ok = status("ca.pem", "right");  // connected and subscribed; nobody publishes status here
  EXPECT_EQ(ok.exit_code, 3) << ok.output;
  EXPECT_NE(ok.output.find("no status message on swas/+/status"), std::string::npos) << ok.output;
  const CtlRun refused = status("ca.pem", "wrong");
  EXPECT_EQ(refused.exit_code, 4) << refused.output;
  const CtlRun untrusted = status("other-ca.pem", "right");
  EXPECT_EQ(untrusted.exit_code, 4) << untrusted.output;
  const CtlRun open = status("ca.pem", "open");
  EXPECT_EQ(open.exit_code, 2) << open.output;
  EXPECT_NE(open.output.find("chmod 600"), std::string::npos) << open.output;
  // A private file in a directory anyone can write can be replaced by another user: refused too
  // (the agent's rules for secret files, issue 11).
  ASSERT_EQ(::mkdir(dir_.file("shared").c_str(), 0777), 0);
  ASSERT_EQ(::chmod(dir_.file("shared").c_str(), 0777), 0);
  write_file(dir_.file("shared/right"), "s3cret\n", 0600);
  const CtlRun replaceable = status("ca.pem", "shared/right");
  EXPECT_EQ(replaceable.exit_code, 2) << replaceable.output;
  EXPECT_NE(replaceable.output.find("--password-file"), std::string::npos) << replaceable.output;
  EXPECT_NE(replaceable.output.find("chmod go-w"), std::string::npos) << replaceable.output;
}

// Needs the agent's status publishing (retained status, last will).
TEST_F(SwasctlTest, StatusShowsTheRealAgentOnlineThenOfflineAfterSigkill) {
  start_agent();
  const CtlRun online = swasctl({"status", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(), "--wait", "5s"});
  EXPECT_EQ(online.exit_code, 0) << online.output;
  EXPECT_NE(line_of(online.output, "gw-it").find(" online  0.1.0 "), std::string::npos) << online.output;
  agent_->process().signal(SIGKILL);
  agent_->process().wait_exit(5s);
  // The broker publishes the will as soon as it sees the socket close.
  CtlRun offline;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    offline = swasctl({"status", "--broker", mosquitto_.uri(), "--gateway", Agent::gateway_id(), "--wait", "1s"});
  } while (offline.exit_code != 1 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(offline.exit_code, 1) << offline.output;
  EXPECT_NE(line_of(offline.output, "gw-it").find(" offline "), std::string::npos) << offline.output;
}

}  // namespace
}  // namespace swas::it
