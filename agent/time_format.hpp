// Calendar formatting without the C library's time zone state: pure and thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace swas {

// "YYYY-MM-DDThh:mm:ssZ" (UTC) for the x-acs-date header.
std::string format_iso8601_utc(std::int64_t unix_seconds);
// "Thu, 26 Nov 2026 02:52:56 GMT" (RFC 7231 IMF-fixdate).
std::string format_http_date(std::int64_t unix_seconds);

}  // namespace swas

namespace swas {

// Parses exactly "YYYY-MM-DDThh:mm:ssZ" (the x-acs-date form). False on any other form.
bool parse_iso8601_utc(std::string_view text, std::int64_t& unix_seconds);
// Parses RFC 3339 in UTC: "YYYY-MM-DDThh:mm:ss[.fraction](Z|+00:00)" into milliseconds.
bool parse_rfc3339_utc_ms(std::string_view text, std::int64_t& unix_ms);
// Parses an HTTP Date header in IMF-fixdate form ("Thu, 26 Nov 2026 02:52:56 GMT").
bool parse_http_date(std::string_view text, std::int64_t& unix_seconds);

}  // namespace swas
