// SharedCallPacer: first come, first served per action; waits are cut into slices of at most a
// second so that a wall-clock jump is noticed.
#include "shared_call_pacer.hpp"

#include <algorithm>
#include <chrono>

namespace swas {
namespace {

std::map<std::string, Quota> parse_all(const std::map<std::string, std::string>& texts) {
  std::map<std::string, Quota> out;
  for (const auto& [action, text] : texts)
    if (auto q = parse_quota(text)) out.emplace(action, *q);
  return out;
}

}  // namespace

SharedCallPacer::SharedCallPacer(const std::map<std::string, std::string>& quota_texts, Clock& clock)
    : texts_(quota_texts), clock_(clock), pacer_(parse_all(quota_texts)) {}

std::string SharedCallPacer::quota_text(std::string_view action) const {
  auto it = texts_.find(std::string(action));
  return it == texts_.end() ? "" : it->second;
}

CallPacer::Turn SharedCallPacer::acquire(std::string_view action, std::int64_t deadline_ms,
                                         const std::function<void(std::optional<std::int64_t>)>& on_wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto queue_it = queues_.find(action);
  if (queue_it == queues_.end()) queue_it = queues_.emplace(std::string(action), std::deque<std::uint64_t>{}).first;
  std::deque<std::uint64_t>& queue = queue_it->second;
  const std::uint64_t ticket = next_ticket_++;
  queue.push_back(ticket);
  const auto leave = [&] {
    queue.erase(std::find(queue.begin(), queue.end(), ticket));
    cv_.notify_all();
  };
  bool told = false;
  for (;;) {
    if (shutting_down_) {
      leave();
      return Turn::ShuttingDown;
    }
    const std::int64_t now = clock_.now_unix_ms();
    const std::optional<std::int64_t> next = pacer_.next_start(action, now);
    if (queue.front() == ticket && next && *next <= now) {
      pacer_.started(action, now);
      leave();
      return Turn::Go;
    }
    if (!told) {
      told = true;
      // The expected wait: the head's turn, plus the turns of those ahead under a quota.
      std::optional<std::int64_t> expected;
      if (next && !pacer_.held(action)) {
        expected = *next - now;
        const auto ahead = static_cast<std::int64_t>(std::find(queue.begin(), queue.end(), ticket) - queue.begin());
        if (const auto q = pacer_.quota(action); q && ahead > 0)
          expected = *expected + ahead * static_cast<std::int64_t>(q->window_ms) / q->calls;
      }
      if (!expected || *expected >= 1000) {
        lock.unlock();
        on_wait(expected);
        lock.lock();
        continue;
      }
    }
    if (now >= deadline_ms) {
      leave();
      return Turn::Deadline;
    }
    std::int64_t slice = std::min<std::int64_t>(1000, deadline_ms - now);
    if (next && queue.front() == ticket) slice = std::min(slice, std::max<std::int64_t>(1, *next - now));
    cv_.wait_for(lock, std::chrono::milliseconds(slice));
  }
}

void SharedCallPacer::ended(std::string_view action, CallEnd end, std::optional<std::uint32_t> retry_after_ms) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pacer_.ended(action, clock_.now_unix_ms(), end, retry_after_ms);
  }
  cv_.notify_all();
}

std::size_t SharedCallPacer::waiting(std::string_view action) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = queues_.find(action);
  const std::size_t queued = it == queues_.end() ? 0 : it->second.size();
  if (queued > 0) return queued;
  const std::int64_t now = clock_.now_unix_ms();
  const auto next = pacer_.next_start(action, now);
  return next && *next <= now ? 0 : 1;
}

void SharedCallPacer::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
  }
  cv_.notify_all();
}

}  // namespace swas
