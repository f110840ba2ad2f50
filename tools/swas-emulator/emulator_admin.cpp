// Unsigned /__emulator/* endpoints for tests: read the state, script faults and quotas, add
// instances.
#include <cjson/cJSON.h>

#include "api_response.hpp"
#include "emulator_core.hpp"

namespace swas::emulator {
namespace {

std::string admin_result(bool ok, const std::string& error) {
  cJSON* object = cJSON_CreateObject();
  cJSON_AddBoolToObject(object, "ok", ok ? 1 : 0);
  if (!ok) cJSON_AddStringToObject(object, "error", error.c_str());
  return print_and_delete(object);
}

cJSON* faults_json(const Faults& faults) {
  cJSON* object = cJSON_CreateObject();
  cJSON_AddNumberToObject(object, "status", faults.status);
  cJSON_AddNumberToObject(object, "count", static_cast<double>(faults.count));
  cJSON_AddNumberToObject(object, "delay_ms", static_cast<double>(faults.delay_ms));
  cJSON_AddNumberToObject(object, "drop_count", static_cast<double>(faults.drop_count));
  cJSON_AddNumberToObject(object, "retry_after_ms", static_cast<double>(faults.retry_after_ms));
  return object;
}

cJSON* quotas_json(const QuotaSettings& settings) {
  cJSON* object = cJSON_CreateObject();
  for (const auto& [action, quota] : settings.quotas)
    cJSON_AddStringToObject(object, action.c_str(), format_quota(quota).c_str());
  return object;
}

}  // namespace

EmulatorReply EmulatorCore::handle_admin(const HttpRequest& request, const std::string& path,
                                         std::int64_t now_ms) {
  if (path == "/__emulator/state" && request.method == "GET") return admin_state(now_ms);
  if (path == "/__emulator/faults" && request.method == "POST")
    return admin_faults(request, now_ms);
  if (path == "/__emulator/instances" && request.method == "POST")
    return admin_instances(request, now_ms);
  if (path == "/__emulator/quotas" && request.method == "POST")
    return admin_quotas(request, now_ms);
  return admin_reply(404, admin_result(false, "no such admin endpoint: " + request.method + " " +
                                                  path),
                     now_ms);
}

EmulatorReply EmulatorCore::admin_state(std::int64_t now_ms) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddNumberToObject(root, "requests", static_cast<double>(api_requests_));
  cJSON* actions = cJSON_AddObjectToObject(root, "actions");
  for (const auto& [name, count] : actions_)
    cJSON_AddNumberToObject(actions, name.c_str(), static_cast<double>(count));
  cJSON* stops = cJSON_AddObjectToObject(root, "stops");
  cJSON* instances = cJSON_AddArrayToObject(root, "instances");
  for (auto& [id, instance] : instances_) {
    cJSON_AddNumberToObject(stops, id.c_str(), static_cast<double>(instance.stops));
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "InstanceId", id.c_str());
    cJSON_AddStringToObject(item, "RegionId", instance.region_id.c_str());
    cJSON_AddStringToObject(item, "state", current_state(instance, now_ms).c_str());
    cJSON_AddNumberToObject(item, "stopping_ms",
                            static_cast<double>(instance.stopping_ms.value_or(stop_delay_ms_)));
    cJSON_AddStringToObject(item, "stop_outcome", stop_outcome_name(instance.stop_outcome));
    cJSON_AddItemToArray(instances, item);
  }
  cJSON_AddItemToObject(root, "faults", faults_json(faults_));
  cJSON_AddItemToObject(root, "quotas", quotas_json(quotas_.settings()));
  cJSON_AddBoolToObject(root, "quota_retry_after", quotas_.settings().retry_after ? 1 : 0);
  cJSON* calls = cJSON_AddObjectToObject(root, "quota_calls");
  for (const auto& [action, by_key] : quotas_.counts()) {
    cJSON* per_action = cJSON_AddObjectToObject(calls, action.c_str());
    for (const auto& [access_key_id, counts] : by_key) {
      cJSON* item = cJSON_AddObjectToObject(per_action, access_key_id.c_str());
      cJSON_AddNumberToObject(item, "allowed", static_cast<double>(counts.allowed));
      cJSON_AddNumberToObject(item, "throttled", static_cast<double>(counts.throttled));
    }
  }
  cJSON* log = cJSON_AddArrayToObject(root, "log");
  for (const LogEntry& entry : log_) {
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "action", entry.action.c_str());
    cJSON_AddStringToObject(item, "InstanceId", entry.instance_id.c_str());
    cJSON_AddStringToObject(item, "InstanceIds", entry.instance_ids.c_str());
    cJSON_AddStringToObject(item, "RegionId", entry.region_id.c_str());
    cJSON_AddStringToObject(item, "ClientToken", entry.client_token.c_str());
    cJSON_AddStringToObject(item, "nonce", entry.nonce.c_str());
    cJSON_AddStringToObject(item, "ForceStop", entry.force_stop.c_str());
    cJSON_AddNumberToObject(item, "status", entry.status);
    cJSON_AddStringToObject(item, "Code", entry.code.c_str());
    cJSON_AddItemToArray(log, item);
  }
  return admin_reply(200, print_and_delete(root), now_ms);
}

EmulatorReply EmulatorCore::admin_faults(const HttpRequest& request, std::int64_t now_ms) {
  auto faults = parse_faults(request.body);
  if (!faults) return admin_reply(400, admin_result(false, faults.error()), now_ms);
  faults_ = *faults;
  return admin_reply(200, admin_result(true, ""), now_ms);
}

EmulatorReply EmulatorCore::admin_instances(const HttpRequest& request, std::int64_t now_ms) {
  auto specs = parse_instances(request.body);
  if (!specs) return admin_reply(400, admin_result(false, specs.error()), now_ms);
  for (const InstanceSpec& spec : *specs) upsert_instance(spec);
  return admin_reply(200, admin_result(true, ""), now_ms);
}

EmulatorReply EmulatorCore::admin_quotas(const HttpRequest& request, std::int64_t now_ms) {
  auto settings = parse_quota_settings(request.body);
  if (!settings) return admin_reply(400, admin_result(false, settings.error()), now_ms);
  quotas_.configure(std::move(*settings));
  return admin_reply(200, admin_result(true, ""), now_ms);
}

EmulatorReply EmulatorCore::admin_reply(int status, std::string body, std::int64_t now_ms) {
  EmulatorReply reply;
  reply.response = json_response(status, std::move(body), request_ids_.next(), now_ms);
  return reply;
}

}  // namespace swas::emulator
