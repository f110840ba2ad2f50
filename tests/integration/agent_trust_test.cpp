// Trust, end to end: MQTT over TLS (server and mutual), broker passwords, cloud certificates,
// secret file ownership, STS tokens, command policy and authenticated commands.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "command_policy.hpp"
#include "harness.hpp"
#include "time_format.hpp"

namespace swas::it {
namespace {

const char* kOneInstance = R"([{"InstanceId":"i-1","RegionId":"cn-hangzhou","state":"Running"},
                               {"InstanceId":"i-2","RegionId":"cn-hangzhou","state":"Running"}])";

std::string tls_json(const std::string& ca, bool client_cert) {
  std::string j = R"(,"tls":{"ca_file":")" + cert_dir() + "/" + ca + "\"";
  if (client_cert) j += R"(,"cert_file":")" + cert_dir() + R"(/client.pem","key_file":")" + cert_dir() + "/client.key\"";
  return j + "}";
}

// One command through the broker's plain listener to an agent on its TLS listener.
void expect_round_trip(Mosquitto& broker, Agent& agent, const std::string& id) {
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command(id, "i-1"));
  auto r = probe.wait_result(id);
  ASSERT_TRUE(r.has_value()) << agent.process().log();
  EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
}

TEST(Trust, MqttOverTlsVerifiesTheBroker) {
  TempDir dir;
  MosquittoOptions mo;
  mo.tls = true;
  Mosquitto broker(dir, mo);
  Emulator emulator(dir, kOneInstance);
  AgentOptions o(broker.tls_uri(), emulator.endpoint());
  o.mqtt_extra = tls_json("ca.pem", false);
  Agent agent(dir, o);
  expect_round_trip(broker, agent, "tls-1");
}

TEST(Trust, MutualTlsWithAClientCertificate) {
  TempDir dir;
  MosquittoOptions mo;
  mo.tls = true;
  mo.require_client_cert = true;
  Mosquitto broker(dir, mo);
  Emulator emulator(dir, kOneInstance);
  AgentOptions o(broker.tls_uri(), emulator.endpoint());
  o.mqtt_extra = tls_json("ca.pem", true);
  Agent agent(dir, o);
  expect_round_trip(broker, agent, "mtls-1");
  // Without the client certificate the broker refuses the agent; it keeps trying, says so.
  AgentOptions no_cert(broker.tls_uri(), emulator.endpoint());
  no_cert.mqtt_extra = tls_json("ca.pem", false) + R"(,"client_id":"agent-without-cert")";
  Agent refused(dir, no_cert, /*wait_ready=*/false);
  EXPECT_TRUE(refused.process().wait_for_log("retrying in", 15s)) << refused.process().log();
  EXPECT_EQ(refused.process().log().find("subscribed to"), std::string::npos);
  EXPECT_TRUE(refused.process().running());
}

TEST(Trust, AnUntrustedBrokerCertificateIsRefusedWithAClearLine) {
  TempDir dir;
  MosquittoOptions mo;
  mo.tls = true;
  Mosquitto broker(dir, mo);
  AgentOptions o(broker.tls_uri(), "https://localhost:1");
  o.mqtt_extra = tls_json("other-ca.pem", false);
  Agent agent(dir, o, /*wait_ready=*/false);
  ASSERT_TRUE(agent.process().wait_for_log("retrying in", 15s)) << agent.process().log();
  const std::string log = agent.process().log();
  EXPECT_NE(log.find("the certificate of localhost was refused: The certificate is not correctly signed by the trusted CA"),
            std::string::npos) << log;
  EXPECT_EQ(log.find("subscribed to"), std::string::npos);
}

