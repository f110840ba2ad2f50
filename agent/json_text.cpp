// A single pass that follows escapes, so "\\u0000" (an escaped backslash, then text) is not a NUL.
#include "json_text.hpp"

namespace swas {

bool json_has_nul(std::string_view text) {
  // A raw NUL anywhere, even right after a backslash (found by fuzzing: "\\<NUL>" hid it from an
  // escape-skipping scan).
  if (text.find('\0') != std::string_view::npos) return true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) continue;
    if (text[i + 1] == 'u' && text.substr(i + 2, 4) == "0000") return true;
    ++i;  // skip the escaped character
  }
  return false;
}

}  // namespace swas
