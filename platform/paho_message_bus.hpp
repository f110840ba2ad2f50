// The MQTT side on Paho C++: subscribe to the command topic, hand messages over, publish results.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "command_processor.hpp"
#include "config.hpp"
#include "expected.hpp"
#include "ports.hpp"

namespace mqtt {
class async_client;
class connect_options;
class iaction_listener;
class ssl_options;
}

namespace swas {

// Paho C's process-wide set-up: call once, before anything creates a Paho client (Paho C requires
// it to come first). Debian's Paho C++ links the TLS build of Paho C (libpaho-mqtt3as), which
// otherwise initialises OpenSSL when the first client is created (all ciphers and digests, error
// strings, openssl.cnf), even for a plain tcp:// broker that never uses it. With `openssl_init`
// false Paho leaves it alone; OpenSSL 3 still initialises itself on first use, but an ssl://
// agent measured no smaller that way (docs/footprint.md), so main() skips it for tcp:// only.
// Also keeps Paho's in-memory trace to errors unless MQTT_C_CLIENT_TRACE is set.
void init_paho(bool openssl_init);

struct MessageBusOptions {
  MqttConfig mqtt;
  std::string password;  // read from mqtt.password_file by the caller; may be empty
  std::size_t max_buffered_results = 1000;  // results kept in memory while the broker is away
  std::string will_topic;    // last will, retained (the offline status); empty: none
  std::string will_payload;
};

// publish() is thread-safe and never waits for the broker. The message handler runs on Paho's
// thread: it must not block (hand the message to a queue).
class PahoMessageBus final : public MessagePublisher {
 public:
  using Handler = std::function<void(IncomingMessage&&)>;
  // Final delivery outcome of a result that had a journal_id: acknowledged, or refused by the
  // broker (MQTT 5 PUBACK reason code >= 0x80, e.g. 135 Not authorized by its ACL). Both are final:
  // neither is published again. `reason_code` is the PUBACK's (0 when acknowledged).
  using DeliveryListener = std::function<void(const std::string& journal_id, bool refused, int reason_code)>;

  PahoMessageBus(MessageBusOptions options, Clock& clock, Logger& logger);
  ~PahoMessageBus() override;
  PahoMessageBus(const PahoMessageBus&) = delete;
  PahoMessageBus& operator=(const PahoMessageBus&) = delete;

  // Installs the callbacks; once, before the first connect (Paho refuses to change them while a
  // connection attempt is under way).
  void set_message_handler(Handler handler);
  // One connection attempt, waiting up to `timeout_ms`. On success the bus subscribes to the
  // command topic (again on every automatic reconnect) and delivers messages to the handler.
  Expected<bool, std::string> connect(std::uint32_t timeout_ms);
  // Called (on Paho's thread) when the broker acknowledged or refused a message with a journal_id.
  void set_delivery_listener(DeliveryListener listener) { delivery_listener_ = std::move(listener); }
  // Called (on Paho's thread, must not block) after every connect and reconnect.
  void set_connected_hook(std::function<void()> hook) { connected_hook_ = std::move(hook); }
  // Stops deliveries and disconnects, giving queued publications up to `timeout_ms`.
  void disconnect(std::uint32_t timeout_ms);

  void publish(const OutgoingMessage& message) override;

 private:
  class DeliveryAction;
  void subscribe();
  std::string tls_diagnosis() const;
  void send(const OutgoingMessage& message);
  void delivered(const std::string* journal_id, bool acknowledged, int reason_code);
  void release_after_reconnect();

  // Publications waiting for a flow-control slot (results are also in the journal).
  static constexpr std::size_t kMaxWaitingPublications = 10000;

  MessageBusOptions options_;
  Clock& clock_;
  Logger& logger_;
  Handler handler_;
  DeliveryListener delivery_listener_;
  std::function<void()> connected_hook_;
  std::unique_ptr<mqtt::iaction_listener> delivery_action_;
  std::mutex flow_mutex_;
  std::deque<OutgoingMessage> waiting_;
  std::size_t in_flight_ = 0;
  std::size_t receive_maximum_ = 65535;
  std::unique_ptr<mqtt::ssl_options> ssl_options_;          // both must outlive client_ (see .cpp)
  std::unique_ptr<mqtt::connect_options> connect_options_;
  std::unique_ptr<mqtt::iaction_listener> subscribe_listener_;
  std::unique_ptr<mqtt::async_client> client_;
};

}  // namespace swas
