// Serves one accepted TLS connection: handshake, then HTTP/1.1 requests until close or idle.
#pragma once
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <atomic>
#include <functional>
#include <string>

#include "tls_server.hpp"

namespace swas::emulator {

struct ConnectionContext {
  const mbedtls_ssl_config* config = nullptr;  // shared, read-only once serving
  const RequestHandler* handler = nullptr;
  const std::atomic<bool>* stopping = nullptr;  // set: finish the current answer and close
  const std::function<void(const std::string&)>* log = nullptr;
};

// Blocks until the connection ends; does not close `client` (the caller owns the socket).
// Read timeouts come from the config (mbedtls_ssl_conf_read_timeout).
void serve_tls_connection(mbedtls_net_context* client, const ConnectionContext& context);

// Mbed TLS error code in words.
std::string mbedtls_error_text(int code);

}  // namespace swas::emulator