TEST(Trust, BrokerUsernameAndPasswordFile) {
  TempDir dir;
  const std::string passwd = dir.file("mosquitto.passwd");
  ASSERT_EQ(std::system(("mosquitto_passwd -b -c '" + passwd + "' gw-it 'broker-s3cret' >/dev/null 2>&1").c_str()), 0);
  ::chmod(passwd.c_str(), 0644);
  MosquittoOptions mo;
  mo.tls = true;
  mo.password_file = passwd;
  Mosquitto broker(dir, mo);
  Emulator emulator(dir, kOneInstance);
  write_file(dir.file("mqtt-password"), "broker-s3cret\n", 0600);
  AgentOptions o(broker.tls_uri(), emulator.endpoint());
  o.mqtt_extra = tls_json("ca.pem", false) + R"(,"username":"gw-it","password_file":")" + dir.file("mqtt-password") + "\"";
  o.log_level = "debug";
  Agent agent(dir, o);
  expect_round_trip(broker, agent, "pw-1");
  EXPECT_EQ(agent.process().log().find("broker-s3cret"), std::string::npos);
  // A wrong password: refused, and the agent says so and keeps trying.
  write_file(dir.file("wrong-password"), "nope\n", 0600);
  AgentOptions bad(broker.tls_uri(), emulator.endpoint());
  bad.mqtt_extra = tls_json("ca.pem", false) + R"(,"client_id":"wrong-pw","username":"gw-it","password_file":")" +
                   dir.file("wrong-password") + "\"";
  Agent refused(dir, bad, /*wait_ready=*/false);
  EXPECT_TRUE(refused.process().wait_for_log("retrying in", 15s)) << refused.process().log();
  // A password file readable by others is refused at start-up.
  ::chmod(dir.file("mqtt-password").c_str(), 0644);
  Agent loose(dir, o, /*wait_ready=*/false);
  EXPECT_EQ(loose.process().wait_exit(10s), std::optional<int>(2)) << loose.process().log();
  EXPECT_NE(loose.process().log().find("mqtt.password_file"), std::string::npos);
}

void expect_cloud_refused(const std::string& cert, const std::string& key, const std::string& why) {
  TempDir dir;
  Mosquitto broker(dir);
  EmulatorOptions eo;
  eo.cert = cert;
  eo.key = key;
  eo.extra_args = {"--log-requests"};
  Emulator emulator(dir, kOneInstance, eo);
  Agent agent(dir, AgentOptions(broker.uri(), emulator.endpoint()));
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("cert-1", "i-1"));
  auto r = probe.wait_result("cert-1", 30s);
  ASSERT_TRUE(r.has_value()) << agent.process().log();
  const Json j(r->payload);
  EXPECT_EQ(j.str({"error", "Code"}), "CloudUnreachable");
  EXPECT_NE(j.str({"error", "Message"}).find(why), std::string::npos) << r->payload;
  // The test cannot ask this emulator for its state (its certificate is refused here too): its
  // request log must be empty instead.
  EXPECT_EQ(emulator.log().find(" POST "), std::string::npos) << "nothing may be sent over an unverified connection:\n"
                                                              << emulator.log();
}

TEST(Trust, CloudCertificateForAnotherHostIsRefused) {
  expect_cloud_refused("wrong-host.pem", "wrong-host.key", "Common Name");
}

TEST(Trust, ExpiredCloudCertificateIsRefused) {
  expect_cloud_refused("expired.pem", "expired.key", "expired");
}

TEST(Trust, SecretFilesOwnedByAnotherUserAreRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's owner needs root";
  TempDir dir;
  AgentOptions o("tcp://127.0.0.1:1", "https://localhost:1");
  Agent agent(dir, o, /*wait_ready=*/false);
  agent.process().signal(SIGKILL);
  agent.process().wait_exit(5s);
  const std::string cfg = read_file(agent.config_path());
  const auto at = cfg.find("credentials-");
  const std::string creds = dir.path() + "/" + cfg.substr(at, cfg.find('"', at) - at);
  ASSERT_EQ(::chown(creds.c_str(), 65534, 65534), 0);
  Process p({SWAS_AGENT_BIN, "--config", agent.config_path(), "--check-config"}, dir.file("owner.log"));
  EXPECT_EQ(p.wait_exit(10s), std::optional<int>(2)) << p.log();
  EXPECT_NE(p.log().find("owned by uid 65534"), std::string::npos) << p.log();
}

