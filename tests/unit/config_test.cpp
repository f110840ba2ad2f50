// Config rules of contract §2: required keys, defaults, unknown keys, messages naming the key.
#include "config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace swas {
namespace {

ConfigError config_error(const std::string& json) {
  auto c = parse_config(json);
  EXPECT_FALSE(c.has_value()) << json;
  return c ? ConfigError{} : c.error();
}

TEST(Config, MinimalConfigGetsTheContractDefaults) {
  auto c = parse_config(R"({"gateway_id":"gw-001","mqtt":{"uri":"tcp://127.0.0.1:1883"}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->mqtt.client_id, "swas-agent-gw-001");
  EXPECT_EQ(c->mqtt.command_topic, "swas/gw-001/commands");
  EXPECT_EQ(c->mqtt.version, 5);
  EXPECT_EQ(c->mqtt.qos, 1);
  EXPECT_EQ(c->mqtt.keepalive_s, 30);
  EXPECT_FALSE(c->mqtt.tls);
  EXPECT_FALSE(c->cloud.endpoint.has_value());
  EXPECT_EQ(c->cloud.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(c->cloud.timeout_ms, 10000u);
  EXPECT_EQ(c->credentials_file, "/etc/swas-agent/credentials.json");
  EXPECT_EQ(c->state_dir, "/var/lib/swas-agent");
}

TEST(Config, ContractExampleParses) {
  auto c = parse_config(R"({
    "gateway_id": "gw-001",
    "mqtt": {"uri": "ssl://broker:8883", "client_id": "swas-agent-gw-001", "command_topic": "swas/gw-001/commands",
             "version": 5, "qos": 1, "keepalive_s": 30, "username": "gw-001",
             "password_file": "/etc/swas-agent/mqtt-password",
             "tls": {"ca_file": "/etc/swas-agent/broker-ca.pem", "cert_file": "/etc/swas-agent/gw-001.crt",
                     "key_file": "/etc/swas-agent/gw-001.key"}},
    "cloud": {"endpoint": "", "ca_file": "/etc/ssl/certs/ca-certificates.crt", "timeout_ms": 10000},
    "credentials_file": "/etc/swas-agent/credentials.json",
    "state_dir": "/var/lib/swas-agent"})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_TRUE(c->mqtt.tls);
  ASSERT_TRUE(c->mqtt.tls_files.has_value());
  EXPECT_EQ(c->mqtt.tls_files->key_file, "/etc/swas-agent/gw-001.key");
  EXPECT_EQ(c->mqtt.username, "gw-001");
}

TEST(Config, SchemesAreNormalisedForTheMqttLibrary) {
  auto c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"mqtts://h:8883"}})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->mqtt.uri, "ssl://h:8883");
  EXPECT_TRUE(c->mqtt.tls);
  c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"mqtt://h:1883"}})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->mqtt.uri, "tcp://h:1883");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"ws://h"}})").key, "mqtt.uri");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://"}})").key, "mqtt.uri");
}

TEST(Config, RequiredKeys) {
  EXPECT_EQ(config_error(R"({"mqtt":{"uri":"tcp://h"}})").key, "gateway_id");
  EXPECT_EQ(config_error(R"({"gateway_id":"g"})").key, "mqtt");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{}})").key, "mqtt.uri");
  EXPECT_EQ(config_error(R"({"gateway_id":"bad id","mqtt":{"uri":"tcp://h"}})").key, "gateway_id");
  EXPECT_EQ(config_error(R"({"gateway_id":")" + std::string(65, 'g') + R"(","mqtt":{"uri":"tcp://h"}})").key, "gateway_id");
}

TEST(Config, UnknownKeysAreErrorsNamingTheKey) {
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"stat_dir":"/x"})").key, "stat_dir");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","qso":1}})").key, "mqtt.qso");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"cloud":{"timeout":5}})").key, "cloud.timeout");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"ssl://h","tls":{"ca":"x"}}})").key, "mqtt.tls.ca");
}

