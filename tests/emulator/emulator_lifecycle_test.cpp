// EmulatorCore lifecycle and ListInstanceStatus: per-instance stopping times, stop outcomes
// (faults), the ListInstanceStatus parameters, answer and paging, and per-action counts.
#include <set>
#include <string>
#include <vector>

#include "core_fixture.hpp"

namespace swas::emulator::test {
namespace {

// ListInstanceStatus query; empty strings are left out.
std::vector<QueryParam> list_query(const std::string& region_id,
                                   const std::string& instance_ids = "",
                                   const std::string& page_number = "",
                                   const std::string& page_size = "") {
  std::vector<QueryParam> query = {{"RegionId", region_id}};
  if (!instance_ids.empty()) query.push_back({"InstanceIds", instance_ids});
  if (!page_number.empty()) query.push_back({"PageNumber", page_number});
  if (!page_size.empty()) query.push_back({"PageSize", page_size});
  return query;
}

struct Listed {
  std::string instance_id, status;
};

std::vector<Listed> statuses_of(const Json& body) {
  std::vector<Listed> out;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(body.get(), "InstanceStatuses")) {
    const cJSON* id = cJSON_GetObjectItemCaseSensitive(item, "InstanceId");
    const cJSON* status = cJSON_GetObjectItemCaseSensitive(item, "Status");
    out.push_back({cJSON_IsString(id) ? id->valuestring : "<absent>",
                   cJSON_IsString(status) ? status->valuestring : "<absent>"});
  }
  return out;
}

std::string json_ids(int first, int count) {
  std::string out = "[";
  for (int i = first; i < first + count; ++i)
    out += (i > first ? ",\"i-" : "\"i-") + std::to_string(1000 + i) + "\"";
  return out + "]";
}

class LifecycleTest : public CoreFixture {
 protected:
  void add_instances(const std::string& json) {
    const EmulatorReply reply = admin("POST", "/__emulator/instances", json);
    ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  }
  // The Status ListInstanceStatus reports for one instance ("<absent>" when not listed).
  std::string listed_status(const std::string& instance_id,
                            const std::string& region_id = kRegionId) {
    const EmulatorReply reply =
        send(list_spec(list_query(region_id, "[\"" + instance_id + "\"]")));
    EXPECT_EQ(reply.response.status, 200) << reply.response.body;
    const auto listed = statuses_of(Json(reply.response.body));
    return listed.empty() ? "<absent>" : listed[0].status;
  }
  double action_count(const std::string& action) {
    const Json state(admin("GET", "/__emulator/state").response.body);
    const cJSON* actions = cJSON_GetObjectItemCaseSensitive(state.get(), "actions");
    const cJSON* count = cJSON_GetObjectItemCaseSensitive(actions, action.c_str());
    return cJSON_IsNumber(count) ? count->valuedouble : 0;
  }
  RequestSpec stop_spec(const std::string& instance_id) {
    RequestSpec s = spec();
    s.query = stop_query(instance_id, kRegionId);
    return s;
  }
};

// --- Lifecycle ----------------------------------------------------------------------------------

TEST_F(LifecycleTest, PerInstanceStoppingTimeOverridesTheDefault) {
  add_instances(R"([{"InstanceId": "i-fast", "RegionId": "cn-hangzhou", "stopping_ms": 500}])");
  ASSERT_EQ(send(stop_spec("i-fast")).response.status, 200);
  ASSERT_EQ(send(spec()).response.status, 200);  // kInstanceId: the default 2000 ms
  now_ms_ += 499;
  EXPECT_EQ(listed_status("i-fast"), "Stopping");
  now_ms_ += 1;
  EXPECT_EQ(listed_status("i-fast"), "Stopped");
  EXPECT_EQ(listed_status(kInstanceId), "Stopping");
  now_ms_ += 1500;
  EXPECT_EQ(listed_status(kInstanceId), "Stopped");
}

TEST_F(LifecycleTest, ZeroStoppingTimeIsStoppedAtOnce) {
  add_instances(R"([{"InstanceId": "i-zero", "RegionId": "cn-hangzhou", "stopping_ms": 0}])");
  ASSERT_EQ(send(stop_spec("i-zero")).response.status, 200);
  EXPECT_EQ(listed_status("i-zero"), "Stopped");
  EXPECT_EQ(stops_of("i-zero"), 1);
}

TEST_F(LifecycleTest, StopOfAStoppingInstanceIsIncorrectInstanceStatus) {
  ASSERT_EQ(send(spec()).response.status, 200);
  ASSERT_EQ(state_of(kInstanceId), "Stopping");
  const EmulatorReply again = send(spec());
  EXPECT_EQ(again.response.status, 403);
  EXPECT_EQ(code_of(again), "IncorrectInstanceStatus");
  EXPECT_EQ(stops_of(kInstanceId), 1);
  EXPECT_EQ(state_of(kInstanceId), "Stopping");  // the refused stop changed nothing
}

TEST_F(LifecycleTest, StuckStoppingStaysStoppingForEverAndRefusesStops) {
  add_instances(R"([{"InstanceId": "i-stuck", "RegionId": "cn-hangzhou", "stopping_ms": 100,
                     "stop_outcome": "StuckStopping"}])");
  ASSERT_EQ(send(stop_spec("i-stuck")).response.status, 200);
  for (std::int64_t step_ms : {100, 60 * 1000, 24 * 3600 * 1000}) {
    now_ms_ += step_ms;
    EXPECT_EQ(listed_status("i-stuck"), "Stopping") << step_ms;
    EXPECT_EQ(code_of(send(stop_spec("i-stuck"))), "IncorrectInstanceStatus");
  }
  EXPECT_EQ(stops_of("i-stuck"), 1);
}

