// RatePacer: a sliding window over the ends of the last N calls per action, and the hold after a
// throttled answer.
#include "rate_pacer.hpp"

#include <algorithm>

namespace swas {

std::optional<Quota> parse_quota(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  auto digits = [](std::string_view d, std::uint64_t max) -> std::optional<std::uint64_t> {
    if (d.empty() || d.size() > 9) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : d) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v == 0 || v > max) return std::nullopt;
    return v;
  };
  const auto calls = digits(text.substr(0, slash), 100000);
  std::string_view window = text.substr(slash + 1);
  std::optional<std::uint64_t> window_ms;
  if (window.size() > 2 && window.substr(window.size() - 2) == "ms") {
    window_ms = digits(window.substr(0, window.size() - 2), 86400000);
  } else if (window.size() > 1 && window.back() == 's') {
    if (auto s = digits(window.substr(0, window.size() - 1), 86400)) window_ms = *s * 1000;
  }
  if (!calls || !window_ms) return std::nullopt;
  return Quota{static_cast<std::uint32_t>(*calls), static_cast<std::uint32_t>(*window_ms)};
}

RatePacer::RatePacer(std::map<std::string, Quota> quotas) : quotas_(std::move(quotas)) {}

RatePacer::Action& RatePacer::at(std::string_view action) {
  auto it = actions_.find(action);
  if (it != actions_.end()) return it->second;
  Action a;
  if (auto q = quotas_.find(std::string(action)); q != quotas_.end()) a.quota = q->second;
  return actions_.emplace(std::string(action), std::move(a)).first->second;
}

std::optional<Quota> RatePacer::quota(std::string_view action) const {
  auto q = quotas_.find(std::string(action));
  if (q == quotas_.end()) return std::nullopt;
  return q->second;
}

bool RatePacer::held(std::string_view action) const {
  auto it = actions_.find(action);
  return it != actions_.end() && it->second.hold_ms > 0;
}

std::optional<std::int64_t> RatePacer::next_start(std::string_view action, std::int64_t now) {
  Action& a = at(action);
  std::int64_t t = now;
  if (a.hold_ms > 0) {
    if (a.in_flight > 0) return std::nullopt;  // one probe at a time
    t = std::max(t, a.hold_until);
  }
  if (a.quota) {
    const std::size_t n = a.quota->calls;
    if (a.in_flight >= n) return std::nullopt;
    // A call starting at t is within the quota when, with those in flight, fewer than N calls
    // ended after t - window: the oldest ends that would make N must lie before it.
    const std::size_t may_have_ended_recently = n - 1 - a.in_flight;
    if (a.ends.size() > may_have_ended_recently) {
      const std::size_t must_be_out = a.ends.size() - may_have_ended_recently;
      t = std::max(t, a.ends[must_be_out - 1] + a.quota->window_ms + kQuotaMarginMs);
    }
  }
  return t;
}

void RatePacer::started(std::string_view action, std::int64_t) {
  Action& a = at(action);
  ++a.in_flight;
  if (a.hold_ms > 0) a.probe_out = true;  // while held, only one call is out: this probe
}

void RatePacer::ended(std::string_view action, std::int64_t now, CallEnd end, std::optional<std::uint32_t> retry_after_ms) {
  Action& a = at(action);
  if (a.in_flight > 0) --a.in_flight;
  // While held, the call that ends is the probe when one is out; any other was sent before the
  // hold, and its answer says nothing about the cloud now.
  const bool probe = a.probe_out;
  a.probe_out = false;
  if (a.quota) {
    // Every call counts, throttled or unanswered too: the cloud may have counted it.
    a.ends.insert(std::upper_bound(a.ends.begin(), a.ends.end(), now), now);
    while (a.ends.size() > a.quota->calls) a.ends.pop_front();
  }
  if (end == CallEnd::Throttled) {
    a.hold_ms = a.hold_ms == 0 ? kFirstHoldMs : std::min(a.hold_ms * 2, kMaxHoldMs);
    const std::int64_t wait = std::max<std::int64_t>(a.hold_ms, retry_after_ms.value_or(0));
    a.hold_until = std::max(a.hold_until, now + wait);
  } else if (end == CallEnd::Answered && (a.hold_ms == 0 || probe)) {
    a.hold_ms = 0;
    a.hold_until = 0;
  }
}

}  // namespace swas
