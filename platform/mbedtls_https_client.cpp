// One request at a time over a verified TLS connection, kept alive for the next request. Each
// attempt has one deadline; every wait on the socket ends by it, whatever the peer does.
#include "mbedtls_https_client.hpp"

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>

#include "http_response_reader.hpp"
#include "tcp_connect.hpp"

namespace swas {
namespace {

std::string mbedtls_message(int rc) {
  char buf[160];
  mbedtls_strerror(rc, buf, sizeof buf);
  return buf;
}

TransportError io_error(int rc, const char* step) {
  if (rc == MBEDTLS_ERR_SSL_TIMEOUT)
    return {TransportFailure::Timeout, std::string(step) + " timed out"};
  if (rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED ||
      rc == MBEDTLS_ERR_NET_CONN_RESET)
    return {TransportFailure::Connect, std::string(step) + ": " + mbedtls_message(rc)};
  return {TransportFailure::Tls, std::string(step) + ": " + mbedtls_message(rc)};
}

using SteadyClock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, rounded up; 0 or less when it has passed.
long long ms_left(SteadyClock::time_point deadline) {
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
}

// The socket as Mbed TLS's I/O callbacks see it: never blocking past `deadline`.
struct DeadlineSocket {
  int fd = -1;
  SteadyClock::time_point deadline;
};

// 0 once `fd` is ready for `events` (or has an error the next call reports), else an Mbed TLS error.
int wait_ready(const DeadlineSocket& sock, short events, int failure) {
  for (;;) {
    const long long left = ms_left(sock.deadline);
    if (left <= 0) return MBEDTLS_ERR_SSL_TIMEOUT;
    pollfd pfd{sock.fd, events, 0};
    const int rc = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (rc > 0) return 0;
    if (rc < 0 && errno != EINTR) return failure;
  }
}

int send_by_deadline(void* ctx, const unsigned char* buf, std::size_t len) {
  const auto& sock = *static_cast<const DeadlineSocket*>(ctx);
  for (;;) {
    const ssize_t n = ::send(sock.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) return MBEDTLS_ERR_NET_CONN_RESET;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return MBEDTLS_ERR_NET_SEND_FAILED;
    if (const int rc = wait_ready(sock, POLLOUT, MBEDTLS_ERR_NET_SEND_FAILED)) return rc;
  }
}

int recv_by_deadline(void* ctx, unsigned char* buf, std::size_t len) {
  const auto& sock = *static_cast<const DeadlineSocket*>(ctx);
  for (;;) {
    const ssize_t n = ::recv(sock.fd, buf, len, MSG_DONTWAIT);
    if (n >= 0) return static_cast<int>(n);  // 0: the peer closed
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return MBEDTLS_ERR_NET_CONN_RESET;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return MBEDTLS_ERR_NET_RECV_FAILED;
    if (const int rc = wait_ready(sock, POLLIN, MBEDTLS_ERR_NET_RECV_FAILED)) return rc;
  }
}

}  // namespace

struct MbedTlsHttpsClient::Connection {
  std::string host;
  std::uint16_t port = 0;
  mbedtls_net_context net;  // owns the socket
  DeadlineSocket io;        // the same socket, with the current attempt's deadline
  mbedtls_ssl_context ssl;
  Connection() {
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
  }
  ~Connection() {
    io.deadline = SteadyClock::now();  // close_notify goes out only if it needs no wait
    if (net.fd >= 0) mbedtls_ssl_close_notify(&ssl);
    mbedtls_ssl_free(&ssl);
    mbedtls_net_free(&net);
  }
  // Nothing arrived (no byte, no close) since the last response: the connection may carry the
  // next request. Bytes nobody asked for must never be taken as the next request's answer.
  bool quiet() {
    if (mbedtls_ssl_get_bytes_avail(&ssl) > 0 || mbedtls_ssl_check_pending(&ssl) != 0) return false;
    pollfd pfd{net.fd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&pfd, 1, 0);
    } while (rc < 0 && errno == EINTR);
    return rc == 0;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

std::string serialize_request(const HttpRequest& request) {
  std::string out;
  out.reserve(512 + request.body.size());
  out += request.method;
  out += ' ';
  out += request.target;
  out += " HTTP/1.1\r\n";
  for (const auto& h : request.headers) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(request.body.size());
  out += "\r\n\r\n";
  out += request.body;
  return out;
}

TlsClientContext::TlsClientContext(HttpsClientOptions options) : options_(std::move(options)) {
  mbedtls_x509_crt_init(&ca_chain_);
  mbedtls_ssl_config_init(&conf_);
}

TlsClientContext::~TlsClientContext() {
  mbedtls_ssl_config_free(&conf_);
  mbedtls_x509_crt_free(&ca_chain_);
}

Expected<std::shared_ptr<TlsClientContext>, std::string> TlsClientContext::create(const HttpsClientOptions& options) {
  std::shared_ptr<TlsClientContext> c(new TlsClientContext(options));
  auto rng = CtrDrbgEntropy::create("swas-agent https client");
  if (!rng) return unexpected(rng.error());
  c->rng_ = std::move(*rng);
  const int parsed = mbedtls_x509_crt_parse_file(&c->ca_chain_, options.ca_file.c_str());
  if (parsed < 0)
    return unexpected(options.ca_file + ": cannot load CA certificates: " + mbedtls_message(parsed));
  if (c->ca_chain_.version == 0) return unexpected(options.ca_file + ": holds no usable CA certificate");
  const int rc = mbedtls_ssl_config_defaults(&c->conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                             MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return unexpected("TLS configuration failed: " + mbedtls_message(rc));
  mbedtls_ssl_conf_authmode(&c->conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&c->conf_, &c->ca_chain_, nullptr);
  mbedtls_ssl_conf_rng(&c->conf_, mbedtls_ctr_drbg_random, c->rng_->drbg());
  mbedtls_ssl_conf_min_version(&c->conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  // No mbedtls_ssl_conf_read_timeout: the connection's I/O callbacks wait until the attempt's
  // deadline, not for a fixed time per read.
  return c;
}

MbedTlsHttpsClient::MbedTlsHttpsClient(std::shared_ptr<const TlsClientContext> context)
    : context_(std::move(context)), options_(context_->options()) {
  mbedtls_ssl_session_init(&session_);
}

MbedTlsHttpsClient::~MbedTlsHttpsClient() {
  idle_.reset();
  mbedtls_ssl_session_free(&session_);
}

namespace {

// Called once per certificate of the chain, in full handshakes only: a resumed one has none.
int count_certificates(void* counter, mbedtls_x509_crt*, int, std::uint32_t*) {
  ++*static_cast<int*>(counter);
  return 0;  // leave the verification result to Mbed TLS
}

}  // namespace

Expected<std::unique_ptr<MbedTlsHttpsClient>, std::string> MbedTlsHttpsClient::create(const HttpsClientOptions& options) {
  auto context = TlsClientContext::create(options);
  if (!context) return unexpected(context.error());
  return std::make_unique<MbedTlsHttpsClient>(std::move(*context));
}

Expected<std::unique_ptr<MbedTlsHttpsClient::Connection>, TransportError> MbedTlsHttpsClient::open(
    const Endpoint& endpoint, SteadyClock::time_point deadline) {
  const long long left = ms_left(deadline);
  if (left <= 0)
    return unexpected(TransportError{TransportFailure::Timeout, "connecting to " + endpoint.host + ":" +
                                                                    std::to_string(endpoint.port) + " timed out"});
  auto fd = tcp_connect(endpoint.host, endpoint.port, static_cast<std::uint32_t>(std::min<long long>(left, UINT32_MAX)));
  if (!fd) return unexpected(fd.error());
  auto conn = std::make_unique<Connection>();
  conn->host = endpoint.host;
  conn->port = endpoint.port;
  conn->net.fd = *fd;
  conn->io = {*fd, deadline};
  int rc = mbedtls_ssl_setup(&conn->ssl, context_->conf());
  if (rc == 0) rc = mbedtls_ssl_set_hostname(&conn->ssl, endpoint.host.c_str());  // SNI + name check
  if (rc != 0) return unexpected(TransportError{TransportFailure::Tls, "TLS setup: " + mbedtls_message(rc)});
  mbedtls_ssl_set_bio(&conn->ssl, &conn->io, send_by_deadline, recv_by_deadline, nullptr);
  int certificates_seen = 0;
  mbedtls_ssl_set_verify(&conn->ssl, count_certificates, &certificates_seen);
  if (have_session_ && session_host_ == endpoint.host && session_port_ == endpoint.port)
    mbedtls_ssl_set_session(&conn->ssl, &session_);  // a failed resumption falls back to a full handshake
  while ((rc = mbedtls_ssl_handshake(&conn->ssl)) != 0) {
    if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) break;
    if (SteadyClock::now() > deadline) {
      rc = MBEDTLS_ERR_SSL_TIMEOUT;
      break;
    }
  }
  if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    char info[512];
    mbedtls_x509_crt_verify_info(info, sizeof info, "", mbedtls_ssl_get_verify_result(&conn->ssl));
    std::string why(info);
    for (char& ch : why) if (ch == '\n') ch = ';';
    while (!why.empty() && why.back() == ';') why.pop_back();
    return unexpected(TransportError{TransportFailure::Tls, "the certificate of " + endpoint.host +
                                                                " was refused: " + why});
  }
  if (rc != 0) {
    TransportError e = io_error(rc, "TLS handshake");
    e.detail += " (" + endpoint.host + ":" + std::to_string(endpoint.port) + ")";
    return unexpected(e);
  }
  const bool resumed = certificates_seen == 0;
  ++(resumed ? resumed_ : handshakes_);
  context_->count_handshake(resumed);
  mbedtls_ssl_session_free(&session_);
  mbedtls_ssl_session_init(&session_);
  have_session_ = mbedtls_ssl_get_session(&conn->ssl, &session_) == 0;
  session_host_ = endpoint.host;
  session_port_ = endpoint.port;
  return conn;
}

Expected<HttpResponse, TransportError> MbedTlsHttpsClient::exchange(Connection& conn,
                                                                    const HttpRequest& request,
                                                                    bool& peer_silent,
                                                                    bool& keep_alive) {
  peer_silent = true;
  const std::string wire = serialize_request(request);
  const auto deadline = conn.io.deadline;
  std::size_t sent = 0;
  while (sent < wire.size()) {
    const int rc = mbedtls_ssl_write(&conn.ssl, reinterpret_cast<const unsigned char*>(wire.data()) + sent,
                                     wire.size() - sent);
    if (rc > 0) {
      sent += static_cast<std::size_t>(rc);
    } else if (rc != MBEDTLS_ERR_SSL_WANT_WRITE && rc != MBEDTLS_ERR_SSL_WANT_READ) {
      return unexpected(io_error(rc, "sending the request"));
    } else if (SteadyClock::now() > deadline) {
      return unexpected(io_error(MBEDTLS_ERR_SSL_TIMEOUT, "sending the request"));
    }
  }
  HttpResponseReader reader(options_.max_response_bytes);
  unsigned char buf[4096];
  while (reader.state() == HttpResponseReader::State::NeedMore) {
    const int rc = mbedtls_ssl_read(&conn.ssl, buf, sizeof buf);
    if (rc > 0) {
      peer_silent = false;
      reader.feed(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(rc));
    } else if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_NET_CONN_RESET) {
      reader.feed(nullptr, 0);
    } else if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
      return unexpected(io_error(rc, "reading the response"));
    } else if (SteadyClock::now() > deadline) {
      return unexpected(io_error(MBEDTLS_ERR_SSL_TIMEOUT, "reading the response"));
    }
  }
  if (reader.state() == HttpResponseReader::State::Error) {
    const TransportFailure kind = reader.bytes_seen() == 0 ? TransportFailure::Connect : TransportFailure::Protocol;
    return unexpected(TransportError{kind, reader.error()});
  }
  // Bytes after the response (in the reader or still inside Mbed TLS) were not asked for: the
  // connection is out of step with its requests and must not carry another one.
  keep_alive = reader.keep_alive() && !reader.trailing_bytes() && mbedtls_ssl_get_bytes_avail(&conn.ssl) == 0;
  return reader.take_response();
}

