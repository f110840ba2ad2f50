// The command workflow: one incoming message in, exactly one result out (or none for non-commands).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "command.hpp"
#include "credentials.hpp"
#include "http_types.hpp"
#include "limits.hpp"
#include "ports.hpp"
#include "result_cache.hpp"

namespace swas {

// A message as received on the command topic, transport-neutral.
struct IncomingMessage {
  std::string topic;
  std::string payload;
  std::string response_topic;    // MQTT 5 Response Topic; empty when none
  std::string correlation_data;  // MQTT 5 Correlation Data; empty when none
};

// Attempts in all and exponential backoff with full jitter between them.
struct RetryPolicy {
  int max_attempts = limits::kDefaultMaxAttempts;
  std::uint32_t backoff_base_ms = limits::kDefaultBackoffBaseMs;
  std::uint32_t backoff_max_ms = limits::kDefaultBackoffMaxMs;
};

struct ProcessorSettings {
  std::string gateway_id;
  std::string command_topic;
  std::optional<Endpoint> endpoint_override;  // cloud.endpoint; empty: per-region endpoint
  RetryPolicy retry;
  std::size_t remembered_results = limits::kDefaultDedupEntries;
};

// Where the result of `msg` goes: its Response Topic (with Correlation Data), else command_topic.
OutgoingMessage route_result(const IncomingMessage& msg, const std::string& command_topic,
                             std::string payload);

// The Busy answer for a message the queue could not take; nullopt when it is not a command.
std::optional<OutgoingMessage> busy_answer(const IncomingMessage& msg, const std::string& gateway_id,
                                           const std::string& command_topic);

// Not thread-safe: one worker calls handle() at a time.
class CommandProcessor {
 public:
  CommandProcessor(ProcessorSettings settings, std::optional<Credentials> credentials, Clock& clock,
                   Entropy& entropy, HttpsTransport& transport, MessagePublisher& publisher,
                   Logger& logger);

  // Validates, executes and answers one message. Never throws on any payload.
  void handle(const IncomingMessage& msg);

 private:
  struct Outcome {
    std::string payload;
    bool remember;  // transient agent errors are not remembered: a resend may try again
  };
  Outcome execute(const StopCommand& cmd);
  std::optional<Outcome> attempt_outcome(const StopCommand& cmd, int attempt,
                                         const Expected<HttpResponse, TransportError>& response);
  bool back_off(int attempt);
  std::string fresh_nonce();
  void log(LogLevel level, const std::string& line);

  ProcessorSettings settings_;
  std::optional<Credentials> credentials_;
  Clock& clock_;
  Entropy& entropy_;
  HttpsTransport& transport_;
  MessagePublisher& publisher_;
  Logger& logger_;
  ResultCache results_;
};

}  // namespace swas
