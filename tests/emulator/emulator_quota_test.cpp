// Quotas: the "N/<window>" syntax, the sliding window, Throttling.User and its lack of effect,
// per-action and per-AccessKey counting, the config keys, POST /__emulator/quotas and the state.
#include <string>
#include <vector>

#include "core_fixture.hpp"
#include "emulator_config.hpp"
#include "emulator_quotas.hpp"

namespace swas::emulator::test {
namespace {

// --- Syntax -------------------------------------------------------------------------------------

TEST(QuotaSyntax, ParsesCountSlashWindowInSecondsOrMilliseconds) {
  const auto ten_a_minute = parse_quota("10/60s");
  ASSERT_TRUE(ten_a_minute);
  EXPECT_EQ(ten_a_minute->limit, 10);
  EXPECT_EQ(ten_a_minute->window_ms, 60000);
  const auto fast = parse_quota("3/500ms");
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->limit, 3);
  EXPECT_EQ(fast->window_ms, 500);
  EXPECT_EQ(parse_quota("100000/86400s")->window_ms, 86400000);
  EXPECT_EQ(parse_quota("1/1ms")->limit, 1);
  EXPECT_EQ(parse_quota("007/060s")->limit, 7);
}

TEST(QuotaSyntax, RefusesEverythingElse) {
  for (const char* bad : {"", "10", "10/", "/60s", "10/60", "10/60m", "10/1min", "0/60s", "-1/60s",
                          "+1/60s", "10/0s", "10/0ms", "1.5/60s", "10/1.5s", "10 /60s", "10/ 60s",
                          "10/60s ", "10/60S", "100001/60s", "10/86401s", "10/86400001ms",
                          "10/60s/1s", "1e2/60s", "9999999999999/60s"})
    EXPECT_FALSE(parse_quota(bad)) << bad;
}

TEST(QuotaSyntax, FormatsCanonically) {
  EXPECT_EQ(format_quota({10, 60000}), "10/60s");
  EXPECT_EQ(format_quota({3, 500}), "3/500ms");
  EXPECT_EQ(format_quota({3, 1500}), "3/1500ms");
  EXPECT_EQ(format_quota(*parse_quota("2/60000ms")), "2/60s");
}

// --- The limiter alone --------------------------------------------------------------------------

TEST(QuotaLimiter, SlidingWindowAllowsNInAnyWindowSpan) {
  QuotaLimiter limiter;
  limiter.configure({{{"StopInstance", {2, 1000}}}, false});
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 0).allowed);
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 400).allowed);
  const auto refused = limiter.admit("StopInstance", "AK", 500);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 500);  // the call at 0 leaves the window at 1000
  EXPECT_EQ(limiter.admit("StopInstance", "AK", 999).retry_after_ms, 1);
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 1000).allowed);   // 0 has left
  const auto next = limiter.admit("StopInstance", "AK", 1000);       // 400 and 1000 count
  EXPECT_FALSE(next.allowed);
  EXPECT_EQ(next.retry_after_ms, 400);
  // A fixed window would allow 2 more at 2000 right after 2 at 1999; the sliding one does not.
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 1400).allowed);
  EXPECT_FALSE(limiter.admit("StopInstance", "AK", 1999).allowed);
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 2000).allowed);
  EXPECT_FALSE(limiter.admit("StopInstance", "AK", 2000).allowed);
  EXPECT_EQ(limiter.counts().at("StopInstance").at("AK").allowed, 5u);
  EXPECT_EQ(limiter.counts().at("StopInstance").at("AK").throttled, 5u);
}

TEST(QuotaLimiter, ThrottledCallsDoNotUseTheQuota) {
  QuotaLimiter limiter;
  limiter.configure({{{"StopInstance", {1, 1000}}}, false});
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 0).allowed);
  for (std::int64_t t = 1; t < 1000; t += 50)
    EXPECT_FALSE(limiter.admit("StopInstance", "AK", t).allowed) << t;
  EXPECT_TRUE(limiter.admit("StopInstance", "AK", 1000).allowed);
}

