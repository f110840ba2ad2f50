// End to end: real mosquitto, real emulator over TLS, the real swas-agent binary.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "harness.hpp"

namespace swas::it {
namespace {

const char* kInstances = R"([
  {"InstanceId":"i-running-1","RegionId":"cn-hangzhou","state":"Running"},
  {"InstanceId":"i-running-2","RegionId":"cn-hangzhou","state":"Running"},
  {"InstanceId":"i-stopped","RegionId":"cn-hangzhou","state":"Stopped"}])";

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    broker = std::make_unique<Mosquitto>(dir);
    emulator = std::make_unique<Emulator>(dir, kInstances);
    AgentOptions o(broker->uri(), emulator->endpoint());
    // One worker: a later command's answer then comes after every earlier command's work is done,
    // so MqttProbe::await_marker proves that no second answer is still on its way.
    o.extra_config = R"(,"commands":{"max_in_flight":1})";
    agent = std::make_unique<Agent>(dir, o);
    probe = std::make_unique<MqttProbe>(broker->uri());
    probe->subscribe(Agent::command_topic());
  }
  Json result(const std::string& id) {
    auto r = probe->wait_result(id);
    EXPECT_TRUE(r.has_value()) << "no result for " << id << "\nagent log:\n" << agent->process().log();
    return Json(r ? r->payload : "{}");
  }
  double requests() { return emulator->calls("StopInstance"); }

  TempDir dir;
  std::unique_ptr<Mosquitto> broker;
  std::unique_ptr<Emulator> emulator;
  std::unique_ptr<Agent> agent;
  std::unique_ptr<MqttProbe> probe;
};

TEST_F(EndToEnd, StopSucceedsWithTheEmulatorsRequestId) {
  probe->publish(Agent::command_topic(),
                 stop_command("c-ok", "i-running-1", "cn-hangzhou", R"(,"ClientToken":"tok-ok-1")"));
  const Json r = result("c-ok");
  EXPECT_TRUE(r.is_true({"ok"})) << r.text;
  EXPECT_EQ(r.str({"type"}), "result");
  EXPECT_EQ(r.str({"action"}), "StopInstance");
  EXPECT_EQ(r.str({"InstanceId"}), "i-running-1");
  EXPECT_EQ(r.str({"RegionId"}), "cn-hangzhou");
  EXPECT_EQ(r.str({"ClientToken"}), "tok-ok-1");
  EXPECT_NE(r.str({"RequestId"}), "<absent>");
  EXPECT_FALSE(r.str({"RequestId"}).empty());
  const Json state = emulator->state();
  EXPECT_EQ(state.num({"stops", "i-running-1"}), 1);
  EXPECT_EQ(state.num({"actions", "StopInstance"}), 1);
}

TEST_F(EndToEnd, SecondStopOfAStoppedInstanceIsIncorrectInstanceStatus) {
  probe->publish(Agent::command_topic(), stop_command("c-403", "i-stopped"));
  const Json r = result("c-403");
  EXPECT_FALSE(r.is_true({"ok"}));
  EXPECT_EQ(r.str({"error", "source"}), "cloud");
  EXPECT_EQ(r.num({"error", "HttpStatus"}), 403);
  EXPECT_EQ(r.str({"error", "Code"}), "IncorrectInstanceStatus");
  EXPECT_EQ(r.str({"error", "Message"}), "The state of the current instance does not support this operation.");
  EXPECT_NE(r.str({"error", "RequestId"}), "<absent>");
  EXPECT_EQ(requests(), 1);  // 4xx is not retried
}

TEST_F(EndToEnd, UnknownInstanceIsNotFound) {
  probe->publish(Agent::command_topic(), stop_command("c-404", "i-does-not-exist"));
  const Json r = result("c-404");
  EXPECT_EQ(r.num({"error", "HttpStatus"}), 404);
  EXPECT_EQ(r.str({"error", "Code"}), "InvalidInstanceId.NotFound");
  EXPECT_EQ(r.str({"error", "Message"}), "The specified InstanceId does not exist.");
  EXPECT_NE(r.str({"error", "RequestId"}), "<absent>");
}

