// HTTPS listener on Mbed TLS: one thread per connection (bounded), keep-alive, idle timeout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "emulator_core.hpp"
#include "emulator_limits.hpp"
#include "http_types.hpp"

namespace swas::emulator {

struct TlsServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the system picks a free port; see TlsServer::port()
  std::string cert_file;   // PEM: server certificate (optionally followed by its chain)
  std::string key_file;    // PEM: its private key
  std::size_t max_connections = kMaxConnections;
  std::uint32_t idle_timeout_ms = kIdleTimeoutMs;
  // Connection-level events (handshake failures, refused connections); may be empty.
  std::function<void(const std::string&)> log;
};

// Turns one request into a reply. Called from connection threads, concurrently.
using RequestHandler = std::function<EmulatorReply(const HttpRequest&)>;

// Lifecycle: start() loads the key pair, binds and starts accepting; stop() (also run by the
// destructor) stops accepting, cuts open connections and joins every thread. start() and stop()
// must be called from one thread; port() is safe after start().
class TlsServer {
 public:
  TlsServer(TlsServerOptions options, RequestHandler handler);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  // Nullopt when listening; otherwise what went wrong (file, bind), in words.
  std::optional<std::string> start();
  std::uint16_t port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swas::emulator
