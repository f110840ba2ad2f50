// Just enough client for the process test; the agent's real HTTPS client lives in platform/.
#include "tls_test_client.hpp"

#include <mbedtls/error.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace swas::emulator::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string error_text(int code) {
  char text[160];
  mbedtls_strerror(code, text, sizeof text);
  return text;
}

}  // namespace

std::string WireResponse::header(const std::string& name) const {
  const std::string needle = "\r\n" + lower(name) + ":";
  const std::string lowered = lower(head);
  const std::size_t at = lowered.find(needle);
  if (at == std::string::npos) return "";
  std::size_t start = at + needle.size();
  const std::size_t end = head.find("\r\n", start);
  while (start < end && head[start] == ' ') ++start;
  return head.substr(start, end - start);
}

TlsTestClient::TlsTestClient() {
  mbedtls_net_init(&net_);
  mbedtls_ssl_init(&ssl_);
  mbedtls_ssl_config_init(&config_);
  mbedtls_x509_crt_init(&ca_);
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
}

TlsTestClient::~TlsTestClient() {
  mbedtls_ssl_close_notify(&ssl_);
  mbedtls_net_free(&net_);
  mbedtls_ssl_free(&ssl_);
  mbedtls_ssl_config_free(&config_);
  mbedtls_x509_crt_free(&ca_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

std::string TlsTestClient::connect(const std::string& host, std::uint16_t port,
                                   const std::string& ca_file) {
  int ret = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0);
  if (ret != 0) return "drbg: " + error_text(ret);
  if ((ret = mbedtls_x509_crt_parse_file(&ca_, ca_file.c_str())) != 0) return "ca: " + error_text(ret);
  ret = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) return "config: " + error_text(ret);
  mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&config_, &ca_, nullptr);
  mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
  mbedtls_ssl_conf_read_timeout(&config_, 10000);  // a hung server fails the test, not ctest
  if ((ret = mbedtls_ssl_setup(&ssl_, &config_)) != 0) return "setup: " + error_text(ret);
  if ((ret = mbedtls_ssl_set_hostname(&ssl_, host.c_str())) != 0) return "sni: " + error_text(ret);
  const std::string port_text = std::to_string(port);
  if ((ret = mbedtls_net_connect(&net_, host.c_str(), port_text.c_str(), MBEDTLS_NET_PROTO_TCP)) != 0)
    return "connect: " + error_text(ret);
  mbedtls_ssl_set_bio(&ssl_, &net_, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
  while ((ret = mbedtls_ssl_handshake(&ssl_)) != 0) {
    if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
      return "handshake: " + error_text(ret);
  }
  return "";
}

bool TlsTestClient::send(const std::string& bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const int ret = mbedtls_ssl_write(
        &ssl_, reinterpret_cast<const unsigned char*>(bytes.data()) + written,
        bytes.size() - written);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (ret <= 0) return false;
    written += static_cast<std::size_t>(ret);
  }
  return true;
}

bool TlsTestClient::read_more() {
  unsigned char chunk[4096];
  int ret = 0;
  do {
    ret = mbedtls_ssl_read(&ssl_, chunk, sizeof chunk);
  } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
  if (ret <= 0) return false;
  buffer_.append(reinterpret_cast<const char*>(chunk), static_cast<std::size_t>(ret));
  return true;
}

bool TlsTestClient::read_response(WireResponse& response) {
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!read_more()) return false;
  response.head = buffer_.substr(0, head_end + 2);
  response.status = std::atoi(response.head.substr(9, 3).c_str());
  const std::size_t length =
      static_cast<std::size_t>(std::strtoul(response.header("Content-Length").c_str(), nullptr, 10));
  while (buffer_.size() < head_end + 4 + length)
    if (!read_more()) return false;
  response.body = buffer_.substr(head_end + 4, length);
  buffer_.erase(0, head_end + 4 + length);
  return true;
}

}  // namespace swas::emulator::test
