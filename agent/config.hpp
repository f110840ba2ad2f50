// The agent's configuration (contract §2): loaded from JSON text, validated once, with defaults.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "command_policy.hpp"
#include "expected.hpp"
#include "http_types.hpp"
#include "limits.hpp"

namespace swas {

struct MqttTlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct MqttConfig {
  std::string uri;  // normalised to tcp:// or ssl:// for the MQTT library
  bool tls = false;
  std::string client_id;
  std::string command_topic;
  int version = 5;  // 5 or 3 (3.1.1)
  int qos = 1;
  int keepalive_s = 30;
  std::string username;
  std::string password_file;
  std::optional<MqttTlsFiles> tls_files;
  std::uint32_t session_expiry_s = 86400;  // MQTT 5 persistent session lifetime
  std::string status_topic;                // default swas/<gateway_id>/status
  std::uint32_t status_interval_s = 60;
  // MQTT 5 Maximum Packet Size announced in CONNECT; 0: none (docs/operations.md: the broker's
  // own max_packet_size, and why Debian's mosquitto 2.0.11 needs it when this is announced).
  std::uint32_t max_packet_bytes = limits::kMaxInboundPacketBytes;
};

struct RetryConfig {
  int max_attempts = limits::kDefaultMaxAttempts;
  std::uint32_t backoff_base_ms = limits::kDefaultBackoffBaseMs;
  std::uint32_t backoff_max_ms = limits::kDefaultBackoffMaxMs;
  std::uint32_t deadline_ms = limits::kDefaultCommandDeadlineMs;
};

struct CommandsConfig {
  std::size_t queue_depth = limits::kDefaultQueueDepth;
  std::size_t max_in_flight = limits::kDefaultMaxInFlight;
};

enum class Durability { Full, Process };

struct JournalConfig {
  Durability durability = Durability::Full;
  std::uint32_t retention_s = limits::kDefaultJournalRetentionS;
  std::size_t max_records = limits::kDefaultJournalMaxRecords;
};

struct CloudConfig {
  std::optional<Endpoint> endpoint;  // empty: https://swas.<RegionId>.aliyuncs.com per command
  // cloud.quota: action -> "N/<window>" as written (validated by parse_quota), and how long a
  // command without an expiry may wait for its turn (docs/contract.md, "The account's rate quota").
  std::map<std::string, std::string> quota;
  std::uint32_t quota_max_wait_s = limits::kDefaultQuotaMaxWaitS;
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::uint32_t timeout_ms = 10000;
  RetryConfig retry;
};

// Following each successful stop to Stopped (docs/contract.md, "Following a stop").
struct FollowConfig {
  bool enabled = true;
  std::uint32_t interval_ms = limits::kDefaultFollowIntervalMs;
  std::uint32_t deadline_s = limits::kDefaultFollowDeadlineS;
  std::size_t max_instances = limits::kDefaultFollowMaxInstances;
};

struct Config {
  std::string gateway_id;
  MqttConfig mqtt;
  CloudConfig cloud;
  std::string credentials_file = "/etc/swas-agent/credentials.json";
  std::string state_dir = "/var/lib/swas-agent";
  CommandsConfig commands;
  JournalConfig journal;
  PolicyConfig policy;
  FollowConfig follow;
};

// A configuration problem: the dotted key ("mqtt.qos") and what is wrong with it.
struct ConfigError {
  std::string key;
  std::string message;
  std::string to_string() const { return key.empty() ? message : key + ": " + message; }
};

// `gateway_id_override` (from --gateway-id or SWAS_GATEWAY_ID) replaces the file's gateway_id,
// before the defaults derived from it (client_id, topics) are computed; the file may then omit it.
Expected<Config, ConfigError> parse_config(std::string_view json,
                                           const std::optional<std::string>& gateway_id_override = std::nullopt);

// "https://host[:port][/]" -> Endpoint. Only https is accepted: the certificate is always checked.
Expected<Endpoint, std::string> parse_endpoint(std::string_view url);
// The default endpoint for a region: swas.<region>.aliyuncs.com:443.
Endpoint region_endpoint(std::string_view region_id);

bool is_valid_gateway_id(std::string_view id);

}  // namespace swas
