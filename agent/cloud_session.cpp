// CloudSession: the parts of a cloud call shared by stops and polls.
#include "cloud_session.hpp"

#include <algorithm>

#include "limits.hpp"
#include "signer.hpp"
#include "time_format.hpp"

namespace swas {

CloudSession::CloudSession(std::optional<Credentials> credentials, std::optional<Endpoint> endpoint_override,
                           RetryPolicy retry, Clock& clock, Entropy& entropy, Logger& logger)
    : credentials_(std::move(credentials)), endpoint_override_(std::move(endpoint_override)), retry_(retry),
      clock_(clock), entropy_(entropy), logger_(logger) {}

void CloudSession::log(LogLevel level, const std::string& line) {
  if (logger_.enabled(level)) logger_.write(level, line);
}

Endpoint CloudSession::endpoint_for(std::string_view region_id) const {
  return endpoint_override_ ? *endpoint_override_ : region_endpoint(region_id);
}

std::string CloudSession::x_acs_date() { return format_iso8601_utc(clock_.now_unix_ms() / 1000); }

std::string CloudSession::fresh_nonce() {
  unsigned char bytes[16];
  entropy_.fill(bytes, sizeof bytes);
  return hex_lower(bytes, sizeof bytes);
}

std::uint32_t CloudSession::backoff_ms(int attempt, std::optional<std::uint32_t> hint) {
  std::uint64_t cap = retry_.backoff_base_ms;
  for (int i = 1; i < attempt && cap < retry_.backoff_max_ms; ++i) cap *= 2;
  cap = std::min<std::uint64_t>(cap, retry_.backoff_max_ms);
  unsigned char r[4];
  entropy_.fill(r, sizeof r);
  const std::uint32_t random = (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) |
                               (std::uint32_t{r[2]} << 8) | r[3];
  const auto jitter = static_cast<std::uint32_t>(cap == 0 ? 0 : random % (cap + 1));
  return hint ? std::max(*hint, jitter) : jitter;
}

bool CloudSession::correct_clock(std::int64_t server_ms) {
  const std::int64_t delta = server_ms - clock_.now_unix_ms();
  const std::int64_t offset = clock_.offset_ms() + delta;
  if (offset > limits::kMaxClockCorrectionMs || offset < -limits::kMaxClockCorrectionMs) {
    const std::int64_t hours = (offset < 0 ? -offset : offset) / 3600000;
    log(LogLevel::Error, "the cloud refused our time stamp and its Date is " + std::to_string(hours) +
                             " h away from the gateway clock: more than the 24 h the agent corrects by itself; "
                             "not corrected (set the gateway clock: NTP, or date -s)");
    return false;
  }
  clock_.set_offset_ms(offset);
  const std::int64_t tenths = ((offset < 0 ? -offset : offset) + 50) / 100;
  log(LogLevel::Warn, "the cloud refused our time stamp: the gateway clock is " + std::to_string(tenths / 10) + "." +
                          std::to_string(tenths % 10) + " s " + (offset > 0 ? "behind" : "ahead of") +
                          " the cloud's; correcting x-acs-date by that offset from now on");
  return true;
}

}  // namespace swas
