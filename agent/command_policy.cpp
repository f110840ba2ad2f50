// Policy checks run after validation and before the journal accepts a command.
#include "command_policy.hpp"

#include <cjson/cJSON.h>

#include <memory>

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
    bool ok = false;
    for (const auto& pattern : policy.allowed_instances) {
      if (!pattern.empty() && pattern.back() == '*')
        ok = ok || cmd.instance_id.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
      else
        ok = ok || pattern == cmd.instance_id;
    }
    if (!ok) return "instance " + cmd.instance_id + " is not in this gateway's policy.allowed_instances";
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
