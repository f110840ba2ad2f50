// JSON → EmulatorConfig with validation; unknown keys are errors so a typo never goes unnoticed.
#include "emulator_config.hpp"

#include <cjson/cJSON.h>

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <sstream>

namespace swas::emulator {
namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;
using MaybeError = std::optional<ConfigError>;

JsonPtr parse_json(std::string_view text) {
  return JsonPtr(cJSON_ParseWithLength(text.data(), text.size()), &cJSON_Delete);
}

MaybeError only_keys(const cJSON* object, const std::string& where,
                     std::initializer_list<std::string_view> allowed) {
  for (const cJSON* item = object->child; item != nullptr; item = item->next) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == item->string;
    if (!known) return where + "." + item->string + ": unknown key";
  }
  return std::nullopt;
}

MaybeError read_string(const cJSON* object, const char* key, const std::string& where,
                       bool required, std::string& out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (item == nullptr) return required ? MaybeError(where + "." + key + ": required") : std::nullopt;
  if (!cJSON_IsString(item)) return where + "." + key + ": must be a string";
  out = item->valuestring;
  if (required && out.empty()) return where + "." + key + ": must not be empty";
  return std::nullopt;
}

// Non-negative whole numbers only: every count, delay and status here is one.
MaybeError read_count(const cJSON* object, const char* key, const std::string& where,
                      std::int64_t& out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (item == nullptr) return std::nullopt;
  const double v = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
  if (v < 0 || v > 1e12 || std::floor(v) != v)
    return where + "." + key + ": must be a whole number >= 0";
  out = static_cast<std::int64_t>(v);
  return std::nullopt;
}

MaybeError read_credential(const cJSON* item, const std::string& where, Credential& out) {
  if (!cJSON_IsObject(item)) return where + ": must be an object";
  if (auto e = only_keys(item, where, {"access_key_id", "access_key_secret", "security_token"}))
    return e;
  if (auto e = read_string(item, "access_key_id", where, true, out.access_key_id)) return e;
  if (auto e = read_string(item, "access_key_secret", where, true, out.access_key_secret)) return e;
  return read_string(item, "security_token", where, false, out.security_token);
}

MaybeError read_instance(const cJSON* item, const std::string& where, InstanceSpec& out) {
  if (!cJSON_IsObject(item)) return where + ": must be an object";
  if (auto e = only_keys(item, where,
                         {"InstanceId", "RegionId", "state", "stopping_ms", "stop_outcome"}))
    return e;
  if (auto e = read_string(item, "InstanceId", where, true, out.instance_id)) return e;
  if (auto e = read_string(item, "RegionId", where, true, out.region_id)) return e;
  if (auto e = read_string(item, "state", where, false, out.state)) return e;
  if (!is_instance_state(out.state))
    return where + ".state: must be one of Pending, Starting, Running, Stopping, Stopped, "
                   "Resetting, Upgrading, Disabled";
  if (cJSON_GetObjectItemCaseSensitive(item, "stopping_ms") != nullptr) {
    std::int64_t stopping_ms = 0;
    if (auto e = read_count(item, "stopping_ms", where, stopping_ms)) return e;
    out.stopping_ms = stopping_ms;
  }
  std::string outcome = stop_outcome_name(out.stop_outcome);
  if (auto e = read_string(item, "stop_outcome", where, false, outcome)) return e;
  if (!parse_stop_outcome(outcome, out.stop_outcome))
    return where + ".stop_outcome: must be one of Stopped, StuckStopping, BackToRunning";
  return std::nullopt;
}

MaybeError read_faults(const cJSON* item, const std::string& where, Faults& out) {
  if (!cJSON_IsObject(item)) return where + ": must be an object";
  if (auto e = only_keys(item, where,
                         {"status", "count", "delay_ms", "drop_count", "retry_after_ms"}))
    return e;
  std::int64_t status = out.status;
  if (auto e = read_count(item, "status", where, status)) return e;
  if (status != 500 && status != 503 && status != 429)
    return where + ".status: must be 500, 503 or 429";
  out.status = static_cast<int>(status);
  if (auto e = read_count(item, "count", where, out.count)) return e;
  if (auto e = read_count(item, "delay_ms", where, out.delay_ms)) return e;
  if (auto e = read_count(item, "drop_count", where, out.drop_count)) return e;
  return read_count(item, "retry_after_ms", where, out.retry_after_ms);
}

MaybeError read_bool(const cJSON* object, const char* key, const std::string& where, bool& out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, key);
  if (item == nullptr) return std::nullopt;
  if (!cJSON_IsBool(item)) return where + "." + key + ": must be true or false";
  out = cJSON_IsTrue(item);
  return std::nullopt;
}

