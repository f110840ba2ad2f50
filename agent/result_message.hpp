// Encoding of result messages (contract §4): one JSON object per command.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "agent_error.hpp"
#include "cloud_response.hpp"
#include "command.hpp"
#include "journal.hpp"

namespace swas {

std::string encode_success(const StopCommand& cmd, std::string_view request_id);
std::string encode_cloud_error(const StopCommand& cmd, const CloudError& err);
// An error raised by the agent for a command that passed validation (CloudUnreachable, ...):
// it names the command's fields too, so the dashboard sees the ClientToken that was used.
std::string encode_agent_error(const StopCommand& cmd, AgentError code, std::string_view message,
                               std::optional<int> http_status = std::nullopt);
// An error for a payload refused at validation; id is null when it could not be read.
std::string encode_rejection(const CommandRejection& rejection);

// A progress message before the result: the command waits for the cloud's rate quota
// (docs/contract.md, "The account's rate quota"). `wait_ms` empty: unknown (null).
std::string encode_rate_limited_progress(const StopCommand& cmd, std::optional<std::int64_t> wait_ms,
                                         std::string_view message);

// How a follow ended (docs/contract.md, "Following a stop to Stopped").
enum class FollowOutcome { Stopped, TimedOut, UnexpectedStatus, NotFound, PollFailed, NotFollowed };

constexpr std::string_view to_string(FollowOutcome o) {
  switch (o) {
    case FollowOutcome::Stopped: return "Stopped";
    case FollowOutcome::TimedOut: return "TimedOut";
    case FollowOutcome::UnexpectedStatus: return "UnexpectedStatus";
    case FollowOutcome::NotFound: return "NotFound";
    case FollowOutcome::PollFailed: return "PollFailed";
    case FollowOutcome::NotFollowed: return "NotFollowed";
  }
  return "PollFailed";
}

// The error of a poll that failed (PollFailed): the cloud's, or the agent's own.
struct PollError {
  std::optional<CloudError> cloud;
  AgentError code = AgentError::CloudUnreachable;  // when `cloud` is empty
  std::string message;
  std::optional<int> http_status;
};

// One lifecycle message: progress when `outcome` is empty, else the final one.
struct LifecycleReport {
  std::optional<std::string> status;  // as ListInstanceStatus said; empty: none seen (null)
  std::optional<FollowOutcome> outcome;
  std::int64_t elapsed_ms = 0;
  std::string message;             // final, not Stopped
  std::optional<PollError> error;  // PollFailed
};

std::string encode_lifecycle(const FollowRecord& follow, const LifecycleReport& report);

}  // namespace swas
