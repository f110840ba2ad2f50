// Paho throws mqtt::exception; every call is wrapped here so no exception reaches the core.
#include "paho_message_bus.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <mqtt/async_client.h>

#include "mbedtls_https_client.hpp"

#include <chrono>
#include <cstdlib>

namespace swas {
namespace {

void log_line(Logger& logger, LogLevel level, const std::string& line) {
  if (logger.enabled(level)) logger.write(level, line);
}

// Filled in place, in an object that lives as long as the client: in Paho C++ 1.2 a copied
// connect_options keeps pointers into the original's properties, will and TLS options (copies
// out of connect_options_builder silently lost the session expiry, and the TLS error handler of a
// copy crashed). Copies made from this long-lived object point into it, which stays valid.
void fill_connect_options(mqtt::connect_options& opts, mqtt::ssl_options& ssl, const MessageBusOptions& o) {
  opts.set_mqtt_version(o.mqtt.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
  opts.set_keep_alive_interval(o.mqtt.keepalive_s);
  opts.set_connect_timeout(10);
  opts.set_automatic_reconnect(1, 30);
  // A persistent session: commands published while the agent is away wait at the broker.
  if (o.mqtt.version == 5) {
    opts.set_clean_start(false);
    // Maximum Packet Size: the broker drops a larger packet instead of sending it, so a hostile
    // 16 MiB "command" never reaches Paho's buffers (docs/security.md). MQTT 3.1.1 has no such
    // property: there the broker's max_packet_size does it (docs/operations.md).
    mqtt::properties props{{mqtt::property::SESSION_EXPIRY_INTERVAL, static_cast<int>(o.mqtt.session_expiry_s)}};
    if (o.mqtt.max_packet_bytes != 0)
      props.add(mqtt::property(mqtt::property::MAXIMUM_PACKET_SIZE, static_cast<int>(o.mqtt.max_packet_bytes)));
    opts.set_properties(props);
  } else {
    opts.set_clean_session(false);
  }
  if (!o.will_topic.empty()) opts.set_will_message(mqtt::message(o.will_topic, o.will_payload, 1, true));
  if (!o.mqtt.username.empty()) opts.set_user_name(o.mqtt.username);
  if (!o.password.empty()) opts.set_password(o.password);
  if (o.mqtt.tls) {
    ssl.set_enable_server_cert_auth(true);
    ssl.set_verify(true);
    if (o.mqtt.tls_files) {
      if (!o.mqtt.tls_files->ca_file.empty()) ssl.set_trust_store(o.mqtt.tls_files->ca_file);
      if (!o.mqtt.tls_files->cert_file.empty()) ssl.set_key_store(o.mqtt.tls_files->cert_file);
      if (!o.mqtt.tls_files->key_file.empty()) ssl.set_private_key(o.mqtt.tls_files->key_file);
    }
    opts.set_ssl(ssl);
  }
}

// Paho C never sets TCP_NODELAY and offers no socket hook, so small MQTT packets (a PUBACK then
// a result) can wait for the broker's delayed ACK: 40-90 ms per command (docs/operations.md).
// After each connect, set it on every connected TCP socket of the process; for any socket that is
// not the broker's (our HTTPS sockets already have it) the option is harmless.
int set_nodelay_on_tcp_sockets() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (const dirent* e = ::readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    if (fd <= 2 || fd == ::dirfd(dir)) continue;
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) continue;
    if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6) continue;
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++count;
  }
  ::closedir(dir);
  return count;
}

// Logs the broker's answer to SUBSCRIBE: only then are commands on the topic delivered to us.
class SubscribeListener final : public mqtt::iaction_listener {
 public:
  SubscribeListener(Logger& logger, std::string topic) : logger_(logger), topic_(std::move(topic)) {}
  void on_success(const mqtt::token&) override {
    log_line(logger_, LogLevel::Info, "subscribed to " + topic_);
  }
  void on_failure(const mqtt::token& tok) override {
    log_line(logger_, LogLevel::Error, "the broker refused the subscription to " + topic_ +
                                           " (reason code " + std::to_string(tok.get_reason_code()) +
                                           "); check the broker's ACL for this client");
  }

 private:
  Logger& logger_;
  std::string topic_;
};

// Reports the broker's PUBACK of a result to the journal; the token carries the journal id.
}  // namespace

// Completion of every publish the bus makes: frees the flow-control slot and reports the
// broker's ack of a result to the journal. The token's user context is the journal id (or null).
class PahoMessageBus::DeliveryAction final : public mqtt::iaction_listener {
 public:
  explicit DeliveryAction(PahoMessageBus& bus) : bus_(bus) {}
  void on_success(const mqtt::token& tok) override { done(tok, true); }
  void on_failure(const mqtt::token& tok) override { done(tok, false); }

 private:
  void done(const mqtt::token& tok, bool acknowledged) {
    std::unique_ptr<std::string> id(static_cast<std::string*>(tok.get_user_context()));
    bus_.delivered(id.get(), acknowledged, tok.get_reason_code());
  }
  PahoMessageBus& bus_;
};

