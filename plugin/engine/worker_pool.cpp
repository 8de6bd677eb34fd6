#include "plugin/engine/worker_pool.hpp"

#include <thread>

namespace prov::plugin {

void WorkerPool::submit(std::function<void()> task) {
  bool spawn = false;
  {
    std::lock_guard l(m_);
    tasks_.push_back(std::move(task));
    if (idle_ >= tasks_.size()) {
      // An idle worker will take it.
    } else {
      spawn = true;
    }
  }
  if (spawn) std::thread([this] { work(); }).detach();
  else cv_.notify_one();
}

void WorkerPool::work() {
  std::unique_lock l(m_);
  while (true) {
    if (tasks_.empty()) {
      if (idle_ >= max_idle_) return;
      ++idle_;
      cv_.wait(l, [&] { return !tasks_.empty(); });
      --idle_;
    }
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    l.unlock();
    task();
    l.lock();
  }
}

}  // namespace prov::plugin
