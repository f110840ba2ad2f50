// EmulatorCore product behaviour: stops, states, ClientToken idempotency, faults, admin.
#include <regex>
#include <set>

#include "core_fixture.hpp"

namespace swas::emulator::test {
namespace {

using EmulatorCoreTest = CoreFixture;

TEST_F(EmulatorCoreTest, StopSucceedsThenRepeatIsIncorrectInstanceStatus) {
  const EmulatorReply first = send(spec());
  EXPECT_EQ(first.response.status, 200) << first.response.body;
  EXPECT_FALSE(first.drop_connection);
  EXPECT_EQ(first.delay_ms, 0);
  const EmulatorReply second = send(spec());
  EXPECT_EQ(second.response.status, 403);
  EXPECT_EQ(code_of(second), "IncorrectInstanceStatus");
  EXPECT_EQ(Json(second.response.body).str("Message"),
            "The state of the current instance does not support this operation.");
  EXPECT_EQ(stops_of(kInstanceId), 1);
}

TEST_F(EmulatorCoreTest, SuccessCarriesOnlyRequestIdAndTheUsualHeaders) {
  const EmulatorReply reply = send(spec());
  ASSERT_EQ(reply.response.status, 200);
  const Json body(reply.response.body);
  const std::string request_id = body.str("RequestId");
  EXPECT_TRUE(std::regex_match(request_id, std::regex("[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}")))
      << request_id;
  EXPECT_EQ(cJSON_GetArraySize(body.get()), 1);
  EXPECT_EQ(*find_header(reply.response.headers, "x-acs-request-id"), request_id);
  EXPECT_EQ(*find_header(reply.response.headers, "Date"), "Thu, 26 Nov 2026 00:00:00 GMT");
  EXPECT_EQ(*find_header(reply.response.headers, "Content-Type"), "application/json;charset=utf-8");
}

TEST_F(EmulatorCoreTest, RequestIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.insert(request_id_of(send(spec())));
  EXPECT_EQ(ids.size(), 200u);
}

TEST_F(EmulatorCoreTest, UnknownInstanceIs404) {
  RequestSpec s = spec();
  s.query = stop_query("ace0706b2ac4454d984295a942130000", kRegionId);
  const EmulatorReply reply = send(s);
  EXPECT_EQ(reply.response.status, 404);
  EXPECT_EQ(code_of(reply), "InvalidInstanceId.NotFound");
  EXPECT_EQ(Json(reply.response.body).str("Message"), "The specified InstanceId does not exist.");
}

TEST_F(EmulatorCoreTest, InstanceInAnotherRegionIs404) {
  RequestSpec s = spec();
  s.query = stop_query(kInstanceId, "cn-shanghai");
  EXPECT_EQ(code_of(send(s)), "InvalidInstanceId.NotFound");
  EXPECT_EQ(state_of(kInstanceId), "Running");
}

TEST_F(EmulatorCoreTest, StateGoesRunningStoppingStoppedAfterStopDelay) {
  EXPECT_EQ(state_of(kInstanceId), "Running");
  ASSERT_EQ(send(spec()).response.status, 200);
  EXPECT_EQ(state_of(kInstanceId), "Stopping");
  now_ms_ += 1999;
  EXPECT_EQ(state_of(kInstanceId), "Stopping");
  EXPECT_EQ(code_of(send(spec())), "IncorrectInstanceStatus");  // Stopping refuses too
  now_ms_ += 1;
  EXPECT_EQ(state_of(kInstanceId), "Stopped");
  EXPECT_EQ(code_of(send(spec())), "IncorrectInstanceStatus");
  EXPECT_EQ(stops_of(kInstanceId), 1);
}

TEST_F(EmulatorCoreTest, SameClientTokenReturnsFirstAnswerAndStopsOnce) {
  const EmulatorReply first = send(spec("token-1"));
  ASSERT_EQ(first.response.status, 200);
  now_ms_ += 5000;  // past the stop delay: a real second stop would now be refused
  const EmulatorReply again = send(spec("token-1"));
  EXPECT_EQ(again.response.status, 200);
  EXPECT_EQ(again.response.body, first.response.body);
  EXPECT_EQ(*find_header(again.response.headers, "x-acs-request-id"), request_id_of(first));
  EXPECT_EQ(stops_of(kInstanceId), 1);
  EXPECT_EQ(state_of(kInstanceId), "Stopped");
}

TEST_F(EmulatorCoreTest, SameClientTokenReplaysAFirstError) {
  RequestSpec s = spec("token-2");
  s.query = stop_query("i-unknown", kRegionId, "token-2");
  const EmulatorReply first = send(s);
  ASSERT_EQ(first.response.status, 404);
  core_->handle(HttpRequest{"POST", "/__emulator/instances", {},
                            R"([{"InstanceId": "i-unknown", "RegionId": "cn-hangzhou"}])"},
                now_ms_);
  s.nonce = "another-nonce";
  const EmulatorReply again = send(s);
  EXPECT_EQ(again.response.status, 404);
  EXPECT_EQ(again.response.body, first.response.body);
  EXPECT_EQ(stops_of("i-unknown"), 0);
}

TEST_F(EmulatorCoreTest, ClientTokenWithDifferentParametersIsIdempotentParameterMismatch) {
  ASSERT_EQ(send(spec("token-3")).response.status, 200);
  RequestSpec s = spec("token-3");
  s.query = stop_query("ace0706b2ac4454d984295a942130000", kRegionId, "token-3");
  const EmulatorReply reply = send(s);
  EXPECT_EQ(reply.response.status, 400);
  EXPECT_EQ(code_of(reply), "IdempotentParameterMismatch");
  EXPECT_EQ(Json(reply.response.body).str("Message"),
            "The specified parameter ClientToken is already used with different parameters.");
}

TEST_F(EmulatorCoreTest, ClientTokenOver64CharsOrNotAsciiIsInvalidParameter) {
  EXPECT_EQ(code_of(send(spec(std::string(65, 'a')))), "InvalidParameter");
  EXPECT_EQ(code_of(send(spec("t\xC3\xA9"))), "InvalidParameter");
  EXPECT_EQ(send(spec(std::string(64, 'a'))).response.status, 200);
}

TEST_F(EmulatorCoreTest, MissingInstanceIdOrRegionIdIsMissingParameter) {
  RequestSpec s = spec();
  s.query = {{"RegionId", kRegionId}};
  const EmulatorReply reply = send(s);
  EXPECT_EQ(reply.response.status, 400);
  EXPECT_EQ(code_of(reply), "MissingParameter");
  EXPECT_EQ(Json(reply.response.body).str("Message"),
            "The input parameter \"InstanceId\" that is mandatory for processing this request is "
            "not supplied.");
  s = spec();
  s.query = stop_query(kInstanceId, "");
  EXPECT_NE(Json(send(s).response.body).str("Message").find("\"RegionId\""), std::string::npos);
}

TEST_F(EmulatorCoreTest, FaultCountAnswers500ThenServesNormally) {
  ASSERT_EQ(admin("POST", "/__emulator/faults", R"({"status": 500, "count": 2})").response.status,
            200);
  for (int i = 0; i < 2; ++i) {
    const EmulatorReply reply = send(spec("token-f"));
    EXPECT_EQ(reply.response.status, 500);
    EXPECT_EQ(code_of(reply), "InternalError");
    EXPECT_EQ(Json(reply.response.body).str("Message"),
              "An error occurred while processing your request.");
  }
  EXPECT_EQ(stops_of(kInstanceId), 0);
  EXPECT_EQ(send(spec("token-f")).response.status, 200);  // the token was not spent by faults
  EXPECT_EQ(stops_of(kInstanceId), 1);
}

TEST_F(EmulatorCoreTest, Fault503AndThrottlingWithRetryAfter) {
  admin("POST", "/__emulator/faults", R"({"status": 503, "count": 1})");
  const EmulatorReply unavailable = send(spec());
  EXPECT_EQ(unavailable.response.status, 503);
  EXPECT_EQ(code_of(unavailable), "ServiceUnavailable");
  admin("POST", "/__emulator/faults", R"({"status": 429, "count": 1, "retry_after_ms": 1500})");
  const EmulatorReply throttled = send(spec());
  EXPECT_EQ(throttled.response.status, 429);
  EXPECT_EQ(code_of(throttled), "Throttling");
  EXPECT_EQ(*find_header(throttled.response.headers, "x-acs-retry-after"), "1500");
}

TEST_F(EmulatorCoreTest, DropAndDelayFaults) {
  admin("POST", "/__emulator/faults", R"({"drop_count": 1, "delay_ms": 250})");
  const EmulatorReply dropped = send(spec());
  EXPECT_TRUE(dropped.drop_connection);
  EXPECT_EQ(stops_of(kInstanceId), 0);
  const EmulatorReply delayed = send(spec());
  EXPECT_FALSE(delayed.drop_connection);
  EXPECT_EQ(delayed.delay_ms, 250);
  EXPECT_EQ(delayed.response.status, 200);
}

TEST_F(EmulatorCoreTest, ConfigFaultsApplyFromTheStart) {
  EmulatorConfig config = base_config();
  config.faults.count = 1;
  config.faults.status = 503;
  core_ = std::make_unique<EmulatorCore>(config, 7);
  EXPECT_EQ(send(spec()).response.status, 503);
  EXPECT_EQ(send(spec()).response.status, 200);
}

TEST_F(EmulatorCoreTest, AdminStateCountsRequestsAndLogsThem) {
  send(spec("token-log"));
  RequestSpec bad = spec();
  bad.access_key_secret = "wrong";
  send(bad);
  const Json state(admin("GET", "/__emulator/state").response.body);
  EXPECT_EQ(state.num("requests"), 2);
  const cJSON* log = cJSON_GetObjectItemCaseSensitive(state.get(), "log");
  ASSERT_EQ(cJSON_GetArraySize(log), 2);
  const cJSON* first = cJSON_GetArrayItem(log, 0);
  EXPECT_STREQ(cJSON_GetObjectItem(first, "action")->valuestring, "StopInstance");
  EXPECT_STREQ(cJSON_GetObjectItem(first, "ClientToken")->valuestring, "token-log");
  EXPECT_STREQ(cJSON_GetObjectItem(first, "nonce")->valuestring, "nonce-1");
  EXPECT_EQ(cJSON_GetObjectItem(first, "status")->valuedouble, 200);
  EXPECT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "Code")->valuestring,
               "SignatureDoesNotMatch");
}

