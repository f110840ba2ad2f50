// Config validation: unknown keys are errors, every message names the key and what to do.
#include "config.hpp"

#include "rate_pacer.hpp"

#include "json_text.hpp"

#include <cjson/cJSON.h>

#include <cstring>
#include <initializer_list>
#include <memory>

namespace swas {
namespace {

using Err = Unexpected<ConfigError>;
Err fail(std::string key, std::string message) { return unexpected(ConfigError{std::move(key), std::move(message)}); }

std::optional<ConfigError> check_keys(const cJSON* obj, const std::string& prefix,
                                      std::initializer_list<const char*> allowed) {
  for (const cJSON* c = obj->child; c; c = c->next) {
    bool known = false;
    for (const char* a : allowed) known = known || (c->string && std::strcmp(c->string, a) == 0);
    if (!known)
      return ConfigError{prefix + (c->string ? c->string : ""),
                         "unknown key (check the spelling; every key: docs/contract.md, Configuration)"};
    for (const cJSON* d = c->next; d; d = d->next)
      if (d->string && std::strcmp(d->string, c->string) == 0)
        return ConfigError{prefix + c->string, "key appears twice"};
  }
  return std::nullopt;
}

// Reads an optional string; nullopt with `err` set on a wrong type.
std::optional<std::string> get_string(const cJSON* obj, const char* name, const std::string& key,
                                      std::optional<ConfigError>& err) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!item) return std::nullopt;
  if (!cJSON_IsString(item)) {
    err = ConfigError{key, "must be a string"};
    return std::nullopt;
  }
  return std::string(item->valuestring);
}

std::optional<long long> get_int(const cJSON* obj, const char* name, const std::string& key,
                                 long long lo, long long hi, std::optional<ConfigError>& err) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!item) return std::nullopt;
  const double v = item->valuedouble;
  // The range check comes first: converting an out-of-range double (1e300) is undefined behaviour.
  if (!cJSON_IsNumber(item) || !(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) ||
      v != static_cast<double>(static_cast<long long>(v))) {
    err = ConfigError{key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi)};
    return std::nullopt;
  }
  return static_cast<long long>(v);
}

bool has_wildcard(const std::string& topic) {
  return topic.find_first_of("+#") != std::string::npos || topic.find('\0') != std::string::npos;
}

std::optional<ConfigError> parse_tls(const cJSON* tls, MqttConfig& m) {
  if (!cJSON_IsObject(tls)) return ConfigError{"mqtt.tls", "must be an object"};
  if (auto e = check_keys(tls, "mqtt.tls.", {"ca_file", "cert_file", "key_file"})) return e;
  std::optional<ConfigError> err;
  MqttTlsFiles f;
  f.ca_file = get_string(tls, "ca_file", "mqtt.tls.ca_file", err).value_or("");
  f.cert_file = get_string(tls, "cert_file", "mqtt.tls.cert_file", err).value_or("");
  f.key_file = get_string(tls, "key_file", "mqtt.tls.key_file", err).value_or("");
  if (err) return err;
  if (f.cert_file.empty() != f.key_file.empty())
    return ConfigError{"mqtt.tls", "cert_file and key_file must be given together"};
  m.tls_files = f;
  return std::nullopt;
}

std::optional<ConfigError> parse_uri(MqttConfig& m) {
  struct Scheme { const char* prefix; const char* normalised; bool tls; };
  static const Scheme kSchemes[] = {{"tcp://", "tcp://", false}, {"mqtt://", "tcp://", false},
                                    {"ssl://", "ssl://", true}, {"mqtts://", "ssl://", true}};
  for (const auto& s : kSchemes) {
    const std::size_t n = std::strlen(s.prefix);
    if (m.uri.compare(0, n, s.prefix) == 0 && m.uri.size() > n) {
      m.uri = s.normalised + m.uri.substr(n);
      m.tls = s.tls;
      return std::nullopt;
    }
  }
  return ConfigError{"mqtt.uri", "must start with tcp://, mqtt://, ssl:// or mqtts:// and name a host"};
}

