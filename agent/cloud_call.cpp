// CommandProcessor's cloud call: sign, send, and the retry rule (docs/contract.md, "The retry rule").
#include "attempt_rules.hpp"
#include "command_processor.hpp"
#include "config.hpp"
#include "result_message.hpp"
#include "stop_request.hpp"
#include "time_format.hpp"

namespace swas {

CommandProcessor::Outcome CommandProcessor::call_cloud(const StopCommand& cmd, HttpsTransport& transport) {
  const Credentials* credentials = cloud_.credentials();
  if (!credentials) {
    log(LogLevel::Error, "command " + cmd.id + ": no credentials are configured");
    return {encode_agent_error(cmd, AgentError::CredentialsMissing,
                               "no credentials are configured on the gateway: set "
                               "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET or provide credentials_file"),
            CommandOutcome::Failed, "CredentialsMissing"};
  }
  const Endpoint endpoint = cloud_.endpoint_for(cmd.region_id);
  const RetryPolicy& policy = cloud_.retry();
  const std::int64_t deadline = clock_.now_unix_ms() + policy.deadline_ms;
  bool clock_fixed = false;
  bool nonce_renewed = false;
  for (int attempt = 1;; ++attempt) {
    const auto response = transport.round_trip(
        endpoint, build_stop_request(cmd, endpoint, *credentials, cloud_.x_acs_date(), cloud_.fresh_nonce()));
    std::optional<CloudOutcome> parsed;
    if (response) parsed = parse_cloud_response(*response);
    const AttemptJudgement j = judge_attempt(response, parsed ? &*parsed : nullptr);
    if (j.verdict == AttemptVerdict::FixClock && !clock_fixed) {
      clock_fixed = true;
      if (cloud_.correct_clock(*j.server_time_ms)) {
        --attempt;  // the corrected attempt does not count against max_attempts
        continue;
      }
    }
    if (j.verdict == AttemptVerdict::NewNonce && !nonce_renewed) {
      nonce_renewed = true;
      log(LogLevel::Warn, "command " + cmd.id + ": the cloud had seen the nonce; retrying once with a new one");
      --attempt;
      continue;
    }
    bool retry = j.verdict == AttemptVerdict::Retry && attempt < policy.max_attempts;
    const std::uint32_t wait = retry ? cloud_.backoff_ms(attempt, j.retry_after_ms) : 0;
    if (retry && clock_.now_unix_ms() + wait >= deadline) retry = false;
    if (auto outcome = final_outcome(cmd, response, parsed ? &*parsed : nullptr, retry, attempt)) return *outcome;
    if (!clock_.sleep_ms(wait)) return Outcome{"", CommandOutcome::Failed, "shutting down", true};
  }
}

// The terminal outcome of an attempt, or nullopt when the command will be retried.
// `parsed` is the attempt's answer as parse_cloud_response read it (null when there was none).
std::optional<CommandProcessor::Outcome> CommandProcessor::final_outcome(
    const StopCommand& cmd, const Expected<HttpResponse, TransportError>& response, const CloudOutcome* parsed,
    bool retry, int attempt) {
  if (!response) {
    const std::string what = std::string(to_string(response.error().kind)) + ": " + response.error().detail;
    log(LogLevel::Warn, "command " + cmd.id + ": cloud " + what + (retry ? "; will retry" : ""));
    if (retry) return std::nullopt;
    return Outcome{encode_agent_error(cmd, AgentError::CloudUnreachable,
                                      "cloud " + what + " (after " + std::to_string(attempt) + " attempt" +
                                          (attempt == 1 ? "" : "s") + ")"),
                   CommandOutcome::Failed, "CloudUnreachable: " + what};
  }
  const CloudOutcome& outcome = *parsed;
  if (const auto* ok = std::get_if<CloudSuccess>(&outcome)) {
    log(LogLevel::Info, "command " + cmd.id + " succeeded, RequestId=" + ok->request_id);
    return Outcome{encode_success(cmd, ok->request_id), CommandOutcome::Succeeded, "", false, ok->request_id};
  }
  if (retry) {
    log(LogLevel::Warn, "command " + cmd.id + ": cloud answered HTTP " + std::to_string(response->status) +
                            "; will retry");
    return std::nullopt;
  }
  if (const auto* err = std::get_if<CloudError>(&outcome)) {
    log(LogLevel::Warn, "command " + cmd.id + " failed: HTTP " + std::to_string(err->http_status) + " " +
                            err->code + " RequestId=" + err->request_id);
    return Outcome{encode_cloud_error(cmd, *err), CommandOutcome::Failed, err->code + ": " + err->message};
  }
  const auto& unreadable = std::get<CloudUnreadable>(outcome);
  const std::string why = "the cloud answered HTTP " + std::to_string(unreadable.http_status) + " but " + unreadable.reason;
  log(LogLevel::Warn, "command " + cmd.id + ": " + why);
  return Outcome{encode_agent_error(cmd, AgentError::InvalidCloudResponse, why, unreadable.http_status),
                 CommandOutcome::Failed, "InvalidCloudResponse"};
}

}  // namespace swas