TEST_F(LifecycleTest, BackToRunningReturnsToRunningAfterItsStoppingTimeAndCanBeStoppedAgain) {
  add_instances(R"([{"InstanceId": "i-back", "RegionId": "cn-hangzhou", "stopping_ms": 300,
                     "stop_outcome": "BackToRunning"}])");
  ASSERT_EQ(send(stop_spec("i-back")).response.status, 200);
  now_ms_ += 299;
  EXPECT_EQ(listed_status("i-back"), "Stopping");
  EXPECT_EQ(code_of(send(stop_spec("i-back"))), "IncorrectInstanceStatus");
  now_ms_ += 1;
  EXPECT_EQ(listed_status("i-back"), "Running");
  EXPECT_EQ(send(stop_spec("i-back")).response.status, 200);  // a new stop is accepted
  EXPECT_EQ(listed_status("i-back"), "Stopping");
  EXPECT_EQ(stops_of("i-back"), 2);
}

TEST_F(LifecycleTest, ConfiguredStoppingInstanceEndsByItsOutcomeCountedFromFirstLook) {
  EmulatorConfig config = base_config();
  config.instances.push_back({"i-cfg", kRegionId, "Stopping", 50, StopOutcome::BackToRunning});
  core_ = std::make_unique<EmulatorCore>(config, 3);
  now_ms_ += 10000;  // nobody looked yet: the stopping time has not started
  EXPECT_EQ(listed_status("i-cfg"), "Stopping");
  now_ms_ += 50;
  EXPECT_EQ(listed_status("i-cfg"), "Running");
}

TEST_F(LifecycleTest, AdminShowsAndReplacesStoppingTimeAndOutcome) {
  add_instances(R"([{"InstanceId": "i-x", "RegionId": "cn-hangzhou", "stopping_ms": 40,
                     "stop_outcome": "StuckStopping"}])");
  const Json state(admin("GET", "/__emulator/state").response.body);
  bool seen_default = false, seen_x = false;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(state.get(), "instances")) {
    const std::string id = cJSON_GetObjectItem(item, "InstanceId")->valuestring;
    const double stopping_ms = cJSON_GetObjectItem(item, "stopping_ms")->valuedouble;
    const std::string outcome = cJSON_GetObjectItem(item, "stop_outcome")->valuestring;
    if (id == kInstanceId) {
      seen_default = true;
      EXPECT_EQ(stopping_ms, 2000);  // the config's stop_delay_ms
      EXPECT_EQ(outcome, "Stopped");
    } else if (id == "i-x") {
      seen_x = true;
      EXPECT_EQ(stopping_ms, 40);
      EXPECT_EQ(outcome, "StuckStopping");
    }
  }
  EXPECT_TRUE(seen_default && seen_x);
  ASSERT_EQ(send(stop_spec("i-x")).response.status, 200);
  // Replacing the instance replaces its whole spec: default time and outcome again.
  add_instances(R"([{"InstanceId": "i-x", "RegionId": "cn-hangzhou", "state": "Stopping"}])");
  now_ms_ += 1;
  EXPECT_EQ(listed_status("i-x"), "Stopping");
  now_ms_ += 2000;
  EXPECT_EQ(listed_status("i-x"), "Stopped");
  EXPECT_EQ(admin("POST", "/__emulator/instances",
                  R"([{"InstanceId": "i-y", "RegionId": "r", "stop_outcome": "Never"}])")
                .response.status,
            400);
}

