// Clock port on the system's real-time clock; sleeps end early once shutdown() is called.
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "ports.hpp"

namespace swas {

// Thread-safe.
class SystemClock final : public Clock {
 public:
  std::int64_t now_unix_ms() override;
  std::int64_t offset_ms() const override { return offset_ms_.load(); }
  void set_offset_ms(std::int64_t offset) override { offset_ms_.store(offset); }
  bool sleep_ms(std::uint32_t ms) override;
  // Wakes every sleeper and makes later sleeps return false at once.
  void shutdown();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<std::int64_t> offset_ms_{0};
};

}  // namespace swas
