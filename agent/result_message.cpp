// Result messages keep the contract's field order; cJSON escapes every string.
#include "result_message.hpp"

#include <cjson/cJSON.h>

#include <memory>

namespace swas {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

void add_string(cJSON* o, const char* name, std::string_view value) {
  cJSON_AddItemToObject(o, name, cJSON_CreateString(std::string(value).c_str()));
}

JsonPtr command_header(const StopCommand& cmd) {
  JsonPtr o(cJSON_CreateObject(), &cJSON_Delete);
  add_string(o.get(), "type", "result");
  add_string(o.get(), "id", cmd.id);
  add_string(o.get(), "action", cmd.action);
  if (cmd.many()) {
    cJSON* ids = cJSON_AddArrayToObject(o.get(), "InstanceIds");
    for (const auto& id : cmd.instance_ids) cJSON_AddItemToArray(ids, cJSON_CreateString(id.c_str()));
  } else {
    add_string(o.get(), "InstanceId", cmd.instance_id);
  }
  add_string(o.get(), "RegionId", cmd.region_id);
  add_string(o.get(), "ClientToken", cmd.client_token);
  if (cmd.many()) cJSON_AddItemToObject(o.get(), "ForceStop", cJSON_CreateBool(cmd.force_stop));
  return o;
}

std::string print(const JsonPtr& o) {
  char* text = cJSON_PrintUnformatted(o.get());
  std::string out = text ? text : "";
  cJSON_free(text);
  return out;
}

cJSON* agent_error_object(AgentError code, std::string_view message) {
  cJSON* e = cJSON_CreateObject();
  add_string(e, "source", "agent");
  add_string(e, "Code", to_string(code));
  add_string(e, "Message", message);
  return e;
}

// The cloud's error fields verbatim; HostId and Recommend only when it sent them.
cJSON* cloud_error_object(const CloudError& err) {
  cJSON* e = cJSON_CreateObject();
  add_string(e, "source", "cloud");
  cJSON_AddItemToObject(e, "HttpStatus", cJSON_CreateNumber(err.http_status));
  add_string(e, "Code", err.code);
  add_string(e, "Message", err.message);
  add_string(e, "RequestId", err.request_id);
  if (!err.host_id.empty()) add_string(e, "HostId", err.host_id);
  if (!err.recommend.empty()) add_string(e, "Recommend", err.recommend);
  return e;
}

}  // namespace

std::string encode_success(const StopCommand& cmd, std::string_view request_id) {
  JsonPtr o = command_header(cmd);
  cJSON_AddItemToObject(o.get(), "ok", cJSON_CreateTrue());
  add_string(o.get(), "RequestId", request_id);
  return print(o);
}

std::string encode_cloud_error(const StopCommand& cmd, const CloudError& err) {
  JsonPtr o = command_header(cmd);
  cJSON_AddItemToObject(o.get(), "ok", cJSON_CreateFalse());
  cJSON_AddItemToObject(o.get(), "error", cloud_error_object(err));
  return print(o);
}

std::string encode_agent_error(const StopCommand& cmd, AgentError code, std::string_view message,
                               std::optional<int> http_status) {
  JsonPtr o = command_header(cmd);
  cJSON_AddItemToObject(o.get(), "ok", cJSON_CreateFalse());
  cJSON* e = agent_error_object(code, message);
  if (http_status) cJSON_AddItemToObject(e, "HttpStatus", cJSON_CreateNumber(*http_status));
  cJSON_AddItemToObject(o.get(), "error", e);
  return print(o);
}

std::string encode_rate_limited_progress(const StopCommand& cmd, std::optional<std::int64_t> wait_ms,
                                         std::string_view message) {
  JsonPtr o(cJSON_CreateObject(), &cJSON_Delete);
  add_string(o.get(), "type", "progress");
  add_string(o.get(), "id", cmd.id);
  add_string(o.get(), "stage", "RateLimited");
  add_string(o.get(), "action", cmd.api_action());
  if (wait_ms) cJSON_AddItemToObject(o.get(), "waitMs", cJSON_CreateNumber(static_cast<double>(*wait_ms)));
  else cJSON_AddItemToObject(o.get(), "waitMs", cJSON_CreateNull());
  add_string(o.get(), "Message", message);
  return print(o);
}

std::string encode_lifecycle(const FollowRecord& follow, const LifecycleReport& report) {
  JsonPtr o(cJSON_CreateObject(), &cJSON_Delete);
  add_string(o.get(), "type", "lifecycle");
  add_string(o.get(), "id", follow.id);
  add_string(o.get(), "InstanceId", follow.instance_id);
  add_string(o.get(), "RegionId", follow.region_id);
  add_string(o.get(), "RequestId", follow.request_id);
  if (report.status) add_string(o.get(), "Status", *report.status);
  else cJSON_AddItemToObject(o.get(), "Status", cJSON_CreateNull());
  cJSON_AddItemToObject(o.get(), "final", cJSON_CreateBool(report.outcome.has_value()));
  if (report.outcome) add_string(o.get(), "outcome", to_string(*report.outcome));
  cJSON_AddItemToObject(o.get(), "elapsedMs",
                        cJSON_CreateNumber(static_cast<double>(report.elapsed_ms < 0 ? 0 : report.elapsed_ms)));
  if (report.outcome && *report.outcome != FollowOutcome::Stopped) add_string(o.get(), "Message", report.message);
  if (report.error) {
    const PollError& e = *report.error;
    cJSON* err = nullptr;
    if (e.cloud) {
      err = cloud_error_object(*e.cloud);
    } else {
      err = agent_error_object(e.code, e.message);
      if (e.http_status) cJSON_AddItemToObject(err, "HttpStatus", cJSON_CreateNumber(*e.http_status));
    }
    cJSON_AddItemToObject(o.get(), "error", err);
  }
  return print(o);
}

std::string encode_rejection(const CommandRejection& rejection) {
  JsonPtr o(cJSON_CreateObject(), &cJSON_Delete);
  add_string(o.get(), "type", "result");
  if (rejection.id) add_string(o.get(), "id", *rejection.id);
  else cJSON_AddItemToObject(o.get(), "id", cJSON_CreateNull());
  cJSON_AddItemToObject(o.get(), "ok", cJSON_CreateFalse());
  cJSON_AddItemToObject(o.get(), "error", agent_error_object(rejection.code, rejection.message));
  return print(o);
}

}  // namespace swas
