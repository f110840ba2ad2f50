// The ports through which the core reaches the world. platform/ implements them; tests/fakes/ fakes
// them. None is called from more than one thread at a time unless its comment says so.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "expected.hpp"
#include "http_types.hpp"

namespace swas {

// Wall-clock time and waiting. now_unix_ms is UTC; it may jump (no battery-backed clock).
class Clock {
 public:
  virtual ~Clock() = default;
  // The gateway's time plus the correction learnt from the cloud (set_offset_ms).
  virtual std::int64_t now_unix_ms() = 0;
  // Clock-skew correction: milliseconds added to the system time from now on. Thread-safe.
  virtual std::int64_t offset_ms() const = 0;
  virtual void set_offset_ms(std::int64_t offset) = 0;
  // Waits about `ms` milliseconds. Returns false, early, when the process is shutting down:
  // the caller then stops retrying.
  virtual bool sleep_ms(std::uint32_t ms) = 0;
};

// Cryptographically strong random bytes (nonces, jitter).
class Entropy {
 public:
  virtual ~Entropy() = default;
  virtual void fill(unsigned char* out, std::size_t len) = 0;
};

enum class TransportFailure { Connect, Tls, Timeout, Protocol };

constexpr std::string_view to_string(TransportFailure f) {
  switch (f) {
    case TransportFailure::Connect: return "connection failed";
    case TransportFailure::Tls: return "TLS failed";
    case TransportFailure::Timeout: return "timed out";
    case TransportFailure::Protocol: return "bad HTTP response";
  }
  return "failed";
}

struct TransportError {
  TransportFailure kind;
  std::string detail;  // what happened, for logs and the CloudUnreachable message; no secrets
};

// One HTTPS request/response exchange. Contract for implementations:
// - connects (or reuses a kept-alive connection) to endpoint.host:endpoint.port, verifies the
//   server certificate against the configured CA and endpoint.host, sends SNI;
// - sends `request` as-is (the caller sets every header, including Host);
// - returns the complete final response (status, headers, body) or a TransportError; never throws;
//   interim (1xx) responses are skipped, a bounded number of them;
// - reuses a kept-alive connection only when nothing arrived on it since its last response (and
//   nothing followed that response): bytes nobody asked for are never the next request's answer;
// - the whole call (connect, handshake, sending the request, reading the complete response, a
//   second connection if one is needed) ends within the configured timeout, whatever the peer
//   sends or withholds: one deadline per call, not a timeout per read.
class HttpsTransport {
 public:
  virtual ~HttpsTransport() = default;
  virtual Expected<HttpResponse, TransportError> round_trip(const Endpoint& endpoint,
                                                            const HttpRequest& request) = 0;
};

// How a paced cloud call ended.
enum class CallEnd {
  Answered,   // the cloud answered (anything but its rate limit)
  Throttled,  // the cloud refused it for its rate limit (Throttling*, 429)
  NoAnswer,   // no answer (connection, TLS, timeout): it may or may not have reached the cloud
};

// Pacing of cloud calls per action for the whole agent (docs/contract.md, "The account's rate
// quota"). Thread-safe. Every Go from acquire() is followed by exactly one ended().
class CallPacer {
 public:
  enum class Turn { Go, Deadline, ShuttingDown };
  virtual ~CallPacer() = default;
  // Waits until a call of `action` may start, until `deadline_ms` (Clock time) passes, or until
  // the agent shuts down; callers of one action go in the order they came. Before waiting, calls
  // `on_wait` once with the expected wait in ms (nullopt: unknown, e.g. a throttling hold).
  virtual Turn acquire(std::string_view action, std::int64_t deadline_ms,
                       const std::function<void(std::optional<std::int64_t>)>& on_wait) = 0;
  // The call that acquire() let go has ended; `retry_after_ms` is a throttled answer's hint.
  virtual void ended(std::string_view action, CallEnd end, std::optional<std::uint32_t> retry_after_ms) = 0;
  // How many calls of `action` wait for their turn now (0 when a call could start at once), for the
  // progress message of a command accepted behind them.
  virtual std::size_t waiting(std::string_view action) = 0;
  // The configured quota of `action` as written in the config ("10/60s"), or "" (for messages).
  virtual std::string quota_text(std::string_view action) const = 0;
};

// A message to publish (result). Implementations must not block for the broker's ack.
// Called from the worker thread and, for Busy answers, from the MQTT library's thread: thread-safe.
struct OutgoingMessage {
  std::string topic;
  std::string payload;
  std::string correlation_data;  // MQTT 5, echoed from the command; empty when none
  std::string journal_id;        // when set, the broker's ack is reported to Journal::acknowledge
  bool retained = false;
};

class MessagePublisher {
 public:
  virtual ~MessagePublisher() = default;
  virtual void publish(const OutgoingMessage& message) = 0;
};

enum class CommandOutcome { Succeeded, Failed, Rejected };

// Counters for the gateway's status message. Thread-safe; never blocks.
class Telemetry {
 public:
  virtual ~Telemetry() = default;
  virtual void received() = 0;
  virtual void started() = 0;  // a command begins its cloud call (in flight)
  virtual void finished(CommandOutcome outcome, bool was_started, std::string_view error) = 0;
};

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// One line per event. Thread-safe. Callers never pass secrets.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel level) const = 0;
  virtual void write(LogLevel level, std::string_view line) = 0;
};

}  // namespace swas
