// Test helper: a blocking Mbed TLS client that verifies the server and speaks HTTP/1.1.
#pragma once
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <string>

namespace swas::emulator::test {

struct WireResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  std::string header(const std::string& name) const;  // "" when absent
};

// One connection; not thread-safe.
class TlsTestClient {
 public:
  TlsTestClient();
  ~TlsTestClient();
  TlsTestClient(const TlsTestClient&) = delete;
  TlsTestClient& operator=(const TlsTestClient&) = delete;

  // Connects and handshakes, verifying the chain against `ca_file` and the name `host`.
  // Returns "" on success, else what failed.
  std::string connect(const std::string& host, std::uint16_t port, const std::string& ca_file);
  bool send(const std::string& bytes);
  // Reads one response framed by Content-Length. False if the connection ends first.
  bool read_response(WireResponse& response);

 private:
  bool read_more();

  mbedtls_net_context net_;
  mbedtls_ssl_context ssl_;
  mbedtls_ssl_config config_;
  mbedtls_x509_crt ca_;
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  std::string buffer_;
};

}  // namespace swas::emulator::test
