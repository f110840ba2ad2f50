// ListInstanceStatus: the signed request, the reading of hostile answers, and the lifecycle message
// in the contract's field order (docs/contract.md, "Following a stop to Stopped").
#include "status_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "limits.hpp"
#include "result_message.hpp"
#include "signer.hpp"

namespace swas {
namespace {

using namespace std::string_literals;

std::string unreadable(std::string_view body) {
  auto r = parse_instance_statuses(body);
  if (auto* bad = std::get_if<StatusListUnreadable>(&r)) return bad->reason;
  ADD_FAILURE() << "read: " << body;
  return "";
}

InstanceStatuses readable(std::string_view body) {
  auto r = parse_instance_statuses(body);
  if (auto* ok = std::get_if<InstanceStatuses>(&r)) return *ok;
  ADD_FAILURE() << std::get<StatusListUnreadable>(r).reason << ": " << body;
  return {};
}

std::string entries(int n, const std::string& status = "Stopping") {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += std::string(i ? "," : "") + R"({"InstanceId":"i-)" + std::to_string(i) + R"(","Status":")" + status + R"("})";
  return s;
}

TEST(InstanceStatuses, TheDocumentedAnswerIsRead) {
  const auto s = readable(R"({"TotalCount":2,"RequestId":"R","PageSize":100,"PageNumber":1,"InstanceStatuses":[)"
                          R"({"Status":"Stopping","InstanceId":"ace0706b2ac4454d984295a94213****"},)"
                          R"({"InstanceId":"i-2","Status":"Stopped","Extra":{"x":[1]}}]})");
  ASSERT_EQ(s.by_instance.size(), 2u);
  EXPECT_EQ(s.by_instance.at("ace0706b2ac4454d984295a94213****"), "Stopping");
  EXPECT_EQ(s.by_instance.at("i-2"), "Stopped");
  EXPECT_TRUE(readable(R"({"RequestId":"R","InstanceStatuses":[]})").by_instance.empty());
  // Exactly 100 entries (one full page) and 64-character statuses are fine.
  EXPECT_EQ(readable(R"({"InstanceStatuses":[)" + entries(100) + "]}").by_instance.size(), 100u);
  const std::string long_status(limits::kMaxInstanceStatusChars, 'S');
  EXPECT_EQ(readable(R"({"InstanceStatuses":[{"InstanceId":"i","Status":")" + long_status + R"("}]})").by_instance.at("i"),
            long_status);
  // Every printable ASCII character, escaped the JSON way where needed.
  EXPECT_EQ(readable(R"({"InstanceStatuses":[{"InstanceId":"i","Status":" ~\"\\\/"}]})").by_instance.at("i"),
            " ~\"\\/");
}

