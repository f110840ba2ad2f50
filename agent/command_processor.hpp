// The command workflow: intake (parse, deduplicate, journal) and execution (sign, send, retry,
// finish, publish). Exactly one result per command; nothing sent for an invalid one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cloud_response.hpp"
#include "command.hpp"
#include "command_policy.hpp"
#include "config.hpp"
#include "credentials.hpp"
#include "http_types.hpp"
#include "journal.hpp"
#include "limits.hpp"
#include "ports.hpp"

namespace swas {

// A message as received on the command topic, transport-neutral.
struct IncomingMessage {
  std::string topic;
  std::string payload;
  std::string response_topic;    // MQTT 5 Response Topic; empty when none
  std::string correlation_data;  // MQTT 5 Correlation Data; empty when none
  std::int64_t received_ms = 0;  // when the MQTT library handed it over
  std::optional<std::uint32_t> message_expiry_s;  // MQTT 5 Message Expiry Interval left
};

// Attempts, exponential backoff with full jitter, and a total deadline per command (cloud.retry).
using RetryPolicy = RetryConfig;

struct ProcessorSettings {
  std::string gateway_id;
  std::string command_topic;
  std::optional<Endpoint> endpoint_override;  // cloud.endpoint; empty: per-region endpoint
  RetryPolicy retry;
  PolicyConfig policy;
  std::string command_key;  // the contents of policy.command_key_file; empty: not required
};

// A command the journal accepted, waiting for a worker.
struct ExecutionItem {
  StopCommand command;
  Route route;
  std::optional<std::int64_t> expires_at_ms;  // the earlier of expiresAt and MQTT message expiry
  bool resumed = false;                       // accepted before a restart
};

// Where the result of a message goes: its Response Topic (with Correlation Data) when that is
// usable, else the command topic with `problem` saying why the Response Topic was not used.
struct RouteDecision {
  Route route;
  std::optional<RouteProblem> problem;
};

// execute(), recover() and republish_unacknowledged() are thread-safe (each executing thread
// passes its own transport). intake() must be called from one thread at a time (the MQTT
// delivery thread): it owns the rate limiter.
class CommandProcessor {
 public:
  CommandProcessor(ProcessorSettings settings, std::optional<Credentials> credentials, Clock& clock,
                   Entropy& entropy, Journal& journal, MessagePublisher& publisher, Telemetry& telemetry,
                   Logger& logger);

  // Parses and validates `msg`, answers what needs no cloud call (invalid, duplicate, journal
  // full), and returns the item to execute when the journal accepted a new command.
  std::optional<ExecutionItem> intake(const IncomingMessage& msg);
  // The Busy answer for a message the agent cannot take now (its queue is full); nullopt when it
  // is not a command. Thread-safe (reads the settings only).
  std::optional<OutgoingMessage> busy_answer(const IncomingMessage& msg, const std::string& why) const;
  // Where the result of `msg` goes (validated Response Topic, else the command topic).
  RouteDecision route_for(const IncomingMessage& msg) const;
  // Runs one accepted command to its terminal result, records it, publishes it.
  void execute(const ExecutionItem& item, HttpsTransport& transport);
  // Start-up: the accepted-but-unfinished commands to run again (same ClientToken).
  std::vector<ExecutionItem> recover();
  // Publishes again every result not acknowledged by the broker that finished before `before_ms`.
  std::size_t republish_unacknowledged(std::int64_t before_ms);

 private:
  struct Outcome {
    std::string payload;
    CommandOutcome kind;
    std::string error;       // for the status's last_error
    bool abandoned = false;  // shutting down: left accepted in the journal, resumed at start-up
  };
  Outcome call_cloud(const StopCommand& cmd, HttpsTransport& transport);
  std::optional<Outcome> final_outcome(const StopCommand& cmd, const Expected<HttpResponse, TransportError>& response,
                                       const CloudOutcome* parsed,
                                       bool may_retry, int attempt);
  std::uint32_t backoff_ms(int attempt, std::optional<std::uint32_t> hint);
  bool correct_clock(std::int64_t server_ms);  // false: beyond limits::kMaxClockCorrectionMs
  void answer(const std::string& id, const Route& route, const std::string& payload);
  bool answer_known(const std::string& id, const Route& route, const BeginResult& known);
  void refuse(const ParsedCommand& parsed, const Route& route, AgentError code, const std::string& why);
  std::string fresh_nonce();
  void log(LogLevel level, const std::string& line);

  ProcessorSettings settings_;
  std::optional<Credentials> credentials_;
  Clock& clock_;
  Entropy& entropy_;
  Journal& journal_;
  MessagePublisher& publisher_;
  Telemetry& telemetry_;
  Logger& logger_;
  TokenBucket bucket_;
};

}  // namespace swas
