// Per-action, per-AccessKey call quotas ("10/60s") with a sliding window, as the cloud's flow
// control answers Throttling.User when an action's quota is used up.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace swas::emulator {

// At most `limit` calls in any `window_ms` span.
struct Quota {
  std::int64_t limit = 0;
  std::int64_t window_ms = 0;
  bool operator==(const Quota& o) const { return limit == o.limit && window_ms == o.window_ms; }
};

// What the config's "quotas" and "quota_retry_after" say (and POST /__emulator/quotas).
struct QuotaSettings {
  std::map<std::string, Quota> quotas;  // by action; an action without an entry is unlimited
  bool retry_after = false;             // send x-acs-retry-after (ms) with Throttling.User
};

// "N/<window>", the window in whole milliseconds or seconds: "10/60s", "3/500ms". N is
// 1..kMaxQuotaLimit, the window 1 ms..kMaxQuotaWindowMs. Nothing else (no spaces, signs, other
// units) is accepted.
std::optional<Quota> parse_quota(std::string_view text);
// The canonical spelling: seconds when the window is whole seconds, else milliseconds.
std::string format_quota(const Quota& quota);

// Sliding-window log: a call is allowed when fewer than `limit` calls were allowed for the same
// (action, AccessKey) in the `window_ms` before it, i.e. at times t with now - window_ms < t.
// Throttled calls do not count against the quota. Memory: at most `limit` times per action and
// AccessKey (the AccessKeys are the configured ones: only authenticated calls are admitted).
// Not thread-safe: the core's lock guards it.
class QuotaLimiter {
 public:
  struct Decision {
    bool allowed = true;
    std::int64_t retry_after_ms = 0;  // when throttled: until the oldest counted call leaves
  };
  struct Counts {
    std::uint64_t allowed = 0;
    std::uint64_t throttled = 0;
  };

  // Replaces the settings and forgets every window's calls (the counts are kept).
  void configure(QuotaSettings settings);
  const QuotaSettings& settings() const { return settings_; }

  // Decides one call and counts it (an action without a quota is always allowed).
  Decision admit(const std::string& action, const std::string& access_key_id, std::int64_t now_ms);

  // action → AccessKeyId → counts, for every call admit() decided.
  const std::map<std::string, std::map<std::string, Counts>>& counts() const { return counts_; }

 private:
  QuotaSettings settings_;
  std::map<std::string, std::map<std::string, std::deque<std::int64_t>>> windows_;
  std::map<std::string, std::map<std::string, Counts>> counts_;
};

}  // namespace swas::emulator
