// swasctl's command line: parsing and checking only (no I/O), so every rule is unit-tested.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace swasctl {

// Exit statuses (docs/fleet.md).
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;      // the cloud or the agent answered with an error
constexpr int kExitUsage = 2;       // bad command line
constexpr int kExitTimeout = 3;     // no answer in time
constexpr int kExitBroker = 4;      // the broker could not be reached or refused us
// stop --wait only (docs/fleet.md, "Waiting for Stopped"):
constexpr int kExitNotStopped = 5;  // not Stopped in time: TimedOut, or our wait ran out after progress
constexpr int kExitWontStop = 6;    // will not stop or cannot be followed: UnexpectedStatus, NotFound, ...

constexpr std::chrono::milliseconds kMaxDuration{3600 * 1000};
// One command names at most this many instances (docs/contract.md, "Many instances in one command").
constexpr std::size_t kMaxInstances = 100;

// How to reach the broker: the same settings as the agent's `mqtt` config.
struct BrokerOptions {
  std::string uri;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string username;
  std::string password_file;
  bool tls() const;
};

struct StopOptions {
  BrokerOptions broker;
  std::string gateway;
  // --instance, once or more (1 to kMaxInstances, distinct), in the order given. One instance
  // without --force is sent as InstanceId, exactly as before issue 13; otherwise as InstanceIds.
  std::vector<std::string> instances;
  bool force = false;  // --force: "ForceStop": true (only with InstanceIds)
  std::string region;
  std::string client_token;   // empty: the agent derives one from the gateway and the id
  std::string id;             // empty: swasctl makes one
  std::string command_topic;  // default swas/<gateway>/commands
  std::string command_key_file;  // set: sign the command (the agent's policy.command_key_file)
  std::string command_key;       // its contents, loaded by run_stop
  std::string issued_at;         // RFC 3339 UTC, set by run_stop when signing
  std::chrono::milliseconds timeout{30000};
  // MQTT 5 Message Expiry of the command: neither the broker nor the agent starts it later.
  // Default: the timeout, so a command swasctl gave up on does not run hours later.
  std::chrono::milliseconds expires{0};
  bool json = false;
  // --wait: after a successful result, wait for the agent's lifecycle messages until the final
  // one, at most `wait_timeout` counted from the result. The default covers the agent's default
  // follow.deadline_s (600 s) with a minute to spare.
  bool wait = false;
  std::chrono::milliseconds wait_timeout{660000};

  // The command names InstanceIds (several instances, or --force), not InstanceId.
  bool uses_instance_ids() const { return instances.size() > 1 || force; }
};

struct StatusOptions {
  BrokerOptions broker;
  std::string gateway;       // empty: every gateway
  std::string status_topic;  // default swas/+/status, or swas/<gateway>/status
  std::chrono::milliseconds wait{2000};
  bool json = false;
};

// --help / --version: print `text` on stdout, exit 0.
struct HelpRequest {
  std::string text;
};

// A bad command line: print `message` and `usage` on stderr, exit 2.
struct UsageError {
  std::string message;
  std::string usage;
};

using Invocation = std::variant<StopOptions, StatusOptions, HelpRequest, UsageError>;

// `args` are the arguments after the program name. `--opt value` and `--opt=value` both work.
Invocation parse_command_line(const std::vector<std::string>& args, std::string_view version);

// "30s", "500ms", "2m", "1.5s" or a bare number of seconds; nullopt when unreadable, not
// positive or over kMaxDuration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "30s", "1.5s", "500ms": how a duration is shown back to the operator.
std::string format_duration(std::chrono::milliseconds d);

std::string main_usage();
std::string stop_usage();
std::string status_usage();

}  // namespace swasctl
