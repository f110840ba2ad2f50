// The Journal port: the durable record of every command from acceptance to the broker's ack.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expected.hpp"

namespace swas {

// Where a result goes (the command's Response Topic and Correlation Data, or the command topic).
struct Route {
  std::string topic;
  std::string correlation_data;
};

// A command as accepted: enough to run it again after a restart with the same ClientToken.
struct JournalRecord {
  std::string id;
  std::string action;
  std::string instance_id;
  std::string region_id;
  std::string client_token;  // fixed at acceptance
  Route route;
  std::int64_t accepted_ms = 0;
  std::optional<std::int64_t> expires_at_ms;
  std::vector<std::string> instance_ids{};  // an InstanceIds command's (then instance_id is empty)
  bool force_stop = false;
};

// A successful stop being followed to Stopped (docs/contract.md, "Following a stop").
struct FollowRecord {
  std::string id;  // the command's
  std::string instance_id;
  std::string region_id;
  std::string request_id;  // of the successful StopInstance
  Route route;             // the result's
  std::int64_t accepted_ms = 0;  // the command's arrival: elapsedMs counts from it
  std::int64_t deadline_ms = 0;  // TimedOut after this
  std::string reported_status;   // the last Status published as progress; empty: none yet
  bool many = false;             // one of the instances of an InstanceIds command

  // What the journal keys the follow by: the command id, or for an InstanceIds command the id and
  // the instance (a unit separator between them: command ids are printable ASCII and instance ids
  // have no control characters).
  std::string key() const { return many ? id + '\x1f' + instance_id : id; }
};

// What start-up resumes: follows still polling, and the keys of follows whose final message the
// broker has not acknowledged yet (republished through unacknowledged()).
struct FollowBacklog {
  std::vector<FollowRecord> following;
  std::vector<std::string> awaiting_ack;
};

// The key under which a final lifecycle message's ack reaches Journal::acknowledge (from a
// follow's key()). Command ids are printable ASCII, so the leading control character keeps the
// two kinds apart.
inline std::string lifecycle_ack_key(std::string_view follow_key) {
  return std::string(1, '\x01') + std::string(follow_key);
}
inline bool is_lifecycle_ack_key(std::string_view key) { return !key.empty() && key.front() == '\x01'; }
inline std::string_view id_of_lifecycle_ack_key(std::string_view key) { return key.substr(1); }

enum class BeginState {
  New,       // recorded now (durably, per the durability setting); the caller runs it
  InFlight,  // accepted earlier and not finished: another worker (or the restart) runs it
  Finished,  // finished earlier: `result_payload` is its result
  Full,      // the journal is at its bound with nothing it may forget: answer Busy
};

struct BeginResult {
  BeginState state = BeginState::New;
  std::string result_payload;
  // InFlight from begin(): the record's route is already registered as a waiter (as add_waiter),
  // atomically with respect to finish(), so the result reaches it however soon the command finishes.
  bool waiter_added = false;
};

struct PendingResult {
  std::string id;  // the ack key: a command id, or lifecycle_ack_key(id) for a final lifecycle message
  Route route;
  std::string payload;
};

// Contract for implementations: thread-safe; begin() and finish() return only once the change is
// as durable as configured; acknowledge() never blocks (it may be called from the MQTT thread);
// records of acknowledged results are forgotten after the retention time.
class Journal {
 public:
  virtual ~Journal() = default;
  // Records `rec` as accepted unless its id is already known; for an id in flight, registers
  // rec.route as a waiter for its result (waiter_added).
  virtual Expected<BeginResult, std::string> begin(const JournalRecord& rec) = 0;
  // begin() for several records, in order, as one change (one commit, one fsync with durability
  // full): a later record with an earlier one's id is InFlight. An error fails every record.
  virtual Expected<std::vector<BeginResult>, std::string> begin_many(const std::vector<JournalRecord>& recs) {
    std::vector<BeginResult> results;
    results.reserve(recs.size());
    for (const auto& rec : recs) {
      auto r = begin(rec);
      if (!r) return unexpected(r.error());
      results.push_back(std::move(*r));
    }
    return results;
  }
  // What is known of `id` (InFlight or Finished with its result), without recording anything.
  virtual std::optional<BeginResult> find(const std::string& id) = 0;
  // Another delivery of an in-flight id: its result must also go to `route`.
  virtual void add_waiter(const std::string& id, const Route& route) = 0;
  // Records the terminal result, and with it (same transaction) the follows of a successful stop
  // (one per instance). Returns the extra routes registered by add_waiter.
  virtual Expected<std::vector<Route>, std::string> finish(const std::string& id, const std::string& payload,
                                                           const std::vector<FollowRecord>& follows = {}) = 0;
  // The broker acknowledged (or refused) the message with this ack key: a command id (its
  // result), or lifecycle_ack_key(id) (the final lifecycle message; the follow is then forgotten).
  virtual void acknowledge(const std::string& key) = 0;
  // Accepted but unfinished commands (to resume at start-up).
  virtual std::vector<JournalRecord> unfinished() = 0;
  // Finished results and final lifecycle messages the broker has not acknowledged, recorded
  // before `before_ms`, oldest first.
  virtual std::vector<PendingResult> unacknowledged(std::int64_t before_ms) = 0;

  // Following, by the follow's key() (each returns once the change is as durable as configured;
  // "" or the error):
  // the Status just published as progress,
  virtual std::string follow_reported(const std::string& id, const std::string& status) = 0;
  // the final lifecycle message, to publish until acknowledged,
  virtual std::string follow_finished(const std::string& id, const std::string& payload) = 0;
  // a follow given up without a journaled final message (NotFollowed),
  virtual std::string follow_dropped(const std::string& id) = 0;
  // and at start-up, what was being followed.
  virtual FollowBacklog follows() = 0;
};

}  // namespace swas
