// `swasctl stop --wait`: the agent's lifecycle messages (docs/contract.md, "Following a stop to
// `Stopped`"), which of them count, what is printed and the exit status. Pure functions.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cjson/cJSON.h>

#include <memory>

namespace swasctl {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

// One JSON value and nothing but whitespace after it; no NUL (cJSON would cut a string there,
// so "c-1\u0000x" would read as the id "c-1"). Null otherwise. For every message swasctl reads
// from an agent (lifecycle and progress).
JsonPtr parse_strict(std::string_view text);

// Bounds on what a lifecycle message may make swasctl do.
constexpr std::size_t kMaxLifecyclePayload = 64 * 1024;  // larger payloads are not parsed
constexpr std::size_t kMaxProgressShown = 100;           // progress lines printed per command

struct LifecycleMessage {
  std::string instance_id;  // InstanceId, or "" when absent or not a string
  std::string status;  // "" when null or absent (no status seen yet)
  bool final = false;
  std::string outcome;        // final messages: Stopped, TimedOut, UnexpectedStatus, ...
  long long elapsed_ms = -1;  // -1 when absent
  std::string message;        // Message, or ""
  std::string error;          // PollFailed: "cloud 403 Forbidden.RAM: … (RequestId …)", or ""
};

// The lifecycle message in `payload` for command `id`, or nullopt when it does not count: not
// JSON, larger than kMaxLifecyclePayload, not an object, `type` not "lifecycle", `id` not `id`,
// `final` not a boolean, a final message without an `outcome` of 1-64 printable ASCII
// characters, `Status` neither null nor 1-64 printable ASCII characters, `elapsedMs` present but
// not a number from 0 to 10^12, `Message` present but not a string, `error` present but not an
// object.
std::optional<LifecycleMessage> parse_lifecycle(std::string_view payload, std::string_view id);

// "Stopping (0.4 s)"; "Stopped after 31.9 s"; "TimedOut after 600.4 s (Status Stopping): …",
// plus an indented error line for PollFailed. One or two lines, each ending in '\n'.
std::string describe_lifecycle(const LifecycleMessage& m);

// 0 for Stopped, kExitNotStopped for TimedOut, kExitWontStop for every other outcome
// (UnexpectedStatus, NotFound, PollFailed, NotFollowed, and outcomes this swasctl does not know).
int exit_code_for_outcome(std::string_view outcome);

// The lifecycle messages of one command, taken in the order they arrive after its result.
class LifecycleWatch {
 public:
  LifecycleWatch(std::string id, bool json);

  // One message from the command's response topic (with its correlation data). Returns what to
  // print: "" for a message that does not count (parse_lifecycle), for any message after the
  // final one, for a progress message whose Status is the one shown last (an MQTT redelivery),
  // and for progress past kMaxProgressShown (one line says so). With json, the payload as
  // received on one line; otherwise describe_lifecycle.
  std::string take(std::string_view payload);
  // The same for a message already read by parse_lifecycle (for this watch's id).
  std::string take(const LifecycleMessage& m, std::string_view payload);

  bool finished() const { return finished_; }  // the final message was taken
  int exit_code() const { return exit_code_; }  // after finished()
  bool heard() const { return heard_; }         // at least one message counted
  // The Status of the last message that counted ("" if none or null).
  const std::string& last_status() const { return last_status_; }

 private:
  std::string id_;
  bool json_ = false;
  bool finished_ = false;
  bool heard_ = false;
  int exit_code_ = -1;
  std::string last_status_;
  std::optional<std::string> last_shown_;  // Status of the last progress line printed
  std::size_t progress_shown_ = 0;
};

// The lifecycle messages of one command naming `instances` (one, or several with InstanceIds):
// each instance is followed on its own (a LifecycleWatch each), messages matched to it by their
// InstanceId. A message whose InstanceId is not one of the command's does not count.
//
// Exit status (docs/fleet.md, "Several instances"): 0 when every instance's final outcome is
// Stopped; otherwise 6 when any instance will not stop or could not be followed (an outcome other
// than Stopped and TimedOut); otherwise 5 when any TimedOut or, once the wait ran out, any has no
// final message yet while a lifecycle message came for the command; otherwise (the wait ran out
// and no lifecycle message came at all) 3.
class FollowWatch {
 public:
  FollowWatch(std::string id, std::vector<std::string> instances, bool json);

  // Text to print for one message from the command's response topic: with one instance exactly
  // LifecycleWatch's; with several, each line starts with the InstanceId and two spaces, and after
  // the last final message comes a summary (text only, not with json):
  //   "3 of 3 instances Stopped" or "1 of 3 instances Stopped; TimedOut i-2; UnexpectedStatus i-3".
  std::string take(std::string_view payload);

  bool finished() const;  // every instance had its final message
  bool heard() const;     // a message counted, for any instance
  // The exit status by the rule above; `waited_out` says the wait ended before finished().
  int exit_code(bool waited_out) const;
  // When the wait ran out after something was heard: "i-2 (Stopping), i-3 (nothing reported)"
  // for the instances without a final message; and how many of them there are.
  std::string unfinished() const;
  std::size_t unfinished_count() const;
  std::size_t size() const { return instances_.size(); }
  const std::vector<LifecycleWatch>& watches() const { return watches_; }  // in the instances' order

 private:
  std::string summary() const;

  std::string id_;
  std::vector<std::string> instances_;
  std::vector<LifecycleWatch> watches_;
  std::vector<std::string> outcomes_;  // per instance, "" until its final message
  bool json_ = false;
};

}  // namespace swasctl