std::optional<ConfigError> parse_mqtt(const cJSON* mq, const std::string& gateway_id, MqttConfig& m) {
  if (!cJSON_IsObject(mq)) return ConfigError{"mqtt", "is required and must be an object"};
  if (auto e = check_keys(mq, "mqtt.", {"uri", "client_id", "command_topic", "version", "qos", "keepalive_s",
                                        "username", "password_file", "tls", "session_expiry_s", "status_topic",
                                        "status_interval_s", "max_packet_bytes"}))
    return e;
  std::optional<ConfigError> err;
  auto uri = get_string(mq, "uri", "mqtt.uri", err);
  if (err) return err;
  if (!uri || uri->empty()) return ConfigError{"mqtt.uri", "is required (for example tcp://127.0.0.1:1883)"};
  m.uri = *uri;
  if (auto e = parse_uri(m)) return e;
  m.client_id = get_string(mq, "client_id", "mqtt.client_id", err).value_or("swas-agent-" + gateway_id);
  m.command_topic = get_string(mq, "command_topic", "mqtt.command_topic", err)
                        .value_or("swas/" + gateway_id + "/commands");
  m.version = static_cast<int>(get_int(mq, "version", "mqtt.version", 3, 5, err).value_or(5));
  m.qos = static_cast<int>(get_int(mq, "qos", "mqtt.qos", 0, 2, err).value_or(1));
  m.keepalive_s = static_cast<int>(get_int(mq, "keepalive_s", "mqtt.keepalive_s", 0, 65535, err).value_or(30));
  m.username = get_string(mq, "username", "mqtt.username", err).value_or("");
  m.password_file = get_string(mq, "password_file", "mqtt.password_file", err).value_or("");
  m.session_expiry_s = static_cast<std::uint32_t>(
      get_int(mq, "session_expiry_s", "mqtt.session_expiry_s", 0, 4294967295LL, err).value_or(86400));
  m.status_topic = get_string(mq, "status_topic", "mqtt.status_topic", err).value_or("swas/" + gateway_id + "/status");
  m.status_interval_s = static_cast<std::uint32_t>(
      get_int(mq, "status_interval_s", "mqtt.status_interval_s", 0, 86400, err).value_or(0));
  m.max_packet_bytes = static_cast<std::uint32_t>(
      get_int(mq, "max_packet_bytes", "mqtt.max_packet_bytes", 0, 268435455, err).value_or(m.max_packet_bytes));
  if (err) return err;
  if (m.max_packet_bytes != 0 && m.max_packet_bytes < limits::kMaxInboundPacketBytes)
    return ConfigError{"mqtt.max_packet_bytes", "must be 0 (not announced) or at least 16384 (a command of 8 KiB "
                                                "with its topic and properties)"};
  if (m.status_topic.empty() || has_wildcard(m.status_topic) || m.status_topic == m.command_topic)
    return ConfigError{"mqtt.status_topic", "must be a topic name without + or #, other than the command topic"};
  if (m.version == 4) return ConfigError{"mqtt.version", "must be 5 (MQTT 5) or 3 (MQTT 3.1.1)"};
  if (m.client_id.empty() || m.client_id.size() > 256)
    return ConfigError{"mqtt.client_id", "must be 1-256 characters"};
  if (m.command_topic.empty() || m.command_topic.size() > 1024 || has_wildcard(m.command_topic))
    return ConfigError{"mqtt.command_topic", "must be a non-empty topic name without + or #"};
  if (const cJSON* tls = cJSON_GetObjectItemCaseSensitive(mq, "tls")) {
    if (auto e = parse_tls(tls, m)) return e;
    if (!m.tls) return ConfigError{"mqtt.tls", "is set but mqtt.uri is not ssl:// or mqtts://"};
  }
  return std::nullopt;
}

