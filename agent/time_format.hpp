// Calendar formatting without the C library's time zone state: pure and thread-safe.
#pragma once
#include <cstdint>
#include <string>

namespace swas {

// "YYYY-MM-DDThh:mm:ssZ" (UTC) for the x-acs-date header.
std::string format_iso8601_utc(std::int64_t unix_seconds);
// "Thu, 26 Nov 2026 02:52:56 GMT" (RFC 7231 IMF-fixdate).
std::string format_http_date(std::int64_t unix_seconds);

}  // namespace swas