TEST(QuotaLimiter, UnlimitedActionsAreCountedAndConfigureForgetsTheWindows) {
  QuotaLimiter limiter;
  EXPECT_TRUE(limiter.admit("ListInstanceStatus", "AK", 0).allowed);
  limiter.configure({{{"ListInstanceStatus", {1, 60000}}}, true});
  EXPECT_TRUE(limiter.admit("ListInstanceStatus", "AK", 1).allowed);
  EXPECT_FALSE(limiter.admit("ListInstanceStatus", "AK", 2).allowed);
  limiter.configure(limiter.settings());  // the same quota again: a fresh window
  EXPECT_TRUE(limiter.admit("ListInstanceStatus", "AK", 3).allowed);
  EXPECT_EQ(limiter.counts().at("ListInstanceStatus").at("AK").allowed, 3u);  // counts are kept
  EXPECT_EQ(limiter.counts().at("ListInstanceStatus").at("AK").throttled, 1u);
}

// --- Config -------------------------------------------------------------------------------------

TEST(QuotaConfig, ParsesQuotasAndRetryAfter) {
  const auto config = parse_config(R"({
    "quotas": {"StopInstance": "10/60s", "StopInstances": "5/60s",
               "ListInstanceStatus": "100/500ms"},
    "quota_retry_after": true})");
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->quotas.quotas.size(), 3u);
  EXPECT_EQ(config->quotas.quotas.at("StopInstance"), (Quota{10, 60000}));
  EXPECT_EQ(config->quotas.quotas.at("StopInstances"), (Quota{5, 60000}));
  EXPECT_EQ(config->quotas.quotas.at("ListInstanceStatus"), (Quota{100, 500}));
  EXPECT_TRUE(config->quotas.retry_after);
  const auto defaults = parse_config("{}");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->quotas.quotas.empty());
  EXPECT_FALSE(defaults->quotas.retry_after);
}

TEST(QuotaConfig, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"quotas": {"StartInstance": "1/1s"}})", "quotas.StartInstance: unknown key"},
      {R"({"quotas": {"StopInstance": "10/60"}})", "quotas.StopInstance: must be \"N/<window>\""},
      {R"({"quotas": {"StopInstance": 10}})", "quotas.StopInstance: must be"},
      {R"({"quotas": {"ListInstanceStatus": "0/60s"}})", "quotas.ListInstanceStatus: must be"},
      {R"({"quotas": ["StopInstance"]})", "quotas: must be an object"},
      {R"({"quota_retry_after": "yes"})", "config.quota_retry_after: must be true or false"},
  };
  for (const auto& [text, expected] : cases) {
    const auto config = parse_config(text);
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().find(expected), std::string::npos) << config.error();
  }
  EXPECT_FALSE(parse_quota_settings(R"({"StopInstance": "1/1s"})"));  // not wrapped in "quotas"
  EXPECT_FALSE(parse_quota_settings("[]"));
  EXPECT_FALSE(parse_quota_settings("{"));
  const auto off = parse_quota_settings("{}");
  ASSERT_TRUE(off);
  EXPECT_TRUE(off->quotas.empty());
  EXPECT_FALSE(off->retry_after);
}

// --- Through the core ---------------------------------------------------------------------------

class QuotaTest : public CoreFixture {
 protected:
  void set_quotas(const std::string& body) {
    const EmulatorReply reply = admin("POST", "/__emulator/quotas", body);
    ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  }
  RequestSpec list() {
    RequestSpec s = spec();
    s.action = "ListInstanceStatus";
    s.query = {{"RegionId", kRegionId}};
    return s;
  }
  // The second configured key: an STS credential (its token sent and signed).
  RequestSpec as_sts(RequestSpec s) {
    s.access_key_id = "StsKeyId";
    s.access_key_secret = "StsKeySecret";
    s.security_token = "TestSecurityToken";
    return s;
  }
  // quota_calls[action][key].allowed / .throttled from GET /__emulator/state (-1: absent).
  double calls(const std::string& action, const std::string& key, const char* which) {
    const Json state(admin("GET", "/__emulator/state").response.body);
    const cJSON* by_action = cJSON_GetObjectItemCaseSensitive(state.get(), "quota_calls");
    const cJSON* by_key = cJSON_GetObjectItemCaseSensitive(by_action, action.c_str());
    const cJSON* counts = cJSON_GetObjectItemCaseSensitive(by_key, key.c_str());
    const cJSON* n = cJSON_GetObjectItemCaseSensitive(counts, which);
    return cJSON_IsNumber(n) ? n->valuedouble : -1;
  }
  static void expect_throttled(const EmulatorReply& reply) {
    EXPECT_EQ(reply.response.status, 400) << reply.response.body;
    const Json body(reply.response.body);
    EXPECT_EQ(body.str("Code"), "Throttling.User");
    EXPECT_EQ(body.str("Message"), "Request was denied due to user flow control.");
    EXPECT_EQ(body.str("HostId"), "swas.cn-hangzhou.aliyuncs.com");
    EXPECT_EQ(cJSON_GetArraySize(body.get()), 5);  // RequestId HostId Code Message Recommend
    const std::string* header_id = find_header(reply.response.headers, "x-acs-request-id");
    ASSERT_NE(header_id, nullptr);
    EXPECT_EQ(*header_id, body.str("RequestId"));
    EXPECT_FALSE(header_id->empty());
    EXPECT_EQ(reply.code, "Throttling.User");
  }
};

