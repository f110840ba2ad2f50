// One thread accepts; each connection gets its own thread running the test's script.
#include "hostile_tls_server.hpp"

#include <arpa/inet.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "ctr_drbg_entropy.hpp"
#include "harness.hpp"

namespace swas::it {
namespace {

std::string mbedtls_text(int rc) {
  char buf[160];
  mbedtls_strerror(rc, buf, sizeof buf);
  return buf;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string http_response(const std::string& body, int status, const std::string& reason) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: text/plain\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct HostileTlsServer::Impl {
  struct Conn final : Connection {
    Impl* server = nullptr;
    int number = 0;
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    std::string buffer;
    std::thread thread;
    Conn() {
      mbedtls_net_init(&net);
      mbedtls_ssl_init(&ssl);
    }
    ~Conn() override {
      mbedtls_ssl_free(&ssl);
      mbedtls_net_free(&net);
    }
    int index() const override { return number; }
    std::optional<std::string> read_request() override;
    bool write(const std::string& bytes) override;
    bool sleep_ms(int ms) override {
      std::unique_lock<std::mutex> lock(server->mutex);
      return !server->cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return server->stopping.load(); });
    }
    void run();
  };

  Script script;
  std::unique_ptr<CtrDrbgEntropy> rng;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_ssl_config conf;
  mbedtls_net_context listener;
  std::uint16_t port = 0;
  std::atomic<int> accepted{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable cv;
  std::list<std::unique_ptr<Conn>> conns;  // kept until the destructor, so no fd is reused early
  std::thread acceptor;

  Impl() {
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&conf);
    mbedtls_net_init(&listener);
  }
  ~Impl() {
    conns.clear();  // their TLS contexts point at conf
    mbedtls_net_free(&listener);
    mbedtls_ssl_config_free(&conf);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&cert);
  }

  void accept_loop() {
    while (!stopping) {
      auto conn = std::make_unique<Conn>();
      if (mbedtls_net_accept(&listener, &conn->net, nullptr, 0, nullptr) != 0) {
        if (stopping) return;
        continue;
      }
      conn->server = this;
      conn->number = accepted++;
      Conn* c = conn.get();
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping) {
        ::shutdown(c->net.fd, SHUT_RDWR);
        conns.push_back(std::move(conn));
        return;
      }
      conns.push_back(std::move(conn));
      c->thread = std::thread([c] { c->run(); });
    }
  }
};

void HostileTlsServer::Impl::Conn::run() {
  int rc = mbedtls_ssl_setup(&ssl, &server->conf);
  if (rc == 0) {
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
    while ((rc = mbedtls_ssl_handshake(&ssl)) == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
    }
  }
  if (rc == 0) {
    server->script(*this);
    mbedtls_ssl_close_notify(&ssl);
  }
  ::shutdown(net.fd, SHUT_RDWR);  // the client sees the end; the fd is closed by the destructor
}

std::optional<std::string> HostileTlsServer::Impl::Conn::read_request() {
  for (;;) {
    const std::size_t head_end = buffer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const std::string head = buffer.substr(0, head_end + 2);
      std::size_t body = 0;
      const std::string lowered = lower(head);
      const std::size_t cl = lowered.find("\r\ncontent-length:");
      if (cl != std::string::npos) body = std::stoul(head.substr(cl + 17));
      if (buffer.size() >= head_end + 4 + body) {
        buffer.erase(0, head_end + 4 + body);
        const std::size_t sp1 = head.find(' ');
        const std::size_t sp2 = head.find(' ', sp1 + 1);
        return head.substr(sp1 + 1, sp2 - sp1 - 1);
      }
    }
    unsigned char buf[4096];
    const int rc = mbedtls_ssl_read(&ssl, buf, sizeof buf);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (rc <= 0) return std::nullopt;
    buffer.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(rc));
  }
}

bool HostileTlsServer::Impl::Conn::write(const std::string& bytes) {
  if (server->stopping) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  int rc;
  while ((rc = mbedtls_ssl_write(&ssl, p, bytes.size())) == MBEDTLS_ERR_SSL_WANT_WRITE ||
         rc == MBEDTLS_ERR_SSL_WANT_READ) {
  }
  return rc == static_cast<int>(bytes.size());
}

HostileTlsServer::HostileTlsServer(Script script) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.script = std::move(script);
  auto rng = CtrDrbgEntropy::create("hostile test server");
  if (!rng) throw std::runtime_error(rng.error());
  s.rng = std::move(*rng);
  const std::string cert = cert_dir() + "/server.pem";
  const std::string key = cert_dir() + "/server.key";
  int rc = mbedtls_x509_crt_parse_file(&s.cert, cert.c_str());
  if (rc == 0) rc = mbedtls_pk_parse_keyfile(&s.key, key.c_str(), nullptr);
  if (rc == 0)
    rc = mbedtls_ssl_config_defaults(&s.conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc == 0) {
    mbedtls_ssl_conf_rng(&s.conf, mbedtls_ctr_drbg_random, s.rng->drbg());
    mbedtls_ssl_conf_read_timeout(&s.conf, 5000);  // a silent client cannot hang the test
    rc = mbedtls_ssl_conf_own_cert(&s.conf, &s.cert, &s.key);
  }
  if (rc == 0) rc = mbedtls_net_bind(&s.listener, "127.0.0.1", "0", MBEDTLS_NET_PROTO_TCP);
  if (rc != 0) throw std::runtime_error("hostile TLS server: " + mbedtls_text(rc));
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(s.listener.fd, reinterpret_cast<sockaddr*>(&addr), &len);
  s.port = ntohs(addr.sin_port);
  s.acceptor = std::thread([&s] { s.accept_loop(); });
}

HostileTlsServer::~HostileTlsServer() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.stopping = true;
    for (auto& c : s.conns) ::shutdown(c->net.fd, SHUT_RDWR);
  }
  s.cv.notify_all();
  ::shutdown(s.listener.fd, SHUT_RDWR);  // wakes accept() on Linux
  s.acceptor.join();
  for (auto& c : s.conns)
    if (c->thread.joinable()) c->thread.join();
}

std::uint16_t HostileTlsServer::port() const { return impl_->port; }

int HostileTlsServer::connections() const { return impl_->accepted; }

}  // namespace swas::it
