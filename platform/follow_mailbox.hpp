// The hand-over from the workers (successful stops) and the MQTT thread (acks of final lifecycle
// messages) to the poll thread that owns the StopFollower.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "command_processor.hpp"

namespace swas {

// Thread-safe; follow() and settled() never block. Bounded: at most `capacity` follows wait (the
// follower could keep no more than follow.max_instances anyway); follow() refuses one beyond, and
// the worker answers it NotFollowed. Acks beyond `capacity` are dropped (their follow then keeps
// its slot until the next restart).
class FollowMailbox final : public FollowSink {
 public:
  struct Batch {
    std::vector<std::pair<FollowRecord, bool>> added;  // record, journaled
    std::vector<std::string> settled;
  };

  explicit FollowMailbox(std::size_t capacity) : capacity_(capacity) {}

  bool follow(FollowRecord record, bool journaled) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (batch_.added.size() >= capacity_) return false;
      batch_.added.emplace_back(std::move(record), journaled);
    }
    cv_.notify_one();
    return true;
  }

  void settled(std::string id) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (batch_.settled.size() >= capacity_) return;
      batch_.settled.push_back(std::move(id));
    }
    cv_.notify_one();
  }

  // Waits until something arrives, `timeout` passes (forever when nullopt) or close(); nullopt once
  // closed.
  std::optional<Batch> wait(std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto ready = [this] { return closed_ || !batch_.added.empty() || !batch_.settled.empty(); };
    if (timeout) cv_.wait_for(lock, *timeout, ready);
    else cv_.wait(lock, ready);
    if (closed_) return std::nullopt;
    Batch out = std::move(batch_);
    batch_ = Batch{};
    return out;
  }

  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Batch batch_;
  bool closed_ = false;
};

}  // namespace swas
