// The operator's command policy: which regions and instances this gateway may stop, how often,
// and (optionally) that commands must be signed by the dashboard (docs/security.md).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent_error.hpp"
#include "command.hpp"

namespace swas {

struct RateLimit {
  double per_minute = 0;  // 0: no limit
  std::uint32_t burst = 10;
};

struct PolicyConfig {
  std::vector<std::string> allowed_regions;    // empty: any region
  std::vector<std::string> allowed_instances;  // exact ids or prefixes ending in '*'; empty: any
  RateLimit rate_limit;
  std::string command_key_file;                // set: commands must carry a valid "signature"
  std::uint32_t max_command_age_s = 300;       // issuedAt window, both ways
  // MQTT topic filters ('+', '#'; "{gateway_id}" stands for this gateway's id) that a command's
  // Response Topic must match; empty: any valid topic name (within the broker's ACL).
  std::vector<std::string> allowed_response_topics;
};

// Why a command's MQTT 5 Response Topic / Correlation Data cannot carry its result.
struct RouteProblem {
  AgentError code;  // InvalidCommand (not a usable topic, too long) or Forbidden (policy)
  std::string message;
};

// Checked before anything is published or journaled, so no command can point the agent at a topic
// the broker would disconnect it for (a wildcard, invalid UTF-8) or fill its journal with huge
// routes. `allowed_filters` are policy.allowed_response_topics with {gateway_id} already replaced.
// An empty response topic is fine (the result goes to the command topic).
std::optional<RouteProblem> response_route_problem(std::string_view response_topic, std::string_view correlation_data,
                                                   const std::vector<std::string>& allowed_filters);
// MQTT topic filter matching ('+' one level, '#' the rest); topic names starting with '$' match
// only filters that start with '$' too.
bool topic_matches_filter(std::string_view topic, std::string_view filter);
// A well-formed MQTT topic filter of at most kMaxResponseTopicBytes, not starting with '$'.
bool is_valid_topic_filter(std::string_view filter);

// Allowed region / instance lists. nullopt when the command may run; else why not (Forbidden).
std::optional<std::string> policy_violation(const PolicyConfig& policy, const StopCommand& cmd);

// A token bucket: `per_minute` tokens a minute, at most `burst` saved up. Not thread-safe: the
// intake (one thread) owns it. Time is passed in.
class TokenBucket {
 public:
  explicit TokenBucket(RateLimit limit) : limit_(limit), tokens_(limit.burst) {}
  bool try_take(std::int64_t now_ms);

 private:
  RateLimit limit_;
  double tokens_;
  std::int64_t last_ms_ = 0;
  bool started_ = false;
};

// Authenticated commands: the canonical form signed with HMAC-SHA256 (hex, lowercase).
struct SignedFields {
  std::string id, action, instance_id, region_id, client_token, issued_at, expires_at;
  // An InstanceIds command signs the form v2: every id in order and ForceStop instead of InstanceId
  // (docs/security.md). `many` selects it.
  bool many = false;
  std::vector<std::string> instance_ids{};
  bool force_stop = false;
};
std::string command_canonical_form(std::string_view gateway_id, const SignedFields& f);
std::string command_signature(std::string_view key, std::string_view gateway_id, const SignedFields& f);

// Checks "signature" and "issuedAt" of `payload` (already validated as `cmd`) against `key`.
// nullopt when authentic and fresh; else the reason (answered Unauthenticated).
std::optional<std::string> authentication_failure(std::string_view payload, std::string_view key,
                                                  std::string_view gateway_id, std::int64_t now_ms,
                                                  std::uint32_t max_age_s);

}  // namespace swas