TEST_F(EmulatorCoreTest, AdminInstancesAddsAndReplaces) {
  const auto reply = admin("POST", "/__emulator/instances",
                           R"([{"InstanceId": "i-2", "RegionId": "cn-beijing", "state": "Stopped"},
                               {"InstanceId": ")" + std::string(kInstanceId) +
                               R"(", "RegionId": "cn-hangzhou", "state": "Disabled"}])");
  ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  EXPECT_EQ(state_of("i-2"), "Stopped");
  EXPECT_EQ(state_of(kInstanceId), "Disabled");
  EXPECT_EQ(code_of(send(spec())), "IncorrectInstanceStatus");
}

TEST_F(EmulatorCoreTest, AdminRejectsBadBodiesAndUnknownPaths) {
  EXPECT_EQ(admin("POST", "/__emulator/faults", "{").response.status, 400);
  EXPECT_EQ(admin("POST", "/__emulator/faults", R"({"status": 404})").response.status, 400);
  EXPECT_EQ(admin("POST", "/__emulator/instances", R"([{"InstanceId": "x"}])").response.status,
            400);
  EXPECT_EQ(admin("GET", "/__emulator/nothing").response.status, 404);
  EXPECT_EQ(code_of(admin("GET", "/other")), "InvalidAction.NotFound");
}

}  // namespace
}  // namespace swas::emulator::test