TEST(Trust, SecretFilesOthersCouldReplaceAreRefused) {
  // Found in review (issue 11): a command key file of mode 0602 was accepted, so another local
  // user could replace the key and sign commands.
  TempDir dir;
  const std::string key = dir.file("command.key");
  write_file(key, "integration-command-key-0123456789\n", 0602);
  AgentOptions o("tcp://127.0.0.1:1", "https://localhost:1");
  o.extra_config = R"(,"policy":{"command_key_file":")" + key + "\"}";
  Agent agent(dir, o, /*wait_ready=*/false);
  EXPECT_EQ(agent.process().wait_exit(10s), std::optional<int>(2)) << agent.process().log();
  EXPECT_NE(agent.process().log().find("policy.command_key_file " + key), std::string::npos) << agent.process().log();
  auto check_config = [&](const std::string& name) {
    Process p({SWAS_AGENT_BIN, "--config", agent.config_path(), "--check-config"}, dir.file(name));
    EXPECT_EQ(p.wait_exit(10s), std::optional<int>(2)) << p.log();
    return p.log();
  };
  std::string log = check_config("mode.log");
  EXPECT_NE(log.find("policy.command_key_file " + key + ": holds a secret but is writable by group or others (mode 0602)"),
            std::string::npos) << log;
  EXPECT_NE(log.find("chmod 600 " + key), std::string::npos) << log;
  // The same key in a directory others can write (no sticky bit): they could replace the file.
  const std::string open_dir = dir.file("open");
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ::chmod(open_dir.c_str(), 0777);
  const std::string moved = open_dir + "/command.key";
  write_file(moved, "integration-command-key-0123456789\n", 0600);
  std::string cfg = read_file(agent.config_path());
  cfg.replace(cfg.find(key), key.size(), moved);
  write_file(agent.config_path(), cfg);
  log = check_config("dir.log");
  EXPECT_NE(log.find("directory " + open_dir + " is writable by group or others"), std::string::npos) << log;
  EXPECT_NE(log.find("chmod go-w " + open_dir), std::string::npos) << log;
  // A symbolic link to a good key, owned by another user: refused naming the link.
  ::chmod(open_dir.c_str(), 0700);
  const std::string link = dir.file("key-link");
  ASSERT_EQ(::symlink(moved.c_str(), link.c_str()), 0);
  cfg.replace(cfg.find(moved), moved.size(), link);
  write_file(agent.config_path(), cfg);
  Process good({SWAS_AGENT_BIN, "--config", agent.config_path(), "--check-config"}, dir.file("good.log"));
  EXPECT_EQ(good.wait_exit(10s), std::optional<int>(0)) << good.log();
  if (::geteuid() != 0) GTEST_SKIP() << "changing a symbolic link's owner needs root";
  ASSERT_EQ(::lchown(link.c_str(), 65534, 65534), 0);
  log = check_config("link.log");
  EXPECT_NE(log.find(link + " is a symbolic link owned by uid 65534"), std::string::npos) << log;
}

TEST(Trust, StsTokenIsSentAsSecurityToken) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  AgentOptions o(broker.uri(), emulator.endpoint());
  o.credentials_in_env = true;
  o.env = {{"ALIBABA_CLOUD_ACCESS_KEY_ID", Emulator::kStsAccessKeyId},
           {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", Emulator::kStsSecret},
           {"ALIBABA_CLOUD_SECURITY_TOKEN", Emulator::kStsToken}};
  o.log_level = "debug";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  probe.publish(Agent::command_topic(), stop_command("sts-1", "i-1"));
  auto r = probe.wait_result("sts-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
  EXPECT_EQ(agent.process().log().find(Emulator::kStsToken), std::string::npos);
  EXPECT_EQ(agent.process().log().find(Emulator::kStsSecret), std::string::npos);
}

TEST(Trust, PolicyAndAuthenticatedCommands) {
  TempDir dir;
  Mosquitto broker(dir);
  Emulator emulator(dir, kOneInstance);
  const std::string key = "integration-command-key-0123456789";
  write_file(dir.file("command.key"), key + "\n", 0600);
  AgentOptions o(broker.uri(), emulator.endpoint());
  o.extra_config = R"(,"policy":{"allowed_regions":["cn-hangzhou"],"allowed_instances":["i-1"],"command_key_file":")" +
                   dir.file("command.key") + "\"}";
  Agent agent(dir, o);
  MqttProbe probe(broker.uri());
  probe.subscribe(Agent::command_topic());
  auto sign = [&](const std::string& id, const std::string& instance) {
    const std::string issued = format_iso8601_utc(std::time(nullptr));
    const SignedFields f{id, "StopInstance", instance, "cn-hangzhou", "", issued, ""};
    return R"({"id":")" + id + R"(","action":"StopInstance","InstanceId":")" + instance +
           R"(","RegionId":"cn-hangzhou","issuedAt":")" + issued + R"(","signature":")" +
           command_signature(key, Agent::gateway_id(), f) + "\"}";
  };
  probe.publish(Agent::command_topic(), stop_command("unsigned-1", "i-1"));
  auto r = probe.wait_result("unsigned-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Json(r->payload).str({"error", "Code"}), "Unauthenticated");
  probe.publish(Agent::command_topic(), sign("signed-forbidden", "i-2"));
  r = probe.wait_result("signed-forbidden");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Json(r->payload).str({"error", "Code"}), "Forbidden");
  EXPECT_EQ(emulator.state().num({"requests"}), 0);
  probe.publish(Agent::command_topic(), sign("signed-ok", "i-1"));
  r = probe.wait_result("signed-ok");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(Json(r->payload).is_true({"ok"})) << r->payload;
  EXPECT_EQ(emulator.calls("StopInstance"), 1);
}

}  // namespace
}  // namespace swas::it
