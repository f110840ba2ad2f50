// Checks on JSON text before cJSON sees it.
#pragma once
#include <cstddef>
#include <string_view>

namespace swas {

// True when `text` holds a raw NUL byte or a \u0000 escape. cJSON ends its C strings there, so
// "i-1\u0000; i-2" would be read as "i-1": such input is refused instead of silently cut short.
bool json_has_nul(std::string_view text);

// The deepest nesting of objects and arrays in `text`: a scalar is 0, {} and [1] are 1,
// {"a":[1]} is 2. Brackets inside strings do not count. One pass, no allocation, so a peer's
// JSON is measured against limits::kMaxJsonDepth before cJSON recurses into it. Text that is not
// JSON gets a number too (unbalanced closers count as nothing); cJSON refuses such text after.
std::size_t json_nesting_depth(std::string_view text);

}  // namespace swas
