// The bounds of docs/limits.md, reached through the real agent: its defaults for commands at once
// and commands waiting, the real HTTPS client's cloud.timeout_ms, and the 64 KiB / 100-header
// bound on the cloud's answer. The cloud here is a scripted TLS server (hostile_tls_server.hpp)
// that holds, delays or shapes each answer.
#include <gtest/gtest.h>

#include <string>

#include "harness.hpp"
#include "gated_cloud.hpp"
#include "hostile_tls_server.hpp"
#include "limits.hpp"

namespace swas::it {
namespace {

std::string stop_of(int i) { return stop_command("q-" + std::to_string(i), "i-" + std::to_string(i)); }

// commands.max_in_flight (4) and commands.queue_depth (64), both at their defaults: with four
// calls held by the cloud and 64 commands waiting, the next command is answered Busy at once;
// the cloud never holds a fifth call; every other command completes once the cloud answers.
TEST(Limits, FourCommandsRunAtOnceSixtyFourWaitAndTheNextIsBusy) {
  TempDir dir;
  Mosquitto broker(dir);
  GatedCloud cloud;
  AgentOptions o(broker.uri(), cloud.endpoint());
  o.cloud_timeout_ms = 60000;  // the held calls must not time out
  o.extra_config = R"(,"follow":{"enabled":false})";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());

  const int in_flight = static_cast<int>(limits::kDefaultMaxInFlight);
  const int queued = static_cast<int>(limits::kDefaultQueueDepth);
  for (int i = 0; i < in_flight; ++i) probe.publish(Agent::command_topic(), stop_of(i));
  ASSERT_TRUE(cloud.wait_held(in_flight, 15s)) << agent.process().log();
  for (int i = in_flight; i < in_flight + queued; ++i) probe.publish(Agent::command_topic(), stop_of(i));
  const int next = in_flight + queued;
  probe.publish(Agent::command_topic(), stop_of(next));
  auto busy = probe.wait_result("q-" + std::to_string(next), 15s);
  ASSERT_TRUE(busy.has_value()) << "the command past the queue was not answered at once\n" << agent.process().log();
  EXPECT_EQ(Json(busy->payload).str({"error", "Code"}), "Busy") << busy->payload;
  EXPECT_NE(Json(busy->payload).str({"error", "Message"}).find("(64)"), std::string::npos) << busy->payload;
  EXPECT_EQ(cloud.max_held(), in_flight) << "more commands ran at once than commands.max_in_flight";
  EXPECT_EQ(probe.result_count(), 1u) << "only the command past the bound is answered before the cloud";

  cloud.open();
  for (int i = 0; i < next; ++i) {
    auto r = probe.wait_result("q-" + std::to_string(i), 15s);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
  }
  EXPECT_TRUE(cloud.wait_answered(next, 5s));
  EXPECT_EQ(cloud.max_held(), in_flight);
  EXPECT_EQ(probe.results_for("q-" + std::to_string(next)).size(), 1u);
}

// The cloud answers "i-slow" after three times cloud.timeout_ms and everything else at once: the
// real client ends the slow attempt at the agent's configured budget (CloudUnreachable, timed
// out, with one attempt allowed) and the quick one succeeds.
TEST(Limits, CloudTimeoutMsEndsTheRealClientsAttempt) {
  constexpr int kTimeoutMs = 2000;
  TempDir dir;
  Mosquitto broker(dir);
  HostileTlsServer cloud([](HostileTlsServer::Connection& c) {
    while (auto target = c.read_request()) {
      if (target->find("InstanceId=i-slow") != std::string::npos && !c.sleep_ms(3 * kTimeoutMs)) return;
      if (!c.write(http_response(R"({"RequestId":"R-)" + std::to_string(c.index()) + "\"}"))) return;
    }
  });
  AgentOptions o(broker.uri(), "https://localhost:" + std::to_string(cloud.port()));
  o.cloud_timeout_ms = kTimeoutMs;
  o.retry_json = R"({"max_attempts":1,"backoff_base_ms":0,"backoff_max_ms":0,"deadline_ms":60000})";
  o.extra_config = R"(,"follow":{"enabled":false})";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("t-quick", "i-quick"));
  auto quick = probe.wait_result("t-quick");
  ASSERT_TRUE(quick.has_value());
  EXPECT_TRUE(Json(quick->payload).is_true({"ok"})) << quick->payload;
  probe.publish(Agent::command_topic(), stop_command("t-slow", "i-slow"));
  auto slow = probe.wait_result("t-slow", 20s);
  ASSERT_TRUE(slow.has_value()) << agent.process().log();
  const Json r(slow->payload);
  EXPECT_EQ(r.str({"error", "Code"}), "CloudUnreachable") << r.text;
  EXPECT_NE(r.str({"error", "Message"}).find("timed out"), std::string::npos) << r.text;
}

