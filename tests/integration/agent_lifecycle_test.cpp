// The binary's life: --check-config, exit codes, SIGTERM, TLS refusal, MQTT 3.1.1, secrets in logs.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "harness.hpp"

namespace swas::it {
namespace {

const char* kOneInstance = R"([{"InstanceId":"i-1","RegionId":"cn-hangzhou","state":"Running"}])";

int run_agent(const std::vector<std::string>& args, std::string* output = nullptr,
              const std::map<std::string, std::string>& env = {}) {
  TempDir tmp;
  std::vector<std::string> argv{SWAS_AGENT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, tmp.file("out.log"), env);
  auto status = p.wait_exit(20s);
  if (output) *output = p.log();
  return status.value_or(-1);
}

TEST(Lifecycle, HelpAndVersionExitZero) {
  std::string out;
  EXPECT_EQ(run_agent({"--help"}, &out), 0);
  EXPECT_NE(out.find("--check-config"), std::string::npos);
  EXPECT_EQ(run_agent({"--version"}, &out), 0);
  EXPECT_NE(out.find("swas-agent "), std::string::npos);
  EXPECT_EQ(run_agent({"--frobnicate"}, &out), 2);
  EXPECT_NE(out.find("unknown argument"), std::string::npos);
}

TEST(Lifecycle, CheckConfigSaysOkOrNamesTheProblem) {
  TempDir dir;
  Agent good_setup(dir, AgentOptions("tcp://127.0.0.1:1", "https://localhost:1"), /*wait_ready=*/false);
  good_setup.process().signal(SIGKILL);
  std::string out;
  EXPECT_EQ(run_agent({"--config", good_setup.config_path(), "--check-config"}, &out), 0) << out;
  EXPECT_NE(out.find("config OK"), std::string::npos) << out;

  const std::string bad = dir.file("bad.json");
  write_file(bad, R"({"gateway_id":"gw","mqtt":{"uri":"tcp://h","qos":7}})", 0644);
  EXPECT_EQ(run_agent({"--config", bad, "--check-config"}, &out), 2);
  EXPECT_NE(out.find("mqtt.qos"), std::string::npos) << out;

  write_file(bad, R"({"gateway_id":"gw","mqtt":{"uri":"tcp://h"},"colud":{}})", 0644);
  EXPECT_EQ(run_agent({"--config", bad}, &out), 2);
  EXPECT_NE(out.find("colud"), std::string::npos) << out;

  EXPECT_EQ(run_agent({"--config", dir.file("missing.json"), "--check-config"}, &out), 2);
  EXPECT_NE(out.find("missing.json"), std::string::npos) << out;
}

TEST(Lifecycle, CredentialsReadableByOthersAreRefused) {
  TempDir dir;
  const std::string creds = dir.file("creds.json");
  write_file(creds, R"({"access_key_id":"AK","access_key_secret":"SECRET-VALUE"})", 0644);
  const std::string cfg = dir.file("cfg.json");
  write_file(cfg, R"({"gateway_id":"gw","mqtt":{"uri":"tcp://127.0.0.1:1"},"cloud":{"ca_file":")" + cert_dir() +
                      R"(/ca.pem"},"credentials_file":")" + creds + R"(","state_dir":")" + dir.file("st") + "\"}",
             0644);
  std::string out;
  EXPECT_EQ(run_agent({"--config", cfg, "--check-config"}, &out), 2);
  EXPECT_NE(out.find(creds), std::string::npos) << out;
  EXPECT_NE(out.find("0644"), std::string::npos) << out;
  EXPECT_EQ(out.find("SECRET-VALUE"), std::string::npos);
  // Without any credentials --check-config says so; with them from the environment it is OK.
  write_file(cfg, R"({"gateway_id":"gw","mqtt":{"uri":"tcp://127.0.0.1:1"},"cloud":{"ca_file":")" + cert_dir() +
                      R"(/ca.pem"},"credentials_file":")" + dir.file("none.json") + R"(","state_dir":")" +
                      dir.file("st") + "\"}", 0644);
  EXPECT_EQ(run_agent({"--config", cfg, "--check-config"}, &out), 2);
  EXPECT_NE(out.find("no credentials"), std::string::npos) << out;
  EXPECT_EQ(run_agent({"--config", cfg, "--check-config"}, &out,
                      {{"ALIBABA_CLOUD_ACCESS_KEY_ID", "AK"}, {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "S"}}), 0) << out;
  EXPECT_NE(out.find("environment"), std::string::npos) << out;
}

TEST(Lifecycle, SigtermStopsCleanlyWithExitZero) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(15s), std::optional<int>(0)) << agent.process().log();
  EXPECT_NE(agent.process().log().find("stopped"), std::string::npos);
}

TEST(Lifecycle, SigtermWhileACommandIsInFlightStillAnswersIt) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  emulator.set_faults(R"({"delay_ms":2000})");  // the emulator answers 2 s after it got the call
  probe.publish(Agent::command_topic(), stop_command("in-flight", "i-1"));
  // In flight: the call has reached the cloud, whose answer is on its way.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (emulator.state().num({"requests"}) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(emulator.state().num({"requests"}), 1) << agent.process().log();
  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait_exit(15s), std::optional<int>(0)) << agent.process().log();
  auto r = probe.wait_result("in-flight", 5s);
  ASSERT_TRUE(r.has_value()) << agent.process().log();
  EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
  const std::string log = agent.process().log();
  const auto stop = log.find("received SIGTERM");
  ASSERT_NE(stop, std::string::npos) << log;
  EXPECT_NE(log.find("command in-flight succeeded", stop), std::string::npos)
      << "the answer came after the signal, not before it:\n" << log;
}

