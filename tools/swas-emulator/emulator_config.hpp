// The emulator's configuration (credentials, instances, faults) and its JSON loading.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator_quotas.hpp"
#include "expected.hpp"

namespace swas::emulator {

struct Credential {
  std::string access_key_id;
  std::string access_key_secret;
  std::string security_token;  // empty: a long-term key, which must not come with a token
};

// How a Stopping instance ends once its stopping time has passed: the real outcome, or a fault
// for testing a client's time-outs (stuck for ever, or back to Running as if the stop failed).
enum class StopOutcome { Stopped, StuckStopping, BackToRunning };

struct InstanceSpec {
  std::string instance_id;
  std::string region_id;
  std::string state = "Running";  // one of the SWAS instance states (is_instance_state)
  std::optional<std::int64_t> stopping_ms;  // how long Stopping lasts; absent: stop_delay_ms
  StopOutcome stop_outcome = StopOutcome::Stopped;
};

// Simulated service failures, applied to API requests before anything else.
struct Faults {
  int status = 500;                // 500 InternalError, 503 ServiceUnavailable or 429 Throttling
  std::int64_t count = 0;          // next `count` API requests are answered with `status`
  std::int64_t delay_ms = 0;       // every API request waits this long before its answer
  std::int64_t drop_count = 0;     // next `drop_count` API requests: connection closed, no answer
  std::int64_t retry_after_ms = 0;  // with 429: sent as x-acs-retry-after when > 0
};

struct EmulatorConfig {
  std::vector<Credential> credentials;
  std::vector<InstanceSpec> instances;
  std::int64_t stop_delay_ms = 2000;  // Stopping lasts this long unless an instance says otherwise
  Faults faults;
  QuotaSettings quotas;  // "quotas" and "quota_retry_after"; no quotas: nothing is throttled
};

// Errors name the key at fault, e.g. "instances[1].state: must be one of Pending, ...".
using ConfigError = std::string;

Expected<EmulatorConfig, ConfigError> parse_config(std::string_view json_text);
Expected<EmulatorConfig, ConfigError> load_config_file(const std::string& path);
// The bodies of POST /__emulator/faults and POST /__emulator/instances.
Expected<Faults, ConfigError> parse_faults(std::string_view json_text);
Expected<std::vector<InstanceSpec>, ConfigError> parse_instances(std::string_view json_text);
// The body of POST /__emulator/quotas: {"quotas": {...}, "quota_retry_after": bool}, both
// optional (absent: no quotas, no x-acs-retry-after), in the config's form.
Expected<QuotaSettings, ConfigError> parse_quota_settings(std::string_view json_text);

bool is_instance_state(std::string_view state);
// "Stopped", "StuckStopping", "BackToRunning" (the config and admin spelling).
const char* stop_outcome_name(StopOutcome outcome);
bool parse_stop_outcome(std::string_view name, StopOutcome& out);

}  // namespace swas::emulator
