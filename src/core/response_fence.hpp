#pragma once
// A response that must wait for writes finished on another thread.
//
// The HTTP server installs a fence on the thread that runs a request's
// handler. A service that accepts a write it completes elsewhere (the audit
// log's entry for a read, written by the audit writer thread in a batch with
// other requests' entries) holds the fence instead of blocking the thread;
// the server sends the response only once every held write has settled, and
// answers 500 instead if one failed. So the handler thread serves other
// connections while the write commits, and nothing is shown before its
// record is stored.
//
//   auto fence = std::make_shared<core::ResponseFence>();
//   { core::ScopedResponseFence scope(fence); response = handler(request); }
//   fence->WhenSettled([](const core::Status& s) { ... send or fail ... });
//
// Thread-safe: Hold/Release and WhenSettled may run on different threads.
#include <functional>
#include <memory>
#include <mutex>

#include "core/status.hpp"

namespace tsunagu::core {

class ResponseFence {
 public:
  // One more write to wait for; each Hold is matched by one Release.
  void Hold();
  // That write settled; a failure makes the whole fence fail (the first
  // failure is kept).
  void Release(const Status& outcome);
  // True while a held write has not been released.
  bool pending() const;
  // Runs `then` once, with Ok or the first failure, when nothing is pending:
  // at once (on this thread) if nothing is, otherwise on the thread of the
  // last Release. Call at most once.
  void WhenSettled(std::function<void(const Status&)> then);

 private:
  mutable std::mutex mu_;
  int pending_ = 0;
  Status outcome_;
  std::function<void(const Status&)> then_;
};

// The fence of the request handled on this thread, or null outside one.
std::shared_ptr<ResponseFence> CurrentResponseFence();

// Makes `fence` the current one on this thread for the scope's lifetime.
class ScopedResponseFence {
 public:
  explicit ScopedResponseFence(std::shared_ptr<ResponseFence> fence);
  ~ScopedResponseFence();
  ScopedResponseFence(const ScopedResponseFence&) = delete;
  ScopedResponseFence& operator=(const ScopedResponseFence&) = delete;

 private:
  std::shared_ptr<ResponseFence> previous_;
};

}  // namespace tsunagu::core
