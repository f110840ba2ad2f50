// The product behind the gateway: ClientToken idempotency and the instance state machine.
#include "emulator_core.hpp"

#include "emulator_limits.hpp"

namespace swas::emulator {

EmulatorReply EmulatorCore::stop_instance(const ApiCall& call, std::int64_t now_ms) {
  EmulatorReply reply;
  const IdempotentAnswer* first =
      call.client_token.empty() ? nullptr : client_tokens_.find(call.client_token);
  if (first != nullptr && (first->instance_id != call.instance_id ||
                           first->region_id != call.region_id)) {
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
    const MaybeError error = apply_stop(call, now_ms);
    if (error) {
      reply = error_reply(call, *error, now_ms);
    } else {
      const std::string request_id = request_ids_.next();
      reply.response = json_response(200, success_body(request_id), request_id, now_ms);
    }
    if (!call.client_token.empty()) {
      const std::string* request_id = find_header(reply.response.headers, "x-acs-request-id");
      client_tokens_.remember(call.client_token,
                              {call.instance_id, call.region_id, reply.response.status,
                               reply.response.body, *request_id, reply.code});
    }
  }
  record(call, reply.response.status, reply.code);
  return reply;
}

EmulatorCore::MaybeError EmulatorCore::apply_stop(const ApiCall& call, std::int64_t now_ms) {
  const auto it = instances_.find(call.instance_id);
  if (it == instances_.end() || it->second.region_id != call.region_id)
    return ApiError{404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."};
  InstanceState& instance = it->second;
  if (current_state(instance, now_ms) != "Running")
    return ApiError{403, "IncorrectInstanceStatus",
                    "The state of the current instance does not support this operation."};
  instance.state = "Stopping";
  instance.stopping_since_ms = now_ms;
  ++instance.stops;
  return std::nullopt;
}

const std::string& EmulatorCore::current_state(InstanceState& instance, std::int64_t now_ms) {
  if (instance.state != "Stopping") return instance.state;
  // An instance configured as Stopping starts its delay when first looked at.
  if (instance.stopping_since_ms < 0) instance.stopping_since_ms = now_ms;
  if (now_ms - instance.stopping_since_ms >= stop_delay_ms_) {
    instance.state = "Stopped";
    instance.stopping_since_ms = -1;
  }
  return instance.state;
}

void EmulatorCore::upsert_instance(const InstanceSpec& spec) {
  InstanceState& instance = instances_[spec.instance_id];  // keeps the stop count when replaced
  instance.region_id = spec.region_id;
  instance.state = spec.state;
  instance.stopping_since_ms = -1;
}

}  // namespace swas::emulator
