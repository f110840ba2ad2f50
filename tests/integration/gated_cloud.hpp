// A cloud stand-in that holds every request until the test opens it, counting the requests it
// holds at once and those it answered (200, {"RequestId":"R-gated"}). For bounds on what the
// agent runs at once, and for results produced at a moment the test chooses.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "hostile_tls_server.hpp"

namespace swas::it {

class GatedCloud {
 public:
  GatedCloud()
      : server_([this](HostileTlsServer::Connection& c) {
          while (c.read_request()) {
            {
              std::lock_guard<std::mutex> lock(mutex_);
              ++held_;
              max_held_ = std::max(max_held_, held_);
            }
            cv_.notify_all();
            while (!open_)
              if (!c.sleep_ms(5)) return;  // the server is stopping
            {
              std::lock_guard<std::mutex> lock(mutex_);
              --held_;
              ++answered_;
            }
            cv_.notify_all();
            if (!c.write(http_response(R"({"RequestId":"R-gated"})"))) return;
          }
        }) {}
  std::string endpoint() const { return "https://localhost:" + std::to_string(server_.port()); }
  // Waits until `n` requests are held at once; false on timeout.
  bool wait_held(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return held_ >= n; });
  }
  bool wait_answered(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return answered_ >= n; });
  }
  void open() { open_ = true; }
  int max_held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_held_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int held_ = 0, max_held_ = 0, answered_ = 0;
  std::atomic<bool> open_{false};
  HostileTlsServer server_;  // last: its threads use the members above
};

}  // namespace swas::it
