// Bounded memories of used signature nonces and of ClientTokens with their first answer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace swas::emulator {

// Nonces seen in the last `memory_ms`, at most `max_entries` (oldest forgotten first).
// Not thread-safe: the core's lock guards it.
class NonceCache {
 public:
  NonceCache(std::size_t max_entries, std::int64_t memory_ms);
  // True when `nonce` was remembered; forgets expired entries first.
  bool seen(const std::string& nonce, std::int64_t now_ms);
  void remember(const std::string& nonce, std::int64_t now_ms);
  std::size_t size() const { return nonces_.size(); }

 private:
  void forget_expired(std::int64_t now_ms);

  std::size_t max_entries_;
  std::int64_t memory_ms_;
  std::unordered_set<std::string> nonces_;
  std::deque<std::pair<std::int64_t, std::string>> by_age_;  // (remembered at, nonce)
};

// What a ClientToken was first used with; a retry must repeat it exactly. The action is part of
// it: a token first used by StopInstance and then by StopInstances is a mismatch.
struct IdempotentParameters {
  std::string action;
  std::string region_id;
  std::vector<std::string> instance_ids;  // as given, in order (StopInstance: its one InstanceId)
  bool force_stop = false;                // StopInstances' ForceStop; absent counts as false
  bool operator==(const IdempotentParameters& o) const {
    return action == o.action && region_id == o.region_id && instance_ids == o.instance_ids &&
           force_stop == o.force_stop;
  }
  bool operator!=(const IdempotentParameters& o) const { return !(*this == o); }
};

// The first answer given for a ClientToken, kept so that a retry gets exactly that answer.
struct IdempotentAnswer {
  IdempotentParameters parameters;
  int status = 0;
  std::string body;
  std::string request_id;
  std::string code;  // empty on success
};

// At most `max_entries` tokens; the oldest is forgotten first. Not thread-safe (core's lock).
class ClientTokenCache {
 public:
  explicit ClientTokenCache(std::size_t max_entries);
  const IdempotentAnswer* find(const std::string& token) const;
  void remember(const std::string& token, IdempotentAnswer answer);
  std::size_t size() const { return answers_.size(); }

 private:
  std::size_t max_entries_;
  std::unordered_map<std::string, IdempotentAnswer> answers_;
  std::deque<std::string> by_age_;
};

}  // namespace swas::emulator