std::optional<ConfigError> parse_retry(const cJSON* r, RetryConfig& c) {
  if (!cJSON_IsObject(r)) return ConfigError{"cloud.retry", "must be an object"};
  if (auto e = check_keys(r, "cloud.retry.", {"max_attempts", "backoff_base_ms", "backoff_max_ms", "deadline_ms"})) return e;
  std::optional<ConfigError> err;
  c.max_attempts = static_cast<int>(get_int(r, "max_attempts", "cloud.retry.max_attempts", 1, 100, err).value_or(c.max_attempts));
  c.backoff_base_ms = static_cast<std::uint32_t>(
      get_int(r, "backoff_base_ms", "cloud.retry.backoff_base_ms", 0, 600000, err).value_or(c.backoff_base_ms));
  c.backoff_max_ms = static_cast<std::uint32_t>(
      get_int(r, "backoff_max_ms", "cloud.retry.backoff_max_ms", 0, 600000, err).value_or(c.backoff_max_ms));
  c.deadline_ms = static_cast<std::uint32_t>(
      get_int(r, "deadline_ms", "cloud.retry.deadline_ms", 1000, 86400000, err).value_or(c.deadline_ms));
  if (err) return err;
  if (c.backoff_max_ms < c.backoff_base_ms)
    return ConfigError{"cloud.retry.backoff_max_ms", "must not be smaller than backoff_base_ms"};
  return std::nullopt;
}

std::optional<ConfigError> parse_commands(const cJSON* o, CommandsConfig& c) {
  if (!cJSON_IsObject(o)) return ConfigError{"commands", "must be an object"};
  if (auto e = check_keys(o, "commands.", {"queue_depth", "max_in_flight"})) return e;
  std::optional<ConfigError> err;
  c.queue_depth = static_cast<std::size_t>(get_int(o, "queue_depth", "commands.queue_depth", 1, 100000, err)
                                               .value_or(static_cast<long long>(c.queue_depth)));
  c.max_in_flight = static_cast<std::size_t>(get_int(o, "max_in_flight", "commands.max_in_flight", 1, 64, err)
                                                 .value_or(static_cast<long long>(c.max_in_flight)));
  return err;
}

std::optional<ConfigError> parse_journal(const cJSON* o, JournalConfig& c) {
  if (!cJSON_IsObject(o)) return ConfigError{"journal", "must be an object"};
  if (auto e = check_keys(o, "journal.", {"durability", "retention_s", "max_records"})) return e;
  std::optional<ConfigError> err;
  const std::string durability = get_string(o, "durability", "journal.durability", err).value_or("full");
  c.retention_s = static_cast<std::uint32_t>(
      get_int(o, "retention_s", "journal.retention_s", 60, 31536000, err).value_or(c.retention_s));
  c.max_records = static_cast<std::size_t>(get_int(o, "max_records", "journal.max_records", 10, 10000000, err)
                                               .value_or(static_cast<long long>(c.max_records)));
  if (err) return err;
  if (durability == "full") c.durability = Durability::Full;
  else if (durability == "process") c.durability = Durability::Process;
  else return ConfigError{"journal.durability", "must be \"full\" (survives power loss) or \"process\" (survives a killed process)"};
  return std::nullopt;
}

std::optional<ConfigError> string_list(const cJSON* arr, const std::string& key, std::vector<std::string>& out,
                                       bool (*valid)(const std::string&), const char* rule) {
  if (!cJSON_IsArray(arr)) return ConfigError{key, "must be an array of strings"};
  for (const cJSON* c = arr->child; c; c = c->next) {
    if (!cJSON_IsString(c) || !valid(c->valuestring)) return ConfigError{key, rule};
    out.emplace_back(c->valuestring);
  }
  return std::nullopt;
}

bool valid_region(const std::string& r) {
  if (r.empty() || r.size() > 64) return false;
  for (char ch : r)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  return true;
}

bool valid_instance_pattern(const std::string& p) {
  return !p.empty() && p.size() <= 256 && p.find('*') >= p.size() - 1;
}

