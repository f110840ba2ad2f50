// swasctl's MQTT 5 connection (Paho MQTT C++): connect, subscribe, publish, receive with a
// deadline. Every Paho exception is caught here and becomes an error string.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cli.hpp"

namespace mqtt {
class async_client;
}

namespace swasctl {

struct ReceivedMessage {
  std::string topic;
  std::string payload;
  std::string correlation_data;
  bool retained = false;
};

// Not thread-safe: one thread uses it. Messages are queued by Paho until next() takes them.
class MqttLink {
 public:
  using Clock = std::chrono::steady_clock;

  // `password` is the content of options.password_file (read_password_file), or empty.
  MqttLink(BrokerOptions options, std::string password);
  ~MqttLink();
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Each returns an error message, or nullopt on success.
  std::optional<std::string> connect(std::chrono::milliseconds timeout);
  std::optional<std::string> subscribe(const std::string& filter, std::chrono::milliseconds timeout);
  // QoS 1, not retained, with an MQTT 5 Message Expiry when `expiry_s` > 0; waits for the
  // broker's PUBACK.
  struct Outgoing {
    std::string topic;
    std::string payload;
    std::string response_topic;
    std::string correlation;
    int expiry_s = 0;
  };
  std::optional<std::string> publish(const Outgoing& message, std::chrono::milliseconds timeout);
  // The next message, or nullopt when `deadline` passed (or the connection was lost).
  std::optional<ReceivedMessage> next(Clock::time_point deadline);
  void disconnect();

 private:
  BrokerOptions options_;
  std::string password_;
  std::unique_ptr<mqtt::async_client> client_;
};

// Reads an MQTT password file: it must not be readable by group or others; one trailing
// newline is dropped. The password, or an error message.
struct PasswordOrError {
  std::string password;
  std::string error;
};
PasswordOrError read_password_file(const std::string& path);

// `bytes` random bytes (from the system's CSPRNG) as lowercase hex.
std::string random_hex(std::size_t bytes);

}  // namespace swasctl
