// Lines are built whole and written with one fwrite so concurrent threads never interleave.
#include "stderr_logger.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "time_format.hpp"

namespace swas {

namespace {

// The length of the valid UTF-8 sequence at s[i] (2..4) and its code point, or 0 when the bytes
// there are not one (stray continuation byte, truncated, overlong, surrogate, over U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; }
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07u; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  static const std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void append_hex(std::string& out, unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

}  // namespace

std::string escape_log_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c < 0x80) {  // the other C0 controls and DEL
      append_hex(out, c);
      ++i;
    } else {
      std::uint32_t cp = 0;
      const std::size_t len = utf8_sequence(text, i, cp);
      if (len == 0) {  // not UTF-8: this byte alone, then look again from the next one
        append_hex(out, c);
        ++i;
      } else if (cp <= 0x9F) {  // a C1 control (U+0080..U+009F)
        for (std::size_t k = 0; k < len; ++k) append_hex(out, static_cast<unsigned char>(text[i + k]));
        i += len;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
    }
  }
  return out;
}

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
  // One event, one line, and nothing a terminal would act on: hostile input (a command's action,
  // id or type) must neither forge lines nor send escape sequences to whoever reads the log.
  line += escape_log_text(text);
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace swas
