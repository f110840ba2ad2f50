// Encoding of result messages (contract §4): one JSON object per command.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "agent_error.hpp"
#include "cloud_response.hpp"
#include "command.hpp"

namespace swas {

std::string encode_success(const StopCommand& cmd, std::string_view request_id);
std::string encode_cloud_error(const StopCommand& cmd, const CloudError& err);
// An error raised by the agent for a command that passed validation (CloudUnreachable, ...):
// it names the command's fields too, so the dashboard sees the ClientToken that was used.
std::string encode_agent_error(const StopCommand& cmd, AgentError code, std::string_view message,
                               std::optional<int> http_status = std::nullopt);
// An error for a payload refused at validation; id is null when it could not be read.
std::string encode_rejection(const CommandRejection& rejection);

}  // namespace swas
