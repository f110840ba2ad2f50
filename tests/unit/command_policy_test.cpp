// Command policy: allowed regions/instances, the rate limit, and authenticated commands.
#include "command_policy.hpp"

#include <gtest/gtest.h>

#include "config.hpp"
#include "signer.hpp"
#include "time_format.hpp"

namespace swas {
namespace {

StopCommand cmd(const std::string& instance, const std::string& region) {
  return StopCommand{"c", "StopInstance", instance, region, "t", false, std::nullopt};
}

TEST(Policy, AllowedRegionsAndInstancesWithPrefixes) {
  PolicyConfig p;
  EXPECT_FALSE(policy_violation(p, cmd("i-1", "cn-hangzhou")).has_value());
  p.allowed_regions = {"cn-hangzhou", "cn-shanghai"};
  p.allowed_instances = {"ace0706b*", "i-exact"};
  EXPECT_FALSE(policy_violation(p, cmd("ace0706b2ac4", "cn-shanghai")).has_value());
  EXPECT_FALSE(policy_violation(p, cmd("i-exact", "cn-hangzhou")).has_value());
  auto why = policy_violation(p, cmd("i-exact-2", "cn-hangzhou"));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("allowed_instances"), std::string::npos);
  why = policy_violation(p, cmd("i-exact", "us-west-1"));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("allowed_regions"), std::string::npos);
}

TEST(Policy, TokenBucketAllowsTheBurstThenTheRate) {
  TokenBucket bucket(RateLimit{60, 3});  // one a second, three saved up
  std::int64_t t = 1000000;
  EXPECT_TRUE(bucket.try_take(t));
  EXPECT_TRUE(bucket.try_take(t));
  EXPECT_TRUE(bucket.try_take(t));
  EXPECT_FALSE(bucket.try_take(t));  // at the bound
  EXPECT_FALSE(bucket.try_take(t + 500));
  EXPECT_TRUE(bucket.try_take(t + 1000));
  EXPECT_FALSE(bucket.try_take(t + 1000));
  // A long pause refills only up to the burst.
  t += 600000;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(t)) << i;
  EXPECT_FALSE(bucket.try_take(t));
  TokenBucket unlimited(RateLimit{0, 1});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(unlimited.try_take(t));
}

// The worked example of docs/security.md, so the document and the code cannot drift apart.
TEST(Policy, CanonicalFormAndSignatureWorkedExample) {
  const SignedFields f{"c-20261126-0001", "StopInstance", "ace0706b2ac4454d984295a94213abcd", "cn-hangzhou",
                       "123e4567-e89b-12d3-a456-426655440000", "2026-11-26T10:00:00Z", ""};
  EXPECT_EQ(command_canonical_form("gw-001", f),
            "swas-command-v1\ngw-001\nc-20261126-0001\nStopInstance\nace0706b2ac4454d984295a94213abcd\n"
            "cn-hangzhou\n123e4567-e89b-12d3-a456-426655440000\n2026-11-26T10:00:00Z\n");
  // Computed independently: printf '<canonical>' | openssl dgst -sha256 -hmac '<key>'
  EXPECT_EQ(command_signature("an-example-command-key-32-bytes!", "gw-001", f),
            "88903a504b58c4c9001a29e8369a2d27e27edb5740934b548feb1b16273d85ef");
}

std::string signed_payload(const std::string& key, const std::string& issued_at, const std::string& instance = "i-1",
                           const std::string& gateway = "gw-001") {
  const SignedFields f{"c-1", "StopInstance", instance, "cn-hangzhou", "", issued_at, ""};
  return R"({"id":"c-1","action":"StopInstance","InstanceId":")" + instance +
         R"(","RegionId":"cn-hangzhou","issuedAt":")" + issued_at + R"(","signature":")" +
         command_signature(key, gateway, f) + "\"}";
}

TEST(Policy, AuthenticationAcceptsOnlyFreshCorrectlySignedCommands) {
  const std::string key = "0123456789abcdef-command-key";
  std::int64_t now = 0;
  ASSERT_TRUE(parse_rfc3339_utc_ms("2026-11-26T10:00:00Z", now));
  EXPECT_FALSE(authentication_failure(signed_payload(key, "2026-11-26T09:58:00Z"), key, "gw-001", now, 300));
  auto why = authentication_failure(signed_payload("another-key-0123456789", "2026-11-26T09:58:00Z"), key, "gw-001", now, 300);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("does not match"), std::string::npos);
  // Signed for another gateway: refused here.
  EXPECT_TRUE(authentication_failure(signed_payload(key, "2026-11-26T09:58:00Z", "i-1", "gw-002"), key, "gw-001", now, 300));
  // Altered after signing.
  std::string altered = signed_payload(key, "2026-11-26T09:58:00Z");
  altered.replace(altered.find("i-1"), 3, "i-2");
  EXPECT_TRUE(authentication_failure(altered, key, "gw-001", now, 300));
  why = authentication_failure(signed_payload(key, "2026-11-26T09:50:00Z"), key, "gw-001", now, 300);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("window"), std::string::npos);
  EXPECT_TRUE(authentication_failure(signed_payload(key, "2026-11-26T10:06:00Z"), key, "gw-001", now, 300));
  why = authentication_failure(R"({"id":"c-1","action":"StopInstance","InstanceId":"i","RegionId":"r"})", key, "gw-001", now, 300);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("no signature"), std::string::npos);
  EXPECT_TRUE(authentication_failure(R"({"id":"c-1","signature":"ab","issuedAt":"yesterday"})", key, "gw-001", now, 300));
}