bool valid_response_filter(const std::string& f) {
  // "{gateway_id}" is replaced after parsing by an id of A-Z a-z 0-9 _ . - (checked again then).
  return is_valid_topic_filter(f);
}

std::optional<ConfigError> parse_rate_limit(const cJSON* o, RateLimit& r) {
  if (!cJSON_IsObject(o)) return ConfigError{"policy.rate_limit", "must be an object"};
  if (auto e = check_keys(o, "policy.rate_limit.", {"per_minute", "burst"})) return e;
  const cJSON* pm = cJSON_GetObjectItemCaseSensitive(o, "per_minute");
  if (!cJSON_IsNumber(pm) || pm->valuedouble <= 0 || pm->valuedouble > 1e6)
    return ConfigError{"policy.rate_limit.per_minute", "is required: commands a minute, more than 0"};
  r.per_minute = pm->valuedouble;
  std::optional<ConfigError> err;
  r.burst = static_cast<std::uint32_t>(get_int(o, "burst", "policy.rate_limit.burst", 1, 100000, err).value_or(10));
  return err;
}

std::optional<ConfigError> parse_policy(const cJSON* o, PolicyConfig& p) {
  if (!cJSON_IsObject(o)) return ConfigError{"policy", "must be an object"};
  if (auto e = check_keys(o, "policy.", {"allowed_regions", "allowed_instances", "rate_limit", "command_key_file",
                                         "max_command_age_s", "allowed_response_topics"}))
    return e;
  if (const cJSON* a = cJSON_GetObjectItemCaseSensitive(o, "allowed_regions"))
    if (auto e = string_list(a, "policy.allowed_regions", p.allowed_regions, valid_region,
                             "must list region ids of a-z 0-9 -"))
      return e;
  if (const cJSON* a = cJSON_GetObjectItemCaseSensitive(o, "allowed_instances"))
    if (auto e = string_list(a, "policy.allowed_instances", p.allowed_instances, valid_instance_pattern,
                             "must list instance ids, or prefixes ending in a single * (only at the end)"))
      return e;
  if (const cJSON* a = cJSON_GetObjectItemCaseSensitive(o, "allowed_response_topics"))
    if (auto e = string_list(a, "policy.allowed_response_topics", p.allowed_response_topics, valid_response_filter,
                             "must list MQTT topic filters (+ and # as whole levels, # last; no leading $; "
                             "at most 256 bytes), e.g. \"swas/{gateway_id}/replies/#\""))
      return e;
  if (const cJSON* r = cJSON_GetObjectItemCaseSensitive(o, "rate_limit"))
    if (auto e = parse_rate_limit(r, p.rate_limit)) return e;
  std::optional<ConfigError> err;
  p.command_key_file = get_string(o, "command_key_file", "policy.command_key_file", err).value_or("");
  p.max_command_age_s = static_cast<std::uint32_t>(
      get_int(o, "max_command_age_s", "policy.max_command_age_s", 10, 86400, err).value_or(300));
  return err;
}

std::optional<ConfigError> parse_follow(const cJSON* o, FollowConfig& f) {
  if (!cJSON_IsObject(o)) return ConfigError{"follow", "must be an object"};
  if (auto e = check_keys(o, "follow.", {"enabled", "interval_ms", "deadline_s", "max_instances"})) return e;
  if (const cJSON* en = cJSON_GetObjectItemCaseSensitive(o, "enabled")) {
    if (!cJSON_IsBool(en)) return ConfigError{"follow.enabled", "must be true or false"};
    f.enabled = cJSON_IsTrue(en);
  }
  std::optional<ConfigError> err;
  f.interval_ms = static_cast<std::uint32_t>(
      get_int(o, "interval_ms", "follow.interval_ms", 100, 3600000, err).value_or(f.interval_ms));
  f.deadline_s = static_cast<std::uint32_t>(
      get_int(o, "deadline_s", "follow.deadline_s", 1, 86400, err).value_or(f.deadline_s));
  f.max_instances = static_cast<std::size_t>(get_int(o, "max_instances", "follow.max_instances", 1, 100000, err)
                                                 .value_or(static_cast<long long>(f.max_instances)));
  return err;
}

