// Serialises an HttpResponse as HTTP/1.1 bytes, adding Content-Length and Connection.
#pragma once
#include <string>

#include "http_types.hpp"

namespace swas::emulator {

const char* reason_phrase(int status);

// Status line, the response's own headers, then Content-Length and "Connection: keep-alive" or
// "Connection: close", a blank line and the body.
std::string serialize_http_response(const HttpResponse& response, bool keep_alive);

}  // namespace swas::emulator
