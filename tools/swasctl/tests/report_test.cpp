// What swasctl prints for results and status messages, and the command it builds.
#include <gtest/gtest.h>

#include "result_report.hpp"
#include "status_report.hpp"
#include "command_policy.hpp"
#include "time_format.hpp"

namespace swasctl {
namespace {

const char* const kOk =
    R"({"type":"result","id":"c-1","action":"StopInstance","InstanceId":"i-1","RegionId":"cn-hangzhou",)"
    R"("ClientToken":"tok","ok":true,"RequestId":"20758A-585D"})";
const char* const kCloudError =
    R"({"type":"result","id":"c-2","action":"StopInstance","InstanceId":"i-2","RegionId":"cn-hangzhou",)"
    R"("ClientToken":"tok","ok":false,"error":{"source":"cloud","HttpStatus":403,"Code":"IncorrectInstanceStatus",)"
    R"("Message":"The state of the current instance does not support this operation.","RequestId":"R-2"}})";
const char* const kAgentError =
    R"({"type":"result","id":"c-3","ok":false,"error":{"source":"agent","Code":"MissingParameter",)"
    R"("Message":"InstanceId is required"}})";

TEST(Command, HasTheContractFields) {
  StopOptions o;
  o.instances = {"i-\"1"};
  o.region = "cn-hangzhou";
  EXPECT_EQ(build_stop_command(o, "c-1"),
            R"({"type":"command","id":"c-1","action":"StopInstance","InstanceId":"i-\"1","RegionId":"cn-hangzhou"})");
  o.client_token = "tok";
  EXPECT_NE(build_stop_command(o, "c-1").find(R"("ClientToken":"tok")"), std::string::npos);
}

TEST(Command, SeveralInstancesAreInstanceIdsInTheOrderGiven) {
  StopOptions o;
  o.instances = {"i-3", "i-1", "i-\"2"};
  o.region = "cn-hangzhou";
  o.client_token = "tok";
  EXPECT_EQ(build_stop_command(o, "c-1"),
            R"({"type":"command","id":"c-1","action":"StopInstance","InstanceIds":["i-3","i-1","i-\"2"],)"
            R"("RegionId":"cn-hangzhou","ClientToken":"tok"})");
}

TEST(Command, ForceIsForceStopWithInstanceIdsEvenForOne) {
  StopOptions o;
  o.instances = {"i-1"};
  o.region = "cn-hangzhou";
  o.force = true;
  EXPECT_EQ(build_stop_command(o, "c-1"),
            R"({"type":"command","id":"c-1","action":"StopInstance","InstanceIds":["i-1"],)"
            R"("RegionId":"cn-hangzhou","ForceStop":true})");
}

TEST(Command, OverTheGatewaysPayloadLimitIsNotSent) {
  StopOptions o;
  o.region = "cn-hangzhou";
  for (int i = 0; i < 100; ++i) o.instances.push_back("ace0706b2ac4454d984295a94213" + std::to_string(1000 + i));
  const std::string typical = build_stop_command(o, std::string(128, 'c'));  // 100 ids of 32 characters
  EXPECT_LT(typical.size(), 4608u) << typical.size();                       // about 4 KiB (the contract)
  EXPECT_FALSE(command_size_problem(typical).has_value());
  for (auto& id : o.instances) id = std::string(80, 'x') + id;
  const std::string large = build_stop_command(o, "c-1");
  const auto problem = command_size_problem(large);
  ASSERT_TRUE(problem.has_value()) << large.size();
  EXPECT_NE(problem->find(std::to_string(large.size()) + " bytes, over the gateway's limit of 8192"),
            std::string::npos)
      << *problem;
  EXPECT_NE(problem->find("fewer --instance"), std::string::npos) << *problem;
  EXPECT_FALSE(command_size_problem(std::string(8192, 'x')).has_value());
  EXPECT_TRUE(command_size_problem(std::string(8193, 'x')).has_value());
}

TEST(Result, MatchesByTypeAndId) {
  EXPECT_TRUE(is_result_for(kOk, "c-1"));
  EXPECT_FALSE(is_result_for(kOk, "c-2"));
  EXPECT_FALSE(is_result_for(R"({"type":"command","id":"c-1"})", "c-1"));
  EXPECT_FALSE(is_result_for(R"({"type":"result","id":null})", "c-1"));
  EXPECT_FALSE(is_result_for("not json", "c-1"));
}

TEST(Result, SuccessPrintsTheRequestId) {
  const ResultReport r = describe_result(kOk);
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.text.rfind("OK  RequestId 20758A-585D\n", 0), 0u) << r.text;
  EXPECT_NE(r.text.find("InstanceId i-1, RegionId cn-hangzhou, ClientToken tok"), std::string::npos);
  EXPECT_EQ(exit_code_for(kOk), kExitOk);
}

TEST(Result, SeveralInstancesAreListed) {
  const char* const result =
      R"({"type":"result","id":"c-7","action":"StopInstance","InstanceIds":["i-1","i-2","i-3"],)"
      R"("RegionId":"cn-hangzhou","ClientToken":"tok","ForceStop":false,"ok":true,"RequestId":"R-7"})";
  const ResultReport r = describe_result(result);
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.text,
            "OK  RequestId R-7\n"
            "    command c-7, 3 instances, RegionId cn-hangzhou, ClientToken tok, ForceStop false\n"
            "    InstanceIds i-1 i-2 i-3\n");
  const char* const refused =
      R"({"type":"result","id":"c-8","action":"StopInstance","InstanceIds":["i-1","i-\u001b[2J"],)"
      R"("RegionId":"cn-hangzhou","ClientToken":"tok","ForceStop":true,"ok":false,"error":{"source":"cloud",)"
      R"("HttpStatus":403,"Code":"IncorrectInstanceStatus","Message":"no","RequestId":"R-8"}})";
  const ResultReport f = describe_result(refused);
  EXPECT_EQ(f.exit_code, kExitFailed);
  EXPECT_NE(f.text.find("    command c-8, 2 instances, RegionId cn-hangzhou, ClientToken tok, ForceStop true\n"
                        "    InstanceIds i-1 i- [2J\n"),
            std::string::npos)
      << f.text;  // a control character from the payload is not printed
}

