// Concurrency slots. A slot is a place for one running job; its index picks the job's pooled cgroup (v1)
// and its sandbox uid, so two running jobs never share either.
#pragma once

#include <optional>
#include <vector>

namespace hutch {

class Slots {
 public:
  explicit Slots(int count) : busy_(static_cast<size_t>(count), false) {}
  std::optional<int> acquire() {
    for (size_t i = 0; i < busy_.size(); ++i) {
      if (!busy_[i]) {
        busy_[i] = true;
        ++used_;
        return static_cast<int>(i);
      }
    }
    return std::nullopt;
  }
  void release(int slot) {
    if (busy_[static_cast<size_t>(slot)]) --used_;
    busy_[static_cast<size_t>(slot)] = false;
  }
  size_t free_count() const { return busy_.size() - used_; }
  size_t used_count() const { return used_; }

 private:
  std::vector<bool> busy_;
  size_t used_ = 0;
};

}  // namespace hutch
