// The emulator's calendar needs are the agent core's: one implementation (agent/time_format).
#include "emulator_time.hpp"

#include "time_format.hpp"

namespace swas::emulator {

bool parse_acs_date(std::string_view s, std::int64_t& unix_seconds) {
  return swas::parse_iso8601_utc(s, unix_seconds);
}

std::string format_acs_date(std::int64_t unix_seconds) { return swas::format_iso8601_utc(unix_seconds); }

std::string format_http_date(std::int64_t unix_seconds) { return swas::format_http_date(unix_seconds); }

std::int64_t floor_seconds(std::int64_t unix_ms) {
  return unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000);
}

}  // namespace swas::emulator
