#include "maintenance_schedule.hpp"

#include <algorithm>
#include <cstdint>

#include "limits.hpp"

namespace swas {

MaintenanceSchedule::MaintenanceSchedule(std::int64_t now_ms, std::uint32_t status_interval_s)
    : started_ms_(now_ms), status_interval_ms_(std::int64_t{status_interval_s} * 1000), last_status_ms_(now_ms) {}

MaintenanceSchedule::Due MaintenanceSchedule::take(std::int64_t now_ms) {
  Due due;
  if ((status_interval_ms_ > 0 && now_ms - last_status_ms_ >= status_interval_ms_) ||
      (status_changed_ && now_ms - last_status_ms_ >= kMinStatusGapMs)) {
    due.status = true;
    status_changed_ = false;
    last_status_ms_ = now_ms;
  }
  if (!last_upkeep_ms_ ? now_ms - started_ms_ >= kFirstUpkeepAfterMs
                       : now_ms - *last_upkeep_ms_ >= std::int64_t{limits::kRepublishIntervalMs}) {
    due.upkeep = true;
    // At start-up: the results a previous run left unacknowledged (not this run's, whose PUBACKs
    // may still be on their way); then every interval, those older than it.
    due.republish = last_upkeep_ms_ ? Republish{false, limits::kRepublishIntervalMs} : Republish{true, 0};
    last_upkeep_ms_ = now_ms;
  } else if (reconnected_) {
    // After a reconnect, results the broker never acknowledged go out again (those newer than a
    // few seconds are still being retried by the MQTT library itself).
    due.republish = Republish{false, limits::kRepublishAfterReconnectMs};
    reconnected_ = false;
  }
  return due;
}

std::int64_t MaintenanceSchedule::next_ms() const {
  std::int64_t next = status_changed_              ? last_status_ms_ + kMinStatusGapMs
                     : status_interval_ms_ > 0 ? last_status_ms_ + status_interval_ms_
                                               : INT64_MAX;
  next = std::min(next, last_upkeep_ms_ ? *last_upkeep_ms_ + std::int64_t{limits::kRepublishIntervalMs}
                                        : started_ms_ + kFirstUpkeepAfterMs);
  // A reconnect is handled at once, unless an upkeep took its turn just now (then at the next call).
  if (reconnected_) next = std::min(next, last_upkeep_ms_.value_or(started_ms_));
  return next;
}

}  // namespace swas
