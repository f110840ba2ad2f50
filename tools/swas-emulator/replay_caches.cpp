// FIFO eviction keeps both caches bounded no matter how many distinct values clients send.
#include "replay_caches.hpp"

namespace swas::emulator {

NonceCache::NonceCache(std::size_t max_entries, std::int64_t memory_ms)
    : max_entries_(max_entries), memory_ms_(memory_ms) {}

void NonceCache::forget_expired(std::int64_t now_ms) {
  while (!by_age_.empty() && now_ms - by_age_.front().first >= memory_ms_) {
    nonces_.erase(by_age_.front().second);
    by_age_.pop_front();
  }
}

bool NonceCache::seen(const std::string& nonce, std::int64_t now_ms) {
  forget_expired(now_ms);
  return nonces_.count(nonce) != 0;
}

void NonceCache::remember(const std::string& nonce, std::int64_t now_ms) {
  if (max_entries_ == 0 || !nonces_.insert(nonce).second) return;
  by_age_.emplace_back(now_ms, nonce);
  while (by_age_.size() > max_entries_) {
    nonces_.erase(by_age_.front().second);
    by_age_.pop_front();
  }
}

ClientTokenCache::ClientTokenCache(std::size_t max_entries) : max_entries_(max_entries) {}

const IdempotentAnswer* ClientTokenCache::find(const std::string& token) const {
  const auto it = answers_.find(token);
  return it == answers_.end() ? nullptr : &it->second;
}

void ClientTokenCache::remember(const std::string& token, IdempotentAnswer answer) {
  if (max_entries_ == 0) return;
  const auto [it, inserted] = answers_.insert_or_assign(token, std::move(answer));
  (void)it;
  if (!inserted) return;
  by_age_.push_back(token);
  while (by_age_.size() > max_entries_) {
    answers_.erase(by_age_.front());
    by_age_.pop_front();
  }
}

}  // namespace swas::emulator
