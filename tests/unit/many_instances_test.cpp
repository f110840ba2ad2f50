// Many instances in one command (docs/contract.md, issue 13): every InstanceIds / ForceStop rule,
// the result, progress and lifecycle encodings of the contract's examples byte for byte, the
// policy for every id, the signed StopInstances request, and signed commands.
#include <gtest/gtest.h>

#include "command.hpp"
#include "command_policy.hpp"
#include "credentials.hpp"
#include "limits.hpp"
#include "result_message.hpp"
#include "signer.hpp"
#include "stop_request.hpp"

namespace swas {
namespace {

const char* kGw = "gw-001";

CommandRejection rejected(const std::string& payload) {
  auto parsed = parse_command(payload, kGw);
  EXPECT_TRUE(std::holds_alternative<CommandRejection>(parsed)) << payload;
  if (auto* r = std::get_if<CommandRejection>(&parsed)) return *r;
  return {std::nullopt, AgentError::Busy, "not rejected"};
}

StopCommand accepted(const std::string& payload) {
  auto parsed = parse_command(payload, kGw);
  EXPECT_TRUE(std::holds_alternative<StopCommand>(parsed))
      << payload << " -> " << (std::holds_alternative<CommandRejection>(parsed)
                                   ? std::get<CommandRejection>(parsed).message
                                   : std::string());
  if (auto* c = std::get_if<StopCommand>(&parsed)) return *c;
  return {};
}

// {"id":"c-1","action":"StopInstance","RegionId":"cn-hangzhou", <rest>}
std::string command(const std::string& rest) {
  return R"({"id":"c-1","action":"StopInstance","RegionId":"cn-hangzhou",)" + rest + "}";
}

// A JSON array of n distinct ids "i-0" .. "i-<n-1>".
std::string ids_array(std::size_t n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? ",\"i-" : "\"i-") + std::to_string(i) + "\"";
  return out + "]";
}

const char* kA = "ace0706b2ac4454d984295a94213abcd";
const char* kB = "ace0706b2ac4454d984295a94213ef01";

// --- Parsing -------------------------------------------------------------------------------------

TEST(ManyInstances, TheContractExampleIsAccepted) {
  const auto c = accepted(R"({"id": "c-20261203-0007", "action": "StopInstance", "RegionId": "cn-hangzhou",
 "InstanceIds": ["ace0706b2ac4454d984295a94213abcd", "ace0706b2ac4454d984295a94213ef01"],
 "ForceStop": false})");
  EXPECT_TRUE(c.many());
  EXPECT_EQ(c.instance_ids, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(c.instance_id, "");
  EXPECT_FALSE(c.force_stop);
  EXPECT_EQ(c.action, "StopInstance");
  EXPECT_EQ(c.api_action(), "StopInstances");
  EXPECT_EQ(c.instances(), (std::vector<std::string>{kA, kB}));
  // The ClientToken is derived exactly as for InstanceId.
  EXPECT_TRUE(c.client_token_derived);
  EXPECT_EQ(c.client_token, derive_client_token(kGw, "c-20261203-0007"));
  const auto one = accepted(R"({"id":"c-20261203-0007","action":"StopInstance","RegionId":"cn-hangzhou","InstanceId":"x"})");
  EXPECT_EQ(one.client_token, c.client_token);
}

TEST(ManyInstances, ForceStopDefaultsToFalseAndTheSendersTokenIsKept) {
  auto c = accepted(command(R"("InstanceIds":["i-1"],"ClientToken":"tok-9")"));
  EXPECT_FALSE(c.force_stop);
  EXPECT_EQ(c.client_token, "tok-9");
  EXPECT_FALSE(c.client_token_derived);
  EXPECT_EQ(c.instance_ids, std::vector<std::string>{"i-1"});
  c = accepted(command(R"("InstanceIds":["i-1","i-2"],"ForceStop":true)"));
  EXPECT_TRUE(c.force_stop);
  EXPECT_EQ(c.api_action(), "StopInstances");
}

TEST(ManyInstances, AnInstanceIdCommandIsUnchanged) {
  const auto c = accepted(command(R"("InstanceId":"i-1")"));
  EXPECT_FALSE(c.many());
  EXPECT_TRUE(c.instance_ids.empty());
  EXPECT_FALSE(c.force_stop);
  EXPECT_EQ(c.api_action(), "StopInstance");
  EXPECT_EQ(c.instances(), std::vector<std::string>{"i-1"});
}

TEST(ManyInstances, InstanceIdsMustBeAnArrayOfStrings) {
  for (const char* ids : {R"("i-1")", "{}", R"({"0":"i-1"})", "[1]", R"(["i-1",2])", R"(["i-1",null])",
                          R"([["i-1"]])", R"([{"InstanceId":"i-1"}])", "[true]", "null", "true", "7"}) {
    const auto r = rejected(command(std::string(R"("InstanceIds":)") + ids));
    EXPECT_EQ(r.code, AgentError::InvalidCommand) << ids;
    EXPECT_EQ(r.id, "c-1") << ids;
    EXPECT_EQ(r.message, "InstanceIds must be an array of strings") << ids;
  }
}

TEST(ManyInstances, ForceStopMustBeABoolean) {
  for (const char* force : {R"("true")", "1", "0", "null", "[]", "{}", R"("false")"}) {
    const auto r = rejected(command(std::string(R"("InstanceIds":["i-1"],"ForceStop":)") + force));
    EXPECT_EQ(r.code, AgentError::InvalidCommand) << force;
    EXPECT_EQ(r.message, "ForceStop must be true or false") << force;
  }
}

TEST(ManyInstances, BothOrNeither) {
  auto r = rejected(command(R"("InstanceId":"i-1","InstanceIds":["i-2"])"));
  EXPECT_EQ(r.code, AgentError::InvalidParameter);
  EXPECT_EQ(r.message, "give InstanceId or InstanceIds, not both");
  EXPECT_EQ(r.id, "c-1");
  // Even when they name the same instance.
  EXPECT_EQ(rejected(command(R"("InstanceId":"i-1","InstanceIds":["i-1"])")).code, AgentError::InvalidParameter);
  r = rejected(command(R"("ClientToken":"t")"));
  EXPECT_EQ(r.code, AgentError::MissingParameter);
  EXPECT_EQ(r.message, "InstanceId is required");
  // ForceStop alone does not name an instance.
  r = rejected(command(R"("ForceStop":true)"));
  EXPECT_EQ(r.code, AgentError::MissingParameter);
  EXPECT_EQ(r.message, "InstanceId is required");
}

TEST(ManyInstances, OneToAHundredIds) {
  EXPECT_EQ(limits::kMaxInstanceIdsPerCommand, 100u);
  accepted(command(R"("InstanceIds":)" + ids_array(1)));
  const auto c = accepted(command(R"("InstanceIds":)" + ids_array(100)));
  ASSERT_EQ(c.instance_ids.size(), 100u);
  EXPECT_EQ(c.instance_ids.front(), "i-0");
  EXPECT_EQ(c.instance_ids.back(), "i-99");  // in the order given
  auto r = rejected(command(R"("InstanceIds":)" + ids_array(101)));
  EXPECT_EQ(r.code, AgentError::InvalidParameter);
  EXPECT_EQ(r.message, "InstanceIds must list 1-100 instances (it lists 101)");
  r = rejected(command(R"("InstanceIds":[])"));
  EXPECT_EQ(r.code, AgentError::InvalidParameter);
  EXPECT_EQ(r.message, "InstanceIds must list 1-100 instances (it lists 0)");
}

TEST(ManyInstances, AHundredTypicalIdsFitThePayloadLimit) {
  // "A command of 100 typical (32-character) ids is about 4 KiB, well within the 8 KiB payload limit."
  std::string ids = "[";
  for (int i = 0; i < 100; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "ace0706b2ac4454d984295a942%06d", i);
    ids += (i ? ",\"" : "\"") + std::string(id) + "\"";
  }
  ids += "]";
  const std::string payload = command(R"("InstanceIds":)" + ids + R"(,"ForceStop":true,"ClientToken":")" +
                                      std::string(64, 't') + "\"");
  EXPECT_LT(payload.size(), 4 * 1024 + 512);
  EXPECT_EQ(accepted(payload).instance_ids.size(), 100u);
}