// --- ListInstanceStatus -------------------------------------------------------------------------

TEST_F(LifecycleTest, ListAnswersTheDocumentedShape) {
  const EmulatorReply reply = send(list_spec(list_query(kRegionId)));
  ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  const Json body(reply.response.body);
  std::vector<std::string> keys;
  for (const cJSON* item = body.get()->child; item != nullptr; item = item->next)
    keys.emplace_back(item->string);
  EXPECT_EQ(keys, (std::vector<std::string>{"InstanceStatuses", "RequestId", "PageSize",
                                            "PageNumber", "TotalCount"}));
  EXPECT_EQ(body.num("PageNumber"), 1);
  EXPECT_EQ(body.num("PageSize"), 10);
  EXPECT_EQ(body.num("TotalCount"), 1);
  EXPECT_EQ(*find_header(reply.response.headers, "x-acs-request-id"), body.str("RequestId"));
  EXPECT_EQ(*find_header(reply.response.headers, "Content-Type"), "application/json;charset=utf-8");
  const cJSON* statuses = cJSON_GetObjectItemCaseSensitive(body.get(), "InstanceStatuses");
  ASSERT_EQ(cJSON_GetArraySize(statuses), 1);
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetArrayItem(statuses, 0)), 2);  // InstanceId and Status only
  const auto listed = statuses_of(body);
  EXPECT_EQ(listed[0].instance_id, kInstanceId);
  EXPECT_EQ(listed[0].status, "Running");
}

TEST_F(LifecycleTest, ListReportsEveryDocumentedStatusVerbatim) {
  const std::vector<std::string> states = {"Pending",  "Starting",  "Running",   "Stopping",
                                           "Stopped",  "Resetting", "Upgrading", "Disabled"};
  std::string json = "[";
  for (std::size_t i = 0; i < states.size(); ++i)
    json += std::string(i ? "," : "") + R"({"InstanceId": "s-)" + std::to_string(i) +
            R"(", "RegionId": "cn-beijing", "state": ")" + states[i] + "\"}";
  add_instances(json + "]");
  const Json body(send(list_spec(list_query("cn-beijing"))).response.body);
  const auto listed = statuses_of(body);
  ASSERT_EQ(listed.size(), states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    EXPECT_EQ(listed[i].instance_id, "s-" + std::to_string(i));
    EXPECT_EQ(listed[i].status, states[i]);
  }
}

TEST_F(LifecycleTest, ListFollowsAStopThroughStoppingToStopped) {
  EXPECT_EQ(listed_status(kInstanceId), "Running");
  ASSERT_EQ(send(spec()).response.status, 200);
  EXPECT_EQ(listed_status(kInstanceId), "Stopping");
  now_ms_ += 1999;
  EXPECT_EQ(listed_status(kInstanceId), "Stopping");
  now_ms_ += 1;
  EXPECT_EQ(listed_status(kInstanceId), "Stopped");
  EXPECT_EQ(stops_of(kInstanceId), 1);  // listing never stops anything
}

