// Lines are built whole and written with one fwrite so concurrent threads never interleave.
#include "stderr_logger.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include "time_format.hpp"

namespace swas {

bool parse_log_level(std::string_view name, LogLevel& out) {
  if (name == "debug") out = LogLevel::Debug;
  else if (name == "info") out = LogLevel::Info;
  else if (name == "warn") out = LogLevel::Warn;
  else if (name == "error") out = LogLevel::Error;
  else return false;
  return true;
}

void StderrLogger::write(LogLevel level, std::string_view text) {
  static const char* kNames[] = {"debug", "info", "warn", "error"};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string line = format_iso8601_utc(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  line += ' ';
  line += kNames[static_cast<int>(level) & 3];
  line += ' ';
  // One event, one line: control characters from hostile input must not forge extra lines.
  for (char c : text) line.push_back((c == '\n' || c == '\r') ? ' ' : c);
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace swas
