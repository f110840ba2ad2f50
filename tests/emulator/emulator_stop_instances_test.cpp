// StopInstances: parameters, the all-or-nothing rule, ClientToken idempotency (as given, with the
// action, region and ForceStop), the stopping lifecycle through ListInstanceStatus, its own quota.
#include <string>
#include <vector>

#include "core_fixture.hpp"

namespace swas::emulator::test {
namespace {

constexpr const char* kAbsent = "<absent>";

class StopInstancesTest : public CoreFixture {
 protected:
  void SetUp() override {
    add(R"([{"InstanceId": "i-a", "RegionId": "cn-hangzhou", "stopping_ms": 500},
            {"InstanceId": "i-b", "RegionId": "cn-hangzhou", "stopping_ms": 1500},
            {"InstanceId": "i-c", "RegionId": "cn-hangzhou"},
            {"InstanceId": "i-stopped", "RegionId": "cn-hangzhou", "state": "Stopped"},
            {"InstanceId": "i-bj", "RegionId": "cn-beijing"}])");
  }
  void add(const std::string& json) {
    const EmulatorReply reply = admin("POST", "/__emulator/instances", json);
    ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  }
  // A signed StopInstances; parameters equal to kAbsent are left out.
  RequestSpec stops(const std::string& instance_ids, const std::string& client_token = kAbsent,
                    const std::string& force_stop = kAbsent,
                    const std::string& region_id = kRegionId) {
    RequestSpec s = spec();
    s.action = "StopInstances";
    s.query.clear();
    if (instance_ids != kAbsent) s.query.push_back({"InstanceIds", instance_ids});
    if (region_id != kAbsent) s.query.push_back({"RegionId", region_id});
    if (force_stop != kAbsent) s.query.push_back({"ForceStop", force_stop});
    if (client_token != kAbsent) s.query.push_back({"ClientToken", client_token});
    return s;
  }
  // Statuses of these ids through ListInstanceStatus, "id=Status" joined by spaces.
  std::string listed(const std::string& instance_ids) {
    RequestSpec s = list_spec({{"RegionId", kRegionId}, {"InstanceIds", instance_ids},
                               {"PageSize", "100"}});
    const EmulatorReply reply = send(s);
    EXPECT_EQ(reply.response.status, 200) << reply.response.body;
    const Json body(reply.response.body);
    std::string out;
    const cJSON* item = nullptr;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(body.get(), "InstanceStatuses")) {
      out += std::string(out.empty() ? "" : " ") +
             cJSON_GetObjectItem(item, "InstanceId")->valuestring + "=" +
             cJSON_GetObjectItem(item, "Status")->valuestring;
    }
    return out;
  }
  std::string message_of(const EmulatorReply& r) { return Json(r.response.body).str("Message"); }
  void expect_untouched() {
    EXPECT_EQ(listed(R"(["i-a","i-b","i-c","i-stopped"])"),
              "i-a=Running i-b=Running i-c=Running i-stopped=Stopped");
    for (const char* id : {"i-a", "i-b", "i-c", "i-stopped"}) EXPECT_EQ(stops_of(id), 0) << id;
  }
};

TEST_F(StopInstancesTest, StopsEveryListedInstanceAndAnswersOnlyTheRequestId) {
  const EmulatorReply reply = send(stops(R"(["i-a","i-b"])"));
  ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  const Json body(reply.response.body);
  EXPECT_EQ(cJSON_GetArraySize(body.get()), 1);
  EXPECT_FALSE(body.str("RequestId").empty());
  EXPECT_EQ(*find_header(reply.response.headers, "x-acs-request-id"), body.str("RequestId"));
  EXPECT_EQ(reply.code, "");
  EXPECT_EQ(stops_of("i-a"), 1);
  EXPECT_EQ(stops_of("i-b"), 1);
  EXPECT_EQ(stops_of("i-c"), 0);
  EXPECT_EQ(state_of("i-c"), "Running");
}