TEST(ManyInstances, AnIdBreakingTheInstanceIdRulesIsNamedByItsPosition) {
  const std::string long_ok(limits::kMaxInstanceIdChars, 'a');
  accepted(command(R"("InstanceIds":["i-1",")" + long_ok + R"("])"));
  accepted(command(R"("InstanceIds":["\u4e2d-1"])"));
  const std::string too_long(limits::kMaxInstanceIdChars + 1, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(["i-1",""])", "InstanceIds[1]"},
      {R"(["", "i-1"])", "InstanceIds[0]"},
      {R"(["i-0","i-1","i-\n2"])", "InstanceIds[2]"},
      {R"(["i-0","i\t1"])", "InstanceIds[1]"},
      {R"(["i-0","i-1","i-2","i\u007f3"])", "InstanceIds[3]"},
      {R"(["i-0","i\u009b1"])", "InstanceIds[1]"},
      {"[\"i-0\",\"\xff\xfe\"]", "InstanceIds[1]"},
      {R"(["i-0",")" + too_long + R"("])", "InstanceIds[1]"},
  };
  for (const auto& [ids, where] : cases) {
    const auto r = rejected(command(R"("InstanceIds":)" + ids));
    EXPECT_EQ(r.code, AgentError::InvalidParameter) << ids;
    EXPECT_EQ(r.message, where + " must be 1-256 bytes of UTF-8 text without control characters") << ids;
  }
  // A NUL inside an id is refused like anywhere else (never cut short).
  EXPECT_EQ(rejected(command(R"("InstanceIds":["i-1\u0000","i-2"])")).code, AgentError::InvalidCommand);
}

