// The agent's `type:"progress"` messages (docs/contract.md, "The account's rate quota"): a
// command waiting for its turn under the cloud's rate limit. Which of them count and what
// swasctl prints for them while it waits for the result. Pure functions.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace swasctl {

struct ProgressMessage {
  std::string stage;       // "RateLimited", or a stage this swasctl does not know
  std::string action;      // the cloud action waited for (StopInstance, StopInstances), or ""
  long long wait_ms = -1;  // the expected wait; -1 when null (not known: queued behind other calls, or a
                           // throttling hold is probing) or absent
  std::string message;     // the agent's Message, made printable and cut; or ""
};

// The progress message in `payload` for command `id`, or nullopt when it does not count: not one
// JSON object of at most 64 KiB (no NUL, nothing after it), `type` not "progress", `id` not `id`,
// `stage` not 1-64 printable ASCII characters, `action` present but not 1-64 printable ASCII
// characters, `waitMs` neither absent, null nor a number from 0 to 10^12, `Message` present but
// not a string.
std::optional<ProgressMessage> parse_progress(std::string_view payload, std::string_view id);

// What swasctl prints for a progress message that came while `left` of the --timeout `timeout`
// remained (the wait is not extended by it). Lines ending in '\n':
//   QUEUED  for the cloud's rate limit of StopInstances: the gateway sends the stop in about 24 s
//       <the agent's Message>
//   hint: …  (only when the expected wait is unknown or longer than `left`)
std::string describe_progress(const ProgressMessage& m, std::chrono::milliseconds left,
                              std::chrono::milliseconds timeout, std::chrono::milliseconds expires);

}  // namespace swasctl