TEST(Result, CloudErrorKeepsTheCloudsWordsAndAddsAHint) {
  const ResultReport r = describe_result(kCloudError);
  EXPECT_EQ(r.exit_code, kExitFailed);
  EXPECT_EQ(r.text.rfind("FAILED  cloud 403 IncorrectInstanceStatus: The state of the current instance does not "
                         "support this operation. (RequestId R-2)\nhint: the instance is not Running",
                         0),
            0u)
      << r.text;
  EXPECT_EQ(exit_code_for(kCloudError), kExitFailed);
}

TEST(Result, AgentError) {
  const ResultReport r = describe_result(kAgentError);
  EXPECT_EQ(r.exit_code, kExitFailed);
  EXPECT_EQ(r.text.rfind("FAILED  agent MissingParameter: InstanceId is required\nhint: ", 0), 0u) << r.text;
}

TEST(Result, Unreadable) {
  const ResultReport r = describe_result("<html>");
  EXPECT_EQ(r.exit_code, kExitFailed);
  EXPECT_NE(r.text.find("unreadable result"), std::string::npos);
}

TEST(Hints, KnownCodesAndTheirSubcodes) {
  for (const char* code : {"IncorrectInstanceStatus", "InvalidInstanceId.NotFound", "CloudUnreachable", "Busy",
                           "InvalidParameter", "MissingParameter", "Forbidden", "Throttled", "CredentialsMissing",
                           "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidTimeStamp.Expired",
                           "Forbidden.RAM", "Throttling.User", "RateLimited"})
    EXPECT_TRUE(hint_for(code).has_value()) << code;
  EXPECT_FALSE(hint_for("SomethingNew").has_value());
  EXPECT_FALSE(hint_for("Busybody").has_value());
  EXPECT_FALSE(hint_for("").has_value());
}

TEST(Status, ParsesTheAgentsMessage) {
  const auto s = parse_status(
      "swas/gw-001/status",
      R"({"type":"status","state":"online","gateway_id":"gw-001","version":"0.1.0","started_at":"2026-11-26T03:00:00Z",)"
      R"("counters":{"received":5,"succeeded":3,"failed":1,"rejected":1,"in_flight":0},"last_error":"boom"})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->gateway, "gw-001");
  EXPECT_EQ(s->state, "online");
  EXPECT_EQ(s->version, "0.1.0");
  EXPECT_EQ(s->started_at, "2026-11-26T03:00:00Z");
  EXPECT_EQ(s->counters.at("received"), 5);
  EXPECT_EQ(s->counters.at("in_flight"), 0);
  EXPECT_EQ(s->last_error, "boom");
}

TEST(Status, OfflineWillAndOtherMessages) {
  const auto s = parse_status("swas/gw-2/status", R"({"type":"status","state":"offline","version":"0.1.0"})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->gateway, "gw-2");  // from the topic
  EXPECT_TRUE(s->counters.empty());
  EXPECT_FALSE(parse_status("swas/gw-2/status", ""));
  EXPECT_FALSE(parse_status("swas/gw-2/status", R"({"type":"result"})"));
  EXPECT_FALSE(parse_status("swas/gw-2/status", "[1]"));
}

TEST(Status, TableAndJson) {
  std::vector<GatewayStatus> list;
  list.push_back(*parse_status("swas/a/status",
                               R"({"type":"status","state":"online","gateway_id":"gw-a","version":"0.1.0",)"
                               R"("counters":{"received":12,"succeeded":10,"failed":1,"rejected":1,"in_flight":0},)"
                               R"("last_error":"line\none"})"));
  list.push_back(*parse_status("swas/gw-b/status", R"({"type":"status","state":"offline"})"));
  const std::string table = format_status_table(list);
  EXPECT_EQ(table,
            "GATEWAY  STATE    VERSION  RECEIVED  SUCCEEDED  FAILED  REJECTED  IN_FLIGHT  LAST ERROR\n"
            "gw-a     online   0.1.0    12        10         1       1         0          line one\n"
            "gw-b     offline  -        -         -          -       -         -          -\n");
  EXPECT_EQ(format_status_json(list), "[" + list[0].raw + "," + list[1].raw + "]\n");
}

}  // namespace
}  // namespace swasctl

namespace swasctl {
namespace {

TEST(BuildStopCommand, SignsWhatTheAgentVerifies) {
  StopOptions o;
  o.gateway = "gw-001";
  o.instances = {"ace0706b2ac4454d984295a94213abcd"};
  o.region = "cn-hangzhou";
  o.command_key = "a-command-key-of-32-bytes-length";
  o.issued_at = "2026-11-26T10:00:00Z";
  const std::string payload = build_stop_command(o, "c-1");
  std::int64_t now = 0;
  ASSERT_TRUE(swas::parse_rfc3339_utc_ms("2026-11-26T10:01:00Z", now));
  EXPECT_FALSE(swas::authentication_failure(payload, o.command_key, "gw-001", now, 300).has_value()) << payload;
  EXPECT_TRUE(swas::authentication_failure(payload, o.command_key, "gw-002", now, 300).has_value());
  o.command_key.clear();
  EXPECT_EQ(build_stop_command(o, "c-1").find("signature"), std::string::npos);
}

}  // namespace
}  // namespace swasctl