TEST(ManyInstances, TheSameIdTwiceIsNamed) {
  auto r = rejected(command(R"("InstanceIds":["i-1","i-2","i-1"])"));
  EXPECT_EQ(r.code, AgentError::InvalidParameter);
  EXPECT_EQ(r.message, "InstanceIds lists i-1 twice");
  // Ids differing only in case are different instances.
  EXPECT_EQ(accepted(command(R"("InstanceIds":["i-a","i-A"])")).instance_ids.size(), 2u);
  // A duplicate key is refused before (the JSON object, not the array).
  r = rejected(command(R"("InstanceIds":["i-1"],"InstanceIds":["i-2"])"));
  EXPECT_EQ(r.code, AgentError::InvalidCommand);
}

TEST(ManyInstances, ForceStopWithInstanceIdIsRefused) {
  for (const char* force : {"true", "false"}) {
    const auto r = rejected(command(std::string(R"("InstanceId":"i-1","ForceStop":)") + force));
    EXPECT_EQ(r.code, AgentError::InvalidParameter) << force;
    EXPECT_NE(r.message.find("InstanceIds"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("ForceStop"), std::string::npos) << r.message;
  }
}

// "Checked in the order of "Commands" above, at the place of InstanceId": the wrong types of every
// field (step 7) before missing fields (step 8) before the InstanceId(s) rules (step 9) before the
// later fields' rules (steps 10-12).
TEST(ManyInstances, RulesAreCheckedAtThePlaceOfInstanceId) {
  // Step 7: a wrong type anywhere comes before an InstanceIds value rule.
  auto r = rejected(command(R"("InstanceIds":["i-1","i-1"],"ClientToken":7)"));
  EXPECT_EQ(r.code, AgentError::InvalidCommand) << r.message;
  EXPECT_EQ(r.message, "ClientToken must be a string");
  r = rejected(R"({"id":"c-1","action":"StopInstance","RegionId":5,"InstanceIds":[]})");
  EXPECT_EQ(r.code, AgentError::InvalidCommand) << r.message;
  EXPECT_EQ(r.message, "RegionId must be a string");
  r = rejected(command(R"("InstanceId":"i-1","ForceStop":true,"ClientToken":["t"])"));
  EXPECT_EQ(r.code, AgentError::InvalidCommand) << r.message;
  // InstanceIds' own type comes at InstanceId's place: before RegionId's.
  r = rejected(R"({"id":"c-1","action":"StopInstance","RegionId":5,"InstanceIds":"i-1"})");
  EXPECT_EQ(r.message, "InstanceIds must be an array of strings");
  // Step 8: a missing RegionId comes before an InstanceIds value rule.
  for (const char* ids : {"[]", R"(["i-1","i-1"])", R"([""])"}) {
    r = rejected(std::string(R"({"id":"c-1","action":"StopInstance","InstanceIds":)") + ids + "}");
    EXPECT_EQ(r.code, AgentError::MissingParameter) << ids << ": " << r.message;
    EXPECT_EQ(r.message, "RegionId is required") << ids;
  }
  // Step 9 before steps 10-12: InstanceIds' rules come before RegionId's characters, the
  // ClientToken's and expiresAt's rules.
  r = rejected(R"({"id":"c-1","action":"StopInstance","RegionId":"CN","InstanceIds":["i-1","i-1"]})");
  EXPECT_EQ(r.message, "InstanceIds lists i-1 twice");
  r = rejected(command(R"("InstanceIds":[],"ClientToken":"caf\u00e9","expiresAt":"soon")"));
  EXPECT_EQ(r.message, "InstanceIds must list 1-100 instances (it lists 0)");
}

// --- Results, progress and lifecycle messages ----------------------------------------------------

StopCommand example_command() {
  return accepted(R"({"id": "c-20261203-0007", "action": "StopInstance", "RegionId": "cn-hangzhou",
 "InstanceIds": ["ace0706b2ac4454d984295a94213abcd", "ace0706b2ac4454d984295a94213ef01"],
 "ForceStop": false, "ClientToken": "123e4567-e89b-12d3-a456-426655440000"})");
}

