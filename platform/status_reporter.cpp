// Counters are atomics; only the last error text takes a lock.
#include "status_reporter.hpp"

namespace swas {

StatusReporter::StatusReporter(std::string gateway_id, std::string version, std::string started_at,
                               std::string topic, MessagePublisher& publisher)
    : gateway_id_(std::move(gateway_id)), version_(std::move(version)), started_at_(std::move(started_at)),
      topic_(std::move(topic)), publisher_(publisher) {}

void StatusReporter::finished(CommandOutcome outcome, bool was_started, std::string_view error) {
  if (was_started) --in_flight_;
  switch (outcome) {
    case CommandOutcome::Succeeded: ++succeeded_; break;
    case CommandOutcome::Failed: ++failed_; break;
    case CommandOutcome::Rejected: ++rejected_; break;
  }
  if (!error.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_error_.assign(error.substr(0, 300));
  }
}

StatusSnapshot StatusReporter::snapshot(bool online) const {
  StatusSnapshot s;
  s.gateway_id = gateway_id_;
  s.version = version_;
  s.started_at = started_at_;
  s.online = online;
  s.received = received_;
  s.succeeded = succeeded_;
  s.failed = failed_;
  s.rejected = rejected_;
  s.in_flight = in_flight_;
  std::lock_guard<std::mutex> lock(mutex_);
  s.last_error = last_error_;
  return s;
}

void StatusReporter::publish(bool online) {
  publisher_.publish(OutgoingMessage{topic_, encode_status(snapshot(online)), "", "", true});
}

}  // namespace swas
