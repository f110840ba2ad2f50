// Bad input: each gets one agent error, nothing reaches the cloud, and the agent keeps serving.
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"

namespace swas::it {
namespace {

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    broker = std::make_unique<Mosquitto>(dir);
    emulator = std::make_unique<Emulator>(dir, R"([{"InstanceId":"i-1","RegionId":"cn-hangzhou","state":"Running"}])");
    agent = std::make_unique<Agent>(dir, AgentOptions(broker->uri(), emulator->endpoint()));
    probe = std::make_unique<MqttProbe>(broker->uri());
    probe->subscribe(Agent::command_topic());
  }
  // Publishes `payload` and returns the result for `id` ("" = null id), checking the code.
  void expect_error(const std::string& payload, const std::string& id, const std::string& code,
                    const std::string& message_part = "") {
    const std::size_t before = probe->results_for(id).size();
    probe->publish(Agent::command_topic(), payload);
    for (int i = 0; i < 1000 && probe->results_for(id).size() <= before; ++i) std::this_thread::sleep_for(10ms);
    const auto all = probe->results_for(id);
    ASSERT_GT(all.size(), before) << "no result for payload: " << payload.substr(0, 200);
    const Json r(all.back().payload);
    EXPECT_FALSE(r.is_true({"ok"})) << r.text;
    EXPECT_EQ(r.str({"error", "source"}), "agent") << r.text;
    EXPECT_EQ(r.str({"error", "Code"}), code) << r.text;
    if (!message_part.empty()) {
      EXPECT_NE(r.str({"error", "Message"}).find(message_part), std::string::npos) << r.text;
    }
  }

  TempDir dir;
  std::unique_ptr<Mosquitto> broker;
  std::unique_ptr<Emulator> emulator;
  std::unique_ptr<Agent> agent;
  std::unique_ptr<MqttProbe> probe;
};

TEST_F(BadInput, EachRuleOfTheContractAndTheAgentStillServes) {
  expect_error("{not json", "", "InvalidCommand");
  expect_error("[\"StopInstance\"]", "", "InvalidCommand");
  expect_error(R"({"id":"b-1","action":"StopInstance","RegionId":"cn-hangzhou"})", "b-1", "MissingParameter", "InstanceId");
  expect_error(R"({"id":"b-2","action":"StopInstance","InstanceId":"","RegionId":"cn-hangzhou"})", "b-2", "MissingParameter", "InstanceId");
  expect_error(R"({"id":"b-3","action":"StopInstance","InstanceId":"i-1"})", "b-3", "MissingParameter", "RegionId");
  expect_error(R"({"id":"b-4","action":"StopInstance","InstanceId":"i-1","RegionId":""})", "b-4", "MissingParameter", "RegionId");
  expect_error(stop_command("b-5", "i-1", "cn-hangzhou", R"(,"ClientToken":")" + std::string(65, 'x') + "\""), "b-5",
               "InvalidParameter", "ClientToken");
  expect_error(stop_command("b-6", "i-1", "cn-hangzhou", R"(,"ClientToken":"jeton-\u00e9t\u00e9")"), "b-6",
               "InvalidParameter", "ClientToken");
  expect_error(R"({"id":"b-7","action":"RebootEverything","InstanceId":"i-1","RegionId":"cn-hangzhou"})", "b-7",
               "UnsupportedAction");
  expect_error(stop_command("b-8", "i-1", "cn-hangzhou", R"(,"pad":")" + std::string(9000, 'p') + "\""), "",
               "InvalidCommand", "8192");
  expect_error(stop_command("b-9", "i-1", "CN_HANGZHOU"), "b-9", "InvalidParameter", "RegionId");
  expect_error(R"({"id":17,"action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})", "", "InvalidCommand");
  expect_error(std::string("{\"id\":\"b-10\",\0\"x\"}", 18), "", "InvalidCommand");

  EXPECT_EQ(emulator->state().num({"requests"}), 0) << "nothing may reach the cloud for an invalid command";
  EXPECT_TRUE(agent->process().running());

  probe->publish(Agent::command_topic(), stop_command("b-good", "i-1"));
  auto ok = probe->wait_result("b-good");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(Json(ok->payload).is_true({"ok"})) << ok->payload;
  EXPECT_EQ(emulator->calls("StopInstance"), 1);
}

TEST_F(BadInput, ResultsAndStatusMessagesOnTheTopicAreIgnored) {
  probe->publish(Agent::command_topic(), R"({"type":"result","id":"r-1","ok":true})");
  probe->publish(Agent::command_topic(), R"({"type":"status","state":"online"})");
  probe->publish(Agent::command_topic(), stop_command("after", "i-1"));
  ASSERT_TRUE(probe->wait_result("after").has_value());
  EXPECT_EQ(probe->results_for("r-1").size(), 1u);  // only the probe's own message, no answer
  EXPECT_EQ(emulator->calls("StopInstance"), 1);
}

TEST_F(BadInput, ControlCharactersInACommandReachTheLogEscaped) {
  // Found in review (issue 11): the action's ESC sequence was written to the log raw.
  expect_error(R"({"id":"esc-1","action":"Stop\u001b[31mInstance\u009b2J","InstanceId":"i-1","RegionId":"cn-hangzhou"})",
               "esc-1", "UnsupportedAction");
  ASSERT_TRUE(agent->process().wait_for_log("command esc-1 rejected", 5s)) << agent->process().log();
  const std::string log = agent->process().log();
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a raw ESC byte reached the log";
  EXPECT_EQ(log.find("\xc2\x9b"), std::string::npos) << "a raw C1 control reached the log";
  EXPECT_NE(log.find(R"(action "Stop\x1b[31mInstance\xc2\x9b2J" is not supported)"), std::string::npos) << log;
}

TEST_F(BadInput, ADuplicateTypeIsAnsweredNotIgnored) {
  // Found in review (issue 11): the first "type" ("result") made the agent ignore the payload.
  // The answer goes to a reply topic: the probe's own copy of the payload, on the command topic,
  // reads as a result too.
  const std::string replies = "swas/gw-it/replies/dup-type";
  probe->subscribe(replies);
  probe->publish(Agent::command_topic(),
                 R"({"type":"result","id":"dup-type","type":"command","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou"})",
                 replies, "corr-1");
  std::optional<MqttProbe::Received> answer;
  for (int i = 0; i < 1000 && !answer; ++i) {
    for (const auto& r : probe->results_for("dup-type"))
      if (r.topic == replies) answer = r;
    if (!answer) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(answer.has_value()) << "no answer to a payload with two \"type\" keys\n" << agent->process().log();
  const Json r(answer->payload);
  EXPECT_EQ(r.str({"error", "Code"}), "InvalidCommand") << r.text;
  EXPECT_NE(r.str({"error", "Message"}).find("duplicate key \"type\""), std::string::npos) << r.text;
  EXPECT_EQ(answer->correlation, "corr-1");
  EXPECT_EQ(emulator->state().num({"requests"}), 0);
}

}  // namespace
}  // namespace swas::it