TEST(ManyInstancesResult, SuccessIsTheContractsExample) {
  EXPECT_EQ(encode_success(example_command(), "20758A-585D-4A41-A9B2-28DA8F4F534F"),
            R"({"type":"result","id":"c-20261203-0007","action":"StopInstance",)"
            R"("InstanceIds":["ace0706b2ac4454d984295a94213abcd","ace0706b2ac4454d984295a94213ef01"],)"
            R"("RegionId":"cn-hangzhou","ClientToken":"123e4567-e89b-12d3-a456-426655440000","ForceStop":false,)"
            R"("ok":true,"RequestId":"20758A-585D-4A41-A9B2-28DA8F4F534F"})");
  StopCommand forced = example_command();
  forced.force_stop = true;
  EXPECT_NE(encode_success(forced, "R").find(R"("ClientToken":"123e4567-e89b-12d3-a456-426655440000","ForceStop":true,"ok":true)"),
            std::string::npos);
}

TEST(ManyInstancesResult, ErrorsHaveTheSameFieldsAndTheErrorObjectOfOneInstance) {
  const CloudError e{403, "IncorrectInstancesStatus", "The status of some instances does not support this operation.",
                     "5E1B-REQ", "", ""};
  EXPECT_EQ(encode_cloud_error(example_command(), e),
            R"({"type":"result","id":"c-20261203-0007","action":"StopInstance",)"
            R"("InstanceIds":["ace0706b2ac4454d984295a94213abcd","ace0706b2ac4454d984295a94213ef01"],)"
            R"("RegionId":"cn-hangzhou","ClientToken":"123e4567-e89b-12d3-a456-426655440000","ForceStop":false,)"
            R"("ok":false,"error":{"source":"cloud","HttpStatus":403,"Code":"IncorrectInstancesStatus",)"
            R"("Message":"The status of some instances does not support this operation.","RequestId":"5E1B-REQ"}})");
  EXPECT_EQ(encode_agent_error(example_command(), AgentError::RateLimited, "waited 3600 s"),
            R"({"type":"result","id":"c-20261203-0007","action":"StopInstance",)"
            R"("InstanceIds":["ace0706b2ac4454d984295a94213abcd","ace0706b2ac4454d984295a94213ef01"],)"
            R"("RegionId":"cn-hangzhou","ClientToken":"123e4567-e89b-12d3-a456-426655440000","ForceStop":false,)"
            R"("ok":false,"error":{"source":"agent","Code":"RateLimited","Message":"waited 3600 s"}})");
  EXPECT_EQ(to_string(AgentError::RateLimited), "RateLimited");
}