TEST_F(StopInstancesTest, EachInstanceGoesThroughStoppingForItsOwnStoppingTime) {
  ASSERT_EQ(send(stops(R"(["i-a","i-b","i-c"])", kAbsent, "true")).response.status, 200);
  const std::string ids = R"(["i-a","i-b","i-c"])";
  EXPECT_EQ(listed(ids), "i-a=Stopping i-b=Stopping i-c=Stopping");
  now_ms_ += 499;
  EXPECT_EQ(listed(ids), "i-a=Stopping i-b=Stopping i-c=Stopping");
  now_ms_ += 1;  // 500 ms
  EXPECT_EQ(listed(ids), "i-a=Stopped i-b=Stopping i-c=Stopping");
  now_ms_ += 1000;  // 1500 ms
  EXPECT_EQ(listed(ids), "i-a=Stopped i-b=Stopped i-c=Stopping");
  now_ms_ += 500;  // 2000 ms, the default stop_delay_ms
  EXPECT_EQ(listed(ids), "i-a=Stopped i-b=Stopped i-c=Stopped");
  for (const char* id : {"i-a", "i-b", "i-c"}) EXPECT_EQ(stops_of(id), 1) << id;
  // Stopped now: a second StopInstances is refused like StopInstance would be.
  EXPECT_EQ(code_of(send(stops(R"(["i-a"])"))), "IncorrectInstanceStatus");
}

TEST_F(StopInstancesTest, StopOutcomeFaultsApplyToo) {
  add(R"([{"InstanceId": "i-stuck", "RegionId": "cn-hangzhou", "stopping_ms": 10,
           "stop_outcome": "StuckStopping"},
          {"InstanceId": "i-back", "RegionId": "cn-hangzhou", "stopping_ms": 10,
           "stop_outcome": "BackToRunning"}])");
  ASSERT_EQ(send(stops(R"(["i-stuck","i-back"])")).response.status, 200);
  now_ms_ += 10;
  EXPECT_EQ(listed(R"(["i-stuck","i-back"])"), "i-back=Running i-stuck=Stopping");
}

TEST_F(StopInstancesTest, AnIdListedTwiceIsStoppedOnce) {
  ASSERT_EQ(send(stops(R"(["i-a","i-a"])")).response.status, 200);
  EXPECT_EQ(stops_of("i-a"), 1);
  EXPECT_EQ(state_of("i-a"), "Stopping");
}

TEST_F(StopInstancesTest, OneInstanceNotRunningRefusesTheWholeCallNamingIt) {
  const EmulatorReply reply = send(stops(R"(["i-a","i-stopped","i-b"])"));
  EXPECT_EQ(reply.response.status, 403);
  EXPECT_EQ(code_of(reply), "IncorrectInstanceStatus");
  EXPECT_EQ(message_of(reply),
            "The state of the current instance does not support this operation. "
            "InstanceId: i-stopped");
  expect_untouched();
}

TEST_F(StopInstancesTest, AStoppingInstanceRefusesTheWholeCall) {
  ASSERT_EQ(send(stops(R"(["i-b"])")).response.status, 200);
  const EmulatorReply reply = send(stops(R"(["i-a","i-b","i-c"])"));
  EXPECT_EQ(reply.response.status, 403);
  EXPECT_NE(message_of(reply).find("InstanceId: i-b"), std::string::npos);
  EXPECT_EQ(listed(R"(["i-a","i-b","i-c"])"), "i-a=Running i-b=Stopping i-c=Running");
  EXPECT_EQ(stops_of("i-a"), 0);
  EXPECT_EQ(stops_of("i-b"), 1);
}

TEST_F(StopInstancesTest, AnUnknownOrOtherRegionInstanceRefusesTheWholeCallNamingIt) {
  const EmulatorReply unknown = send(stops(R"(["i-a","i-nope","i-c"])"));
  EXPECT_EQ(unknown.response.status, 404);
  EXPECT_EQ(code_of(unknown), "InvalidInstanceId.NotFound");
  EXPECT_EQ(message_of(unknown), "The specified InstanceId does not exist. InstanceId: i-nope");
  const EmulatorReply other_region = send(stops(R"(["i-a","i-bj"])"));
  EXPECT_EQ(other_region.response.status, 404);
  EXPECT_NE(message_of(other_region).find("InstanceId: i-bj"), std::string::npos);
  expect_untouched();
  EXPECT_EQ(state_of("i-bj"), "Running");
}

