// Policy checks run after validation and before the journal accepts a command.
#include "command_policy.hpp"

#include <cjson/cJSON.h>

#include <memory>

#include "limits.hpp"
#include "signer.hpp"
#include "time_format.hpp"

namespace swas {

std::optional<std::string> policy_violation(const PolicyConfig& policy, const StopCommand& cmd) {
  if (!policy.allowed_regions.empty()) {
    bool ok = false;
    for (const auto& r : policy.allowed_regions) ok = ok || r == cmd.region_id;
    if (!ok) return "region " + cmd.region_id + " is not in this gateway's policy.allowed_regions";
  }
  if (!policy.allowed_instances.empty()) {
    // Every instance of the command must be allowed: one refused refuses the command.
    for (const auto& instance : cmd.instances()) {
      bool ok = false;
      for (const auto& pattern : policy.allowed_instances) {
        if (!pattern.empty() && pattern.back() == '*')
          ok = ok || instance.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
        else
          ok = ok || pattern == instance;
      }
      if (!ok) return "instance " + instance + " is not in this gateway's policy.allowed_instances";
    }
  }
  return std::nullopt;
}

namespace {

// Splits at '/', keeping empty levels ("a//b" has three).
std::vector<std::string_view> topic_levels(std::string_view s) {
  std::vector<std::string_view> levels;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    levels.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return levels;
    start = slash + 1;
  }
}

}  // namespace

bool is_valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > limits::kMaxResponseTopicBytes || filter.front() == '$') return false;
  if (!is_clean_utf8(filter)) return false;
  const auto levels = topic_levels(filter);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const std::string_view level = levels[i];
    if (level.find_first_of("+#") == std::string_view::npos) continue;
    if (level == "+") continue;
    if (level == "#" && i + 1 == levels.size()) continue;
    return false;
  }
  return true;
}

bool topic_matches_filter(std::string_view topic, std::string_view filter) {
  if (!topic.empty() && topic.front() == '$' && (filter.empty() || filter.front() != '$')) return false;
  const auto t = topic_levels(topic);
  const auto f = topic_levels(filter);
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // also matches the parent level ("a/#" matches "a")
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return t.size() == f.size();
}

std::optional<RouteProblem> response_route_problem(std::string_view response_topic, std::string_view correlation_data,
                                                   const std::vector<std::string>& allowed_filters) {
  if (response_topic.empty()) return std::nullopt;
  const auto invalid = [](const std::string& why) {
    return RouteProblem{AgentError::InvalidCommand, "the MQTT Response Topic " + why +
                                                        "; the result of this command is published here instead"};
  };
  if (response_topic.size() > limits::kMaxResponseTopicBytes)
    return invalid("is longer than " + std::to_string(limits::kMaxResponseTopicBytes) + " bytes");
  if (!is_clean_utf8(response_topic))
    return invalid("is not UTF-8 text without control characters");
  if (response_topic.find_first_of("+#") != std::string_view::npos)
    return invalid("contains a wildcard (+ or #); a result can only be published to a topic name");
  if (response_topic.front() == '$') return invalid("starts with '$' (reserved for the broker)");
  if (correlation_data.size() > limits::kMaxCorrelationDataBytes)
    return RouteProblem{AgentError::InvalidCommand,
                        "the MQTT Correlation Data is longer than " + std::to_string(limits::kMaxCorrelationDataBytes) +
                            " bytes; the result of this command is published here instead"};
  if (!allowed_filters.empty()) {
    bool ok = false;
    for (const auto& f : allowed_filters) ok = ok || topic_matches_filter(response_topic, f);
    if (!ok)
      return RouteProblem{AgentError::Forbidden,
                          "the MQTT Response Topic is not in this gateway's policy.allowed_response_topics; "
                          "the result of this command is published here instead"};
  }
  return std::nullopt;
}

bool TokenBucket::try_take(std::int64_t now_ms) {
  if (limit_.per_minute <= 0) return true;
  if (started_ && now_ms > last_ms_) tokens_ += static_cast<double>(now_ms - last_ms_) * limit_.per_minute / 60000.0;
  if (tokens_ > limit_.burst) tokens_ = limit_.burst;
  if (!started_ || now_ms > last_ms_) last_ms_ = now_ms;
  started_ = true;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::string command_canonical_form(std::string_view gateway_id, const SignedFields& f) {
  std::string s = "swas-command-v1\n";
  for (std::string_view part : {gateway_id, std::string_view(f.id), std::string_view(f.action),
                                std::string_view(f.instance_id), std::string_view(f.region_id),
                                std::string_view(f.client_token), std::string_view(f.issued_at),
                                std::string_view(f.expires_at)}) {
    s.append(part);
    s.push_back('\n');
  }
  s.pop_back();
  return s;
}

std::string command_signature(std::string_view key, std::string_view gateway_id, const SignedFields& f) {
  return hmac_sha256_hex(key, command_canonical_form(gateway_id, f));
}

namespace {

std::string member(const cJSON* o, const char* name) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(item) ? item->valuestring : "";
}

}  // namespace

std::optional<std::string> authentication_failure(std::string_view payload, std::string_view key,
                                                  std::string_view gateway_id, std::int64_t now_ms,
                                                  std::uint32_t max_age_s) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_ParseWithLength(payload.data(), payload.size()),
                                                       &cJSON_Delete);
  if (!root) return std::string("the command is not JSON");
  const std::string signature = member(root.get(), "signature");
  const std::string issued_at = member(root.get(), "issuedAt");
  if (signature.empty()) return std::string("the command carries no signature");
  if (issued_at.empty()) return std::string("the command carries no issuedAt");
  std::int64_t issued_ms = 0;
  if (!parse_rfc3339_utc_ms(issued_at, issued_ms)) return std::string("issuedAt is not an RFC 3339 UTC time");
  // The canonical form (swas-command-v1) does not cover InstanceIds or ForceStop: whoever relays a
  // signed command could change them, so a signed command cannot carry them (docs/security.md).
  if (cJSON_GetObjectItemCaseSensitive(root.get(), "InstanceIds") ||
      cJSON_GetObjectItemCaseSensitive(root.get(), "ForceStop"))
    return std::string("the signature (swas-command-v1) does not cover InstanceIds or ForceStop; send signed "
                       "commands with InstanceId");
  const SignedFields f{member(root.get(), "id"), member(root.get(), "action"), member(root.get(), "InstanceId"),
                       member(root.get(), "RegionId"), member(root.get(), "ClientToken"), issued_at,
                       member(root.get(), "expiresAt")};
  if (!constant_time_equal(command_signature(key, gateway_id, f), signature))
    return std::string("the signature does not match (wrong key, or the command was altered)");
  const std::int64_t age_ms = now_ms - issued_ms;
  const std::int64_t window_ms = std::int64_t{max_age_s} * 1000;
  if (age_ms > window_ms || age_ms < -window_ms)
    return "issuedAt is outside the accepted window of " + std::to_string(max_age_s) + " s";
  return std::nullopt;
}

}  // namespace swas
