// Clock port on the system's real-time clock; sleeps end early once shutdown() is called.
#pragma once
#include <condition_variable>
#include <mutex>

#include "ports.hpp"

namespace swas {

// Thread-safe.
class SystemClock final : public Clock {
 public:
  std::int64_t now_unix_ms() override;
  bool sleep_ms(std::uint32_t ms) override;
  // Wakes every sleeper and makes later sleeps return false at once.
  void shutdown();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace swas