Expected<bool, TransportError> MbedTlsHttpsClient::handshake(const Endpoint& endpoint) {
  auto conn = open(endpoint, SteadyClock::now() + std::chrono::milliseconds(options_.timeout_ms));
  if (!conn) return unexpected(conn.error());
  return true;
}

Expected<HttpResponse, TransportError> MbedTlsHttpsClient::round_trip(const Endpoint& endpoint,
                                                                      const HttpRequest& request) {
  // The whole attempt (connect, handshake, request, the complete response, and the second
  // connection below if one is needed) ends by this deadline.
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(options_.timeout_ms);
  std::unique_ptr<Connection> conn;
  if (idle_ && idle_->host == endpoint.host && idle_->port == endpoint.port && idle_->quiet())
    conn = std::move(idle_);
  idle_.reset();
  const bool reusing = conn != nullptr;
  context_->count_request();
  for (int pass = 0; pass < 2; ++pass) {
    if (!conn) {
      auto opened = open(endpoint, deadline);
      if (!opened) return unexpected(opened.error());
      conn = std::move(*opened);
    } else {
      conn->io.deadline = deadline;
      ++reused_;
    }
    bool peer_silent = true;
    bool keep_alive = false;
    auto response = exchange(*conn, request, peer_silent, keep_alive);
    if (response) {
      if (keep_alive) idle_ = std::move(conn);
      return response;
    }
    // A kept-alive connection the server had already closed: the request never reached it, so
    // sending it once more on a fresh connection is safe (and the nonce is still unused).
    if (!(reusing && pass == 0 && peer_silent)) return response;
    conn.reset();
  }
  return unexpected(TransportError{TransportFailure::Connect, "unreachable"});
}

}  // namespace swas
