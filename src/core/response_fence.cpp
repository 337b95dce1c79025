#include "core/response_fence.hpp"

#include <utility>

namespace tsunagu::core {
namespace {

thread_local std::shared_ptr<ResponseFence> current_fence;

}  // namespace

void ResponseFence::Hold() {
  std::lock_guard lock(mu_);
  ++pending_;
}

void ResponseFence::Release(const Status& outcome) {
  std::function<void(const Status&)> then;
  Status result;
  {
    std::lock_guard lock(mu_);
    if (!outcome.ok() && outcome_.ok()) outcome_ = outcome;
    if (--pending_ > 0 || !then_) return;
    then = std::move(then_);
    then_ = nullptr;
    result = outcome_;
  }
  then(result);
}

bool ResponseFence::pending() const {
  std::lock_guard lock(mu_);
  return pending_ > 0;
}

void ResponseFence::WhenSettled(std::function<void(const Status&)> then) {
  Status result;
  {
    std::lock_guard lock(mu_);
    if (pending_ > 0) {
      then_ = std::move(then);
      return;
    }
    result = outcome_;
  }
  then(result);
}

std::shared_ptr<ResponseFence> CurrentResponseFence() { return current_fence; }

ScopedResponseFence::ScopedResponseFence(std::shared_ptr<ResponseFence> fence)
    : previous_(std::exchange(current_fence, std::move(fence))) {}

ScopedResponseFence::~ScopedResponseFence() { current_fence = std::move(previous_); }

}  // namespace tsunagu::core
