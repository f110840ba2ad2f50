// A misbehaving HTTPS server for the HTTPS client's tests: real Mbed TLS on a free loopback port,
// with the test certificates (server.pem, trusted by ca.pem), whose every connection runs a
// script the test writes (trickle bytes, send two answers, send interim responses...).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace swas::it {

class HostileTlsServer {
 public:
  // One accepted connection, after a completed handshake. Used by one script thread only.
  class Connection {
   public:
    virtual ~Connection() = default;
    // 0 for the first connection the server accepted, 1 for the second...
    virtual int index() const = 0;
    // Reads one request (head, then a Content-Length body) and returns its target; nullopt when
    // the client closed or sent nothing for 5 s.
    virtual std::optional<std::string> read_request() = 0;
    // Sends `bytes` in one TLS record (up to 16 KiB); false when the client has gone.
    virtual bool write(const std::string& bytes) = 0;
    // Waits `ms`; false, early, when the server is stopping.
    virtual bool sleep_ms(int ms) = 0;
  };
  using Script = std::function<void(Connection&)>;

  // Listens on 127.0.0.1 at once; throws std::runtime_error when it cannot.
  explicit HostileTlsServer(Script script);
  // Stops accepting, cuts every connection and joins every thread.
  ~HostileTlsServer();
  HostileTlsServer(const HostileTlsServer&) = delete;
  HostileTlsServer& operator=(const HostileTlsServer&) = delete;

  std::uint16_t port() const;
  // Connections accepted so far (counted before their handshake).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "HTTP/1.1 200 OK" with a Content-Length body.
std::string http_response(const std::string& body, int status = 200, const std::string& reason = "OK");

}  // namespace swas::it