TEST_F(QuotaTest, OffByDefault) {
  for (int i = 0; i < 300; ++i) ASSERT_EQ(send(list()).response.status, 200) << i;
  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* quotas = cJSON_GetObjectItemCaseSensitive(state.get(), "quotas");
  ASSERT_TRUE(cJSON_IsObject(quotas));
  EXPECT_EQ(cJSON_GetArraySize(quotas), 0);
  EXPECT_TRUE(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(state.get(), "quota_retry_after")));
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "allowed"), 300);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "throttled"), 0);
}

TEST_F(QuotaTest, ExceededQuotaIsThrottlingUserWithNoEffect) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}})");
  ASSERT_EQ(admin("POST", "/__emulator/instances",
                  R"([{"InstanceId": "i-second", "RegionId": "cn-hangzhou"},
                      {"InstanceId": "i-third", "RegionId": "cn-hangzhou"}])")
                .response.status,
            200);
  ASSERT_EQ(send(spec()).response.status, 200);  // the one call of the window: kInstanceId stops
  RequestSpec other = spec("token-thr");
  other.query = stop_query("i-second", kRegionId, "token-thr");
  const EmulatorReply throttled = send(other);
  expect_throttled(throttled);
  EXPECT_EQ(find_header(throttled.response.headers, "x-acs-retry-after"), nullptr);  // off
  EXPECT_EQ(state_of("i-second"), "Running");
  EXPECT_EQ(stops_of("i-second"), 0);
  // The token was not remembered: after the window it may name another instance.
  now_ms_ += 60000;
  RequestSpec reuse = spec("token-thr");
  reuse.query = stop_query("i-third", kRegionId, "token-thr");
  const EmulatorReply stop = send(reuse);
  EXPECT_EQ(stop.response.status, 200) << stop.response.body;
  EXPECT_EQ(stops_of("i-third"), 1);
  EXPECT_EQ(stops_of("i-second"), 0);
}

TEST_F(QuotaTest, WindowRolloverAllowsAgainExactlyWhenTheOldestCallLeaves) {
  set_quotas(R"({"quotas": {"ListInstanceStatus": "2/60s"}, "quota_retry_after": true})");
  ASSERT_EQ(send(list()).response.status, 200);  // t = 0
  now_ms_ += 10000;
  ASSERT_EQ(send(list()).response.status, 200);  // t = 10 s
  now_ms_ += 10000;
  const EmulatorReply at20 = send(list());
  expect_throttled(at20);
  EXPECT_EQ(*find_header(at20.response.headers, "x-acs-retry-after"), "40000");
  now_ms_ += 39999;  // t = 59.999 s
  const EmulatorReply at59 = send(list());
  expect_throttled(at59);
  EXPECT_EQ(*find_header(at59.response.headers, "x-acs-retry-after"), "1");
  now_ms_ += 1;  // t = 60 s: the call at 0 has left the window
  EXPECT_EQ(send(list()).response.status, 200);
  expect_throttled(send(list()));  // 10 s and 60 s still count
  now_ms_ += 10000;  // t = 70 s: the call at 10 s has left
  EXPECT_EQ(send(list()).response.status, 200);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "allowed"), 4);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "throttled"), 3);
}

