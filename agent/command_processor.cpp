// The workflow: parse -> remembered? -> sign and send with retries -> encode -> publish.
#include "command_processor.hpp"

#include "cloud_response.hpp"
#include "config.hpp"
#include "result_message.hpp"
#include "signer.hpp"
#include "stop_request.hpp"
#include "time_format.hpp"

namespace swas {

OutgoingMessage route_result(const IncomingMessage& msg, const std::string& command_topic,
                             std::string payload) {
  OutgoingMessage out;
  out.topic = msg.response_topic.empty() ? command_topic : msg.response_topic;
  out.correlation_data = msg.response_topic.empty() ? std::string() : msg.correlation_data;
  out.payload = std::move(payload);
  return out;
}

std::optional<OutgoingMessage> busy_answer(const IncomingMessage& msg, const std::string& gateway_id,
                                           const std::string& command_topic) {
  ParsedCommand parsed = parse_command(msg.payload, gateway_id);
  if (std::holds_alternative<NotACommand>(parsed)) return std::nullopt;
  std::string payload;
  if (auto* cmd = std::get_if<StopCommand>(&parsed)) {
    payload = encode_agent_error(*cmd, AgentError::Busy,
                                 "the agent's command queue is full; send the command again later");
  } else {
    // A command that is invalid anyway gets its validation error: it would never run.
    payload = encode_rejection(std::get<CommandRejection>(parsed));
  }
  return route_result(msg, command_topic, std::move(payload));
}

CommandProcessor::CommandProcessor(ProcessorSettings settings, std::optional<Credentials> credentials,
                                   Clock& clock, Entropy& entropy, HttpsTransport& transport,
                                   MessagePublisher& publisher, Logger& logger)
    : settings_(std::move(settings)), credentials_(std::move(credentials)), clock_(clock),
      entropy_(entropy), transport_(transport), publisher_(publisher), logger_(logger),
      results_(settings_.remembered_results) {}

void CommandProcessor::log(LogLevel level, const std::string& line) {
  if (logger_.enabled(level)) logger_.write(level, line);
}

void CommandProcessor::handle(const IncomingMessage& msg) {
  ParsedCommand parsed = parse_command(msg.payload, settings_.gateway_id);
  if (auto* other = std::get_if<NotACommand>(&parsed)) {
    log(LogLevel::Debug, "ignored a message of type \"" + other->type + "\" on " + msg.topic);
    return;
  }
  if (auto* rejection = std::get_if<CommandRejection>(&parsed)) {
    log(LogLevel::Warn, "command " + rejection->id.value_or("(unreadable)") + " rejected: " +
                            std::string(to_string(rejection->code)) + ": " + rejection->message);
    std::string payload = encode_rejection(*rejection);
    if (rejection->id) {
      if (const std::string* earlier = results_.find(*rejection->id)) payload = *earlier;
      else results_.put(*rejection->id, payload);
    }
    publisher_.publish(route_result(msg, settings_.command_topic, std::move(payload)));
    return;
  }
  const StopCommand& cmd = std::get<StopCommand>(parsed);
  if (const std::string* earlier = results_.find(cmd.id)) {
    log(LogLevel::Info, "command " + cmd.id + " is a duplicate; answering its earlier result");
    publisher_.publish(route_result(msg, settings_.command_topic, *earlier));
    return;
  }
  log(LogLevel::Info, "command " + cmd.id + " StopInstance " + cmd.instance_id + " in " +
                          cmd.region_id + " ClientToken=" + cmd.client_token);
  Outcome outcome = execute(cmd);
  if (outcome.remember) results_.put(cmd.id, outcome.payload);
  publisher_.publish(route_result(msg, settings_.command_topic, std::move(outcome.payload)));
}

CommandProcessor::Outcome CommandProcessor::execute(const StopCommand& cmd) {
  if (!credentials_) {
    log(LogLevel::Error, "command " + cmd.id + ": no credentials are configured");
    return {encode_agent_error(cmd, AgentError::CredentialsMissing,
                               "no credentials are configured on the gateway: set "
                               "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET or "
                               "provide credentials_file"),
            false};
  }
  const Endpoint endpoint =
      settings_.endpoint_override ? *settings_.endpoint_override : region_endpoint(cmd.region_id);
  const int max_attempts = settings_.retry.max_attempts < 1 ? 1 : settings_.retry.max_attempts;
  for (int attempt = 1;; ++attempt) {
    const std::string date = format_iso8601_utc(clock_.now_unix_ms() / 1000);
    const HttpRequest request =
        build_stop_request(cmd, endpoint, *credentials_, date, fresh_nonce());
    const auto response = transport_.round_trip(endpoint, request);
    const bool last = attempt >= max_attempts;
    if (auto outcome = attempt_outcome(cmd, last ? 0 : attempt, response)) return *outcome;
    if (!back_off(attempt)) {
      return {encode_agent_error(cmd, AgentError::CloudUnreachable,
                                 "the agent is shutting down; the command was not completed"),
              false};
    }
  }
}

// The result of one attempt, or nullopt when the rule says try again. `attempt` is 0 on the last.
std::optional<CommandProcessor::Outcome> CommandProcessor::attempt_outcome(
    const StopCommand& cmd, int attempt, const Expected<HttpResponse, TransportError>& response) {
  const bool may_retry = attempt != 0;
  if (!response) {
    const std::string what = std::string(to_string(response.error().kind)) + ": " + response.error().detail;
    log(LogLevel::Warn, "command " + cmd.id + ": cloud " + what + (may_retry ? "; will retry" : ""));
    if (may_retry) return std::nullopt;
    return Outcome{encode_agent_error(cmd, AgentError::CloudUnreachable,
                                      "cloud " + what + " (after " +
                                          std::to_string(settings_.retry.max_attempts) + " attempts)"),
                   false};
  }
  const CloudOutcome outcome = parse_cloud_response(*response);
  if (const auto* ok = std::get_if<CloudSuccess>(&outcome)) {
    log(LogLevel::Info, "command " + cmd.id + " succeeded, RequestId=" + ok->request_id);
    return Outcome{encode_success(cmd, ok->request_id), true};
  }
  if (may_retry && is_retryable_status(response->status)) {
    log(LogLevel::Warn, "command " + cmd.id + ": cloud answered HTTP " +
                            std::to_string(response->status) + "; will retry");
    return std::nullopt;
  }
  if (const auto* err = std::get_if<CloudError>(&outcome)) {
    log(LogLevel::Warn, "command " + cmd.id + " failed: HTTP " + std::to_string(err->http_status) +
                            " " + err->code + " RequestId=" + err->request_id);
    return Outcome{encode_cloud_error(cmd, *err), true};
  }
  const auto& unreadable = std::get<CloudUnreadable>(outcome);
  log(LogLevel::Warn, "command " + cmd.id + ": unreadable cloud answer (HTTP " +
                          std::to_string(unreadable.http_status) + "): " + unreadable.reason);
  return Outcome{encode_agent_error(cmd, AgentError::InvalidCloudResponse,
                                    "the cloud answered HTTP " + std::to_string(unreadable.http_status) +
                                        " but " + unreadable.reason,
                                    unreadable.http_status),
                 false};
}

// Full jitter: a uniformly random wait in [0, min(max, base * 2^(attempt-1))].
bool CommandProcessor::back_off(int attempt) {
  std::uint64_t cap = settings_.retry.backoff_base_ms;
  for (int i = 1; i < attempt && cap < settings_.retry.backoff_max_ms; ++i) cap *= 2;
  if (cap > settings_.retry.backoff_max_ms) cap = settings_.retry.backoff_max_ms;
  unsigned char r[4];
  entropy_.fill(r, sizeof r);
  const std::uint32_t random = (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) |
                               (std::uint32_t{r[2]} << 8) | r[3];
  const auto wait = static_cast<std::uint32_t>(cap == 0 ? 0 : random % (cap + 1));
  return clock_.sleep_ms(wait);
}

std::string CommandProcessor::fresh_nonce() {
  unsigned char bytes[16];
  entropy_.fill(bytes, sizeof bytes);
  return hex_lower(bytes, sizeof bytes);
}

}  // namespace swas