TEST(ManyInstancesResult, AnInstanceIdResultIsUnchanged) {
  const StopCommand one{"c-1", "StopInstance", "i-1", "cn-hangzhou", "tok", false, std::nullopt};
  EXPECT_EQ(encode_success(one, "R"),
            R"({"type":"result","id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou",)"
            R"("ClientToken":"tok","ok":true,"RequestId":"R"})");
}

TEST(ManyInstancesResult, ProgressIsTheContractsExample) {
  const StopCommand cmd{"c-20261203-0009", "StopInstance", "i-1", "cn-hangzhou", "tok", false, std::nullopt};
  EXPECT_EQ(encode_rate_limited_progress(cmd, 24000,
                                         "waiting for the cloud's rate limit of StopInstance (cloud.quota 10/60s); "
                                         "the stop is sent in about 24 s"),
            R"({"type":"progress","id":"c-20261203-0009","stage":"RateLimited","action":"StopInstance",)"
            R"("waitMs":24000,"Message":"waiting for the cloud's rate limit of StopInstance (cloud.quota 10/60s); )"
            R"(the stop is sent in about 24 s"})");
  // An unknown wait (a throttling hold) is null; an InstanceIds command waits for StopInstances.
  StopCommand many = example_command();
  EXPECT_EQ(encode_rate_limited_progress(many, std::nullopt, "m"),
            R"({"type":"progress","id":"c-20261203-0007","stage":"RateLimited","action":"StopInstances",)"
            R"("waitMs":null,"Message":"m"})");
}

TEST(ManyInstancesResult, ALifecycleMessageOfOneOfManyNamesItsInstanceAndTheCommand) {
  const FollowRecord f{"c-20261203-0007", kB, "cn-hangzhou", "REQ-7", Route{"reply", "corr"}, 1000, 601000, "", true};
  EXPECT_EQ(f.key(), std::string("c-20261203-0007\x1f") + kB);
  LifecycleReport report;
  report.status = "Stopped";
  report.outcome = FollowOutcome::Stopped;
  report.elapsed_ms = 31870;
  EXPECT_EQ(encode_lifecycle(f, report),
            R"({"type":"lifecycle","id":"c-20261203-0007","InstanceId":"ace0706b2ac4454d984295a94213ef01",)"
            R"("RegionId":"cn-hangzhou","RequestId":"REQ-7","Status":"Stopped","final":true,"outcome":"Stopped",)"
            R"("elapsedMs":31870})");
  // An InstanceId command's follow keeps the command id as its key.
  FollowRecord one = f;
  one.many = false;
  EXPECT_EQ(one.key(), "c-20261203-0007");
  EXPECT_EQ(lifecycle_ack_key(f.key()), std::string("\x01") + "c-20261203-0007\x1f" + kB);
  EXPECT_EQ(id_of_lifecycle_ack_key(lifecycle_ack_key(f.key())), f.key());
}

// --- Policy --------------------------------------------------------------------------------------