TEST_F(EndToEnd, PersistentInternalErrorArrivesAfterTheRetries) {
  emulator->set_faults(R"({"status":500,"count":100})");
  probe->publish(Agent::command_topic(), stop_command("c-500", "i-running-1"));
  const Json r = result("c-500");
  EXPECT_EQ(r.num({"error", "HttpStatus"}), 500);
  EXPECT_EQ(r.str({"error", "Code"}), "InternalError");
  EXPECT_EQ(r.str({"error", "Message"}), "An error occurred while processing your request.");
  EXPECT_NE(r.str({"error", "RequestId"}), "<absent>");
  EXPECT_EQ(requests(), 4);  // the documented bound: 4 attempts
  EXPECT_LT(emulator->state().num({"stops", "i-running-1"}), 1);  // never stopped
}

TEST_F(EndToEnd, TwoServerErrorsThenSuccessIsOneStopWithOneToken) {
  emulator->set_faults(R"({"status":500,"count":2})");
  probe->publish(Agent::command_topic(), stop_command("c-retry", "i-running-1"));
  const Json r = result("c-retry");
  EXPECT_TRUE(r.is_true({"ok"})) << r.text;
  const Json state = emulator->state();
  EXPECT_EQ(state.num({"actions", "StopInstance"}), 3);
  EXPECT_EQ(state.num({"stops", "i-running-1"}), 1);
  const auto stops = emulator_log(state, "StopInstance");
  ASSERT_EQ(stops.size(), 3u);
  std::set<std::string> tokens, nonces;
  for (const cJSON* e : stops) {
    tokens.insert(cJSON_GetObjectItem(e, "ClientToken")->valuestring);
    nonces.insert(cJSON_GetObjectItem(e, "nonce")->valuestring);
  }
  EXPECT_EQ(tokens.size(), 1u);
  EXPECT_EQ(*tokens.begin(), r.str({"ClientToken"}));
  EXPECT_EQ(nonces.size(), 3u);
}

TEST_F(EndToEnd, DuplicateIdIsAnsweredTheSameWithoutASecondCall) {
  probe->publish(Agent::command_topic(), stop_command("c-dup", "i-running-1"));
  const Json first = result("c-dup");
  ASSERT_TRUE(first.is_true({"ok"}));
  probe->publish(Agent::command_topic(), stop_command("c-dup", "i-running-1"));
  ASSERT_TRUE(probe->await_marker("c-dup-marker", Agent::command_topic()));
  const auto all = probe->results_for("c-dup");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].payload, all[1].payload);
  EXPECT_EQ(requests(), 1);
}

TEST_F(EndToEnd, ResponseTopicAndCorrelationDataAreHonoured) {
  probe->subscribe("dashboard/replies/7");
  const std::string correlation("corr\x00\x01\xfe", 7);
  probe->publish(Agent::command_topic(), stop_command("c-rt", "i-running-2"), "dashboard/replies/7", correlation);
  auto r = probe->wait_result("c-rt");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "dashboard/replies/7");
  EXPECT_EQ(r->correlation, correlation);
  ASSERT_TRUE(probe->await_marker("c-rt-marker", Agent::command_topic()));  // its answer on the command topic
  const auto all = probe->results_for("c-rt");
  ASSERT_EQ(all.size(), 1u);  // nothing on the command topic
  EXPECT_EQ(all[0].topic, "dashboard/replies/7");
}

TEST_F(EndToEnd, DerivedClientTokenIsTheSameOnEveryDelivery) {
  probe->publish(Agent::command_topic(), stop_command("c-derived", "i-running-1"));
  const Json r = result("c-derived");
  ASSERT_TRUE(r.is_true({"ok"}));
  const std::string token = r.str({"ClientToken"});
  EXPECT_EQ(token.size(), 36u);
  const Json state = emulator->state();
  EXPECT_EQ(std::string(cJSON_GetObjectItem(cJSON_GetArrayItem(state.at({"log"}), 0), "ClientToken")->valuestring), token);
}

TEST_F(EndToEnd, ManyCommandsEachGetExactlyOneResult) {
  for (int i = 0; i < 30; ++i)
    probe->publish(Agent::command_topic(), stop_command("c-many-" + std::to_string(i), "i-stopped"));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(probe->wait_result("c-many-" + std::to_string(i)).has_value()) << i;
  ASSERT_TRUE(probe->await_marker("c-many-marker", Agent::command_topic()));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(probe->results_for("c-many-" + std::to_string(i)).size(), 1u) << i;
}

}  // namespace
}  // namespace swas::it
