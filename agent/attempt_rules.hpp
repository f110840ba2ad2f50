// The retry rule for one attempt's outcome: done, retry after a wait, or retry at once once.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "cloud_response.hpp"
#include "expected.hpp"
#include "ports.hpp"

namespace swas {

enum class AttemptVerdict {
  Done,          // a terminal answer (success, 4xx, unreadable)
  Retry,         // network failure, 500/502/503/504, Throttling: back off and try again
  FixClock,      // InvalidTimeStamp.Expired with a usable Date header: correct the clock, retry once
  NewNonce,      // SignatureNonceUsed: retry once with a new nonce
};

struct AttemptJudgement {
  AttemptVerdict verdict = AttemptVerdict::Done;
  std::optional<std::uint32_t> retry_after_ms;  // x-acs-retry-after on Throttling
  std::optional<std::int64_t> server_time_ms;   // the cloud's Date header, for FixClock
};

AttemptJudgement judge_attempt(const Expected<HttpResponse, TransportError>& response,
                               const CloudOutcome* outcome);

bool is_throttling(const CloudError& err);

}  // namespace swas
