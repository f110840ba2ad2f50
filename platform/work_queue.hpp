// A bounded multi-producer queue: try_push never blocks (full -> false), push_wait waits for room,
// pop and pop_many wait until there is something or the queue is closed.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace swas {

// Thread-safe.
template <typename T>
class WorkQueue {
 public:
  explicit WorkQueue(std::size_t capacity) : capacity_(capacity) {}

  // Moves `item` in unless the queue is full or closed (then `item` is left untouched).
  // Never blocks, so it is safe in MQTT callbacks.
  bool try_push(T& item) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // Moves `item` in, waiting while the queue is full; false (item untouched) once it is closed.
  bool push_wait(T& item) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      room_.wait(lock, [this] { return closed_ || items_.size() < capacity_; });
      if (closed_) return false;
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // Adds `item` even past the capacity (start-up recovery: the journal already bounds it).
  void force_push(T item) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
  }

  std::size_t capacity() const { return capacity_; }

  // The next item; waits while empty. nullopt once closed and drained.
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    lock.unlock();
    room_.notify_one();
    return item;
  }

  // Up to `max` items in order (moved into `out`, which is cleared first); waits while empty.
  // False once closed and drained.
  bool pop_many(std::vector<T>& out, std::size_t max) {
    out.clear();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return closed_ || !items_.empty(); });
      if (items_.empty()) return false;
      while (!items_.empty() && out.size() < max) {
        out.push_back(std::move(items_.front()));
        items_.pop_front();
      }
    }
    room_.notify_all();
    return true;
  }

  // No more pushes; pop() drains what is left, then returns nullopt.
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
    room_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;    // items arrived (or closed)
  std::condition_variable room_;  // room freed (or closed)
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace swas
