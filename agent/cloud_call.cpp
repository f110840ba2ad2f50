// CommandProcessor's cloud call: sign, send, and the retry rule (docs/contract.md, "The retry rule").
#include <algorithm>

#include "attempt_rules.hpp"
#include "command_processor.hpp"
#include "config.hpp"
#include "result_message.hpp"
#include "stop_request.hpp"
#include "time_format.hpp"

namespace swas {

CommandProcessor::Outcome CommandProcessor::call_cloud(const StopCommand& cmd, HttpsTransport& transport) {
  if (!credentials_) {
    log(LogLevel::Error, "command " + cmd.id + ": no credentials are configured");
    return {encode_agent_error(cmd, AgentError::CredentialsMissing,
                               "no credentials are configured on the gateway: set "
                               "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET or provide credentials_file"),
            CommandOutcome::Failed, "CredentialsMissing"};
  }
  const Endpoint endpoint =
      settings_.endpoint_override ? *settings_.endpoint_override : region_endpoint(cmd.region_id);
  const RetryPolicy& policy = settings_.retry;
  const std::int64_t deadline = clock_.now_unix_ms() + policy.deadline_ms;
  bool clock_fixed = false;
  bool nonce_renewed = false;
  for (int attempt = 1;; ++attempt) {
    const std::string date = format_iso8601_utc(clock_.now_unix_ms() / 1000);
    const auto response = transport.round_trip(endpoint, build_stop_request(cmd, endpoint, *credentials_, date, fresh_nonce()));
    std::optional<CloudOutcome> parsed;
    if (response) parsed = parse_cloud_response(*response);
    const AttemptJudgement j = judge_attempt(response, parsed ? &*parsed : nullptr);
    if (j.verdict == AttemptVerdict::FixClock && !clock_fixed) {
      clock_fixed = true;
      if (correct_clock(*j.server_time_ms)) {
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
    const std::uint32_t wait = retry ? backoff_ms(attempt, j.retry_after_ms) : 0;
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
    return Outcome{encode_success(cmd, ok->request_id), CommandOutcome::Succeeded, ""};
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

// Full jitter in [0, min(max, base * 2^(attempt-1))]; a Throttling hint is honoured as a floor.
std::uint32_t CommandProcessor::backoff_ms(int attempt, std::optional<std::uint32_t> hint) {
  std::uint64_t cap = settings_.retry.backoff_base_ms;
  for (int i = 1; i < attempt && cap < settings_.retry.backoff_max_ms; ++i) cap *= 2;
  cap = std::min<std::uint64_t>(cap, settings_.retry.backoff_max_ms);
  unsigned char r[4];
  entropy_.fill(r, sizeof r);
  const std::uint32_t random = (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) |
                               (std::uint32_t{r[2]} << 8) | r[3];
  const auto jitter = static_cast<std::uint32_t>(cap == 0 ? 0 : random % (cap + 1));
  return hint ? std::max(*hint, jitter) : jitter;
}

bool CommandProcessor::correct_clock(std::int64_t server_ms) {
  const std::int64_t delta = server_ms - clock_.now_unix_ms();
  const std::int64_t offset = clock_.offset_ms() + delta;
  if (offset > limits::kMaxClockCorrectionMs || offset < -limits::kMaxClockCorrectionMs) {
    const std::int64_t hours = (offset < 0 ? -offset : offset) / 3600000;
    log(LogLevel::Error, "the cloud refused our time stamp and its Date is " + std::to_string(hours) +
                             " h away from the gateway clock: more than the 24 h the agent corrects by itself; "
                             "not corrected (set the gateway clock: NTP, or date -s)");
    return false;
  }
  clock_.set_offset_ms(offset);
  const std::int64_t tenths = ((offset < 0 ? -offset : offset) + 50) / 100;
  log(LogLevel::Warn, "the cloud refused our time stamp: the gateway clock is " + std::to_string(tenths / 10) + "." +
                          std::to_string(tenths % 10) + " s " + (offset > 0 ? "behind" : "ahead of") +
                          " the cloud's; correcting x-acs-date by that offset from now on");
  return true;
}

}  // namespace swas