TEST_F(QuotaTest, QuotasArePerAccessKey) {
  set_quotas(R"({"quotas": {"ListInstanceStatus": "2/60s"}})");
  ASSERT_EQ(send(list()).response.status, 200);
  ASSERT_EQ(send(list()).response.status, 200);
  expect_throttled(send(list()));
  for (int i = 0; i < 2; ++i) EXPECT_EQ(send(as_sts(list())).response.status, 200) << i;
  expect_throttled(send(as_sts(list())));
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "allowed"), 2);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "throttled"), 1);
  EXPECT_EQ(calls("ListInstanceStatus", "StsKeyId", "allowed"), 2);
  EXPECT_EQ(calls("ListInstanceStatus", "StsKeyId", "throttled"), 1);
}

TEST_F(QuotaTest, QuotasArePerActionAndActionsWithoutOneAreUnlimited) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}})");
  ASSERT_EQ(send(spec()).response.status, 200);
  expect_throttled(send(spec()));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(send(list()).response.status, 200) << i;
  EXPECT_EQ(calls("StopInstance", kAccessKeyId, "allowed"), 1);
  EXPECT_EQ(calls("StopInstance", kAccessKeyId, "throttled"), 1);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "allowed"), 50);
}

TEST_F(QuotaTest, OnlyAuthenticatedWellFormedCallsCount) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}})");
  RequestSpec bad_signature = spec();
  bad_signature.access_key_secret = "wrong";
  RequestSpec unknown_key = spec();
  unknown_key.access_key_id = "NoSuchKey";
  RequestSpec missing = spec();
  missing.query = {{"RegionId", kRegionId}};
  RequestSpec bad_version = spec();
  bad_version.version = "2019-01-01";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(code_of(send(bad_signature)), "SignatureDoesNotMatch");
    bad_signature.nonce += "x";
    EXPECT_EQ(code_of(send(unknown_key)), "InvalidAccessKeyId.NotFound");
    unknown_key.nonce += "x";
    EXPECT_EQ(code_of(send(missing)), "MissingParameter");
    missing.nonce += "x";
    EXPECT_EQ(code_of(send(bad_version)), "InvalidVersion");
    bad_version.nonce += "x";
  }
  const RequestSpec once = spec();
  ASSERT_EQ(send(once).response.status, 200);  // the quota was untouched
  EXPECT_EQ(code_of(send(once)), "SignatureNonceUsed");  // a replay is refused before the quota
  bad_signature.nonce += "y";
  // Over quota, a bad signature is still refused as such.
  EXPECT_EQ(code_of(send(bad_signature)), "SignatureDoesNotMatch");
  expect_throttled(send(spec()));
  EXPECT_EQ(calls("StopInstance", kAccessKeyId, "allowed"), 1);
  EXPECT_EQ(calls("StopInstance", kAccessKeyId, "throttled"), 1);
  EXPECT_EQ(calls("StopInstance", "NoSuchKey", "allowed"), -1);
}

TEST_F(QuotaTest, FaultsComeFirstAndDoNotUseTheQuota) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}})");
  admin("POST", "/__emulator/faults", R"({"status": 503, "count": 2})");
  EXPECT_EQ(code_of(send(spec())), "ServiceUnavailable");
  EXPECT_EQ(code_of(send(spec())), "ServiceUnavailable");
  EXPECT_EQ(send(spec()).response.status, 200);
}

TEST_F(QuotaTest, AnIdempotentRetryIsACallToo) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}})");
  const EmulatorReply first = send(spec("token-r"));
  ASSERT_EQ(first.response.status, 200);
  expect_throttled(send(spec("token-r")));
  now_ms_ += 60000;
  const EmulatorReply again = send(spec("token-r"));
  EXPECT_EQ(again.response.body, first.response.body);  // the first answer, not the throttling
  EXPECT_EQ(stops_of(kInstanceId), 1);
}

TEST_F(QuotaTest, AdminEndpointSwitchesQuotasAndRestartsTheWindows) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(send(list()).response.status, 200);
  set_quotas(R"({"quotas": {"ListInstanceStatus": "2/60s"}})");  // earlier calls do not count
  ASSERT_EQ(send(list()).response.status, 200);
  ASSERT_EQ(send(list()).response.status, 200);
  expect_throttled(send(list()));
  set_quotas(R"({"quotas": {"ListInstanceStatus": "2/60s"}})");  // posting again: a fresh window
  EXPECT_EQ(send(list()).response.status, 200);
  set_quotas(R"({"quotas": {"ListInstanceStatus": "1/60s"}})");
  EXPECT_EQ(send(list()).response.status, 200);
  expect_throttled(send(list()));
  set_quotas("{}");  // off again
  for (int i = 0; i < 10; ++i) EXPECT_EQ(send(list()).response.status, 200);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "allowed"), 19);
  EXPECT_EQ(calls("ListInstanceStatus", kAccessKeyId, "throttled"), 2);
}

