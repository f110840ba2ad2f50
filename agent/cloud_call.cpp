// CommandProcessor's cloud call: sign, send, and the retry rule (docs/contract.md, "The retry rule").
#include "attempt_rules.hpp"
#include "command_processor.hpp"
#include "config.hpp"
#include "limits.hpp"
#include "result_message.hpp"
#include "stop_request.hpp"
#include "time_format.hpp"

namespace swas {

CommandProcessor::Outcome CommandProcessor::call_cloud(const ExecutionItem& item, HttpsTransport& transport) {
  const StopCommand& cmd = item.command;
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
  const std::string action = cmd.api_action();
  // Waiting for the rate quota is bounded by the command's expiry, not by the retry rule: the time
  // spent waiting for turns and in throttled calls (`paced_ms`) does not count against deadline_ms.
  const std::int64_t quota_deadline =
      item.expires_at_ms ? *item.expires_at_ms : item.accepted_ms + std::int64_t{settings_.quota_max_wait_s} * 1000;
  const std::int64_t deadline = clock_.now_unix_ms() + policy.deadline_ms;
  std::int64_t paced_ms = 0;
  std::optional<CloudError> last_throttle;
  std::optional<std::int64_t> last_progress = item.told_ms;
  bool clock_fixed = false;
  bool nonce_renewed = false;
  for (int attempt = 1;; ++attempt) {
    if (pacer_) {
      const std::int64_t t0 = clock_.now_unix_ms();
      const CallPacer::Turn turn = pacer_->acquire(action, quota_deadline, [&](std::optional<std::int64_t> wait) {
        const std::int64_t now = clock_.now_unix_ms();
        if (last_progress && now - *last_progress < limits::kProgressIntervalMs) return;
        last_progress = now;
        rate_limited_progress(item, wait, last_throttle);
      });
      paced_ms += clock_.now_unix_ms() - t0;
      if (turn == CallPacer::Turn::ShuttingDown) return Outcome{"", CommandOutcome::Failed, "shutting down", true};
      if (turn == CallPacer::Turn::Deadline) return rate_limited_outcome(item, last_throttle);
    }
    const std::int64_t call_started = clock_.now_unix_ms();
    const auto response = transport.round_trip(
        endpoint, build_stop_request(cmd, endpoint, *credentials, cloud_.x_acs_date(), cloud_.fresh_nonce()));
    std::optional<CloudOutcome> parsed;
    if (response) parsed = parse_cloud_response(*response);
    const AttemptJudgement j = judge_attempt(response, parsed ? &*parsed : nullptr);
    const CloudError* error = parsed ? std::get_if<CloudError>(&*parsed) : nullptr;
    const bool throttled = response && (response->status == 429 || (error && is_throttling(*error)));
    if (pacer_) {
      pacer_->ended(action, !response ? CallEnd::NoAnswer : throttled ? CallEnd::Throttled : CallEnd::Answered,
                    j.retry_after_ms);
      if (throttled) {
        // Not a failed attempt: the command waits for its turn again, with the same ClientToken.
        if (error) last_throttle = *error;
        paced_ms += clock_.now_unix_ms() - call_started;
        log(LogLevel::Warn, "command " + cmd.id + ": the cloud throttled " + action + " (HTTP " +
                                std::to_string(response->status) + (error ? " " + error->code : std::string()) +
                                "); every " + action + " call is held, the command waits for its turn");
        --attempt;
        continue;
      }
    }
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
    if (retry && clock_.now_unix_ms() - paced_ms + wait >= deadline) retry = false;
    if (auto outcome = final_outcome(cmd, response, parsed ? &*parsed : nullptr, retry, attempt)) return *outcome;
    if (!clock_.sleep_ms(wait)) return Outcome{"", CommandOutcome::Failed, "shutting down", true};
  }
}

void CommandProcessor::rate_limited_progress(const ExecutionItem& item, std::optional<std::int64_t> wait_ms,
                                             const std::optional<CloudError>& throttle, std::size_t queued_behind) {
  const StopCommand& cmd = item.command;
  const std::string action = cmd.api_action();
  const std::string quota = pacer_->quota_text(action);
  std::string message = "waiting for the cloud's rate limit of " + action;
  if (throttle) message += " (the cloud answered " + throttle->code + ")";
  else if (!quota.empty()) message += " (cloud.quota " + quota + ")";
  if (queued_behind > 0) message += ", queued behind " + std::to_string(queued_behind) + " call(s) waiting for it";
  if (wait_ms) message += "; the stop is sent in about " + std::to_string((*wait_ms + 999) / 1000) + " s";
  else message += "; the stop is sent as soon as the cloud takes calls again";
  log(LogLevel::Info, "command " + cmd.id + ": " + message);
  publisher_.publish(OutgoingMessage{item.route.topic, encode_rate_limited_progress(cmd, wait_ms, message),
                                     item.route.correlation_data, "", false});
}

CommandProcessor::Outcome CommandProcessor::rate_limited_outcome(const ExecutionItem& item,
                                                                 const std::optional<CloudError>& throttle) {
  const StopCommand& cmd = item.command;
  const std::int64_t waited_s = (clock_.now_unix_ms() - item.accepted_ms) / 1000;
  if (throttle) {
    log(LogLevel::Warn, "command " + cmd.id + " expired waiting for the cloud's rate limit; its last answer was " +
                            throttle->code);
    return Outcome{encode_cloud_error(cmd, *throttle), CommandOutcome::Failed, throttle->code + ": " + throttle->message};
  }
  const std::string why = "waited " + std::to_string(waited_s) + " s for the cloud's rate limit of " + cmd.api_action() +
                          " (until the command's expiry, or cloud.quota_max_wait_s); not sent";
  log(LogLevel::Warn, "command " + cmd.id + ": " + why);
  return Outcome{encode_agent_error(cmd, AgentError::RateLimited, why), CommandOutcome::Failed, "RateLimited"};
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
