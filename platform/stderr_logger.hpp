// Logger port on standard error: "<UTC time> <level> <text>", one line per event.
#pragma once
#include <mutex>

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

// "debug" | "info" | "warn" | "error" -> level; false when the name is unknown.
bool parse_log_level(std::string_view name, LogLevel& out);

}  // namespace swas
