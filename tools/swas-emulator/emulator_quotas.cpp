// The quota syntax and the sliding-window decision.
#include "emulator_quotas.hpp"

#include "emulator_limits.hpp"

namespace swas::emulator {
namespace {

// Digits only, at most 12 of them, within [1, max].
bool parse_bounded(std::string_view text, std::int64_t max, std::int64_t& out) {
  if (text.empty() || text.size() > 12) return false;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > max) return false;
  out = value;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<Quota> parse_quota(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  Quota quota;
  if (!parse_bounded(text.substr(0, slash), kMaxQuotaLimit, quota.limit)) return std::nullopt;
  std::string_view window = text.substr(slash + 1);
  std::int64_t unit_ms = 0;
  if (ends_with(window, "ms")) {
    window.remove_suffix(2);
    unit_ms = 1;
  } else if (ends_with(window, "s")) {
    window.remove_suffix(1);
    unit_ms = 1000;
  } else {
    return std::nullopt;
  }
  std::int64_t amount = 0;
  if (!parse_bounded(window, kMaxQuotaWindowMs / unit_ms, amount)) return std::nullopt;
  quota.window_ms = amount * unit_ms;
  return quota;
}

std::string format_quota(const Quota& quota) {
  const std::string limit = std::to_string(quota.limit) + "/";
  if (quota.window_ms % 1000 == 0) return limit + std::to_string(quota.window_ms / 1000) + "s";
  return limit + std::to_string(quota.window_ms) + "ms";
}

void QuotaLimiter::configure(QuotaSettings settings) {
  settings_ = std::move(settings);
  windows_.clear();
}

QuotaLimiter::Decision QuotaLimiter::admit(const std::string& action,
                                           const std::string& access_key_id,
                                           std::int64_t now_ms) {
  Counts& counts = counts_[action][access_key_id];
  const auto quota = settings_.quotas.find(action);
  if (quota == settings_.quotas.end()) {
    ++counts.allowed;
    return {};
  }
  const Quota& q = quota->second;
  std::deque<std::int64_t>& calls = windows_[action][access_key_id];
  while (!calls.empty() && calls.front() <= now_ms - q.window_ms) calls.pop_front();
  if (static_cast<std::int64_t>(calls.size()) >= q.limit) {
    ++counts.throttled;
    const std::int64_t wait_ms = calls.front() + q.window_ms - now_ms;
    return {false, wait_ms > 0 ? wait_ms : 1};
  }
  calls.push_back(now_ms);
  ++counts.allowed;
  return {};
}

}  // namespace swas::emulator