TEST(Config, WrongTypesAndRanges) {
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","qos":"1"}})").key, "mqtt.qos");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","qos":3}})").key, "mqtt.qos");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","version":4}})").key, "mqtt.version");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","keepalive_s":1.5}})").key, "mqtt.keepalive_s");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"cloud":{"timeout_ms":0}})").key, "cloud.timeout_ms");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","command_topic":"a/#"}})").key, "mqtt.command_topic");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","tls":{}}})").key, "mqtt.tls");
  EXPECT_EQ(config_error("[1]").key, "");
  EXPECT_EQ(config_error("{").key, "");
}

TEST(Config, HugeNumbersAndNulsAreErrorsNotUndefinedBehaviour) {
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","qos":1e300}})").key, "mqtt.qos");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","keepalive_s":-1e300}})").key, "mqtt.keepalive_s");
  EXPECT_NE(config_error(R"({"gateway_id":"g\u0000x","mqtt":{"uri":"tcp://h"}})").message.find("NUL"), std::string::npos);
}

TEST(Config, MaxPacketBytesIsAnnouncedByDefaultAndCanBeTurnedOff) {
  auto def = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"}})");
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(def->mqtt.max_packet_bytes, 16384u);
  auto off = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","max_packet_bytes":0}})");
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(off->mqtt.max_packet_bytes, 0u);
  auto small = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","max_packet_bytes":9000}})");
  ASSERT_FALSE(small.has_value());
  EXPECT_EQ(small.error().key, "mqtt.max_packet_bytes");
}

TEST(Config, MqttVersion3SelectsMqtt311) {
  auto c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h","version":3}})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->mqtt.version, 3);
}

TEST(Config, EndpointOverride) {
  auto c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"cloud":{"endpoint":"https://localhost:8443"}})");
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->cloud.endpoint.has_value());
  EXPECT_EQ(c->cloud.endpoint->host, "localhost");
  EXPECT_EQ(c->cloud.endpoint->port, 8443);
  EXPECT_EQ(c->cloud.endpoint->host_header, "localhost:8443");
  EXPECT_EQ(config_error(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"cloud":{"endpoint":"http://x"}})").key, "cloud.endpoint");
}

TEST(Endpoint, Forms) {
  auto e = parse_endpoint("https://swas.cn-hangzhou.aliyuncs.com/");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host, "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->host_header, "swas.cn-hangzhou.aliyuncs.com");
  e = parse_endpoint("https://127.0.0.1:8080");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host_header, "127.0.0.1:8080");
  for (const char* bad : {"https://", "https://h/path", "https://h:0", "https://h:70000", "https://h:x",
                          "https://u@h", "ftp://h", "https://[::1]:443"})
    EXPECT_FALSE(parse_endpoint(bad).has_value()) << bad;
  EXPECT_EQ(region_endpoint("ap-southeast-1").host_header, "swas.ap-southeast-1.aliyuncs.com");
}

}  // namespace
}  // namespace swas

namespace swas {
namespace {

TEST(Config, ReliabilitySectionsHaveDefaultsAndRanges) {
  auto c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"}})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cloud.retry.max_attempts, 8);
  EXPECT_EQ(c->cloud.retry.deadline_ms, 120000u);
  EXPECT_EQ(c->commands.queue_depth, 64u);
  EXPECT_EQ(c->commands.max_in_flight, 4u);
  EXPECT_EQ(c->journal.durability, Durability::Full);
  EXPECT_EQ(c->journal.retention_s, 86400u);
  EXPECT_EQ(c->journal.max_records, 10000u);
  EXPECT_EQ(c->mqtt.session_expiry_s, 86400u);
  EXPECT_EQ(c->mqtt.status_topic, "swas/g/status");
  EXPECT_EQ(c->mqtt.status_interval_s, 0u) << "only when something changes: the retained status and the will say the rest";
  c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"cloud":{"retry":{"max_attempts":3,"deadline_ms":5000}},
                       "commands":{"queue_depth":8,"max_in_flight":2},"journal":{"durability":"process"}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->cloud.retry.max_attempts, 3);
  EXPECT_EQ(c->commands.max_in_flight, 2u);
  EXPECT_EQ(c->journal.durability, Durability::Process);
  auto e = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"journal":{"durability":"eventually"}})");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().key, "journal.durability");
  e = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"commands":{"max_in_flight":0}})");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().key, "commands.max_in_flight");
  e = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"cloud":{"retry":{"tries":3}}})");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().key, "cloud.retry.tries");
}

}  // namespace
}  // namespace swas