TEST_F(StopInstancesTest, TheFirstOffendingInstanceInTheGivenOrderAnswers) {
  const EmulatorReply unknown_first = send(stops(R"(["i-nope","i-stopped"])"));
  EXPECT_EQ(code_of(unknown_first), "InvalidInstanceId.NotFound");
  EXPECT_NE(message_of(unknown_first).find("i-nope"), std::string::npos);
  const EmulatorReply stopped_first = send(stops(R"(["i-stopped","i-nope"])"));
  EXPECT_EQ(code_of(stopped_first), "IncorrectInstanceStatus");
  EXPECT_NE(message_of(stopped_first).find("i-stopped"), std::string::npos);
  expect_untouched();
}

TEST_F(StopInstancesTest, SameClientTokenAndParametersGetTheFirstAnswerAndChangeNothing) {
  const EmulatorReply first = send(stops(R"(["i-a","i-b"])", "tok-1", "true"));
  ASSERT_EQ(first.response.status, 200);
  now_ms_ += 5000;  // both Stopped: a real second stop would be refused
  // The same list in other JSON spacing, ForceStop the same: a retry.
  const EmulatorReply again = send(stops(R"([ "i-a", "i-b" ])", "tok-1", "true"));
  EXPECT_EQ(again.response.status, 200);
  EXPECT_EQ(again.response.body, first.response.body);
  EXPECT_EQ(*find_header(again.response.headers, "x-acs-request-id"), request_id_of(first));
  EXPECT_EQ(stops_of("i-a"), 1);
  EXPECT_EQ(stops_of("i-b"), 1);
}

TEST_F(StopInstancesTest, AbsentForceStopAndFalseAreTheSameParameter) {
  const EmulatorReply first = send(stops(R"(["i-a"])", "tok-f"));
  ASSERT_EQ(first.response.status, 200);
  const EmulatorReply again = send(stops(R"(["i-a"])", "tok-f", "false"));
  EXPECT_EQ(again.response.body, first.response.body);
}

TEST_F(StopInstancesTest, AFirstErrorIsReplayedForTheSameToken) {
  const EmulatorReply first = send(stops(R"(["i-a","i-stopped"])", "tok-e"));
  ASSERT_EQ(first.response.status, 403);
  add(R"([{"InstanceId": "i-stopped", "RegionId": "cn-hangzhou"}])");  // now Running
  const EmulatorReply again = send(stops(R"(["i-a","i-stopped"])", "tok-e"));
  EXPECT_EQ(again.response.status, 403);
  EXPECT_EQ(again.response.body, first.response.body);
  EXPECT_EQ(stops_of("i-a"), 0);
  EXPECT_EQ(stops_of("i-stopped"), 0);
}

TEST_F(StopInstancesTest, SameClientTokenWithOtherParametersIsIdempotentParameterMismatch) {
  ASSERT_EQ(send(stops(R"(["i-a","i-b"])", "tok-m")).response.status, 200);
  const std::vector<RequestSpec> different = {
      stops(R"(["i-b","i-a"])", "tok-m"),             // same set, another order
      stops(R"(["i-a"])", "tok-m"),                   // a subset
      stops(R"(["i-a","i-b","i-c"])", "tok-m"),       // one more
      stops(R"(["i-a","i-b","i-b"])", "tok-m"),       // a duplicate added
      stops(R"(["i-a","i-b"])", "tok-m", "true"),     // ForceStop
      stops(R"(["i-a","i-b"])", "tok-m", kAbsent, "cn-beijing"),  // region
  };
  for (const RequestSpec& s : different) {
    const EmulatorReply reply = send(s);
    EXPECT_EQ(reply.response.status, 400) << s.query[0].second;
    EXPECT_EQ(code_of(reply), "IdempotentParameterMismatch") << s.query[0].second;
  }
  RequestSpec single = spec("tok-m");  // StopInstance with the same token: another action
  single.query = stop_query("i-a", kRegionId, "tok-m");
  EXPECT_EQ(code_of(send(single)), "IdempotentParameterMismatch");
  EXPECT_EQ(stops_of("i-c"), 0);
  EXPECT_EQ(stops_of("i-a"), 1);
}

