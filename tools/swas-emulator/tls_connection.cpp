// Per-connection loop. Faults are acted out here: a drop closes without a word, a delay waits.
#include "tls_connection.hpp"

#include <mbedtls/error.h>

#include <chrono>
#include <thread>

#include "http_request_reader.hpp"
#include "http_response_writer.hpp"

namespace swas::emulator {
namespace {

enum class ReadOutcome { kRequest, kClosed, kTooLarge, kMalformed };

void log_line(const ConnectionContext& context, const std::string& line) {
  if (context.log != nullptr && *context.log) (*context.log)(line);
}

bool is_retry(int ret) {
  return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

bool handshake(mbedtls_ssl_context* ssl, const ConnectionContext& context) {
  int ret = 0;
  while ((ret = mbedtls_ssl_handshake(ssl)) != 0) {
    if (is_retry(ret)) continue;
    log_line(context, "TLS handshake failed: " + mbedtls_error_text(ret));
    return false;
  }
  return true;
}

bool write_all(mbedtls_ssl_context* ssl, const std::string& data) {
  std::size_t written = 0;
  while (written < data.size()) {
    const int ret = mbedtls_ssl_write(
        ssl, reinterpret_cast<const unsigned char*>(data.data()) + written, data.size() - written);
    if (is_retry(ret)) continue;
    if (ret <= 0) return false;
    written += static_cast<std::size_t>(ret);
  }
  return true;
}

// End of stream, close_notify, the idle timeout and errors all end the connection alike.
ReadOutcome read_request(mbedtls_ssl_context* ssl, HttpRequestReader& reader,
                         HttpRequest& request, bool& keep_alive) {
  unsigned char buffer[4096];
  HttpRequestReader::Status status = reader.feed({});
  while (status == HttpRequestReader::Status::kNeedMore) {
    const int ret = mbedtls_ssl_read(ssl, buffer, sizeof buffer);
    if (is_retry(ret)) continue;
    if (ret <= 0) return ReadOutcome::kClosed;
    status = reader.feed(
        std::string_view(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(ret)));
  }
  if (status == HttpRequestReader::Status::kTooLarge) return ReadOutcome::kTooLarge;
  if (status == HttpRequestReader::Status::kMalformed) return ReadOutcome::kMalformed;
  request = reader.take(keep_alive);
  return ReadOutcome::kRequest;
}

// False when the server began stopping during the wait.
bool sleep_unless_stopping(std::int64_t delay_ms, const std::atomic<bool>& stopping) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (stopping.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !stopping.load();
}

// Framing errors never reach the core: the answer is plain text and the connection closes.
void refuse(mbedtls_ssl_context* ssl, int status, const std::string& why) {
  HttpResponse response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/plain"});
  response.body = why + "\n";
  if (write_all(ssl, serialize_http_response(response, false))) mbedtls_ssl_close_notify(ssl);
}

void serve_requests(mbedtls_ssl_context* ssl, const ConnectionContext& context) {
  HttpRequestReader reader;
  while (!context.stopping->load()) {
    HttpRequest request;
    bool keep_alive = false;
    switch (read_request(ssl, reader, request, keep_alive)) {
      case ReadOutcome::kClosed: return;
      case ReadOutcome::kTooLarge: return refuse(ssl, 413, "request too large");
      case ReadOutcome::kMalformed: return refuse(ssl, 400, "malformed HTTP request");
      case ReadOutcome::kRequest: break;
    }
    const EmulatorReply reply = (*context.handler)(request);
    if (reply.drop_connection) return;  // no answer and no close_notify: a cut connection
    if (!sleep_unless_stopping(reply.delay_ms, *context.stopping)) return;
    keep_alive = keep_alive && !context.stopping->load();
    if (!write_all(ssl, serialize_http_response(reply.response, keep_alive))) return;
    if (!keep_alive) {
      mbedtls_ssl_close_notify(ssl);
      return;
    }
  }
}

}  // namespace

std::string mbedtls_error_text(int code) {
  char text[160];
  mbedtls_strerror(code, text, sizeof text);
  return text;
}

void serve_tls_connection(mbedtls_net_context* client, const ConnectionContext& context) {
  mbedtls_ssl_context ssl;
  mbedtls_ssl_init(&ssl);
  const int ret = mbedtls_ssl_setup(&ssl, context.config);
  if (ret != 0) {
    log_line(context, "TLS setup failed: " + mbedtls_error_text(ret));
  } else {
    mbedtls_ssl_set_bio(&ssl, client, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
    if (handshake(&ssl, context)) serve_requests(&ssl, context);
  }
  mbedtls_ssl_free(&ssl);
}

}  // namespace swas::emulator
