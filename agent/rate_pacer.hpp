// Pacing the calls of each cloud action to the account's rate quota (docs/contract.md, "The
// account's rate quota"): a configured quota is never exceeded, and a throttled answer holds every
// call of that action, probing one at a time until the cloud answers again.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ports.hpp"

namespace swas {

// "N calls per window".
struct Quota {
  std::uint32_t calls = 0;
  std::uint32_t window_ms = 0;
};

// "10/60s", "100/500ms": N 1..100000, the window 1..86400 s or 1..86400000 ms. nullopt otherwise.
std::optional<Quota> parse_quota(std::string_view text);

// Not thread-safe: the platform wraps it in a mutex (one pacer for every worker and the poll
// thread). Times are the Clock's unix milliseconds.
class RatePacer {
 public:
  // The first hold after a throttled answer, and its bound (it doubles on each further one).
  static constexpr std::int64_t kFirstHoldMs = 1000;
  static constexpr std::int64_t kMaxHoldMs = 60000;
  // Added to a quota's window: the cloud's own timer may count a call a little longer.
  static constexpr std::int64_t kQuotaMarginMs = 50;

  explicit RatePacer(std::map<std::string, Quota> quotas);

  // When a call of `action` may start: `now` when it may start at once, a later time when it must
  // wait for the quota or a hold, or nullopt when it must wait for a call in flight to end (the
  // quota's N calls are all in flight, or a probe is out during a hold).
  std::optional<std::int64_t> next_start(std::string_view action, std::int64_t now);
  // A call of `action` starts now (after next_start said it may).
  void started(std::string_view action, std::int64_t now);
  // The call ended; `retry_after_ms` is a throttled answer's x-acs-retry-after.
  void ended(std::string_view action, std::int64_t now, CallEnd end, std::optional<std::uint32_t> retry_after_ms);

  // The configured quota of `action`, if any (for messages).
  std::optional<Quota> quota(std::string_view action) const;
  // Whether `action` is held after a throttled answer.
  bool held(std::string_view action) const;

 private:
  struct Action {
    std::optional<Quota> quota;
    std::size_t in_flight = 0;
    std::deque<std::int64_t> ends;  // end times of the last quota.calls calls (configured quota only)
    std::int64_t hold_until = 0;    // no call before this
    std::int64_t hold_ms = 0;       // 0: not held; else the current hold, doubling per throttle
    bool probe_out = false;         // the call in flight started while held (only it can end the hold)
  };
  Action& at(std::string_view action);

  std::map<std::string, Quota> quotas_;
  std::map<std::string, Action, std::less<>> actions_;
};

}  // namespace swas
