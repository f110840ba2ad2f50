// Accept loop and connection bookkeeping; every socket is closed under one lock so stop() can
// cut open connections without racing a thread that is closing its own.
#include "tls_server.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include "tls_connection.hpp"

namespace swas::emulator {
namespace {

// Only HTTP/1.1 is spoken; saying so stops clients from trying h2.
const char* kAlpnProtocols[] = {"http/1.1", nullptr};

struct Connection {
  mbedtls_net_context net{};
  std::thread thread;
  std::atomic<bool> done{false};
};

void tune_socket(int fd) {
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // small answers, no Nagle wait
  timeval send_timeout{};
  send_timeout.tv_sec = kSendTimeoutMs / 1000;
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
}

}  // namespace

struct TlsServer::Impl {
  TlsServerOptions options;
  RequestHandler handler;
  mbedtls_entropy_context entropy{};
  mbedtls_ctr_drbg_context drbg{};
  mbedtls_x509_crt cert{};
  mbedtls_pk_context key{};
  mbedtls_ssl_config config{};
  mbedtls_ssl_ticket_context tickets{};  // session tickets, as the real endpoints offer resumption
  mbedtls_net_context listener{};
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::thread accept_thread;
  std::mutex connections_mutex;
  std::list<std::unique_ptr<Connection>> connections;

  Impl(TlsServerOptions o, RequestHandler h) : options(std::move(o)), handler(std::move(h)) {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&config);
    mbedtls_ssl_ticket_init(&tickets);
    mbedtls_net_init(&listener);
  }
  ~Impl() {
    mbedtls_net_free(&listener);
    mbedtls_ssl_ticket_free(&tickets);
    mbedtls_ssl_config_free(&config);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&cert);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }

  std::optional<std::string> configure_tls();
  std::optional<std::string> bind_listener();
  void accept_loop();
  void launch(const mbedtls_net_context& client);
  void reap_finished();
  void cut_and_join_connections();
};

std::optional<std::string> TlsServer::Impl::configure_tls() {
  static const char kPersonalisation[] = "swas-emulator";
  int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                  reinterpret_cast<const unsigned char*>(kPersonalisation),
                                  sizeof kPersonalisation - 1);
  if (ret != 0) return "random generator: " + mbedtls_error_text(ret);
  if ((ret = mbedtls_x509_crt_parse_file(&cert, options.cert_file.c_str())) != 0)
    return options.cert_file + ": " + mbedtls_error_text(ret);
  if ((ret = mbedtls_pk_parse_keyfile(&key, options.key_file.c_str(), nullptr)) != 0)
    return options.key_file + ": " + mbedtls_error_text(ret);
  ret = mbedtls_ssl_config_defaults(&config, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) return "TLS config: " + mbedtls_error_text(ret);
  // MBEDTLS_THREADING_C is on in Debian's build, so the DRBG locks itself for our threads.
  mbedtls_ssl_conf_rng(&config, mbedtls_ctr_drbg_random, &drbg);
  mbedtls_ssl_conf_min_version(&config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_read_timeout(&config, options.idle_timeout_ms);
  mbedtls_ssl_conf_alpn_protocols(&config, kAlpnProtocols);
  if ((ret = mbedtls_ssl_conf_own_cert(&config, &cert, &key)) != 0)
    return "certificate and key do not go together: " + mbedtls_error_text(ret);
  if ((ret = mbedtls_ssl_ticket_setup(&tickets, mbedtls_ctr_drbg_random, &drbg, MBEDTLS_CIPHER_AES_256_GCM, 86400)) != 0)
    return "session tickets: " + mbedtls_error_text(ret);
  mbedtls_ssl_conf_session_tickets_cb(&config, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &tickets);
  return std::nullopt;
}

std::optional<std::string> TlsServer::Impl::bind_listener() {
  const std::string port_text = std::to_string(options.port);
  int ret = mbedtls_net_bind(&listener, options.host.c_str(), port_text.c_str(),
                             MBEDTLS_NET_PROTO_TCP);
  if (ret != 0)
    return "cannot listen on " + options.host + ":" + port_text + ": " + mbedtls_error_text(ret);
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(listener.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return "getsockname failed";
  port = ntohs(address.ss_family == AF_INET6
                   ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  // Non-blocking, so a connection that vanishes between poll() and accept() cannot hang us.
  if ((ret = mbedtls_net_set_nonblock(&listener)) != 0) return mbedtls_error_text(ret);
  return std::nullopt;
}

void TlsServer::Impl::accept_loop() {
  while (!stopping.load()) {
    pollfd ready{listener.fd, POLLIN, 0};
    const int polled = ::poll(&ready, 1, 100);  // wakes regularly to notice stop()
    reap_finished();
    if (polled <= 0) continue;
    mbedtls_net_context client;
    mbedtls_net_init(&client);
    if (mbedtls_net_accept(&listener, &client, nullptr, 0, nullptr) != 0) continue;
    std::size_t active = 0;
    {
      std::lock_guard<std::mutex> lock(connections_mutex);
      active = connections.size();
    }
    if (active >= options.max_connections) {
      if (options.log) options.log("connection refused: " + std::to_string(active) + " open");
      mbedtls_net_free(&client);
      continue;
    }
    tune_socket(client.fd);
    launch(client);
  }
}

void TlsServer::Impl::launch(const mbedtls_net_context& client) {
  auto owned = std::make_unique<Connection>();
  Connection* connection = owned.get();
  connection->net = client;
  {
    std::lock_guard<std::mutex> lock(connections_mutex);
    connections.push_back(std::move(owned));
  }
  const ConnectionContext context{&config, &handler, &stopping, &options.log};
  try {
    connection->thread = std::thread([this, connection, context] {
      serve_tls_connection(&connection->net, context);
      {
        std::lock_guard<std::mutex> lock(connections_mutex);
        mbedtls_net_free(&connection->net);
      }
      connection->done.store(true);
    });
  } catch (const std::system_error&) {
    std::lock_guard<std::mutex> lock(connections_mutex);
    mbedtls_net_free(&connection->net);
    connection->done.store(true);
  }
}

void TlsServer::Impl::reap_finished() {
  std::lock_guard<std::mutex> lock(connections_mutex);
  for (auto it = connections.begin(); it != connections.end();) {
    if (!(*it)->done.load()) {
      ++it;
      continue;
    }
    if ((*it)->thread.joinable()) (*it)->thread.join();  // it has already left its work
    it = connections.erase(it);
  }
}

void TlsServer::Impl::cut_and_join_connections() {
  std::list<std::unique_ptr<Connection>> remaining;
  {
    std::lock_guard<std::mutex> lock(connections_mutex);
    for (const auto& connection : connections)
      if (connection->net.fd >= 0) ::shutdown(connection->net.fd, SHUT_RDWR);  // wakes reads
    remaining.swap(connections);
  }
  for (const auto& connection : remaining)
    if (connection->thread.joinable()) connection->thread.join();
}

TlsServer::TlsServer(TlsServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

TlsServer::~TlsServer() { stop(); }

std::optional<std::string> TlsServer::start() {
  if (impl_->started) return std::string("already started");
  if (auto error = impl_->configure_tls()) return error;
  if (auto error = impl_->bind_listener()) return error;
  impl_->started = true;
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
  return std::nullopt;
}

std::uint16_t TlsServer::port() const { return impl_->port; }

void TlsServer::stop() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->stopping.store(true);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->cut_and_join_connections();
  mbedtls_net_free(&impl_->listener);
}

}  // namespace swas::emulator