TEST_F(LifecycleTest, UnknownIdsAndOtherRegionsAreAbsentAndDuplicatesListedOnce) {
  add_instances(R"([{"InstanceId": "i-bj", "RegionId": "cn-beijing"},
                    {"InstanceId": "i-hz", "RegionId": "cn-hangzhou", "state": "Stopped"}])");
  const std::string ids = std::string(R"([")") + kInstanceId + R"(", "i-nope", "i-bj", "i-hz", ")" +
                          kInstanceId + R"("])";
  const EmulatorReply reply = send(list_spec(list_query(kRegionId, ids)));
  ASSERT_EQ(reply.response.status, 200) << reply.response.body;
  const Json body(reply.response.body);
  EXPECT_EQ(body.num("TotalCount"), 2);
  const auto listed = statuses_of(body);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].instance_id, kInstanceId);  // ordered by InstanceId
  EXPECT_EQ(listed[1].instance_id, "i-hz");
  EXPECT_EQ(listed[1].status, "Stopped");
  EXPECT_EQ(listed_status("i-bj"), "<absent>");
  EXPECT_EQ(listed_status("i-bj", "cn-beijing"), "Running");

  const Json none(send(list_spec(list_query(kRegionId, R"(["i-nope"])"))).response.body);
  EXPECT_EQ(none.num("TotalCount"), 0);
  EXPECT_TRUE(statuses_of(none).empty());
  const Json unknown_region(send(list_spec(list_query("eu-central-1"))).response.body);
  EXPECT_EQ(unknown_region.num("TotalCount"), 0);
}

TEST_F(LifecycleTest, EmptyInstanceIdsArrayOrValueListsTheWholeRegion) {
  add_instances(R"([{"InstanceId": "i-2", "RegionId": "cn-hangzhou"}])");
  EXPECT_EQ(Json(send(list_spec(list_query(kRegionId, "[]"))).response.body).num("TotalCount"), 2);
  RequestSpec empty = list_spec({{"RegionId", kRegionId}, {"InstanceIds", ""}});
  EXPECT_EQ(Json(send(empty).response.body).num("TotalCount"), 2);
}

TEST_F(LifecycleTest, ListPagesInInstanceIdOrder) {
  std::string json = "[";
  for (int i = 0; i < 25; ++i)
    json += std::string(i ? "," : "") + R"({"InstanceId": "i-)" + std::to_string(1000 + i) +
            R"(", "RegionId": "cn-shenzhen"})";
  add_instances(json + "]");
  std::vector<std::string> seen;
  for (const auto& [page, want] : std::vector<std::pair<int, std::size_t>>{{1, 10}, {2, 10}, {3, 5},
                                                                         {4, 0}}) {
    const Json body(
        send(list_spec(list_query("cn-shenzhen", "", std::to_string(page)))).response.body);
    EXPECT_EQ(body.num("TotalCount"), 25) << page;
    EXPECT_EQ(body.num("PageNumber"), page);
    EXPECT_EQ(body.num("PageSize"), 10);
    const auto listed = statuses_of(body);
    EXPECT_EQ(listed.size(), want) << page;
    for (const auto& l : listed) seen.push_back(l.instance_id);
  }
  ASSERT_EQ(seen.size(), 25u);
  for (std::size_t i = 0; i < 25; ++i) EXPECT_EQ(seen[i], "i-" + std::to_string(1000 + i));

  const Json sized(send(list_spec(list_query("cn-shenzhen", json_ids(0, 25), "2", "7"))).response.body);
  EXPECT_EQ(sized.num("PageSize"), 7);
  EXPECT_EQ(sized.num("PageNumber"), 2);
  EXPECT_EQ(sized.num("TotalCount"), 25);
  const auto listed = statuses_of(sized);
  ASSERT_EQ(listed.size(), 7u);
  EXPECT_EQ(listed.front().instance_id, "i-1007");
  const Json all(send(list_spec(list_query("cn-shenzhen", "", "1", "100"))).response.body);
  EXPECT_EQ(statuses_of(all).size(), 25u);
}

TEST_F(LifecycleTest, AtMost100InstanceIds) {
  std::string json = "[";
  for (int i = 0; i < 101; ++i)
    json += std::string(i ? "," : "") + R"({"InstanceId": "i-)" + std::to_string(1000 + i) +
            R"(", "RegionId": "cn-shenzhen"})";
  add_instances(json + "]");
  const Json hundred(
      send(list_spec(list_query("cn-shenzhen", json_ids(0, 100), "", "100"))).response.body);
  EXPECT_EQ(hundred.num("TotalCount"), 100);
  EXPECT_EQ(statuses_of(hundred).size(), 100u);

  const EmulatorReply too_many = send(list_spec(list_query("cn-shenzhen", json_ids(0, 101))));
  EXPECT_EQ(too_many.response.status, 400);
  EXPECT_EQ(code_of(too_many), "InvalidParameter");
  EXPECT_EQ(Json(too_many.response.body).str("Message"),
            "The specified parameter \"InstanceIds\" is not valid. It must be a JSON array of at "
            "most 100 instance ids (strings).");
}

