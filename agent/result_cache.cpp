// LRU bookkeeping for ResultCache.
#include "result_cache.hpp"

namespace swas {

const std::string* ResultCache::find(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return &it->second->second;
}

void ResultCache::put(const std::string& id, std::string payload) {
  if (capacity_ == 0) return;
  auto it = index_.find(id);
  if (it != index_.end()) {
    it->second->second = std::move(payload);
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  if (index_.size() >= capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  order_.emplace_front(id, std::move(payload));
  index_[id] = order_.begin();
}

}  // namespace swas