std::optional<ConfigError> parse_cloud(const cJSON* cl, CloudConfig& c) {
  if (!cJSON_IsObject(cl)) return ConfigError{"cloud", "must be an object"};
  if (auto e = check_keys(cl, "cloud.", {"endpoint", "ca_file", "timeout_ms", "retry", "quota", "quota_max_wait_s"}))
    return e;
  if (const cJSON* q = cJSON_GetObjectItemCaseSensitive(cl, "quota")) {
    if (!cJSON_IsObject(q)) return ConfigError{"cloud.quota", "must be an object of action: \"N/<window>\""};
    if (auto e = check_keys(q, "cloud.quota.", {"StopInstance", "StopInstances", "ListInstanceStatus"})) return e;
    for (const cJSON* item = q->child; item; item = item->next) {
      const std::string key = std::string("cloud.quota.") + item->string;
      if (!cJSON_IsString(item) || !parse_quota(item->valuestring))
        return ConfigError{key, "must be \"N/<window>\": N calls (1-100000) per window in s (1-86400) or ms, "
                                "e.g. \"10/60s\" or \"100/500ms\""};
      c.quota[item->string] = item->valuestring;
    }
  }
  if (const cJSON* r = cJSON_GetObjectItemCaseSensitive(cl, "retry"))
    if (auto e = parse_retry(r, c.retry)) return e;
  std::optional<ConfigError> err;
  const std::string endpoint = get_string(cl, "endpoint", "cloud.endpoint", err).value_or("");
  c.ca_file = get_string(cl, "ca_file", "cloud.ca_file", err).value_or(c.ca_file);
  c.timeout_ms = static_cast<std::uint32_t>(
      get_int(cl, "timeout_ms", "cloud.timeout_ms", 100, 600000, err).value_or(c.timeout_ms));
  c.quota_max_wait_s = static_cast<std::uint32_t>(
      get_int(cl, "quota_max_wait_s", "cloud.quota_max_wait_s", 1, 86400, err).value_or(c.quota_max_wait_s));
  if (err) return err;
  if (c.ca_file.empty()) return ConfigError{"cloud.ca_file", "must name a PEM file of CA certificates"};
  if (!endpoint.empty()) {
    auto ep = parse_endpoint(endpoint);
    if (!ep) return ConfigError{"cloud.endpoint", ep.error()};
    c.endpoint = *ep;
  }
  return std::nullopt;
}

}  // namespace

bool is_valid_gateway_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char ch : id)
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '.' || ch == '-'))
      return false;
  return true;
}

Expected<Endpoint, std::string> parse_endpoint(std::string_view url) {
  const std::string_view scheme = "https://";
  if (url.substr(0, scheme.size()) != scheme)
    return unexpected(std::string("must start with https:// (the certificate is always verified)"));
  std::string_view rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos)
    return unexpected(std::string("must be https://host or https://host:port, without a path"));
  Endpoint ep;
  ep.host_header = std::string(rest);
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
    const std::string_view port = rest.substr(colon + 1);
    unsigned long value = 0;
    for (char ch : port) {
      if (ch < '0' || ch > '9' || value > 65535) return unexpected(std::string("has an invalid port"));
      value = value * 10 + static_cast<unsigned long>(ch - '0');
    }
    if (port.empty() || value == 0 || value > 65535) return unexpected(std::string("has an invalid port"));
    ep.port = static_cast<std::uint16_t>(value);
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.front() == '[') return unexpected(std::string("must name a host (IPv6 literals are not supported)"));
  ep.host = std::string(rest);
  return ep;
}