TEST(Lifecycle, UntrustedCloudCertificateIsCloudUnreachableAndNothingIsSent) {
  TempDir dir;
  Mosquitto broker(dir);
  EmulatorOptions untrusted;
  untrusted.cert = "untrusted.pem";
  untrusted.key = "untrusted.key";
  untrusted.ca = "other-ca.pem";
  Emulator emulator(dir, kOneInstance, untrusted);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("tls-1", "i-1"));
  auto r = probe.wait_result("tls-1", 30s);
  ASSERT_TRUE(r.has_value()) << agent.process().log();
  const Json j(r->payload);
  EXPECT_EQ(j.str({"error", "source"}), "agent");
  EXPECT_EQ(j.str({"error", "Code"}), "CloudUnreachable");
  EXPECT_NE(j.str({"error", "Message"}).find("certificate"), std::string::npos) << r->payload;
  EXPECT_EQ(emulator.state().num({"requests"}), 0) << "no request may be sent over an unverified connection";
}

TEST(Lifecycle, Mqtt311ModeAnswersOnTheCommandTopicAndIgnoresItsOwnResults) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  AgentOptions o{broker.uri(), emulator.endpoint()};
  o.mqtt_version = 3;
  Agent agent(dir, o);
  MqttProbe probe(broker.uri(), 3);
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("v3-1", "i-1"));
  auto r = probe.wait_result("v3-1");
  ASSERT_TRUE(r.has_value()) << agent.process().log();
  EXPECT_TRUE(Json(r->payload).is_true({"ok"}));
  EXPECT_EQ(r->topic, Agent::command_topic());
  // MQTT 3.1.1 has no No Local: the agent receives its own result before the marker, and must
  // not answer it.
  ASSERT_TRUE(probe.await_marker("v3-marker", Agent::command_topic()));
  EXPECT_EQ(probe.results_for("v3-1").size(), 1u);
  EXPECT_EQ(emulator.calls("StopInstance"), 1);
}

TEST(Lifecycle, GatewayIdFromTheCommandLineOverridesTheEnvironmentWhichOverridesTheFile) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  Agent from_file(dir, AgentOptions(broker.uri(), emulator.endpoint()), /*wait_ready=*/false);
  from_file.process().signal(SIGKILL);
  from_file.process().wait_exit(5s);
  MqttProbe probe(broker.uri());
  probe.subscribe("swas/gw-cli/commands");
  probe.subscribe("swas/gw-env/commands");
  Process env_only({SWAS_AGENT_BIN, "--config", from_file.config_path()}, dir.file("env.log"),
                   {{"SWAS_GATEWAY_ID", "gw-env"}});
  ASSERT_TRUE(env_only.wait_for_log("subscribed to swas/gw-env/commands", 15s)) << env_only.log();
  probe.publish("swas/gw-env/commands", stop_command("env-1", "i-1"));
  auto r = probe.wait_result("env-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->topic, "swas/gw-env/commands");
  env_only.signal(SIGTERM);
  ASSERT_EQ(env_only.wait_exit(10s), std::optional<int>(0));
  Process cli({SWAS_AGENT_BIN, "--config", from_file.config_path(), "--gateway-id", "gw-cli"}, dir.file("cli.log"),
              {{"SWAS_GATEWAY_ID", "gw-env"}});
  ASSERT_TRUE(cli.wait_for_log("subscribed to swas/gw-cli/commands", 15s)) << cli.log();
}

TEST(Lifecycle, ASecondAgentOnTheSameStateDirExitsNamingTheHolder) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  Agent first(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  Process second({SWAS_AGENT_BIN, "--config", first.config_path()}, dir.file("second.log"));
  EXPECT_EQ(second.wait_exit(10s), std::optional<int>(2)) << second.log();
  EXPECT_NE(second.log().find("pid " + std::to_string(first.process().pid())), std::string::npos) << second.log();
  EXPECT_TRUE(first.process().running());
  // After the first one stops (even by SIGKILL) the state is free again.
  first.process().signal(SIGKILL);
  first.process().wait_exit(5s);
  first.restart();
  EXPECT_TRUE(first.process().running());
}

TEST(Lifecycle, SecretsNeverAppearInDebugLogs) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  AgentOptions o{broker.uri(), emulator.endpoint()};
  o.log_level = "debug";
  o.credentials_in_env = true;
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("s-1", "i-1"));
  ASSERT_TRUE(probe.wait_result("s-1").has_value());
  probe.publish(Agent::command_topic(), "garbage");
  ASSERT_TRUE(probe.wait_result("").has_value());
  agent.process().signal(SIGTERM);
  agent.process().wait_exit(10s);
  const std::string log = agent.process().log();
  EXPECT_NE(log.find("s-1"), std::string::npos) << "the debug log should show the command";
  EXPECT_EQ(log.find(Emulator::kAccessKeySecret), std::string::npos) << log;
}

}  // namespace
}  // namespace swas::it