// An answer of `total` bytes (head and body) with `headers` header lines: the padding goes into
// the last header's value.
std::string shaped_answer(std::size_t total, int headers) {
  const std::string body = R"({"RequestId":"R-shaped"})";
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n";
  for (int i = 2; i < headers - 1; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
  const std::string last = "X-Pad: ";
  const std::size_t fixed = head.size() + last.size() + 2 + 2 + body.size();  // + CRLF, blank line
  if (total < fixed) throw std::runtime_error("answer too small for its headers");
  return head + last + std::string(total - fixed, 'p') + "\r\n\r\n" + body;
}

// The cloud's answer may be 64 KiB in all (limits::kMaxHttpResponseBytes) with up to 100 headers:
// one byte or one header more and the real client refuses it as a bad HTTP response.
TEST(Limits, TheCloudsAnswerIsReadUpTo64KiBAnd100HeadersAndNotOneMore) {
  const std::size_t max = limits::kMaxHttpResponseBytes;
  ASSERT_EQ(max, 65536u);
  TempDir dir;
  Mosquitto broker(dir);
  HostileTlsServer cloud([&](HostileTlsServer::Connection& c) {
    while (auto target = c.read_request()) {
      std::string answer;
      if (target->find("InstanceId=i-64k&") != std::string::npos) answer = shaped_answer(max, 3);
      else if (target->find("InstanceId=i-64k1&") != std::string::npos) answer = shaped_answer(max + 1, 3);
      else if (target->find("InstanceId=i-100h&") != std::string::npos) answer = shaped_answer(4000, 100);
      else if (target->find("InstanceId=i-101h&") != std::string::npos) answer = shaped_answer(4000, 101);
      else answer = http_response("unexpected request " + *target, 500, "Internal Server Error");
      for (std::size_t at = 0; at < answer.size(); at += 16384)  // at most one TLS record each
        if (!c.write(answer.substr(at, 16384))) return;
    }
  });
  ASSERT_EQ(shaped_answer(max, 3).size(), max);
  AgentOptions o(broker.uri(), "https://localhost:" + std::to_string(cloud.port()));
  o.retry_json = R"({"max_attempts":1,"backoff_base_ms":0,"backoff_max_ms":0,"deadline_ms":60000})";
  o.extra_config = R"(,"follow":{"enabled":false})";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  for (const std::string instance : {"i-64k", "i-64k1", "i-100h", "i-101h"})
    probe.publish(Agent::command_topic(), stop_command("s-" + instance, instance));
  const auto result = [&](const std::string& instance) {
    auto r = probe.wait_result("s-" + instance);
    return Json(r ? r->payload : "{}");
  };
  const Json at_size = result("i-64k");
  EXPECT_TRUE(at_size.is_true({"ok"})) << at_size.text;
  EXPECT_EQ(at_size.str({"RequestId"}), "R-shaped") << at_size.text;
  const Json over_size = result("i-64k1");
  EXPECT_EQ(over_size.str({"error", "Code"}), "CloudUnreachable") << over_size.text;
  EXPECT_NE(over_size.str({"error", "Message"}).find("larger than 65536 bytes"), std::string::npos) << over_size.text;
  const Json at_count = result("i-100h");
  EXPECT_TRUE(at_count.is_true({"ok"})) << at_count.text;
  const Json over_count = result("i-101h");
  EXPECT_EQ(over_count.str({"error", "Code"}), "CloudUnreachable") << over_count.text;
  EXPECT_NE(over_count.str({"error", "Message"}).find("malformed HTTP response"), std::string::npos) << over_count.text;
}

}  // namespace
}  // namespace swas::it
