// Config loading, time conversions and the bounded replay caches.
#include <gtest/gtest.h>

#include "emulator_config.hpp"
#include "emulator_time.hpp"
#include "replay_caches.hpp"

namespace swas::emulator {
namespace {

TEST(EmulatorConfig, ParsesTheDocumentedForm) {
  const auto config = parse_config(R"({
    "credentials": [{"access_key_id": "AK1", "access_key_secret": "S1"},
                    {"access_key_id": "AK2", "access_key_secret": "S2", "security_token": "T"}],
    "instances": [{"InstanceId": "i-1", "RegionId": "cn-hangzhou", "state": "Running"},
                  {"InstanceId": "i-2", "RegionId": "cn-beijing"}],
    "stop_delay_ms": 50,
    "faults": {"status": 503, "count": 2, "delay_ms": 10, "drop_count": 1}
  })");
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->credentials.size(), 2u);
  EXPECT_EQ(config->credentials[1].security_token, "T");
  EXPECT_EQ(config->instances[1].state, "Running");
  EXPECT_EQ(config->stop_delay_ms, 50);
  EXPECT_EQ(config->faults.status, 503);
  EXPECT_EQ(config->faults.count, 2);
  EXPECT_EQ(config->faults.drop_count, 1);
}

TEST(EmulatorConfig, DefaultsWhenKeysAreAbsent) {
  const auto config = parse_config("{}");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->stop_delay_ms, 2000);
  EXPECT_EQ(config->faults.count, 0);
}

TEST(EmulatorConfig, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"instance": []})", "config.instance: unknown key"},
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "state": "On"}]})",
       "instances[0].state"},
      {R"({"credentials": [{"access_key_id": "a"}]})", "credentials[0].access_key_secret"},
      {R"({"stop_delay_ms": -1})", "config.stop_delay_ms"},
      {R"({"faults": {"count": 1.5}})", "faults.count"},
      {"[1,", "not valid JSON"},
  };
  for (const auto& [text, expected] : cases) {
    const auto config = parse_config(text);
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().find(expected), std::string::npos) << config.error();
  }
  EXPECT_FALSE(load_config_file("/nonexistent/config.json"));
}

TEST(EmulatorConfig, InstanceStoppingTimeAndOutcome) {
  const auto config = parse_config(R"({"instances": [
    {"InstanceId": "i-1", "RegionId": "r"},
    {"InstanceId": "i-2", "RegionId": "r", "stopping_ms": 0, "stop_outcome": "StuckStopping"},
    {"InstanceId": "i-3", "RegionId": "r", "stopping_ms": 750, "stop_outcome": "BackToRunning"},
    {"InstanceId": "i-4", "RegionId": "r", "stop_outcome": "Stopped"}]})");
  ASSERT_TRUE(config) << config.error();
  const auto& instances = config->instances;
  EXPECT_FALSE(instances[0].stopping_ms.has_value());  // absent: stop_delay_ms applies
  EXPECT_EQ(instances[0].stop_outcome, StopOutcome::Stopped);
  EXPECT_EQ(instances[1].stopping_ms, 0);
  EXPECT_EQ(instances[1].stop_outcome, StopOutcome::StuckStopping);
  EXPECT_EQ(instances[2].stopping_ms, 750);
  EXPECT_EQ(instances[2].stop_outcome, StopOutcome::BackToRunning);
  EXPECT_EQ(instances[3].stop_outcome, StopOutcome::Stopped);

  const auto admin = parse_instances(
      R"([{"InstanceId": "i", "RegionId": "r", "stopping_ms": 5, "stop_outcome": "BackToRunning"}])");
  ASSERT_TRUE(admin) << admin.error();
  EXPECT_EQ((*admin)[0].stopping_ms, 5);
  EXPECT_EQ((*admin)[0].stop_outcome, StopOutcome::BackToRunning);
}

TEST(EmulatorConfig, BadStoppingTimeOrOutcomeNamesTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "stopping_ms": -1}]})",
       "instances[0].stopping_ms: must be a whole number >= 0"},
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "stopping_ms": "5"}]})",
       "instances[0].stopping_ms"},
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "stopping_ms": 2.5}]})",
       "instances[0].stopping_ms"},
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "stop_outcome": "Stuck"}]})",
       "instances[0].stop_outcome: must be one of Stopped, StuckStopping, BackToRunning"},
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "stop_outcome": 1}]})",
       "instances[0].stop_outcome: must be a string"},
      {R"({"instances": [{"InstanceId": "i", "RegionId": "r", "stopping": 1}]})",
       "instances[0].stopping: unknown key"},
  };
  for (const auto& [text, expected] : cases) {
    const auto config = parse_config(text);
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().find(expected), std::string::npos) << config.error();
  }
  EXPECT_FALSE(parse_instances(R"([{"InstanceId": "i", "RegionId": "r", "stop_outcome": ""}])"));
}

TEST(EmulatorTime, ParsesAndFormatsUtc) {
  std::int64_t s = 0;
  ASSERT_TRUE(parse_acs_date("2023-10-26T10:22:32Z", s));
  EXPECT_EQ(s, 1698315752);
  EXPECT_EQ(format_acs_date(s), "2023-10-26T10:22:32Z");
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(parse_acs_date("2024-02-29T23:59:59Z", s));
  EXPECT_EQ(format_http_date(s), "Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(format_acs_date(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(floor_seconds(-1), -1);
  EXPECT_EQ(floor_seconds(1999), 1);
  for (const char* bad : {"2023-10-26T10:22:32", "2023-10-26 10:22:32Z", "2023-02-29T00:00:00Z",
                          "2023-13-01T00:00:00Z", "2023-10-26T24:00:00Z", "2023-1a-26T10:22:32Z",
                          "2023-10-26T10:22:32.000Z", ""})
    EXPECT_FALSE(parse_acs_date(bad, s)) << bad;
}

TEST(ReplayCaches, NonceCacheForgetsByAgeAndBound) {
  NonceCache nonces(3, 1000);
  nonces.remember("a", 0);
  EXPECT_TRUE(nonces.seen("a", 999));
  EXPECT_FALSE(nonces.seen("a", 1000));
  for (const char* n : {"b", "c", "d", "e"}) nonces.remember(n, 2000);
  EXPECT_EQ(nonces.size(), 3u);
  EXPECT_FALSE(nonces.seen("b", 2000));  // the oldest went first
  EXPECT_TRUE(nonces.seen("e", 2000));
}

TEST(ReplayCaches, ClientTokenCacheIsBounded) {
  ClientTokenCache tokens(2);
  tokens.remember("t1", {{"StopInstance", "r", {"i"}, false}, 200, "{}", "ID1", ""});
  tokens.remember("t2", {{"StopInstance", "r", {"i"}, false}, 200, "{}", "ID2", ""});
  tokens.remember("t3", {{"StopInstance", "r", {"i"}, false}, 200, "{}", "ID3", ""});
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens.find("t1"), nullptr);
  ASSERT_NE(tokens.find("t3"), nullptr);
  EXPECT_EQ(tokens.find("t3")->request_id, "ID3");
}

}  // namespace
}  // namespace swas::emulator
