// When the agent publishes its status and does its journal upkeep (docs/architecture.md,
// "Threads", the maintenance thread): pure, driven by a monotonic time in milliseconds, so the
// thread that runs it sleeps until the next thing is due instead of waking every second.
#pragma once
#include <cstdint>
#include <optional>

namespace swas {

class MaintenanceSchedule {
 public:
  // `now_ms`: the monotonic time at start-up; `status_interval_s`: mqtt.status_interval_s (0: the
  // status goes out only when something changed).
  MaintenanceSchedule(std::int64_t now_ms, std::uint32_t status_interval_s);

  // Republish results the broker has not acknowledged: those of earlier runs (the first upkeep
  // after start-up) or those older than `older_than_ms`.
  struct Republish {
    bool earlier_runs = false;
    std::int64_t older_than_ms = 0;
  };
  struct Due {
    bool status = false;  // publish the status now
    bool upkeep = false;  // journal upkeep (forget old records, commit acknowledgements)
    std::optional<Republish> republish;
  };

  // Something the status shows changed: it is published at most once a second.
  void status_changed() { status_changed_ = true; }
  // The MQTT connection came back: results not acknowledged go out again.
  void reconnected() { reconnected_ = true; }
  // What is due at `now_ms`; marks it done.
  Due take(std::int64_t now_ms);
  // When take() has something to do next, unless status_changed() or reconnected() come first.
  std::int64_t next_ms() const;

  static constexpr std::int64_t kMinStatusGapMs = 1000;   // status at most once a second
  static constexpr std::int64_t kFirstUpkeepAfterMs = 1000;  // the first upkeep after start-up

 private:
  std::int64_t started_ms_;
  std::int64_t status_interval_ms_;
  std::int64_t last_status_ms_;  // start-up counts as one: the first status comes a second later
  std::optional<std::int64_t> last_upkeep_ms_;
  bool status_changed_ = false;
  bool reconnected_ = false;
};

}  // namespace swas
