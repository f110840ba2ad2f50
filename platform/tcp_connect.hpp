// Opening a TCP connection with a deadline, trying every address the name resolves to.
#pragma once
#include <cstdint>
#include <string>

#include "expected.hpp"
#include "ports.hpp"

namespace swas {

// A connected, blocking socket with TCP_NODELAY set and send/receive timeouts of `timeout_ms`.
// Resolving and connecting together end within `timeout_ms` (resolving: see tcp_connect.cpp).
Expected<int, TransportError> tcp_connect(const std::string& host, std::uint16_t port,
                                          std::uint32_t timeout_ms);

}  // namespace swas
