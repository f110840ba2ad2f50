// The stop command swasctl sends and how the agent's result is shown: pure functions.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "cli.hpp"

namespace swasctl {

// The command payload (contract §3) for `o`, with command id `id`.
std::string build_stop_command(const StopOptions& o, const std::string& id);

// When the command payload is over the gateway's limit (8192 bytes, contract §3): what to say.
// The agent would answer such a payload with an InvalidCommand result whose id is null, which
// swasctl could not match to its command, so it is never sent.
std::optional<std::string> command_size_problem(std::string_view payload);

// True when `payload` is a result message (type "result") for command `id`.
bool is_result_for(std::string_view payload, std::string_view id);

// What the operator sees and the exit status: 0 for "ok": true, 1 otherwise.
struct ResultReport {
  int exit_code = kExitFailed;
  std::string text;  // one or more lines, each ending in '\n'
};
ResultReport describe_result(std::string_view payload);

// Exit status for a result, for --json (same rule as describe_result).
int exit_code_for(std::string_view payload);

// What an operator can do about an error Code, for the codes a stop can meet; nullopt for
// others. "Forbidden.RAM" and "Throttling.User" match "Forbidden" and "Throttling".
std::optional<std::string> hint_for(std::string_view code);

}  // namespace swasctl
