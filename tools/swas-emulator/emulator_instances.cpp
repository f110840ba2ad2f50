// The product behind the gateway: StopInstance and StopInstances with ClientToken idempotency,
// ListInstanceStatus, and the instance state machine.
#include <cjson/cJSON.h>

#include <algorithm>
#include <set>

#include "emulator_core.hpp"
#include "emulator_limits.hpp"

namespace swas::emulator {

template <typename Apply>
EmulatorReply EmulatorCore::idempotent(const ApiCall& call, IdempotentParameters parameters,
                                       std::int64_t now_ms, Apply apply) {
  EmulatorReply reply;
  const IdempotentAnswer* first =
      call.client_token.empty() ? nullptr : client_tokens_.find(call.client_token);
  if (first != nullptr && first->parameters != parameters) {
    reply = error_reply(call,
                        {400, "IdempotentParameterMismatch",
                         "The specified parameter ClientToken is already used with different "
                         "parameters."},
                        now_ms);
  } else if (first != nullptr) {
    // A retry: the first answer again, word for word, and nothing changes.
    reply.response = json_response(first->status, first->body, first->request_id, now_ms);
    reply.code = first->code;
  } else {
    const MaybeError error = apply();
    if (error) {
      reply = error_reply(call, *error, now_ms);
    } else {
      const std::string request_id = request_ids_.next();
      reply.response = json_response(200, success_body(request_id), request_id, now_ms);
    }
    if (!call.client_token.empty()) {
      const std::string* request_id = find_header(reply.response.headers, "x-acs-request-id");
      client_tokens_.remember(call.client_token,
                              {std::move(parameters), reply.response.status, reply.response.body,
                               *request_id, reply.code});
    }
  }
  record(call, reply.response.status, reply.code);
  return reply;
}

EmulatorReply EmulatorCore::stop_instance(const ApiCall& call, std::int64_t now_ms) {
  const auto apply = [&]() -> MaybeError {
    if (auto refusal = stop_refusal(call.instance_id, call.region_id, false, now_ms))
      return refusal;
    begin_stopping(instances_.at(call.instance_id), now_ms);
    return std::nullopt;
  };
  return idempotent(call, {call.action, call.region_id, {call.instance_id}, false}, now_ms, apply);
}

// All or nothing: the ids are checked in the order given and the first one that cannot be
// stopped (unknown, another region, not Running) answers for the whole call, naming it; only
// when every one can be stopped are they all stopped (an id listed twice is stopped once).
EmulatorReply EmulatorCore::stop_instances(const ApiCall& call, std::int64_t now_ms) {
  const auto apply = [&]() -> MaybeError {
    for (const std::string& id : call.instance_ids)
      if (auto refusal = stop_refusal(id, call.region_id, true, now_ms)) return refusal;
    const std::set<std::string> distinct(call.instance_ids.begin(), call.instance_ids.end());
    for (const std::string& id : distinct) begin_stopping(instances_.at(id), now_ms);
    return std::nullopt;
  };
  return idempotent(call, {call.action, call.region_id, call.instance_ids, call.force_stop},
                    now_ms, apply);
}

EmulatorCore::MaybeError EmulatorCore::stop_refusal(const std::string& instance_id,
                                                    const std::string& region_id, bool name_it,
                                                    std::int64_t now_ms) {
  const std::string suffix = name_it ? " InstanceId: " + instance_id : "";
  const auto it = instances_.find(instance_id);
  if (it == instances_.end() || it->second.region_id != region_id)
    return ApiError{404, "InvalidInstanceId.NotFound",
                    "The specified InstanceId does not exist." + suffix};
  if (current_state(it->second, now_ms) != "Running")
    return ApiError{403, "IncorrectInstanceStatus",
                    "The state of the current instance does not support this operation." + suffix};
  return std::nullopt;
}

void EmulatorCore::begin_stopping(InstanceState& instance, std::int64_t now_ms) {
  instance.state = "Stopping";
  instance.stopping_since_ms = now_ms;
  ++instance.stops;
}

// Page `page_number` of the region's instances (or of those named in InstanceIds), ordered by
// InstanceId; unknown ids and instances of other regions are simply absent.
EmulatorReply EmulatorCore::list_instance_status(const ApiCall& call, std::int64_t now_ms) {
  std::vector<std::pair<const std::string*, InstanceState*>> matching;
  const auto add_if_in_region = [&](decltype(instances_)::iterator it) {
    if (it != instances_.end() && it->second.region_id == call.region_id)
      matching.emplace_back(&it->first, &it->second);
  };
  if (call.instance_ids.empty()) {
    for (auto it = instances_.begin(); it != instances_.end(); ++it) add_if_in_region(it);
  } else {
    const std::set<std::string> wanted(call.instance_ids.begin(), call.instance_ids.end());
    for (const std::string& id : wanted) add_if_in_region(instances_.find(id));
  }
  const auto total = static_cast<std::int64_t>(matching.size());
  const std::int64_t first = std::min(total, (call.page_number - 1) * call.page_size);
  const std::int64_t last = std::min(total, first + call.page_size);

  const std::string request_id = request_ids_.next();
  cJSON* root = cJSON_CreateObject();
  cJSON* statuses = cJSON_AddArrayToObject(root, "InstanceStatuses");
  for (std::int64_t i = first; i < last; ++i) {
    cJSON* item = cJSON_CreateObject();
    const auto& [id, instance] = matching[static_cast<std::size_t>(i)];
    cJSON_AddStringToObject(item, "Status", current_state(*instance, now_ms).c_str());
    cJSON_AddStringToObject(item, "InstanceId", id->c_str());
    cJSON_AddItemToArray(statuses, item);
  }
  cJSON_AddStringToObject(root, "RequestId", request_id.c_str());
  cJSON_AddNumberToObject(root, "PageSize", static_cast<double>(call.page_size));
  cJSON_AddNumberToObject(root, "PageNumber", static_cast<double>(call.page_number));
  cJSON_AddNumberToObject(root, "TotalCount", static_cast<double>(total));
  EmulatorReply reply;
  reply.response = json_response(200, print_and_delete(root), request_id, now_ms);
  record(call, 200, "");
  return reply;
}

const std::string& EmulatorCore::current_state(InstanceState& instance, std::int64_t now_ms) {
  if (instance.state != "Stopping" || instance.stop_outcome == StopOutcome::StuckStopping)
    return instance.state;
  // An instance configured as Stopping starts its stopping time when first looked at.
  if (instance.stopping_since_ms < 0) instance.stopping_since_ms = now_ms;
  if (now_ms - instance.stopping_since_ms >= instance.stopping_ms.value_or(stop_delay_ms_)) {
    instance.state = instance.stop_outcome == StopOutcome::BackToRunning ? "Running" : "Stopped";
    instance.stopping_since_ms = -1;
  }
  return instance.state;
}

void EmulatorCore::upsert_instance(const InstanceSpec& spec) {
  InstanceState& instance = instances_[spec.instance_id];  // keeps the stop count when replaced
  instance.region_id = spec.region_id;
  instance.state = spec.state;
  instance.stopping_since_ms = -1;
  instance.stopping_ms = spec.stopping_ms;
  instance.stop_outcome = spec.stop_outcome;
}

}  // namespace swas::emulator
