// Checks on JSON text before cJSON sees it.
#pragma once
#include <string_view>

namespace swas {

// True when `text` holds a raw NUL byte or a \u0000 escape. cJSON ends its C strings there, so
// "i-1\u0000; i-2" would be read as "i-1": such input is refused instead of silently cut short.
bool json_has_nul(std::string_view text);

}  // namespace swas
