// The Journal port: the durable record of every command from acceptance to the broker's ack.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
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
};

enum class BeginState {
  New,       // recorded now (durably, per the durability setting); the caller runs it
  InFlight,  // accepted earlier and not finished: another worker (or the restart) runs it
  Finished,  // finished earlier: `result_payload` is its result
  Full,      // the journal is at its bound with nothing it may forget: answer Busy
};

struct BeginResult {
  BeginState state = BeginState::New;
  std::string result_payload;
};

struct PendingResult {
  std::string id;
  Route route;
  std::string payload;
};

// Contract for implementations: thread-safe; begin() and finish() return only once the change is
// as durable as configured; acknowledge() never blocks (it may be called from the MQTT thread);
// records of acknowledged results are forgotten after the retention time.
class Journal {
 public:
  virtual ~Journal() = default;
  // Records `rec` as accepted unless its id is already known.
  virtual Expected<BeginResult, std::string> begin(const JournalRecord& rec) = 0;
  // What is known of `id` (InFlight or Finished with its result), without recording anything.
  virtual std::optional<BeginResult> find(const std::string& id) = 0;
  // Another delivery of an in-flight id: its result must also go to `route`.
  virtual void add_waiter(const std::string& id, const Route& route) = 0;
  // Records the terminal result. Returns the extra routes registered by add_waiter.
  virtual Expected<std::vector<Route>, std::string> finish(const std::string& id, const std::string& payload) = 0;
  // The broker acknowledged the result of `id`.
  virtual void acknowledge(const std::string& id) = 0;
  // Accepted but unfinished commands (to resume at start-up).
  virtual std::vector<JournalRecord> unfinished() = 0;
  // Finished results the broker has not acknowledged, finished before `before_ms`.
  virtual std::vector<PendingResult> unacknowledged(std::int64_t before_ms) = 0;
};

}  // namespace swas