TEST_F(StopInstancesTest, AStopInstanceTokenIsNotAStopInstancesRetry) {
  ASSERT_EQ(send(spec("tok-s")).response.status, 200);
  EXPECT_EQ(code_of(send(stops(std::string("[\"") + kInstanceId + "\"]", "tok-s"))),
            "IdempotentParameterMismatch");
}

TEST_F(StopInstancesTest, OneHundredIdsAreAcceptedAndMoreAreInvalidParameter) {
  std::string instances = "[", ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = "h-" + std::to_string(100 + i);
    instances += std::string(i ? "," : "") + R"({"InstanceId": ")" + id +
                 R"(", "RegionId": "cn-hangzhou"})";
    ids += std::string(i ? "," : "") + "\"" + id + "\"";
  }
  add(instances + "]");
  const EmulatorReply over = send(stops("[" + ids + R"(,"i-a"])"));
  EXPECT_EQ(over.response.status, 400);
  EXPECT_EQ(code_of(over), "InvalidParameter");
  EXPECT_EQ(message_of(over),
            "The specified parameter \"InstanceIds\" is not valid. It must be a JSON array of "
            "1 to 100 instance ids (non-empty strings).");
  EXPECT_EQ(stops_of("h-100"), 0);
  EXPECT_EQ(stops_of("i-a"), 0);
  const EmulatorReply hundred = send(stops("[" + ids + "]"));
  ASSERT_EQ(hundred.response.status, 200) << hundred.response.body;
  EXPECT_EQ(stops_of("h-100"), 1);
  EXPECT_EQ(stops_of("h-199"), 1);
}

TEST_F(StopInstancesTest, MalformedInstanceIdsAreInvalidParameter) {
  for (const char* bad : {"i-a", "i-a,i-b", R"("i-a")", R"({"id": "i-a"})", "[]", R"([""])",
                          R"(["i-a", ""])", "[1]", R"(["i-a", null])", R"([["i-a"]])",
                          R"(["i-a"] x)", R"(["i-a")", " "}) {
    const EmulatorReply reply = send(stops(bad));
    EXPECT_EQ(reply.response.status, 400) << bad;
    EXPECT_EQ(code_of(reply), "InvalidParameter") << bad;
    EXPECT_NE(message_of(reply).find("\"InstanceIds\""), std::string::npos) << bad;
  }
  const std::string nul_inside("[\"i-a\"]\0[", 8);
  EXPECT_EQ(code_of(send(stops(nul_inside))), "InvalidParameter");
  expect_untouched();
}

TEST_F(StopInstancesTest, MissingInstanceIdsOrRegionIdIsMissingParameter) {
  for (const std::string& ids : {std::string(kAbsent), std::string()}) {
    const EmulatorReply reply = send(stops(ids));
    EXPECT_EQ(reply.response.status, 400);
    EXPECT_EQ(code_of(reply), "MissingParameter");
    EXPECT_NE(message_of(reply).find("\"InstanceIds\""), std::string::npos);
  }
  for (const std::string& region : {std::string(kAbsent), std::string()}) {
    const EmulatorReply reply = send(stops(R"(["i-a"])", kAbsent, kAbsent, region));
    EXPECT_EQ(code_of(reply), "MissingParameter");
    EXPECT_NE(message_of(reply).find("\"RegionId\""), std::string::npos);
  }
  expect_untouched();
}

TEST_F(StopInstancesTest, ForceStopIsTrueOrFalse) {
  for (const char* bad : {"True", "TRUE", "1", "0", "yes", "false ", "t"}) {
    const EmulatorReply reply = send(stops(R"(["i-a"])", kAbsent, bad));
    EXPECT_EQ(reply.response.status, 400) << bad;
    EXPECT_EQ(code_of(reply), "InvalidParameter") << bad;
    EXPECT_NE(message_of(reply).find("\"ForceStop\""), std::string::npos) << bad;
  }
  expect_untouched();
  EXPECT_EQ(send(stops(R"(["i-a"])", kAbsent, "true")).response.status, 200);
  EXPECT_EQ(send(stops(R"(["i-b"])", kAbsent, "false")).response.status, 200);
  EXPECT_EQ(send(stops(R"(["i-c"])", kAbsent, "")).response.status, 200);
}

