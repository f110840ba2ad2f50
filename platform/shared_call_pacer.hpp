// The CallPacer port: one RatePacer behind a mutex for every worker and the poll thread, with the
// waiting (first come, first served per action) and a wake-up for shutdown.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "ports.hpp"
#include "rate_pacer.hpp"

namespace swas {

class SharedCallPacer final : public CallPacer {
 public:
  // `quota_texts`: action -> the config's text ("10/60s"), already validated.
  SharedCallPacer(const std::map<std::string, std::string>& quota_texts, Clock& clock);

  Turn acquire(std::string_view action, std::int64_t deadline_ms,
               const std::function<void(std::optional<std::int64_t>)>& on_wait) override;
  void ended(std::string_view action, CallEnd end, std::optional<std::uint32_t> retry_after_ms) override;
  std::string quota_text(std::string_view action) const override;
  std::size_t waiting(std::string_view action) override;
  // Every waiting acquire() returns ShuttingDown, and so does every later one.
  void shutdown();

 private:
  std::map<std::string, std::string> texts_;
  Clock& clock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  RatePacer pacer_;
  std::map<std::string, std::deque<std::uint64_t>, std::less<>> queues_;  // waiting tickets per action
  std::uint64_t next_ticket_ = 0;
  bool shutting_down_ = false;
};

}  // namespace swas
