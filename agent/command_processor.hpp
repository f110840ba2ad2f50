// The command workflow: intake (parse, deduplicate, journal) and execution (sign, send, retry,
// finish, publish). Exactly one result per command; nothing sent for an invalid one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloud_response.hpp"
#include "cloud_session.hpp"
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

struct ProcessorSettings {
  std::string gateway_id;
  std::string command_topic;
  std::optional<Endpoint> endpoint_override;  // cloud.endpoint; empty: per-region endpoint
  RetryPolicy retry;
  PolicyConfig policy;
  std::string command_key;  // the contents of policy.command_key_file; empty: not required
  std::uint32_t follow_deadline_s = limits::kDefaultFollowDeadlineS;  // follow.deadline_s
  std::uint32_t quota_max_wait_s = limits::kDefaultQuotaMaxWaitS;     // cloud.quota_max_wait_s
};

// Where a successful stop goes to be followed (docs/contract.md, "Following a stop"): it is
// already in the journal (recorded with the result). Thread-safe; never blocks.
class FollowSink {
 public:
  virtual ~FollowSink() = default;
  // `journaled` is false when the journal could not record it (the follower reports NotFollowed).
  // False: no room (the caller drops the follow and reports NotFollowed itself).
  virtual bool follow(FollowRecord record, bool journaled) = 0;
};

// A command the journal accepted, waiting for a worker.
struct ExecutionItem {
  StopCommand command;
  Route route;
  std::optional<std::int64_t> expires_at_ms;  // the earlier of expiresAt and MQTT message expiry
  bool resumed = false;                       // accepted before a restart
  std::int64_t accepted_ms = 0;               // when the command arrived
  std::optional<std::int64_t> told_ms{};      // when a RateLimited progress message went out
};

// Where the result of a message goes: its Response Topic (with Correlation Data) when that is
// usable, else the command topic with `problem` saying why the Response Topic was not used.
struct RouteDecision {
  Route route;
  std::optional<RouteProblem> problem;
};

// execute(), recover() and republish_unacknowledged() are thread-safe (each executing thread
// passes its own transport). intake() and intake_many() must be called from one thread at a time
// (the agent's intake thread): they own the rate limiter.
class CommandProcessor {
 public:
  CommandProcessor(ProcessorSettings settings, std::optional<Credentials> credentials, Clock& clock,
                   Entropy& entropy, Journal& journal, MessagePublisher& publisher, Telemetry& telemetry,
                   Logger& logger);

  // Successful stops are journaled as follows and handed to `sink` (follow.enabled); none by
  // default. Call before the first execute().
  void set_follow_sink(FollowSink* sink) { follow_sink_ = sink; }
  // Every cloud call waits for its turn under the account's rate quota (docs/contract.md); none
  // by default (then a throttled answer is retried under the retry rule). Call before execute().
  void set_pacer(CallPacer* pacer) { pacer_ = pacer; }
  // The cloud settings, shared with the follower.
  CloudSession& cloud() { return cloud_; }

  // Parses and validates `msg`, answers what needs no cloud call (invalid, duplicate, journal
  // full), and returns the item to execute when the journal accepted a new command.
  std::optional<ExecutionItem> intake(const IncomingMessage& msg);
  // intake() for several messages in arrival order, journaling them as one change (one commit:
  // one fsync with journal.durability full, however many there are).
  std::vector<ExecutionItem> intake_many(const std::vector<IncomingMessage>& msgs);
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
  // A message that passed every check made before the journal, with what to record.
  struct Screened {
    JournalRecord record;
    ParsedCommand parsed;
    std::optional<CommandRejection> refusal;  // to record and answer (invalid with an id, Forbidden)
    std::int64_t screened_ms = 0;
    // Over the rate limit, with an id that an earlier message of the same batch carries: answered
    // like a known id once the batch is journaled, otherwise Throttled.
    bool over_rate_limit = false;
  };
  // `batch_ids`: the ids of the messages screened before this one in the same intake_many batch.
  std::optional<Screened> screen(const IncomingMessage& msg, const std::set<std::string>& batch_ids = {});
  std::optional<ExecutionItem> admit(Screened& s, const Expected<BeginResult, std::string>& begun);

  struct Outcome {
    std::string payload;
    CommandOutcome kind;
    std::string error;       // for the status's last_error
    bool abandoned = false;  // shutting down: left accepted in the journal, resumed at start-up
    std::string request_id{};  // of a successful stop
  };
  Outcome call_cloud(const ExecutionItem& item, HttpsTransport& transport);
  void rate_limited_progress(const ExecutionItem& item, std::optional<std::int64_t> wait_ms,
                             const std::optional<CloudError>& throttle, std::size_t queued_behind = 0);
  Outcome rate_limited_outcome(const ExecutionItem& item, const std::optional<CloudError>& throttle);
  std::optional<Outcome> final_outcome(const StopCommand& cmd, const Expected<HttpResponse, TransportError>& response,
                                       const CloudOutcome* parsed,
                                       bool may_retry, int attempt);
  void answer(const std::string& id, const Route& route, const std::string& payload);
  bool answer_known(const std::string& id, const Route& route, const BeginResult& known);
  void refuse(const ParsedCommand& parsed, const Route& route, AgentError code, const std::string& why);
  void log(LogLevel level, const std::string& line);

  ProcessorSettings settings_;
  CloudSession cloud_;
  FollowSink* follow_sink_ = nullptr;
  CallPacer* pacer_ = nullptr;
  Clock& clock_;
  Journal& journal_;
  MessagePublisher& publisher_;
  Telemetry& telemetry_;
  Logger& logger_;
  TokenBucket bucket_;
};

}  // namespace swas
