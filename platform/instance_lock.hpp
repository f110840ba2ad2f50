// One agent per state directory: an exclusive flock on <state_dir>/lock, held for the process's life.
#pragma once
#include <string>

#include "expected.hpp"

namespace swas {

class InstanceLock {
 public:
  // Takes the lock without waiting. The error names the holder's pid when another agent has it.
  static Expected<InstanceLock, std::string> acquire(const std::string& state_dir);
  InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  InstanceLock& operator=(InstanceLock&&) = delete;
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace swas