TEST_F(LifecycleTest, InstanceIdsNotAJsonArrayOfStringsIsInvalidParameter) {
  for (const char* bad : {"i-1", "i-1,i-2", R"("i-1")", R"({"id": "i-1"})", "[1, 2]",
                          R"(["i-1", null])", R"([["i-1"]])", R"(["i-1"] x)", R"(["i-1")"}) {
    const EmulatorReply reply = send(list_spec(list_query(kRegionId, bad)));
    EXPECT_EQ(reply.response.status, 400) << bad;
    EXPECT_EQ(code_of(reply), "InvalidParameter") << bad;
    EXPECT_NE(Json(reply.response.body).str("Message").find("\"InstanceIds\""), std::string::npos);
  }
  const std::string nul_inside("[\"i-1\"]\0[", 8);  // %00 on the wire
  const EmulatorReply nul_reply = send(list_spec(list_query(kRegionId, nul_inside)));
  EXPECT_EQ(code_of(nul_reply), "InvalidParameter");
  EXPECT_NE(Json(nul_reply.response.body).str("Message").find("\"InstanceIds\""), std::string::npos);
  EXPECT_EQ(send(list_spec(list_query(kRegionId, " [ \"i-1\" ] "))).response.status, 200);
}

TEST_F(LifecycleTest, PageNumberAndPageSizeOutOfRangeAreInvalidParameter) {
  const std::pair<const char*, const char*> bad_pages[] = {
      {"0", ""}, {"-1", ""}, {"1.5", ""}, {"abc", ""}, {"+2", ""}, {"", "0"},
      {"", "101"}, {"", "ten"}, {"", "-10"}, {"", "1e2"}};
  for (const auto& [number, size] : bad_pages) {
    const EmulatorReply reply = send(list_spec(list_query(kRegionId, "", number, size)));
    EXPECT_EQ(reply.response.status, 400) << number << "/" << size;
    EXPECT_EQ(code_of(reply), "InvalidParameter") << number << "/" << size;
    const std::string name = *number ? "\"PageNumber\"" : "\"PageSize\"";
    EXPECT_NE(Json(reply.response.body).str("Message").find(name), std::string::npos);
  }
  EXPECT_EQ(send(list_spec(list_query(kRegionId, "", "1", "1"))).response.status, 200);
  EXPECT_EQ(send(list_spec(list_query(kRegionId, "", "1000000000", "100"))).response.status, 200);
}

TEST_F(LifecycleTest, ListWithoutRegionIdIsMissingParameter) {
  const EmulatorReply reply = send(list_spec({{"InstanceIds", R"(["i-1"])"}}));
  EXPECT_EQ(reply.response.status, 400);
  EXPECT_EQ(code_of(reply), "MissingParameter");
  EXPECT_NE(Json(reply.response.body).str("Message").find("\"RegionId\""), std::string::npos);
}

TEST_F(LifecycleTest, ListGoesThroughTheSameGatewayChecks) {
  RequestSpec wrong_secret = list_spec(list_query(kRegionId));
  wrong_secret.access_key_secret = "wrong";
  EXPECT_EQ(code_of(send(wrong_secret)), "SignatureDoesNotMatch");
  RequestSpec stale = list_spec(list_query(kRegionId));
  stale.date_s -= 3600;
  EXPECT_EQ(code_of(send(stale)), "InvalidTimeStamp.Expired");
  RequestSpec version = list_spec(list_query(kRegionId));
  version.version = "2019-01-01";
  EXPECT_EQ(code_of(send(version)), "InvalidVersion");
  const RequestSpec once = list_spec(list_query(kRegionId));
  EXPECT_EQ(send(once).response.status, 200);
  EXPECT_EQ(code_of(send(once)), "SignatureNonceUsed");
  HttpRequest tampered = make_signed_request(list_spec(list_query(kRegionId)));
  tampered.target += "&PageSize=100";
  EXPECT_EQ(code_of(send_raw(tampered)), "SignatureDoesNotMatch");
}

