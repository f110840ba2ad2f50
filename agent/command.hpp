// Parsing and validation of a command payload (contract §3) into a StopCommand, once, at the edge.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "agent_error.hpp"

namespace swas {

// A validated StopInstance command. One that exists satisfies every rule of contract §3.
struct StopCommand {
  std::string id;
  std::string action;  // "StopInstance"
  std::string instance_id;
  std::string region_id;
  std::string client_token;  // the sender's, or derived from gateway_id and id
  bool client_token_derived = false;
  std::optional<std::int64_t> expires_at_ms;  // "expiresAt" (RFC 3339 UTC), when given
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
