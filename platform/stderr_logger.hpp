// Logger port on standard error: "<UTC time> <level> <text>", one line per event.
#pragma once
#include <mutex>
#include <string>
#include <string_view>

#include "ports.hpp"

namespace swas {

class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogLevel threshold) : threshold_(threshold) {}
  bool enabled(LogLevel level) const override { return level >= threshold_; }
  void write(LogLevel level, std::string_view line) override;

 private:
  LogLevel threshold_;
  std::mutex mutex_;
};

// `text` made safe for one log line read on a terminal: \n, \r and \t for those bytes, \xNN for
// every other C0 control and DEL, for each byte of a C1 control (U+0080..U+009F, e.g. \xc2\x9b)
// and for each byte that is not part of valid UTF-8. Printable UTF-8 passes unchanged.
std::string escape_log_text(std::string_view text);

// "debug" | "info" | "warn" | "error" -> level; false when the name is unknown.
bool parse_log_level(std::string_view name, LogLevel& out);

}  // namespace swas
