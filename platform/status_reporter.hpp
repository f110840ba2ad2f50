// Telemetry port that keeps the status counters and publishes the retained status message.
#pragma once
#include <atomic>
#include <mutex>
#include <string>

#include "ports.hpp"
#include "status_message.hpp"

namespace swas {

// Thread-safe; the counting methods never block for long (a mutex only around last_error).
class StatusReporter final : public Telemetry {
 public:
  StatusReporter(std::string gateway_id, std::string version, std::string started_at, std::string topic,
                 MessagePublisher& publisher);
  void received() override { ++received_; }
  void started() override { ++in_flight_; }
  void finished(CommandOutcome outcome, bool was_started, std::string_view error) override;

  StatusSnapshot snapshot(bool online) const;
  // Publishes the retained status (online with counters, or offline).
  void publish(bool online);
  const std::string& topic() const { return topic_; }

 private:
  std::string gateway_id_, version_, started_at_, topic_;
  MessagePublisher& publisher_;
  std::atomic<std::uint64_t> received_{0}, succeeded_{0}, failed_{0}, rejected_{0}, in_flight_{0};
  mutable std::mutex mutex_;
  std::string last_error_;
};

}  // namespace swas
