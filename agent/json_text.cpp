// Single passes that follow escapes, so "\\u0000" (an escaped backslash, then text) is not a NUL
// and a bracket inside a string is not nesting.
#include "json_text.hpp"

#include <algorithm>

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

std::size_t json_nesting_depth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character, whatever it is, is text
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace swas