TEST(ManyInstancesPolicy, EveryIdMustBeAllowedAndTheFirstRefusedIsNamed) {
  PolicyConfig p;
  p.allowed_instances = {"ace0706b*", "i-exact"};
  StopCommand c = accepted(command(R"("InstanceIds":["ace0706b-1","i-exact","ace0706b-2"])"));
  EXPECT_FALSE(policy_violation(p, c).has_value());
  c = accepted(command(R"("InstanceIds":["ace0706b-1","i-other","ace0706b-2","i-third"])"));
  auto why = policy_violation(p, c);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "instance i-other is not in this gateway's policy.allowed_instances");
  // The last one alone refused refuses the command too.
  c = accepted(command(R"("InstanceIds":["ace0706b-1","i-exact","i-exact-2"])"));
  why = policy_violation(p, c);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("i-exact-2"), std::string::npos);
  // Regions still apply.
  p.allowed_regions = {"cn-shanghai"};
  c = accepted(command(R"("InstanceIds":["ace0706b-1"])"));
  why = policy_violation(p, c);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("allowed_regions"), std::string::npos);
}

// A signed command's InstanceIds and ForceStop are what it was signed with: changed after
// signing, the command is not authentic.
TEST(ManyInstancesPolicy, ASignedCommandsInstanceIdsCannotBeChanged) {
  const std::string key = "an-example-command-key-32-bytes!";
  const SignedFields f{"c-7", "StopInstance", "", "cn-hangzhou", "tok-7", "2026-11-26T10:00:00Z", ""};
  const std::string sig = command_signature(key, kGw, f);
  const std::int64_t now = 1795687200000;  // 2026-11-26T10:00:00Z
  auto signed_command = [&](const std::string& ids, const std::string& force) {
    return R"({"id":"c-7","action":"StopInstance","RegionId":"cn-hangzhou","ClientToken":"tok-7",)"
           R"("issuedAt":"2026-11-26T10:00:00Z","signature":")" +
           sig + R"(","InstanceIds":)" + ids + force + "}";
  };
  // Whatever InstanceIds and ForceStop the sender meant, a relay must not be able to swap them.
  const std::string swapped = signed_command(R"(["i-prod-1","i-prod-2"])", "");
  const std::string forced = signed_command(R"(["i-1"])", R"(,"ForceStop":true)");
  EXPECT_TRUE(authentication_failure(swapped, key, kGw, now, 300).has_value())
      << "a signature made for no instance list accepts any list";
  EXPECT_TRUE(authentication_failure(forced, key, kGw, now, 300).has_value())
      << "a signature made without ForceStop accepts ForceStop";
}

// --- The StopInstances request -------------------------------------------------------------------

const Endpoint kEndpoint{"swas.cn-hangzhou.aliyuncs.com", 443, "swas.cn-hangzhou.aliyuncs.com"};
const Credentials kCredentials{"YourAccessKeyId", "YourAccessKeySecret", ""};
const char* kDate = "2023-10-26T10:22:32Z";
const char* kNonce = "3156853299f313e23d1673dc12e1703d";

StopCommand vector_command(bool force) {
  StopCommand c{"c-1", "StopInstance", "", "cn-hangzhou", "123e4567-e89b-12d3-a456-426655440000", false,
                std::nullopt, {kA, kB}, force};
  return c;
}

