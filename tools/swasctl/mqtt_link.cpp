// Paho MQTT C++ behind MqttLink. Paho throws mqtt::exception; nothing escapes this file.
#include "mqtt_link.hpp"

#include "files.hpp"
#include "limits.hpp"

#include <sys/stat.h>

#include <mqtt/async_client.h>

#include <fstream>
#include <iomanip>
#include <mutex>
#include <random>
#include <sstream>

namespace swasctl {
namespace {

std::string describe(const mqtt::exception& e) {
  std::string text = e.get_message().empty() ? std::string(e.what()) : e.get_message();
  // A refused MQTT 5 CONNACK arrives as the return code (135 = Not authorized).
  int reason = e.get_reason_code();
  if (reason <= 0 && e.get_return_code() >= 0x80) reason = e.get_return_code();
  if (reason > 0) text += ": " + mqtt::exception::reason_code_str(reason) + " (reason code " + std::to_string(reason) + ")";
  return text;
}

// Paho C's process-wide set-up, before its first client. Debian's Paho C++ links the TLS build of
// Paho C, which otherwise initialises OpenSSL at the first client even for a tcp:// broker (peak
// RSS of `swasctl status` 8.7 MB with it, 7.1 MB without); ssl:// keeps Paho's initialisation, as
// in swas-agent (platform/paho_message_bus.hpp, init_paho).
void init_paho_once(bool tls) {
  static std::once_flag once;
  std::call_once(once, [tls] {
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = tls ? 1 : 0;
    MQTTAsync_global_init(&init);
  });
}

}  // namespace

MqttLink::MqttLink(BrokerOptions options, std::string password)
    : options_(std::move(options)), password_(std::move(password)) {}

MqttLink::~MqttLink() { disconnect(); }

std::optional<std::string> MqttLink::connect(std::chrono::milliseconds timeout) {
  init_paho_once(options_.tls());
  try {
    client_ = std::make_unique<mqtt::async_client>(options_.uri, "swasctl-" + random_hex(8),
                                                   mqtt::create_options(MQTTVERSION_5));
    client_->start_consuming();
    auto builder = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .keep_alive_interval(std::chrono::seconds(30))
                       .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout));
    if (!options_.username.empty()) builder.user_name(options_.username);
    if (!password_.empty()) builder.password(password_);
    if (options_.tls()) {
      auto ssl = mqtt::ssl_options_builder().enable_server_cert_auth(true).verify(true);
      if (!options_.ca_file.empty()) ssl.trust_store(options_.ca_file);
      if (!options_.cert_file.empty()) ssl.key_store(options_.cert_file);
      if (!options_.key_file.empty()) ssl.private_key(options_.key_file);
      builder.ssl(ssl.finalize());
    }
    auto token = client_->connect(builder.finalize());
    if (!token->wait_for(timeout)) return "connecting to " + options_.uri + " timed out";
    return std::nullopt;
  } catch (const mqtt::exception& e) {
    return "connecting to " + options_.uri + " failed: " + describe(e);
  }
}

std::optional<std::string> MqttLink::subscribe(const std::string& filter, std::chrono::milliseconds timeout) {
  try {
    auto token = client_->subscribe(filter, 1);
    if (!token->wait_for(timeout)) return "subscribing to " + filter + " timed out";
    const mqtt::subscribe_response response = token->get_subscribe_response();
    for (const auto code : response.get_reason_codes())
      if (code >= 0x80)
        return "the broker refused the subscription to " + filter + " (reason code " +
               std::to_string(static_cast<int>(code)) + "); check its ACL for this user";
    return std::nullopt;
  } catch (const mqtt::exception& e) {
    return "subscribing to " + filter + " failed: " + describe(e);
  }
}

std::optional<std::string> MqttLink::publish(const Outgoing& message, std::chrono::milliseconds timeout) {
  const std::string& topic = message.topic;
  try {
    auto msg = mqtt::make_message(topic, message.payload, 1, false);
    mqtt::properties props;
    if (!message.response_topic.empty())
      props.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, message.response_topic));
    if (!message.correlation.empty())
      props.add(mqtt::property(mqtt::property::CORRELATION_DATA, message.correlation));
    if (message.expiry_s > 0) props.add(mqtt::property(mqtt::property::MESSAGE_EXPIRY_INTERVAL, message.expiry_s));
    msg->set_properties(props);
    auto token = client_->publish(msg);
    if (!token->wait_for(timeout)) return "publishing to " + topic + " timed out";
    const int reason = token->get_reason_code();
    if (reason >= 0x80)
      return "the broker refused the command on " + topic + " (reason code " + std::to_string(reason) +
             "); check its ACL for this user";
    return std::nullopt;
  } catch (const mqtt::exception& e) {
    return "publishing to " + topic + " failed: " + describe(e);
  }
}

std::optional<ReceivedMessage> MqttLink::next(Clock::time_point deadline) {
  try {
    while (Clock::now() < deadline) {
      mqtt::const_message_ptr msg;
      if (!client_->try_consume_message_until(&msg, deadline)) return std::nullopt;
      if (!msg) {  // Paho hands over null when the connection is lost (#414)
        if (!client_->is_connected()) return std::nullopt;
        continue;
      }
      ReceivedMessage r{msg->get_topic(), msg->get_payload_str(), "", msg->is_retained()};
      if (msg->get_properties().contains(mqtt::property::CORRELATION_DATA))
        r.correlation_data = mqtt::get<std::string>(msg->get_properties(), mqtt::property::CORRELATION_DATA);
      return r;
    }
  } catch (const mqtt::exception&) {
    // treated as "nothing arrived"
  }
  return std::nullopt;
}

void MqttLink::disconnect() {
  if (!client_) return;
  try {
    if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const mqtt::exception&) {
    // leaving anyway
  }
}

PasswordOrError read_password_file(const std::string& path) {
  // The agent's rules for secret files (platform/files.hpp): private, and no other local user can
  // replace it (group/other-writable files and directories, foreign links are refused).
  if (auto problem = swas::check_private_file(path)) return {"", *problem};
  auto text = swas::read_text_file(path, swas::limits::kMaxSecretFileBytes);
  if (!text) return {"", text.error()};
  std::string password = std::move(*text);
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return {password, ""};
}

std::string random_hex(std::size_t bytes) {
  std::random_device device;  // getrandom(2) / /dev/urandom on Linux
  std::ostringstream out;
  for (std::size_t i = 0; i < bytes; ++i)
    out << std::hex << std::setw(2) << std::setfill('0') << (device() & 0xffu);
  return out.str();
}

}  // namespace swasctl