TEST_F(QuotaTest, AdminRefusesABadBodyAndKeepsTheQuotas) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}, "quota_retry_after": true})");
  for (const char* bad : {"{", "[]", R"({"StopInstance": "1/60s"})",
                          R"({"quotas": {"StopInstance": "1 per minute"}})",
                          R"({"quotas": {"RebootInstance": "1/60s"}})",
                          R"({"quota_retry_after": 1})"}) {
    const EmulatorReply reply = admin("POST", "/__emulator/quotas", bad);
    EXPECT_EQ(reply.response.status, 400) << bad;
    EXPECT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(Json(reply.response.body).get(), "ok"))) << bad;
  }
  EXPECT_EQ(admin("GET", "/__emulator/quotas").response.status, 404);
  ASSERT_EQ(send(spec()).response.status, 200);
  const EmulatorReply throttled = send(spec());
  expect_throttled(throttled);
  EXPECT_EQ(*find_header(throttled.response.headers, "x-acs-retry-after"), "60000");
}

TEST_F(QuotaTest, StateEchoesTheQuotasInTheConfigForm) {
  set_quotas(R"({"quotas": {"StopInstance": "10/60000ms", "ListInstanceStatus": "3/500ms"},
                 "quota_retry_after": true})");
  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* quotas = cJSON_GetObjectItemCaseSensitive(state.get(), "quotas");
  EXPECT_STREQ(cJSON_GetObjectItem(quotas, "StopInstance")->valuestring, "10/60s");
  EXPECT_STREQ(cJSON_GetObjectItem(quotas, "ListInstanceStatus")->valuestring, "3/500ms");
  EXPECT_EQ(cJSON_GetArraySize(quotas), 2);
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state.get(), "quota_retry_after")));
  // The echo is a valid body for POST /__emulator/quotas.
  cJSON* body = cJSON_CreateObject();
  cJSON_AddItemToObject(body, "quotas", cJSON_Duplicate(quotas, 1));
  cJSON_AddBoolToObject(body, "quota_retry_after", 1);
  set_quotas(print_and_delete(body));
}

TEST_F(QuotaTest, ThrottledCallsAreLoggedAndCountedAsRequests) {
  set_quotas(R"({"quotas": {"StopInstance": "1/60s"}})");
  send(spec());
  send(spec("token-log"));
  const Json state(admin("GET", "/__emulator/state").response.body);
  EXPECT_EQ(state.num("requests"), 2);
  const cJSON* log = cJSON_GetObjectItemCaseSensitive(state.get(), "log");
  ASSERT_EQ(cJSON_GetArraySize(log), 2);
  const cJSON* entry = cJSON_GetArrayItem(log, 1);
  EXPECT_EQ(cJSON_GetObjectItem(entry, "status")->valuedouble, 400);
  EXPECT_STREQ(cJSON_GetObjectItem(entry, "Code")->valuestring, "Throttling.User");
  EXPECT_STREQ(cJSON_GetObjectItem(entry, "ClientToken")->valuestring, "token-log");
}

class ConfiguredQuotaTest : public CoreFixture {
 protected:
  static EmulatorConfig config() {
    EmulatorConfig c = base_config();
    c.quotas.quotas["StopInstance"] = {1, 60000};
    c.quotas.retry_after = true;
    return c;
  }
  ConfiguredQuotaTest() : CoreFixture(config()) {}
};

TEST_F(ConfiguredQuotaTest, ConfigQuotasApplyFromTheStart) {
  ASSERT_EQ(send(spec()).response.status, 200);
  now_ms_ += 1000;
  const EmulatorReply throttled = send(spec());
  EXPECT_EQ(code_of(throttled), "Throttling.User");
  EXPECT_EQ(*find_header(throttled.response.headers, "x-acs-retry-after"), "59000");
}

}  // namespace
}  // namespace swas::emulator::test