// Signatures computed independently (Python's hashlib/hmac over the canonical request of the
// published V3 rules, the same script reproduces unit.Signer.DerivedStopInstanceVector).
TEST(StopInstancesRequest, DerivedVectorWithForceStop) {
  const HttpRequest r = build_stop_request(vector_command(true), kEndpoint, kCredentials, kDate, kNonce);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target,
            "/?ClientToken=123e4567-e89b-12d3-a456-426655440000&ForceStop=true&InstanceIds=%5B%22"
            "ace0706b2ac4454d984295a94213abcd%22%2C%22ace0706b2ac4454d984295a94213ef01%22%5D&RegionId=cn-hangzhou");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(*find_header(r.headers, "x-acs-action"), "StopInstances");
  EXPECT_EQ(*find_header(r.headers, "x-acs-version"), "2020-06-01");
  EXPECT_EQ(*find_header(r.headers, "host"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(*find_header(r.headers, "Authorization"),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
            "x-acs-date;x-acs-signature-nonce;x-acs-version,"
            "Signature=de709e04d127ef51d2f0aeac99bd09bdb06360ede8511ee27fb2eb7a25c036ac");
}

TEST(StopInstancesRequest, DerivedVectorWithoutForceStopSendsNoForceStop) {
  const HttpRequest r = build_stop_request(vector_command(false), kEndpoint, kCredentials, kDate, kNonce);
  EXPECT_EQ(r.target.find("ForceStop"), std::string::npos) << r.target;
  EXPECT_EQ(r.target,
            "/?ClientToken=123e4567-e89b-12d3-a456-426655440000&InstanceIds=%5B%22"
            "ace0706b2ac4454d984295a94213abcd%22%2C%22ace0706b2ac4454d984295a94213ef01%22%5D&RegionId=cn-hangzhou");
  EXPECT_EQ(*find_header(r.headers, "Authorization"),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
            "x-acs-date;x-acs-signature-nonce;x-acs-version,"
            "Signature=becac19aca047e1c00bf26facb427cd054e3720a8fca99cb85cf2bab0a04f4fc");
}

TEST(StopInstancesRequest, SignedOverItsOwnHeadersWithTheSecurityToken) {
  const Credentials sts{"AKID", "SECRET", "STS-TOKEN"};
  StopCommand c = vector_command(true);
  c.instance_ids = {"i-\"quoted\"", "i-\xe4\xb8\xad", "i-&=+ *~"};  // JSON escaping and percent-encoding
  const HttpRequest r = build_stop_request(c, kEndpoint, sts, kDate, kNonce);
  std::vector<Header> signed_headers;
  for (const auto& h : r.headers)
    if (is_signed_header_name(h.name)) signed_headers.push_back(h);
  EXPECT_EQ(*find_header(r.headers, "x-acs-security-token"), "STS-TOKEN");
  const std::string ids_json = R"(["i-\"quoted\"","i-)" "\xe4\xb8\xad" R"(","i-&=+ *~"])";
  EXPECT_EQ(json_string_array(c.instance_ids), ids_json);
  const auto expected = sign_request_v3("POST", "/",
                                        {{"RegionId", "cn-hangzhou"},
                                         {"InstanceIds", ids_json},
                                         {"ForceStop", "true"},
                                         {"ClientToken", "123e4567-e89b-12d3-a456-426655440000"}},
                                        signed_headers, kEmptyPayloadSha256, "AKID", "SECRET");
  EXPECT_EQ(*find_header(r.headers, "Authorization"), expected);
  // The target carries the same query, decodable to the same JSON.
  const auto at = r.target.find("InstanceIds=");
  ASSERT_NE(at, std::string::npos);
  std::string value;
  ASSERT_TRUE(percent_decode(r.target.substr(at + 12, r.target.find('&', at) - at - 12), value));
  EXPECT_EQ(value, ids_json);
}

TEST(StopInstancesRequest, AnInstanceIdCommandStillSendsStopInstance) {
  const StopCommand one{"c-1", "StopInstance", kA, "cn-hangzhou", "123e4567-e89b-12d3-a456-426655440000", false,
                        std::nullopt};
  const HttpRequest r = build_stop_request(one, kEndpoint, kCredentials, kDate, kNonce);
  EXPECT_EQ(*find_header(r.headers, "x-acs-action"), "StopInstance");
  EXPECT_EQ(r.target, std::string("/?ClientToken=123e4567-e89b-12d3-a456-426655440000&InstanceId=") + kA +
                          "&RegionId=cn-hangzhou");
  // The reference vector of unit.Signer.DerivedStopInstanceVector.
  EXPECT_NE(find_header(r.headers, "Authorization")->find("b5d7c53c1e00a28d11f6657c64e47f037fc978fbac4b386310ee37b62280f0c9"),
            std::string::npos);
}

}  // namespace
}  // namespace swas