TEST(Policy, ConfigSection) {
  auto c = parse_config(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"policy":{"allowed_regions":["cn-hangzhou"],
      "allowed_instances":["ace*","i-1"],"rate_limit":{"per_minute":30,"burst":5},"command_key_file":"/k","max_command_age_s":120}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->policy.allowed_regions.size(), 1u);
  EXPECT_EQ(c->policy.allowed_instances[0], "ace*");
  EXPECT_EQ(c->policy.rate_limit.per_minute, 30);
  EXPECT_EQ(c->policy.rate_limit.burst, 5u);
  EXPECT_EQ(c->policy.command_key_file, "/k");
  for (const char* bad : {R"("allowed_regions":["CN"])", R"("allowed_instances":["a*b"])", R"("allowed_instances":"i-1")",
                          R"("rate_limit":{"per_minute":0})", R"("rate_limit":{"burst":3})", R"("max_command_age_s":999999)",
                          R"("allow_regions":[])", R"("allowed_response_topics":["a/#/b"])",
                          R"("allowed_response_topics":["$SYS/#"])", R"("allowed_response_topics":"x/#")"}) {
    auto e = parse_config(std::string(R"({"gateway_id":"g","mqtt":{"uri":"tcp://h"},"policy":{)") + bad + "}}");
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_EQ(e.error().key.rfind("policy", 0), 0u) << bad << " -> " << e.error().key;
  }
}

TEST(Policy, AllowedResponseTopicsNameThisGateway) {
  auto c = parse_config(R"({"gateway_id":"gw-9","mqtt":{"uri":"tcp://h"},
      "policy":{"allowed_response_topics":["swas/{gateway_id}/replies/#","ops/+/{gateway_id}"]}})");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  ASSERT_EQ(c->policy.allowed_response_topics.size(), 2u);
  EXPECT_EQ(c->policy.allowed_response_topics[0], "swas/gw-9/replies/#");
  EXPECT_EQ(c->policy.allowed_response_topics[1], "ops/+/gw-9");
}

}  // namespace
}  // namespace swas

namespace swas {
namespace {

// An InstanceIds command signs every id and ForceStop (form v2): a signed list cannot be swapped,
// shortened, reordered or turned into a force stop under the same signature.
TEST(Policy, SignedInstanceIdsCoverEveryIdAndForceStop) {
  const std::string key = "an-example-command-key-32-bytes!";
  SignedFields f{"c-7", "StopInstance", "", "cn-hangzhou", "", "2026-11-26T10:00:00Z", ""};
  f.many = true;
  f.instance_ids = {"i-1", "i-2"};
  EXPECT_EQ(command_canonical_form("gw-001", f),
            "swas-command-v2\ngw-001\nc-7\nStopInstance\n2\ni-1\ni-2\nfalse\ncn-hangzhou\n\n2026-11-26T10:00:00Z\n");
  const std::string sig = command_signature(key, "gw-001", f);
  const std::int64_t now = 1795687200000;  // 2026-11-26T10:00:00Z
  auto payload = [&](const std::string& ids, const std::string& extra) {
    return R"({"id":"c-7","action":"StopInstance","RegionId":"cn-hangzhou","InstanceIds":)" + ids + extra +
           R"(,"issuedAt":"2026-11-26T10:00:00Z","signature":")" + sig + "\"}";
  };
  EXPECT_EQ(authentication_failure(payload(R"(["i-1","i-2"])", ""), key, "gw-001", now, 300), std::nullopt);
  for (const auto& forged : {payload(R"(["i-1","i-3"])", ""), payload(R"(["i-1"])", ""),
                             payload(R"(["i-2","i-1"])", ""), payload(R"(["i-1","i-2"])", R"(,"ForceStop":true)"),
                             std::string(R"({"id":"c-7","action":"StopInstance","RegionId":"cn-hangzhou","InstanceId":"i-1",)"
                                         R"("issuedAt":"2026-11-26T10:00:00Z","signature":")") + sig + "\"}"})
    EXPECT_NE(authentication_failure(forged, key, "gw-001", now, 300), std::nullopt) << forged;
}

}  // namespace
}  // namespace swas
