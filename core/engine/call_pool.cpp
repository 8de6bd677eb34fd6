#include "core/engine/call_pool.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <system_error>

namespace prov {

namespace {
CallOutcome call_result(const std::function<CallOutcome()>& call) {
  try {
    return call();
  } catch (const std::exception& x) {
    // Out of memory (or another failure of the runner itself) in the call: the operation
    // fails, saying why, rather than the runner aborting without a record.
    CallOutcome o;
    o.result =
        op_failed("provisioning::internal", std::string("the runner could not go on with this operation: ") + x.what());
    o.result.permanent = true;
    return o;
  }
}
}  // namespace

CallPool::CallPool(size_t max_threads)
    : max_threads_(std::max<size_t>(1, max_threads)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

CallPool::~CallPool() {
  {
    std::lock_guard l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void CallPool::submit(size_t tag, std::function<CallOutcome()> call) {
  std::unique_lock l(m_);
  calls_.emplace_back(tag, std::move(call));
  if (idle_ >= calls_.size()) {
    cv_.notify_one();
    return;
  }
  if (threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { work(); });
      return;
    } catch (const std::system_error&) {
      // No thread (memory, a process limit): fewer threads, or this one.
    }
  }
  if (!threads_.empty()) return;  // a thread takes it when it is free
  auto [t, c] = std::move(calls_.front());
  calls_.pop_front();
  l.unlock();
  finished(t, call_result(c));
}

void CallPool::work() {
  std::unique_lock l(m_);
  while (true) {
    ++idle_;
    cv_.wait(l, [&] { return stop_ || !calls_.empty(); });
    --idle_;
    if (calls_.empty()) return;  // stopping, nothing left
    auto [tag, call] = std::move(calls_.front());
    calls_.pop_front();
    l.unlock();
    finished(tag, call_result(call));
    l.lock();
  }
}

void CallPool::finished(size_t tag, CallOutcome r) {
  {
    std::lock_guard l(m_);
    results_.emplace_back(tag, std::move(r));
  }
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
}

std::vector<std::pair<size_t, CallOutcome>> CallPool::take() {
  if (wake_fd_ >= 0) {
    uint64_t n = 0;
    [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &n, sizeof n);
  }
  std::lock_guard l(m_);
  return std::exchange(results_, {});
}

}  // namespace prov
