// Which answers a later attempt may not see again (docs/signature.md, "What the cloud answers").
#include "attempt_rules.hpp"

#include <cstdlib>

#include "time_format.hpp"

namespace swas {

bool is_throttling(const CloudError& err) { return err.code.rfind("Throttling", 0) == 0; }

namespace {

std::optional<std::uint32_t> retry_after(const HttpResponse& r) {
  const std::string* v = find_header(r.headers, "x-acs-retry-after");
  if (!v || v->empty() || v->size() > 9) return std::nullopt;
  for (char c : *v)
    if (c < '0' || c > '9') return std::nullopt;
  return static_cast<std::uint32_t>(std::strtoul(v->c_str(), nullptr, 10));
}

}  // namespace

AttemptJudgement judge_attempt(const Expected<HttpResponse, TransportError>& response,
                               const CloudOutcome* outcome) {
  AttemptJudgement j;
  if (!response) {
    j.verdict = AttemptVerdict::Retry;
    return j;
  }
  if (const auto* err = outcome ? std::get_if<CloudError>(outcome) : nullptr) {
    if (is_throttling(*err) || err->http_status == 429) {
      j.verdict = AttemptVerdict::Retry;
      j.retry_after_ms = retry_after(*response);
      return j;
    }
    if (err->code == "InvalidTimeStamp.Expired") {
      std::int64_t server_s = 0;
      const std::string* date = find_header(response->headers, "date");
      if (date && parse_http_date(*date, server_s)) {
        j.verdict = AttemptVerdict::FixClock;
        // Date has whole seconds: the middle of that second is the best estimate of the cloud's time.
        j.server_time_ms = server_s * 1000 + 500;
      }
      return j;
    }
    if (err->code == "SignatureNonceUsed") {
      j.verdict = AttemptVerdict::NewNonce;
      return j;
    }
  }
  if (is_retryable_status(response->status) ||
      (outcome && std::holds_alternative<CloudSuccess>(*outcome) == false && response->status == 429))
    j.verdict = AttemptVerdict::Retry;
  return j;
}

}  // namespace swas