TEST_F(StopInstancesTest, ClientTokenOver64CharsOrNotAsciiIsInvalidParameter) {
  EXPECT_EQ(code_of(send(stops(R"(["i-a"])", std::string(65, 't')))), "InvalidParameter");
  EXPECT_EQ(code_of(send(stops(R"(["i-a"])", "t\xC3\xA9"))), "InvalidParameter");
  expect_untouched();
  EXPECT_EQ(send(stops(R"(["i-a"])", std::string(64, 't'))).response.status, 200);
}

TEST_F(StopInstancesTest, GoesThroughTheGatewayChecks) {
  RequestSpec wrong = stops(R"(["i-a"])");
  wrong.access_key_secret = "wrong";
  EXPECT_EQ(code_of(send(wrong)), "SignatureDoesNotMatch");
  HttpRequest tampered = make_signed_request(stops(R"(["i-a"])"));
  tampered.target += "&ForceStop=true";
  EXPECT_EQ(code_of(send_raw(tampered)), "SignatureDoesNotMatch");
  RequestSpec version = stops(R"(["i-a"])");
  version.version = "2017-01-01";
  EXPECT_EQ(code_of(send(version)), "InvalidVersion");
  expect_untouched();
}

TEST_F(StopInstancesTest, CountedLoggedAndQuotedUnderItsOwnAction) {
  ASSERT_EQ(admin("POST", "/__emulator/quotas",
                  R"({"quotas": {"StopInstances": "1/60s", "StopInstance": "5/60s"}})")
                .response.status,
            200);
  ASSERT_EQ(send(stops(R"(["i-a"])", "tok-q", "true")).response.status, 200);
  const EmulatorReply throttled = send(stops(R"(["i-b"])", "tok-q2"));
  EXPECT_EQ(throttled.response.status, 400);
  EXPECT_EQ(code_of(throttled), "Throttling.User");
  EXPECT_EQ(stops_of("i-b"), 0);
  EXPECT_EQ(state_of("i-b"), "Running");
  RequestSpec single = spec();  // StopInstance keeps its own quota
  single.query = stop_query("i-c", kRegionId);
  EXPECT_EQ(send(single).response.status, 200);
  now_ms_ += 60000;
  // tok-q2 was not remembered by the throttled call: it may now name another instance.
  RequestSpec reuse = stops(R"(["i-stopped"])", "tok-q2");
  EXPECT_EQ(code_of(send(reuse)), "IncorrectInstanceStatus");

  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* actions = cJSON_GetObjectItemCaseSensitive(state.get(), "actions");
  EXPECT_EQ(cJSON_GetObjectItem(actions, "StopInstances")->valuedouble, 3);
  EXPECT_EQ(cJSON_GetObjectItem(actions, "StopInstance")->valuedouble, 1);
  const cJSON* calls = cJSON_GetObjectItemCaseSensitive(state.get(), "quota_calls");
  const cJSON* mine =
      cJSON_GetObjectItem(cJSON_GetObjectItem(calls, "StopInstances"), kAccessKeyId);
  EXPECT_EQ(cJSON_GetObjectItem(mine, "allowed")->valuedouble, 2);
  EXPECT_EQ(cJSON_GetObjectItem(mine, "throttled")->valuedouble, 1);
  const cJSON* first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(state.get(), "log"), 0);
  EXPECT_STREQ(cJSON_GetObjectItem(first, "action")->valuestring, "StopInstances");
  EXPECT_STREQ(cJSON_GetObjectItem(first, "InstanceIds")->valuestring, R"(["i-a"])");
  EXPECT_STREQ(cJSON_GetObjectItem(first, "ForceStop")->valuestring, "true");
  EXPECT_STREQ(cJSON_GetObjectItem(first, "ClientToken")->valuestring, "tok-q");
}

}  // namespace
}  // namespace swas::emulator::test