Endpoint region_endpoint(std::string_view region_id) {
  Endpoint ep;
  ep.host = "swas." + std::string(region_id) + ".aliyuncs.com";
  ep.port = 443;
  ep.host_header = ep.host;
  return ep;
}

Expected<Config, ConfigError> parse_config(std::string_view json, const std::optional<std::string>& gateway_id_override) {
  if (json_has_nul(json)) return fail("", "the file holds a NUL character (U+0000)");
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(
      cJSON_ParseWithLength(json.data(), json.size()), &cJSON_Delete);
  if (!root) return fail("", "the file is not valid JSON");
  if (!cJSON_IsObject(root.get())) return fail("", "the file must hold a JSON object");
  if (auto e = check_keys(root.get(), "", {"gateway_id", "mqtt", "cloud", "credentials_file", "state_dir",
                                           "commands", "journal", "policy", "follow"}))
    return unexpected(*e);
  Config cfg;
  std::optional<ConfigError> err;
  cfg.gateway_id = get_string(root.get(), "gateway_id", "gateway_id", err).value_or("");
  if (err) return unexpected(*err);
  if (gateway_id_override) {
    if (!is_valid_gateway_id(*gateway_id_override))
      return fail("gateway_id", "given on the command line or in SWAS_GATEWAY_ID must be 1-64 characters of "
                                "A-Z a-z 0-9 _ . -");
    cfg.gateway_id = *gateway_id_override;
  }
  if (!is_valid_gateway_id(cfg.gateway_id))
    return fail("gateway_id", "is required (in the file, --gateway-id or SWAS_GATEWAY_ID): 1-64 characters of "
                              "A-Z a-z 0-9 _ . -");
  if (auto e = parse_mqtt(cJSON_GetObjectItemCaseSensitive(root.get(), "mqtt"), cfg.gateway_id, cfg.mqtt))
    return unexpected(*e);
  if (const cJSON* cl = cJSON_GetObjectItemCaseSensitive(root.get(), "cloud"))
    if (auto e = parse_cloud(cl, cfg.cloud)) return unexpected(*e);
  if (const cJSON* co = cJSON_GetObjectItemCaseSensitive(root.get(), "commands"))
    if (auto e = parse_commands(co, cfg.commands)) return unexpected(*e);
  if (const cJSON* jo = cJSON_GetObjectItemCaseSensitive(root.get(), "journal"))
    if (auto e = parse_journal(jo, cfg.journal)) return unexpected(*e);
  if (const cJSON* po = cJSON_GetObjectItemCaseSensitive(root.get(), "policy"))
    if (auto e = parse_policy(po, cfg.policy)) return unexpected(*e);
  if (const cJSON* fo = cJSON_GetObjectItemCaseSensitive(root.get(), "follow"))
    if (auto e = parse_follow(fo, cfg.follow)) return unexpected(*e);
  for (auto& filter : cfg.policy.allowed_response_topics) {
    // The gateway id is A-Z a-z 0-9 _ . - only, so the filter stays well-formed.
    const std::string placeholder = "{gateway_id}";
    for (auto at = filter.find(placeholder); at != std::string::npos;
         at = filter.find(placeholder, at + cfg.gateway_id.size()))
      filter.replace(at, placeholder.size(), cfg.gateway_id);
    if (!is_valid_topic_filter(filter))
      return fail("policy.allowed_response_topics", "\"" + filter + "\" is not a valid MQTT topic filter");
  }
  if (cfg.policy.max_command_age_s > cfg.journal.retention_s)
    return fail("policy.max_command_age_s", "must not exceed journal.retention_s (a replay must still find the "
                                            "journal's record)");
  cfg.credentials_file = get_string(root.get(), "credentials_file", "credentials_file", err).value_or(cfg.credentials_file);
  cfg.state_dir = get_string(root.get(), "state_dir", "state_dir", err).value_or(cfg.state_dir);
  if (err) return unexpected(*err);
  if (cfg.state_dir.empty()) return fail("state_dir", "must name a directory");
  return cfg;
}

}  // namespace swas
