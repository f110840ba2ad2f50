// Parsing and validation of a command payload (contract §3) into a StopCommand, once, at the edge.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agent_error.hpp"

namespace swas {

// A validated StopInstance command. One that exists satisfies every rule of contract §3.
struct StopCommand {
  std::string id;
  std::string action;  // "StopInstance"
  std::string instance_id;  // InstanceId commands; empty for InstanceIds ones
  std::string region_id;
  std::string client_token;  // the sender's, or derived from gateway_id and id
  bool client_token_derived = false;
  std::optional<std::int64_t> expires_at_ms;  // "expiresAt" (RFC 3339 UTC), when given
  std::vector<std::string> instance_ids{};    // InstanceIds commands: 1..100 distinct ids (StopInstances)
  bool force_stop = false;                    // ForceStop (InstanceIds commands only)

  // An InstanceIds command: one StopInstances call for every id.
  bool many() const { return !instance_ids.empty(); }
  // The API action the command's call uses.
  std::string api_action() const { return many() ? "StopInstances" : "StopInstance"; }
  // Every instance the command names.
  std::vector<std::string> instances() const { return many() ? instance_ids : std::vector<std::string>{instance_id}; }
};

// A payload that is not a command (its "type" is result, status, ...): no result is sent.
struct NotACommand {
  std::string type;
};

// A payload refused before any cloud call. `id` is empty when it could not be read.
struct CommandRejection {
  std::optional<std::string> id;
  AgentError code;
  std::string message;
};

using ParsedCommand = std::variant<StopCommand, NotACommand, CommandRejection>;

// Parses and validates `payload`. `gateway_id` seeds the derived ClientToken.
ParsedCommand parse_command(std::string_view payload, std::string_view gateway_id);

// The ClientToken used when a command carries none: stable for (gateway_id, id), so every retry
// and redelivery of a command carries the same token. UUID-shaped, 36 ASCII characters.
std::string derive_client_token(std::string_view gateway_id, std::string_view command_id);

// True when `s` is 1..max printable ASCII characters (0x20..0x7E).
bool is_printable_ascii(std::string_view s, std::size_t max_len);
// True when `s` is well-formed UTF-8 with no control characters.
bool is_clean_utf8(std::string_view s);

}  // namespace swas