TEST_F(LifecycleTest, ListIgnoresClientTokenAndLeavesStopIdempotencyAlone) {
  std::vector<QueryParam> query = list_query(kRegionId);
  query.push_back({"ClientToken", "shared-token"});
  ASSERT_EQ(send(list_spec(query)).response.status, 200);
  ASSERT_EQ(send(list_spec(query)).response.status, 200);  // not an idempotent replay
  const EmulatorReply stop = send(spec("shared-token"));
  EXPECT_EQ(stop.response.status, 200) << stop.response.body;
  EXPECT_EQ(stops_of(kInstanceId), 1);
}

TEST_F(LifecycleTest, FaultsApplyToListToo) {
  admin("POST", "/__emulator/faults", R"({"status": 503, "count": 1})");
  EXPECT_EQ(code_of(send(list_spec(list_query(kRegionId)))), "ServiceUnavailable");
  EXPECT_EQ(send(list_spec(list_query(kRegionId))).response.status, 200);
}

// --- Counting per action ------------------------------------------------------------------------

TEST_F(LifecycleTest, AdminStateCountsRequestsPerAction) {
  EXPECT_EQ(action_count("StopInstance"), 0);
  send(spec());
  send(spec());  // refused (IncorrectInstanceStatus): still a request
  for (int i = 0; i < 3; ++i) send(list_spec(list_query(kRegionId)));
  RequestSpec bad = list_spec(list_query(kRegionId));
  bad.access_key_secret = "wrong";
  send(bad);  // refused by the gateway: counted under the action it named
  admin("POST", "/__emulator/faults", R"({"drop_count": 1})");
  send(list_spec(list_query(kRegionId)));  // dropped: counted too
  RequestSpec other = spec();
  other.action = "StartInstance";
  send(other);
  HttpRequest no_action = make_signed_request(spec());
  remove_header(no_action, "x-acs-action");
  send_raw(no_action);

  const Json state(admin("GET", "/__emulator/state").response.body);
  EXPECT_EQ(state.num("requests"), 9);
  const cJSON* actions = cJSON_GetObjectItemCaseSensitive(state.get(), "actions");
  EXPECT_EQ(cJSON_GetObjectItem(actions, "StopInstance")->valuedouble, 2);
  EXPECT_EQ(cJSON_GetObjectItem(actions, "ListInstanceStatus")->valuedouble, 5);
  EXPECT_EQ(cJSON_GetObjectItem(actions, "StartInstance")->valuedouble, 1);
  EXPECT_EQ(cJSON_GetObjectItem(actions, "(none)")->valuedouble, 1);
  EXPECT_EQ(cJSON_GetArraySize(actions), 4);

  const cJSON* log = cJSON_GetObjectItemCaseSensitive(state.get(), "log");
  const cJSON* list_entry = cJSON_GetArrayItem(log, 2);
  EXPECT_STREQ(cJSON_GetObjectItem(list_entry, "action")->valuestring, "ListInstanceStatus");
  EXPECT_STREQ(cJSON_GetObjectItem(list_entry, "RegionId")->valuestring, kRegionId);
  EXPECT_EQ(cJSON_GetObjectItem(list_entry, "status")->valuedouble, 200);
}

TEST_F(LifecycleTest, LogKeepsTheInstanceIdsAsSent) {
  send(list_spec(list_query(kRegionId, R"(["a","b"])")));
  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* entry = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(state.get(), "log"), 0);
  EXPECT_STREQ(cJSON_GetObjectItem(entry, "InstanceIds")->valuestring, R"(["a","b"])");
  EXPECT_STREQ(cJSON_GetObjectItem(entry, "InstanceId")->valuestring, "");
}

TEST_F(LifecycleTest, ActionNamesAreBounded) {
  for (int i = 0; i < 100; ++i) {
    RequestSpec s = spec();
    s.action = "Action" + std::to_string(i);
    send(s);
  }
  const Json state(admin("GET", "/__emulator/state").response.body);
  const cJSON* actions = cJSON_GetObjectItemCaseSensitive(state.get(), "actions");
  EXPECT_LE(cJSON_GetArraySize(actions), 33);
  double total = 0;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, actions) total += item->valuedouble;
  EXPECT_EQ(total, 100);
  EXPECT_GT(cJSON_GetObjectItem(actions, "(other)")->valuedouble, 0);
}

}  // namespace
}  // namespace swas::emulator::test