namespace swas {
namespace {

TEST(Config, GatewayIdOverrideComesBeforeTheDerivedDefaults) {
  auto c = parse_config(R"({"mqtt":{"uri":"tcp://h"}})", std::string("gw-from-env"));
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->gateway_id, "gw-from-env");
  EXPECT_EQ(c->mqtt.command_topic, "swas/gw-from-env/commands");
  EXPECT_EQ(c->mqtt.client_id, "swas-agent-gw-from-env");
  c = parse_config(R"({"gateway_id":"gw-file","mqtt":{"uri":"tcp://h"}})", std::string("gw-cli"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->gateway_id, "gw-cli");
  auto e = parse_config(R"({"gateway_id":"gw-file","mqtt":{"uri":"tcp://h"}})", std::string("bad id"));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().key, "gateway_id");
  e = parse_config(R"({"mqtt":{"uri":"tcp://h"}})");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("SWAS_GATEWAY_ID"), std::string::npos);
}

}  // namespace
}  // namespace swas

namespace swas {
namespace {

// follow.* (docs/contract.md, "Following a stop to Stopped").
TEST(Config, FollowHasDefaultsBoundsAndTypes) {
  const std::string base = R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"})";
  auto c = parse_config(base + "}");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->follow.enabled);
  EXPECT_EQ(c->follow.interval_ms, 10000u);
  EXPECT_EQ(c->follow.deadline_s, 600u);
  EXPECT_EQ(c->follow.max_instances, 1000u);
  c = parse_config(base + R"(,"follow":{}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->follow.interval_ms, 10000u);

  c = parse_config(base + R"(,"follow":{"enabled":false,"interval_ms":100,"deadline_s":1,"max_instances":1}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_FALSE(c->follow.enabled);
  EXPECT_EQ(c->follow.interval_ms, 100u);
  EXPECT_EQ(c->follow.deadline_s, 1u);
  EXPECT_EQ(c->follow.max_instances, 1u);
  c = parse_config(base + R"(,"follow":{"interval_ms":3600000,"deadline_s":86400,"max_instances":100000}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_TRUE(c->follow.enabled);
  EXPECT_EQ(c->follow.interval_ms, 3600000u);
  EXPECT_EQ(c->follow.deadline_s, 86400u);
  EXPECT_EQ(c->follow.max_instances, 100000u);

  for (const auto& [json, key] : std::vector<std::pair<std::string, std::string>>{
           {R"("follow":{"interval_ms":99})", "follow.interval_ms"},
           {R"("follow":{"interval_ms":3600001})", "follow.interval_ms"},
           {R"("follow":{"interval_ms":"10000"})", "follow.interval_ms"},
           {R"("follow":{"interval_ms":1000.5})", "follow.interval_ms"},
           {R"("follow":{"interval_ms":1e300})", "follow.interval_ms"},
           {R"("follow":{"deadline_s":0})", "follow.deadline_s"},
           {R"("follow":{"deadline_s":86401})", "follow.deadline_s"},
           {R"("follow":{"deadline_s":-1})", "follow.deadline_s"},
           {R"("follow":{"deadline_s":null})", "follow.deadline_s"},
           {R"("follow":{"max_instances":0})", "follow.max_instances"},
           {R"("follow":{"max_instances":100001})", "follow.max_instances"},
           {R"("follow":{"max_instances":true})", "follow.max_instances"},
           {R"("follow":{"enabled":"true"})", "follow.enabled"},
           {R"("follow":{"enabled":1})", "follow.enabled"},
           {R"("follow":{"enabled":null})", "follow.enabled"},
           {R"("follow":true)", "follow"},
           {R"("follow":[])", "follow"},
           {R"("follow":{"interval":1000})", "follow.interval"},
           {R"("follow":{"Enabled":true})", "follow.Enabled"},
           {R"("follow":{"enabled":true,"enabled":false})", "follow.enabled"},
           {R"("follow":{},"follow":{})", "follow"},
       }) {
    const ConfigError e = config_error(base + "," + json + "}");
    EXPECT_EQ(e.key, key) << json << ": " << e.message;
    EXPECT_FALSE(e.message.empty()) << json;
  }
  EXPECT_NE(config_error(base + R"(,"follow":{"interval_ms":50}})").message.find("100 to 3600000"),
            std::string::npos);
}

// cloud.quota and cloud.quota_max_wait_s (docs/contract.md, "The account's rate quota").
TEST(Config, CloudQuotaPerActionAndTheLongestWait) {
  const std::string base = R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"})";
  auto c = parse_config(base + "}");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->cloud.quota.empty());
  EXPECT_EQ(c->cloud.quota_max_wait_s, 3600u);
  c = parse_config(base + R"(,"cloud":{"quota":{}}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_TRUE(c->cloud.quota.empty());

  c = parse_config(base + R"(,"cloud":{"quota":{"StopInstance":"10/60s","StopInstances":"100/500ms",)"
                          R"("ListInstanceStatus":"100000/86400s"},"quota_max_wait_s":86400}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->cloud.quota, (std::map<std::string, std::string>{{"StopInstance", "10/60s"},
                                                                {"StopInstances", "100/500ms"},
                                                                {"ListInstanceStatus", "100000/86400s"}}));
  EXPECT_EQ(c->cloud.quota_max_wait_s, 86400u);
  c = parse_config(base + R"(,"cloud":{"quota":{"ListInstanceStatus":"1/1ms"},"quota_max_wait_s":1}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->cloud.quota.size(), 1u);
  EXPECT_EQ(c->cloud.quota_max_wait_s, 1u);

  for (const auto& [json, key] : std::vector<std::pair<std::string, std::string>>{
           {R"("quota":"10/60s")", "cloud.quota"},
           {R"("quota":["StopInstance","10/60s"])", "cloud.quota"},
           {R"("quota":null)", "cloud.quota"},
           {R"("quota":{"RebootInstance":"10/60s"})", "cloud.quota.RebootInstance"},
           {R"("quota":{"stopinstance":"10/60s"})", "cloud.quota.stopinstance"},
           {R"("quota":{"StopInstance":"10/60s","StopInstance":"5/60s"})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":"10/60"})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":"0/60s"})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstances":"100001/60s"})", "cloud.quota.StopInstances"},
           {R"("quota":{"ListInstanceStatus":"10/86401s"})", "cloud.quota.ListInstanceStatus"},
           {R"("quota":{"StopInstance":"10/1m"})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":" 10/60s"})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":"-10/60s"})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":""})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":10})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":null})", "cloud.quota.StopInstance"},
           {R"("quota":{"StopInstance":{"calls":10,"window_s":60}})", "cloud.quota.StopInstance"},
           {R"("quota_max_wait_s":0)", "cloud.quota_max_wait_s"},
           {R"("quota_max_wait_s":86401)", "cloud.quota_max_wait_s"},
           {R"("quota_max_wait_s":-1)", "cloud.quota_max_wait_s"},
           {R"("quota_max_wait_s":"3600")", "cloud.quota_max_wait_s"},
           {R"("quota_max_wait_s":60.5)", "cloud.quota_max_wait_s"},
           {R"("quota_max_wait_s":1e300)", "cloud.quota_max_wait_s"},
           {R"("quota_max_wait":60)", "cloud.quota_max_wait"},
       }) {
    const ConfigError e = config_error(base + R"(,"cloud":{)" + json + "}}");
    EXPECT_EQ(e.key, key) << json << ": " << e.message;
    EXPECT_FALSE(e.message.empty()) << json;
  }
  // The message says the form, with an example.
  EXPECT_NE(config_error(base + R"(,"cloud":{"quota":{"StopInstance":"10 per minute"}}})").message.find("\"10/60s\""),
            std::string::npos);
  // A NUL cannot cut a value short into a valid one.
  EXPECT_FALSE(parse_config(base + R"(,"cloud":{"quota":{"StopInstance":"10/60s\u0000junk"}}})").has_value());
}

}  // namespace
}  // namespace swas