TEST(InstanceStatuses, HostileBodiesAreUnreadable) {
  EXPECT_NE(unreadable("").find("not a JSON object"), std::string::npos);
  EXPECT_NE(unreadable("<html>502</html>").find("not a JSON object"), std::string::npos);
  EXPECT_NE(unreadable("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(unreadable(R"("InstanceStatuses")").find("not a JSON object"), std::string::npos);
  EXPECT_NE(unreadable(R"({"RequestId":"R"})").find("no InstanceStatuses array"), std::string::npos);
  EXPECT_NE(unreadable(R"({"InstanceStatuses":{"InstanceStatus":[]}})").find("no InstanceStatuses array"),
            std::string::npos);
  EXPECT_NE(unreadable(R"({"instancestatuses":[]})").find("no InstanceStatuses array"), std::string::npos);
  EXPECT_NE(unreadable(R"({"InstanceStatuses":null})").find("no InstanceStatuses array"), std::string::npos);
  // More than the 100 asked for.
  EXPECT_NE(unreadable(R"({"InstanceStatuses":[)" + entries(101) + "]}").find("more entries than the 100"),
            std::string::npos);
  // Wrong types.
  for (const char* body : {R"({"InstanceStatuses":[1]})", R"({"InstanceStatuses":["i-1"]})",
                           R"({"InstanceStatuses":[null]})", R"({"InstanceStatuses":[[]]})",
                           R"({"InstanceStatuses":[{"InstanceId":1,"Status":"Stopped"}]})",
                           R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":1}]})",
                           R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":null}]})",
                           R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":["Stopped"]}]})",
                           R"({"InstanceStatuses":[{"InstanceId":"i-1"}]})",
                           R"({"InstanceStatuses":[{"Status":"Stopped"}]})",
                           R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":"Stopped"},{}]})"})
    EXPECT_NE(unreadable(body).find("lacks the strings InstanceId and Status"), std::string::npos) << body;
  // A Status that is empty, too long, or not printable ASCII is not believed.
  for (const std::string& status :
       {""s, std::string(limits::kMaxInstanceStatusChars + 1, 'S'), std::string(100000, 'S'), "Stop\\nped"s,
        "Stop\\tped"s, "Stop\\u007fped"s, "Stop\\u0085ped"s, "Stopp\xc3\xa9"s, "Stopp\\u00e9"s,
        "\\u001b[31mStopped"s})
    EXPECT_NE(unreadable(R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":")" + status + R"("}]})")
                  .find("a Status is empty, longer than 64"),
              std::string::npos)
        << status;
}

TEST(InstanceStatuses, ANulAnywhereMakesTheBodyUnreadable) {
  // cJSON ends strings at a NUL: "Stop\0ped" would be read as "Stop", and an InstanceId
  // "i-1\0x" as another instance's.
  for (const std::string& body :
       {R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":"Stopped\u0000Running"}]})"s,
        R"({"InstanceStatuses":[{"InstanceId":"i-1\u0000x","Status":"Stopped"}]})"s,
        "{\"InstanceStatuses\":[{\"InstanceId\":\"i-1\",\"Status\":\"Stopped\0\"}]}"s,
        "{\"InstanceStatuses\":[]}\0trailing"s, "\0"s})
    EXPECT_NE(unreadable(body).find("NUL"), std::string::npos) << body.size();
  // An escaped backslash before "u0000" is text.
  EXPECT_EQ(readable(R"({"InstanceStatuses":[{"InstanceId":"i\\u0000","Status":"Stopped"}]})").by_instance.count(
                "i\\u0000"),
            1u);
}

TEST(InstanceStatuses, NestingBeyondTheBoundIsUnreadableAndTheBoundItselfIsRead) {
  // The body, the list and an entry take 3 levels; "x" nests the rest.
  const auto body = [](std::size_t levels) {
    return R"({"InstanceStatuses":[{"InstanceId":"i","Status":"Stopped","x":)" + std::string(levels - 3, '[') +
           std::string(levels - 3, ']') + "}]}";
  };
  EXPECT_EQ(readable(body(limits::kMaxJsonDepth)).by_instance.at("i"), "Stopped");
  EXPECT_NE(unreadable(body(limits::kMaxJsonDepth + 1)).find("more than 8 levels deep"), std::string::npos);
  EXPECT_NE(unreadable(body(900)).find("levels deep"), std::string::npos);
  EXPECT_NE(unreadable(R"({"InstanceStatuses":)" + std::string(5000, '[') + "}").find("levels deep"),
            std::string::npos);
}

TEST(InstanceStatuses, ADuplicatedInstanceKeepsOneStatus) {
  const auto s = readable(R"({"InstanceStatuses":[{"InstanceId":"i-1","Status":"Stopping"},)"
                          R"({"InstanceId":"i-1","Status":"Stopped"}]})");
  EXPECT_EQ(s.by_instance.size(), 1u);
}

// --- The request -------------------------------------------------------------------------------

TEST(ListStatusRequest, IsSignedLikeAStopOverItsOwnQuery) {
  const Endpoint endpoint{"swas.cn-hangzhou.aliyuncs.com", 443, "swas.cn-hangzhou.aliyuncs.com"};
  const Credentials creds("AKID", "SECRET", "");
  const std::vector<std::string> ids{"ace0706b2ac4454d984295a94213****", "i-2 with space", "i-\"3\""};
  const HttpRequest req =
      build_list_status_request("cn-hangzhou", ids, endpoint, creds, "2023-11-14T22:13:20Z", "00112233");
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.body, "");
  const std::string ids_json = R"(["ace0706b2ac4454d984295a94213****","i-2 with space","i-\"3\""])";
  const std::vector<QueryParam> query{
      {"InstanceIds", ids_json}, {"PageNumber", "1"}, {"PageSize", "100"}, {"RegionId", "cn-hangzhou"}};
  EXPECT_EQ(req.target, "/?" + canonical_query_string(query));
  EXPECT_EQ(req.target,
            "/?InstanceIds=%5B%22ace0706b2ac4454d984295a94213%2A%2A%2A%2A%22%2C%22i-2%20with%20space%22%2C%22i-%5C%223%5C%22%22%5D"
            "&PageNumber=1&PageSize=100&RegionId=cn-hangzhou");
  EXPECT_EQ(*find_header(req.headers, "x-acs-action"), "ListInstanceStatus");
  EXPECT_EQ(*find_header(req.headers, "x-acs-version"), "2020-06-01");
  EXPECT_EQ(*find_header(req.headers, "x-acs-date"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(*find_header(req.headers, "x-acs-signature-nonce"), "00112233");
  EXPECT_EQ(*find_header(req.headers, "x-acs-content-sha256"), kEmptyPayloadSha256);
  EXPECT_EQ(*find_header(req.headers, "host"), "swas.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(find_header(req.headers, "x-acs-security-token"), nullptr);

  // The signature, recomputed from the request as sent: the canonical request names the action
  // and the query a verifier reads back from the target.
  std::vector<Header> signed_headers;
  for (const auto& h : req.headers)
    if (is_signed_header_name(h.name)) signed_headers.push_back(h);
  const CanonicalRequest cr = canonical_request("POST", "/", query, signed_headers, kEmptyPayloadSha256);
  EXPECT_EQ(cr.signed_headers, "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version");
  EXPECT_EQ(cr.text,
            "POST\n/\n"
            "InstanceIds=%5B%22ace0706b2ac4454d984295a94213%2A%2A%2A%2A%22%2C%22i-2%20with%20space%22%2C%22i-%5C%223%5C%22%22%5D"
            "&PageNumber=1&PageSize=100&RegionId=cn-hangzhou\n"
            "host:swas.cn-hangzhou.aliyuncs.com\nx-acs-action:ListInstanceStatus\n"
            "x-acs-content-sha256:" + std::string(kEmptyPayloadSha256) + "\nx-acs-date:2023-11-14T22:13:20Z\n"
            "x-acs-signature-nonce:00112233\nx-acs-version:2020-06-01\n\n"
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
                std::string(kEmptyPayloadSha256));
  const std::string expected =
      authorization_v3("AKID", cr.signed_headers, signature_v3("SECRET", string_to_sign(cr.text)));
  EXPECT_EQ(*find_header(req.headers, "Authorization"), expected);
  EXPECT_EQ(expected,
            sign_request_v3("POST", "/", query, signed_headers, kEmptyPayloadSha256, "AKID", "SECRET"));
  // A different secret or a changed id changes it.
  EXPECT_NE(*find_header(req.headers, "Authorization"),
            *find_header(build_list_status_request("cn-hangzhou", ids, endpoint, Credentials("AKID", "OTHER", ""),
                                                   "2023-11-14T22:13:20Z", "00112233")
                             .headers,
                         "Authorization"));
  EXPECT_NE(*find_header(req.headers, "Authorization"),
            *find_header(build_list_status_request("cn-hangzhou", {"i-9"}, endpoint, creds, "2023-11-14T22:13:20Z",
                                                   "00112233")
                             .headers,
                         "Authorization"));
}

TEST(ListStatusRequest, StsTokenIsSigned) {
  const Endpoint endpoint{"localhost", 8443, "localhost:8443"};
  const HttpRequest req = build_list_status_request("ap-southeast-1", {"i-1"}, endpoint,
                                                    Credentials("AKID", "SECRET", "STS"), "2023-11-14T22:13:20Z", "n");
  EXPECT_EQ(*find_header(req.headers, "x-acs-security-token"), "STS");
  EXPECT_EQ(*find_header(req.headers, "host"), "localhost:8443");
  EXPECT_NE(find_header(req.headers, "Authorization")->find("x-acs-security-token"), std::string::npos);
  EXPECT_EQ(req.target, "/?InstanceIds=%5B%22i-1%22%5D&PageNumber=1&PageSize=100&RegionId=ap-southeast-1");
}

// --- The lifecycle message ---------------------------------------------------------------------

FollowRecord contract_record(const std::string& id, const std::string& instance, const std::string& request_id) {
  return FollowRecord{id, instance, "cn-hangzhou", request_id, Route{"t", ""}, 1000, 601000, ""};
}

TEST(Lifecycle, ProgressAsTheContractShowsIt) {
  LifecycleReport r;
  r.status = "Stopping";
  r.elapsed_ms = 412;
  EXPECT_EQ(encode_lifecycle(contract_record("c-20261126-0001", "ace0706b2ac4454d984295a94213****",
                                             "20758A-585D-4A41-A9B2-28DA8F4F534F"),
                             r),
            R"({"type":"lifecycle","id":"c-20261126-0001","InstanceId":"ace0706b2ac4454d984295a94213****",)"
            R"("RegionId":"cn-hangzhou","RequestId":"20758A-585D-4A41-A9B2-28DA8F4F534F",)"
            R"("Status":"Stopping","final":false,"elapsedMs":412})");
}

TEST(Lifecycle, FinalMessagesAsTheContractShowsThem) {
  LifecycleReport stopped{std::string("Stopped"), FollowOutcome::Stopped, 31870, "ignored for Stopped", std::nullopt};
  EXPECT_EQ(encode_lifecycle(contract_record("c-20261126-0001", "ace0706b2ac4454d984295a94213****",
                                             "20758A-585D-4A41-A9B2-28DA8F4F534F"),
                             stopped),
            R"({"type":"lifecycle","id":"c-20261126-0001","InstanceId":"ace0706b2ac4454d984295a94213****",)"
            R"("RegionId":"cn-hangzhou","RequestId":"20758A-585D-4A41-A9B2-28DA8F4F534F",)"
            R"("Status":"Stopped","final":true,"outcome":"Stopped","elapsedMs":31870})");

  const std::string timed_out_message =
      "the instance was still Stopping 600 s after the stop (follow.deadline_s); no longer followed";
  LifecycleReport timed_out{std::string("Stopping"), FollowOutcome::TimedOut, 600412, timed_out_message, std::nullopt};
  EXPECT_EQ(encode_lifecycle(contract_record("c-20261126-0002", "i-2", "9F1C"), timed_out),
            R"({"type":"lifecycle","id":"c-20261126-0002","InstanceId":"i-2","RegionId":"cn-hangzhou",)"
            R"("RequestId":"9F1C","Status":"Stopping","final":true,"outcome":"TimedOut","elapsedMs":600412,)"
            R"("Message":")" + timed_out_message + R"("})");

  CloudError forbidden;
  forbidden.http_status = 403;
  forbidden.code = "Forbidden.RAM";
  forbidden.message = "User not authorized to operate on the specified resource.";
  forbidden.request_id = "5E1B";
  LifecycleReport failed{std::nullopt, FollowOutcome::PollFailed, 1290, "ListInstanceStatus failed: Forbidden.RAM",
                         PollError{forbidden, AgentError::CloudUnreachable, "", std::nullopt}};
  EXPECT_EQ(encode_lifecycle(contract_record("c-20261126-0003", "i-3", "77AB"), failed),
            R"({"type":"lifecycle","id":"c-20261126-0003","InstanceId":"i-3","RegionId":"cn-hangzhou",)"
            R"("RequestId":"77AB","Status":null,"final":true,"outcome":"PollFailed","elapsedMs":1290,)"
            R"("Message":"ListInstanceStatus failed: Forbidden.RAM",)"
            R"("error":{"source":"cloud","HttpStatus":403,"Code":"Forbidden.RAM",)"
            R"("Message":"User not authorized to operate on the specified resource.","RequestId":"5E1B"}})");
}

TEST(Lifecycle, AgentErrorsAndTheOtherOutcomes) {
  LifecycleReport unreadable{std::string("Stopping"), FollowOutcome::PollFailed, 5,
                             "m", PollError{std::nullopt, AgentError::InvalidCloudResponse, "the cloud answered HTTP 200 but x", 200}};
  EXPECT_EQ(encode_lifecycle(contract_record("c", "i", "R"), unreadable),
            R"({"type":"lifecycle","id":"c","InstanceId":"i","RegionId":"cn-hangzhou","RequestId":"R",)"
            R"("Status":"Stopping","final":true,"outcome":"PollFailed","elapsedMs":5,"Message":"m",)"
            R"("error":{"source":"agent","Code":"InvalidCloudResponse","Message":"the cloud answered HTTP 200 but x",)"
            R"("HttpStatus":200}})");
  LifecycleReport missing{std::nullopt, FollowOutcome::PollFailed, 0, "m",
                          PollError{std::nullopt, AgentError::CredentialsMissing, "none", std::nullopt}};
  EXPECT_NE(encode_lifecycle(contract_record("c", "i", "R"), missing)
                .find(R"("error":{"source":"agent","Code":"CredentialsMissing","Message":"none"}})"),
            std::string::npos);
  for (const auto outcome : {FollowOutcome::UnexpectedStatus, FollowOutcome::NotFound, FollowOutcome::NotFollowed}) {
    LifecycleReport r{std::nullopt, outcome, 7, "why", std::nullopt};
    EXPECT_EQ(encode_lifecycle(contract_record("c", "i", "R"), r),
              R"({"type":"lifecycle","id":"c","InstanceId":"i","RegionId":"cn-hangzhou","RequestId":"R",)"
              R"("Status":null,"final":true,"outcome":")" + std::string(to_string(outcome)) +
                  R"(","elapsedMs":7,"Message":"why"})");
  }
  // A negative elapsed time (a clock set back) is written as 0; long ones stay whole numbers.
  LifecycleReport back{std::string("Stopping"), std::nullopt, -5, "", std::nullopt};
  EXPECT_NE(encode_lifecycle(contract_record("c", "i", "R"), back).find(R"("elapsedMs":0})"), std::string::npos);
  LifecycleReport days{std::string("Stopping"), std::nullopt, 86400000LL * 40, "", std::nullopt};
  EXPECT_NE(encode_lifecycle(contract_record("c", "i", "R"), days).find(R"("elapsedMs":3456000000})"),
            std::string::npos);
}

TEST(Lifecycle, StringsAreEscaped) {
  FollowRecord rec = contract_record("c\"1", "i-\\\n\x01", "R\"");
  LifecycleReport r{std::string("St\"op"), FollowOutcome::NotFollowed, 1, "a \"quoted\"\nline", std::nullopt};
  EXPECT_EQ(encode_lifecycle(rec, r),
            R"({"type":"lifecycle","id":"c\"1","InstanceId":"i-\\\n\u0001","RegionId":"cn-hangzhou",)"
            R"("RequestId":"R\"","Status":"St\"op","final":true,"outcome":"NotFollowed","elapsedMs":1,)"
            R"("Message":"a \"quoted\"\nline"})");
}

}  // namespace
}  // namespace swas