void init_paho(bool openssl_init) {
  MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
  init.do_openssl_init = openssl_init ? 1 : 0;
  MQTTAsync_global_init(&init);
  // Paho C keeps every trace line from level "minimum" up in a ring of 400 entries (122 KiB) that
  // nothing reads unless its tracing is switched on (MQTT_C_CLIENT_TRACE); errors only otherwise.
  if (std::getenv("MQTT_C_CLIENT_TRACE") == nullptr) MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

PahoMessageBus::PahoMessageBus(MessageBusOptions options, Clock& clock, Logger& logger)
    : options_(std::move(options)), clock_(clock), logger_(logger) {
  delivery_action_ = std::make_unique<DeliveryAction>(*this);
  // MQTT 3.1.1 has no Receive Maximum; mosquitto's default in-flight window is 20.
  receive_maximum_ = options_.mqtt.version == 5 ? 65535 : 20;
  mqtt::create_options create(options_.mqtt.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1,
                              static_cast<int>(options_.max_buffered_results));
  create.set_send_while_disconnected(true, true);
  create.set_delete_oldest_messages(false);
  client_ = std::make_unique<mqtt::async_client>(options_.mqtt.uri, options_.mqtt.client_id, create);
  subscribe_listener_ = std::make_unique<SubscribeListener>(logger_, options_.mqtt.command_topic);
  connect_options_ = std::make_unique<mqtt::connect_options>();
  ssl_options_ = std::make_unique<mqtt::ssl_options>();
  fill_connect_options(*connect_options_, *ssl_options_, options_);
}

PahoMessageBus::~PahoMessageBus() = default;

void PahoMessageBus::subscribe() {
  try {
    // No Local: our own results on the shared topic are not sent back to us (MQTT 5).
    mqtt::subscribe_options opts(mqtt::subscribe_options::SUBSCRIBE_NO_LOCAL);
    const auto sub_opts = options_.mqtt.version == 5 ? opts : mqtt::subscribe_options();
    client_->subscribe(options_.mqtt.command_topic, options_.mqtt.qos, nullptr, *subscribe_listener_, sub_opts);
  } catch (const mqtt::exception& e) {
    log_line(logger_, LogLevel::Error, std::string("subscribing to the command topic failed: ") + e.what());
  }
}

void PahoMessageBus::set_message_handler(Handler handler) {
  handler_ = std::move(handler);
  client_->set_message_callback([this](mqtt::const_message_ptr m) {
    if (!m) return;  // Paho may hand over null on connection loss
    IncomingMessage msg;
    msg.topic = m->get_topic();
    msg.payload = m->get_payload_str();
    msg.received_ms = clock_.now_unix_ms();
    const auto& props = m->get_properties();
    if (props.contains(mqtt::property::MESSAGE_EXPIRY_INTERVAL))
      msg.message_expiry_s = mqtt::get<std::uint32_t>(props, mqtt::property::MESSAGE_EXPIRY_INTERVAL);
    if (props.contains(mqtt::property::RESPONSE_TOPIC))
      msg.response_topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
    if (props.contains(mqtt::property::CORRELATION_DATA))
      msg.correlation_data = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
    handler_(std::move(msg));
  });
  client_->set_connected_handler([this](const std::string&) {
    set_nodelay_on_tcp_sockets();
    release_after_reconnect();
    log_line(logger_, LogLevel::Info, "connected to " + options_.mqtt.uri + ", subscribing to " +
                                          options_.mqtt.command_topic);
    subscribe();  // asynchronous: never wait inside a Paho callback; again after every reconnect
    if (connected_hook_) connected_hook_();
  });
  client_->set_connection_lost_handler([this](const std::string& cause) {
    log_line(logger_, LogLevel::Warn, "lost the broker connection" + (cause.empty() ? "" : ": " + cause) +
                                          "; reconnecting");
  });
}

Expected<bool, std::string> PahoMessageBus::connect(std::uint32_t timeout_ms) {
  try {
    auto token = client_->connect(*connect_options_);
    if (!token->wait_for(std::chrono::milliseconds(timeout_ms)))
      return unexpected("connecting to " + options_.mqtt.uri + " timed out");
    const auto response = token->get_connect_response();
    log_line(logger_, LogLevel::Debug, std::string("broker session present: ") +
                                           (response.is_session_present() ? "yes" : "no"));
    if (options_.mqtt.version == 5 && response.get_properties().contains(mqtt::property::RECEIVE_MAXIMUM)) {
      std::lock_guard<std::mutex> lock(flow_mutex_);
      receive_maximum_ = mqtt::get<std::uint16_t>(response.get_properties(), mqtt::property::RECEIVE_MAXIMUM);
    }
    return true;
  } catch (const mqtt::exception& e) {
    std::string why = "connecting to " + options_.mqtt.uri + " failed: " + e.get_message();
    if (options_.mqtt.tls) why += tls_diagnosis();
    return unexpected(why);
  }
}

// Paho reports only "TCP/TLS connect failure". When the broker's certificate is the reason, say
// so: a TLS handshake of our own (Mbed TLS, same CA file and host name) tells which check failed.
std::string PahoMessageBus::tls_diagnosis() const {
  const std::string& uri = options_.mqtt.uri;  // ssl://host:port
  const auto host_start = uri.find("://") + 3;
  const auto colon = uri.rfind(':');
  if (colon == std::string::npos || colon < host_start) return "";
  Endpoint ep;
  ep.host = uri.substr(host_start, colon - host_start);
  ep.port = static_cast<std::uint16_t>(std::atoi(uri.c_str() + colon + 1));
  const std::string ca = options_.mqtt.tls_files && !options_.mqtt.tls_files->ca_file.empty()
                             ? options_.mqtt.tls_files->ca_file
                             : std::string("/etc/ssl/certs/ca-certificates.crt");
  auto client = MbedTlsHttpsClient::create(HttpsClientOptions{ca, 5000, 4096});
  if (!client) return "; " + client.error();
  auto verdict = (*client)->handshake(ep);
  if (!verdict && verdict.error().detail.find("certificate") != std::string::npos)
    return "; " + verdict.error().detail + " (check mqtt.tls.ca_file and the broker's host name)";
  return "";
}

void PahoMessageBus::disconnect(std::uint32_t timeout_ms) {
  try {
    client_->set_message_callback([](mqtt::const_message_ptr) {});
    if (client_->is_connected())
      client_->disconnect(static_cast<int>(timeout_ms))->wait_for(std::chrono::milliseconds(timeout_ms));
  } catch (const mqtt::exception& e) {
    log_line(logger_, LogLevel::Warn, std::string("disconnect: ") + e.what());
  }
}

// Flow control: Paho C holds back QoS 1 messages beyond the broker's Receive Maximum until its
// one-second housekeeping tick (a PUBACK does not wake it), so a burst of results left 20 a
// second (docs/performance.md). The bus keeps at most Receive Maximum publications in flight and
// sends the next one from the completion of the previous.
// After a (re)connect Paho has re-sent or dropped what was in flight; start the window afresh so a
// publication whose completion never comes cannot hold a slot for ever.
void PahoMessageBus::release_after_reconnect() {
  std::deque<OutgoingMessage> ready;
  {
    std::lock_guard<std::mutex> lock(flow_mutex_);
    in_flight_ = 0;
    while (!waiting_.empty() && in_flight_ < receive_maximum_) {
      ready.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      ++in_flight_;
    }
  }
  for (const auto& m : ready) send(m);
}

void PahoMessageBus::publish(const OutgoingMessage& message) {
  if (options_.mqtt.qos > 0) {
    std::lock_guard<std::mutex> lock(flow_mutex_);
    if (in_flight_ >= receive_maximum_) {
      if (waiting_.size() >= kMaxWaitingPublications) {
        log_line(logger_, LogLevel::Error, "publication backlog full (" + std::to_string(waiting_.size()) +
                                               "); a result waits in the journal for the next republish");
        return;
      }
      waiting_.push_back(message);
      return;
    }
    ++in_flight_;
  }
  send(message);
}

void PahoMessageBus::delivered(const std::string* journal_id, bool acknowledged, int reason_code) {
  // A negative PUBACK (MQTT 5 reason code >= 0x80) is the broker's final word on that message:
  // publishing it again would be refused again. Other failures (a lost connection) are not final.
  const bool refused = !acknowledged && reason_code >= 0x80;
  if ((acknowledged || refused) && journal_id && delivery_listener_)
    delivery_listener_(*journal_id, refused, acknowledged ? 0 : reason_code);
  std::optional<OutgoingMessage> next;
  {
    std::lock_guard<std::mutex> lock(flow_mutex_);
    if (in_flight_ > 0) --in_flight_;
    if (!waiting_.empty() && in_flight_ < receive_maximum_) {
      next = std::move(waiting_.front());
      waiting_.pop_front();
      ++in_flight_;
    }
  }
  if (next) send(*next);  // asynchronous: safe on Paho's callback thread
}

void PahoMessageBus::send(const OutgoingMessage& message) {
  auto msg = mqtt::make_message(message.topic, message.payload, options_.mqtt.qos, message.retained);
  if (!message.correlation_data.empty() && options_.mqtt.version == 5) {
    mqtt::properties props;
    props.add(mqtt::property(mqtt::property::CORRELATION_DATA, message.correlation_data));
    msg->set_properties(props);
  }
  auto* id = message.journal_id.empty() ? nullptr : new std::string(message.journal_id);
  try {
    if (options_.mqtt.qos > 0) client_->publish(msg, id, *delivery_action_);
    else client_->publish(msg);
  } catch (const mqtt::exception& e) {
    log_line(logger_, LogLevel::Error, "publishing to " + message.topic + " failed: " + e.what());
    delete id;
    if (options_.mqtt.qos > 0) {
      std::lock_guard<std::mutex> lock(flow_mutex_);
      if (in_flight_ > 0) --in_flight_;
    }
  }
}

}  // namespace swas
