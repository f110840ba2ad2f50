// Days-from-civil arithmetic (proleptic Gregorian), so no gmtime_r or TZ is involved.
#include "time_format.hpp"

#include <cstdio>

namespace swas {
namespace {

struct Civil {
  std::int64_t year;
  unsigned month, day, hour, minute, second, weekday;  // weekday 0 = Sunday
};

Civil to_civil(std::int64_t t) {
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  Civil c{};
  c.hour = static_cast<unsigned>(secs / 3600);
  c.minute = static_cast<unsigned>((secs % 3600) / 60);
  c.second = static_cast<unsigned>(secs % 60);
  c.weekday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<std::int64_t>(yoe) + era * 400 + (c.month <= 2 ? 1 : 0);
  return c;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

bool valid_fields(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned sec) {
  static const unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 59) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(mo == 2 && d == 29 && !leap);
}

// "YYYY-MM-DDThh:mm:ss" at the start of `s`.
bool parse_date_time(std::string_view s, std::int64_t& unix_seconds) {
  unsigned y, mo, d, h, mi, sec;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec) || !valid_fields(y, mo, d, h, mi, sec))
    return false;
  unix_seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  return true;
}

}  // namespace

bool parse_iso8601_utc(std::string_view text, std::int64_t& unix_seconds) {
  return text.size() == 20 && text[19] == 'Z' && parse_date_time(text, unix_seconds);
}

bool parse_rfc3339_utc_ms(std::string_view text, std::int64_t& unix_ms) {
  std::int64_t secs = 0;
  if (text.size() > 40 || !parse_date_time(text, secs)) return false;
  std::string_view rest = text.substr(19);
  std::int64_t ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    std::size_t n = 1;
    std::int64_t scale = 100;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
      ms += (rest[n] - '0') * scale;
      scale /= 10;
      ++n;
    }
    if (n == 1) return false;
    rest = rest.substr(n);
  }
  if (rest != "Z" && rest != "z" && rest != "+00:00" && rest != "-00:00") return false;
  unix_ms = secs * 1000 + ms;
  return true;
}

bool parse_http_date(std::string_view s, std::int64_t& unix_seconds) {
  // "Thu, 26 Nov 2026 02:52:56 GMT"
  static const char* kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT") return false;
  unsigned d, y, h, mi, sec;
  const std::string_view mon = s.substr(8, 3);
  const std::size_t idx = std::string_view(kMonths).find(mon);
  if (idx == std::string_view::npos || idx % 3 != 0 || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':')
    return false;
  const auto mo = static_cast<unsigned>(idx / 3 + 1);
  if (!digits(s, 5, 2, d) || !digits(s, 12, 4, y) || !digits(s, 17, 2, h) || !digits(s, 20, 2, mi) ||
      !digits(s, 23, 2, sec) || !valid_fields(y, mo, d, h, mi, sec))
    return false;
  unix_seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  return true;
}

std::string format_iso8601_utc(std::int64_t unix_seconds) {
  const Civil c = to_civil(unix_seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

std::string format_http_date(std::int64_t unix_seconds) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Civil c = to_civil(unix_seconds);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02u:%02u:%02u GMT", kDays[c.weekday % 7],
                c.day, kMonths[(c.month - 1) % 12], static_cast<long long>(c.year), c.hour,
                c.minute, c.second);
  return buf;
}

}  // namespace swas
