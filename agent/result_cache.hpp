// A bounded map from command id to its result payload, least recently used evicted first.
#pragma once
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

namespace swas {

// Not thread-safe: owned by the single worker that processes commands.
class ResultCache {
 public:
  explicit ResultCache(std::size_t capacity) : capacity_(capacity) {}

  // The remembered result for `id`, or nullptr.
  const std::string* find(const std::string& id);
  // Remembers `payload` for `id`; at capacity the least recently used entry is dropped.
  void put(const std::string& id, std::string payload);
  std::size_t size() const { return index_.size(); }

 private:
  using Entry = std::pair<std::string, std::string>;
  std::size_t capacity_;
  std::list<Entry> order_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace swas
