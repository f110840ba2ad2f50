// The emulated SWAS endpoint as one request → reply function: no sockets, threads or clock.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "api_response.hpp"
#include "emulator_config.hpp"
#include "emulator_quotas.hpp"
#include "gateway_auth.hpp"
#include "http_types.hpp"
#include "replay_caches.hpp"

namespace swas::emulator {

// What the transport must do with a request: answer (perhaps after a delay) or drop it.
struct EmulatorReply {
  HttpResponse response;
  bool drop_connection = false;  // fault: close the connection without answering
  std::int64_t delay_ms = 0;     // fault: wait this long before answering
  std::string code;              // the error Code, for logs; empty on success
};

// Routes `POST /` (StopInstance, StopInstances and ListInstanceStatus, checked like the real
// gateway, with per-action quotas) and the unsigned `/__emulator/*` admin endpoints. Time is
// injected: `now_ms` is the emulator clock in Unix milliseconds. Thread-safe: one lock serialises
// handling (each call takes microseconds).
class EmulatorCore {
 public:
  explicit EmulatorCore(EmulatorConfig config,
                        std::uint64_t random_seed = std::random_device{}());

  EmulatorReply handle(const HttpRequest& request, std::int64_t now_ms);

 private:
  struct InstanceState {
    std::string region_id;
    std::string state;
    std::int64_t stopping_since_ms = -1;  // -1: not yet observed in Stopping
    std::uint64_t stops = 0;
    std::optional<std::int64_t> stopping_ms;  // absent: the config's stop_delay_ms
    StopOutcome stop_outcome = StopOutcome::Stopped;
  };
  struct LogEntry {
    std::string action, instance_id, instance_ids, region_id, client_token, nonce, force_stop;
    int status = 0;
    std::string code;
  };
  // One API request as the checks see it, read from headers and query once.
  struct ApiCall {
    const HttpRequest* request = nullptr;
    std::string host_id, path;
    std::vector<QueryParam> query;
    bool query_ok = true;
    std::string action, version, date, nonce;
    std::string instance_id, region_id, client_token;
    // ListInstanceStatus and StopInstances: InstanceIds as sent, and the parameters once
    // check_parameters read them.
    std::string instance_ids_text;
    std::vector<std::string> instance_ids;  // ListInstanceStatus: empty means the whole region
    std::int64_t page_number = 0, page_size = 0;
    std::string force_stop_text;  // StopInstances' ForceStop as sent
    bool force_stop = false;
    AuthorizationV3 auth;
    const Credential* credential = nullptr;
  };
  using MaybeError = std::optional<ApiError>;

  EmulatorReply handle_api(const HttpRequest& request, std::int64_t now_ms);
  ApiCall read_call(const HttpRequest& request) const;
  std::optional<EmulatorReply> apply_faults(const ApiCall& call, std::int64_t now_ms);
  MaybeError check_gateway(ApiCall& call, std::int64_t now_ms);
  MaybeError check_authorization(ApiCall& call) const;
  MaybeError check_access_key(ApiCall& call) const;
  MaybeError check_timestamp(const ApiCall& call, std::int64_t now_ms) const;
  MaybeError check_signature(const ApiCall& call) const;
  MaybeError check_security_token(const ApiCall& call) const;
  MaybeError check_nonce(const ApiCall& call, std::int64_t now_ms);
  MaybeError check_api(const ApiCall& call) const;
  MaybeError check_parameters(ApiCall& call) const;
  MaybeError check_list_parameters(ApiCall& call) const;
  MaybeError check_stop_instances_parameters(ApiCall& call) const;
  std::optional<EmulatorReply> apply_quota(const ApiCall& call, std::int64_t now_ms);
  void count_action(const std::string& action);
  EmulatorReply stop_instance(const ApiCall& call, std::int64_t now_ms);
  EmulatorReply stop_instances(const ApiCall& call, std::int64_t now_ms);
  // ClientToken idempotency around `apply` (the product's change, all or nothing): a retry with
  // the same parameters gets the first answer again, other parameters IdempotentParameterMismatch.
  template <typename Apply>
  EmulatorReply idempotent(const ApiCall& call, IdempotentParameters parameters,
                           std::int64_t now_ms, Apply apply);
  EmulatorReply list_instance_status(const ApiCall& call, std::int64_t now_ms);
  // Why `instance_id` cannot be stopped now (404 unknown or another region, 403 not Running);
  // `name_it` appends the id to the message (StopInstances names the offending instance).
  MaybeError stop_refusal(const std::string& instance_id, const std::string& region_id,
                          bool name_it, std::int64_t now_ms);
  void begin_stopping(InstanceState& instance, std::int64_t now_ms);
  EmulatorReply error_reply(const ApiCall& call, const ApiError& error, std::int64_t now_ms);
  void record(const ApiCall& call, int status, const std::string& code);

  EmulatorReply handle_admin(const HttpRequest& request, const std::string& path,
                             std::int64_t now_ms);
  EmulatorReply admin_state(std::int64_t now_ms);
  EmulatorReply admin_faults(const HttpRequest& request, std::int64_t now_ms);
  EmulatorReply admin_instances(const HttpRequest& request, std::int64_t now_ms);
  EmulatorReply admin_quotas(const HttpRequest& request, std::int64_t now_ms);
  EmulatorReply admin_reply(int status, std::string body, std::int64_t now_ms);
  void upsert_instance(const InstanceSpec& spec);
  // Stopping ends (Stopped, or Running for BackToRunning, never for StuckStopping) once the
  // instance's stopping time has passed; computed when looked at.
  const std::string& current_state(InstanceState& instance, std::int64_t now_ms);

  std::mutex mutex_;
  std::vector<Credential> credentials_;
  std::map<std::string, InstanceState> instances_;  // by InstanceId, sorted for stable output
  std::int64_t stop_delay_ms_;
  Faults faults_;
  QuotaLimiter quotas_;
  NonceCache nonces_;
  ClientTokenCache client_tokens_;
  std::deque<LogEntry> log_;
  std::uint64_t api_requests_ = 0;
  std::map<std::string, std::uint64_t> actions_;  // API requests by x-acs-action (bounded)
  RequestIdGenerator request_ids_;
};

}  // namespace swas::emulator