// "quotas": {"<action>": "N/<window>"} for the served actions, and "quota_retry_after".
MaybeError read_quota_settings(const cJSON* object, const std::string& where, QuotaSettings& out) {
  const cJSON* quotas = cJSON_GetObjectItemCaseSensitive(object, "quotas");
  if (quotas != nullptr) {
    if (!cJSON_IsObject(quotas)) return std::string("quotas: must be an object");
    if (auto e =
            only_keys(quotas, "quotas", {"StopInstance", "StopInstances", "ListInstanceStatus"}))
      return e;
    for (const cJSON* item = quotas->child; item != nullptr; item = item->next) {
      const std::string name = std::string("quotas.") + item->string;
      const std::optional<Quota> quota =
          cJSON_IsString(item) ? parse_quota(item->valuestring) : std::nullopt;
      if (!quota)
        return name + ": must be \"N/<window>\" like \"10/60s\" or \"3/500ms\" (N 1..100000, "
                      "window 1 ms to 86400 s)";
      out.quotas[item->string] = *quota;
    }
  }
  return read_bool(object, "quota_retry_after", where, out.retry_after);
}

template <typename T, typename ReadOne>
MaybeError read_array(const cJSON* array, const std::string& where, std::vector<T>& out,
                      ReadOne read_one) {
  if (array == nullptr) return std::nullopt;
  if (!cJSON_IsArray(array)) return where + ": must be an array";
  int index = 0;
  for (const cJSON* item = array->child; item != nullptr; item = item->next, ++index) {
    T value;
    if (auto e = read_one(item, where + "[" + std::to_string(index) + "]", value)) return e;
    out.push_back(std::move(value));
  }
  return std::nullopt;
}

MaybeError read_config(const cJSON* root, EmulatorConfig& out) {
  if (!cJSON_IsObject(root)) return ConfigError("config: must be a JSON object");
  if (auto e = only_keys(root, "config", {"credentials", "instances", "stop_delay_ms", "faults",
                                          "quotas", "quota_retry_after"}))
    return e;
  if (auto e = read_quota_settings(root, "config", out.quotas)) return e;
  if (auto e = read_array(cJSON_GetObjectItemCaseSensitive(root, "credentials"), "credentials",
                          out.credentials, read_credential))
    return e;
  if (auto e = read_array(cJSON_GetObjectItemCaseSensitive(root, "instances"), "instances",
                          out.instances, read_instance))
    return e;
  if (auto e = read_count(root, "stop_delay_ms", "config", out.stop_delay_ms)) return e;
  const cJSON* faults = cJSON_GetObjectItemCaseSensitive(root, "faults");
  if (faults != nullptr) return read_faults(faults, "faults", out.faults);
  return std::nullopt;
}

}  // namespace

Expected<QuotaSettings, ConfigError> parse_quota_settings(std::string_view json_text) {
  const JsonPtr root = parse_json(json_text);
  if (!root) return unexpected(ConfigError("quotas: not valid JSON"));
  if (!cJSON_IsObject(root.get())) return unexpected(ConfigError("quotas: must be a JSON object"));
  if (auto e = only_keys(root.get(), "body", {"quotas", "quota_retry_after"}))
    return unexpected(*e);
  QuotaSettings settings;
  if (auto e = read_quota_settings(root.get(), "body", settings)) return unexpected(*e);
  return settings;
}

bool is_instance_state(std::string_view state) {
  for (std::string_view s : {"Pending", "Starting", "Running", "Stopping", "Stopped", "Resetting",
                             "Upgrading", "Disabled"})
    if (s == state) return true;
  return false;
}

const char* stop_outcome_name(StopOutcome outcome) {
  switch (outcome) {
    case StopOutcome::StuckStopping: return "StuckStopping";
    case StopOutcome::BackToRunning: return "BackToRunning";
    case StopOutcome::Stopped: break;
  }
  return "Stopped";
}

bool parse_stop_outcome(std::string_view name, StopOutcome& out) {
  for (StopOutcome o : {StopOutcome::Stopped, StopOutcome::StuckStopping, StopOutcome::BackToRunning})
    if (name == stop_outcome_name(o)) {
      out = o;
      return true;
    }
  return false;
}

Expected<EmulatorConfig, ConfigError> parse_config(std::string_view json_text) {
  const JsonPtr root = parse_json(json_text);
  if (!root) return unexpected(ConfigError("config: not valid JSON"));
  EmulatorConfig config;
  if (auto e = read_config(root.get(), config)) return unexpected(*e);
  return config;
}

Expected<EmulatorConfig, ConfigError> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(ConfigError(path + ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_config(text.str());
  if (!config) return unexpected(path + ": " + config.error());
  return config;
}

Expected<Faults, ConfigError> parse_faults(std::string_view json_text) {
  const JsonPtr root = parse_json(json_text);
  if (!root) return unexpected(ConfigError("faults: not valid JSON"));
  Faults faults;
  if (auto e = read_faults(root.get(), "faults", faults)) return unexpected(*e);
  return faults;
}

Expected<std::vector<InstanceSpec>, ConfigError> parse_instances(std::string_view json_text) {
  const JsonPtr root = parse_json(json_text);
  if (!root) return unexpected(ConfigError("instances: not valid JSON"));
  if (!cJSON_IsArray(root.get())) return unexpected(ConfigError("instances: must be an array"));
  std::vector<InstanceSpec> instances;
  if (auto e = read_array(root.get(), "instances", instances, read_instance)) return unexpected(*e);
  return instances;
}

}  // namespace swas::emulator
