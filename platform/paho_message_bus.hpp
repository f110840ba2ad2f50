// The MQTT side on Paho C++: subscribe to the command topic, hand messages over, publish results.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "command_processor.hpp"
#include "config.hpp"
#include "expected.hpp"
#include "ports.hpp"

namespace mqtt {
class async_client;
class iaction_listener;
}

namespace swas {

struct MessageBusOptions {
  MqttConfig mqtt;
  std::string password;  // read from mqtt.password_file by the caller; may be empty
  std::size_t max_buffered_results = 1000;  // results kept in memory while the broker is away
};

// publish() is thread-safe and never waits for the broker. The message handler runs on Paho's
// thread: it must not block (hand the message to a queue).
class PahoMessageBus final : public MessagePublisher {
 public:
  using Handler = std::function<void(IncomingMessage&&)>;

  PahoMessageBus(MessageBusOptions options, Logger& logger);
  ~PahoMessageBus() override;
  PahoMessageBus(const PahoMessageBus&) = delete;
  PahoMessageBus& operator=(const PahoMessageBus&) = delete;

  // One connection attempt, waiting up to `timeout_ms`. On success the bus subscribes to the
  // command topic (again on every automatic reconnect) and delivers messages to `handler`.
  Expected<bool, std::string> connect(const Handler& handler, std::uint32_t timeout_ms);
  // Stops deliveries and disconnects, giving queued publications up to `timeout_ms`.
  void disconnect(std::uint32_t timeout_ms);

  void publish(const OutgoingMessage& message) override;

 private:
  void subscribe();

  MessageBusOptions options_;
  Logger& logger_;
  Handler handler_;
  std::unique_ptr<mqtt::iaction_listener> subscribe_listener_;
  std::unique_ptr<mqtt::async_client> client_;
};

}  // namespace swas
