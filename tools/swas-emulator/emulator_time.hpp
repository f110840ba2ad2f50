// UTC calendar conversions for x-acs-date and the HTTP Date header, free of C time-zone state.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace swas::emulator {

// Parses exactly "YYYY-MM-DDThh:mm:ssZ" (the form V3 requires). False when the text is in any
// other form or a field is out of range.
bool parse_acs_date(std::string_view text, std::int64_t& unix_seconds);

// "YYYY-MM-DDThh:mm:ssZ".
std::string format_acs_date(std::int64_t unix_seconds);

// RFC 1123 form used by the HTTP Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::int64_t unix_seconds);

// Whole seconds of a millisecond timestamp, rounding towards the past (also before 1970).
std::int64_t floor_seconds(std::int64_t unix_ms);

}  // namespace swas::emulator
