// A sleep that other threads can cut short: notify() wakes the sleeper (or its next sleep), close()
// ends it for good. Thread-safe.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace swas {

class Wakeup {
 public:
  void notify() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      notified_ = true;
    }
    cv_.notify_all();
  }
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  // Sleeps up to `ms` (not at all when ≤ 0) or until notify(); false once closed.
  bool wait_ms(std::int64_t ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (ms > 0) cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return closed_ || notified_; });
    notified_ = false;
    return !closed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool notified_ = false;
  bool closed_ = false;
};

}  // namespace swas
