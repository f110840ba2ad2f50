// HttpsTransport on Mbed TLS: verified TLS 1.2+, SNI, TCP_NODELAY, keep-alive reuse, a time budget
// per attempt.
#pragma once
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ctr_drbg_entropy.hpp"
#include "expected.hpp"
#include "limits.hpp"
#include "ports.hpp"

namespace swas {

struct HttpsClientOptions {
  std::string ca_file;          // PEM bundle the server certificate must chain to
  std::uint32_t timeout_ms = 10000;  // the whole attempt: connect, handshake, request, whole response
  std::size_t max_response_bytes = limits::kMaxHttpResponseBytes;
};

// What every client of one process shares: the parsed CA chain (it costs memory), the TLS
// configuration and the random generator. Read-only after create(), so thread-safe.
class TlsClientContext {
 public:
  // Loads the CA file; an error names the file and what is wrong with it.
  static Expected<std::shared_ptr<TlsClientContext>, std::string> create(const HttpsClientOptions& options);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;
  const HttpsClientOptions& options() const { return options_; }
  const mbedtls_ssl_config* conf() const { return &conf_; }

  // Totals over every client sharing this context, for the shutdown log and benchmarks.
  struct Stats {
    std::uint64_t requests, full_handshakes, resumed_handshakes;
  };
  Stats stats() const { return {requests_, full_handshakes_, resumed_handshakes_}; }
  void count_request() const { ++requests_; }
  void count_handshake(bool resumed) const { ++(resumed ? resumed_handshakes_ : full_handshakes_); }

 private:
  explicit TlsClientContext(HttpsClientOptions options);
  HttpsClientOptions options_;
  std::unique_ptr<CtrDrbgEntropy> rng_;
  mbedtls_x509_crt ca_chain_;
  mbedtls_ssl_config conf_;
  mutable std::atomic<std::uint64_t> requests_{0}, full_handshakes_{0}, resumed_handshakes_{0};
};

// Not thread-safe: one worker owns it. Keeps at most one idle connection (the last endpoint used);
// a request to another endpoint closes it, and so does anything the server sent while it was idle
// (or beyond the end of its last response): only a quiet connection carries the next request.
class MbedTlsHttpsClient final : public HttpsTransport {
 public:
  explicit MbedTlsHttpsClient(std::shared_ptr<const TlsClientContext> context);
  // A client with a context of its own (tools and tests).
  static Expected<std::unique_ptr<MbedTlsHttpsClient>, std::string> create(const HttpsClientOptions& options);
  ~MbedTlsHttpsClient() override;
  MbedTlsHttpsClient(const MbedTlsHttpsClient&) = delete;
  MbedTlsHttpsClient& operator=(const MbedTlsHttpsClient&) = delete;

  Expected<HttpResponse, TransportError> round_trip(const Endpoint& endpoint,
                                                    const HttpRequest& request) override;
  // Connects and completes a verified TLS handshake, sending nothing (diagnosis of other TLS links).
  Expected<bool, TransportError> handshake(const Endpoint& endpoint);

  // Counters for tests and benchmarks (this client only; TlsClientContext::stats() sums all).
  std::uint64_t handshakes() const { return handshakes_; }
  std::uint64_t resumed() const { return resumed_; }
  std::uint64_t reused() const { return reused_; }

 private:
  struct Connection;
  Expected<std::unique_ptr<Connection>, TransportError> open(const Endpoint& endpoint,
                                                             std::chrono::steady_clock::time_point deadline);
  Expected<HttpResponse, TransportError> exchange(Connection& conn, const HttpRequest& request,
                                                  bool& peer_silent, bool& keep_alive);

  std::shared_ptr<const TlsClientContext> context_;
  const HttpsClientOptions& options_;
  std::unique_ptr<Connection> idle_;
  // The last session with `session_host_:session_port_`, offered again to resume (tickets or ids),
  // so re-opened connections mostly skip the full handshake.
  mbedtls_ssl_session session_;
  bool have_session_ = false;
  std::string session_host_;
  std::uint16_t session_port_ = 0;
  std::uint64_t handshakes_ = 0;
  std::uint64_t resumed_ = 0;
  std::uint64_t reused_ = 0;
};

// Serialises an HTTP/1.1 request (adds Content-Length); exposed for tests.
std::string serialize_request(const HttpRequest& request);

}  // namespace swas
