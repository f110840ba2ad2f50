// What every call to the cloud shares, stop or poll: the credentials, the endpoint of a region,
// fresh nonces and x-acs-date, the retry rule's backoff and the clock correction learnt from the
// cloud's Date (docs/contract.md, "The retry rule").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "credentials.hpp"
#include "http_types.hpp"
#include "ports.hpp"

namespace swas {

// Attempts, exponential backoff with full jitter, and a total deadline per call (cloud.retry).
using RetryPolicy = RetryConfig;

// Thread-safe: after construction it only reads its own state and calls the thread-safe ports
// (Clock, Entropy, Logger).
class CloudSession {
 public:
  CloudSession(std::optional<Credentials> credentials, std::optional<Endpoint> endpoint_override, RetryPolicy retry,
               Clock& clock, Entropy& entropy, Logger& logger);

  // Null when no credentials are configured.
  const Credentials* credentials() const { return credentials_ ? &*credentials_ : nullptr; }
  // cloud.endpoint when set, else https://swas.<region>.aliyuncs.com.
  Endpoint endpoint_for(std::string_view region_id) const;
  const RetryPolicy& retry() const { return retry_; }
  // The x-acs-date of an attempt starting now ("YYYY-MM-DDThh:mm:ssZ", corrected clock).
  std::string x_acs_date();
  // 16 random bytes as hex: a new x-acs-signature-nonce.
  std::string fresh_nonce();
  // Full jitter in [0, min(max, base * 2^(attempt-1))]; a Throttling hint is honoured as a floor.
  std::uint32_t backoff_ms(int attempt, std::optional<std::uint32_t> hint);
  // Moves the clock by what the cloud's Date says; false (and logged) beyond
  // limits::kMaxClockCorrectionMs either way.
  bool correct_clock(std::int64_t server_ms);

 private:
  void log(LogLevel level, const std::string& line);

  std::optional<Credentials> credentials_;
  std::optional<Endpoint> endpoint_override_;
  RetryPolicy retry_;
  Clock& clock_;
  Entropy& entropy_;
  Logger& logger_;
};

}  // namespace swas
