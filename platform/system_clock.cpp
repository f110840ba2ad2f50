// Real time for x-acs-date; sleeping on a condition variable so shutdown is never held up.
#include "system_clock.hpp"

#include <chrono>

namespace swas {

std::int64_t SystemClock::now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         offset_ms_.load();
}

bool SystemClock::sleep_ms(std::uint32_t ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  return !stopping_;
}

void SystemClock::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

}  // namespace swas
