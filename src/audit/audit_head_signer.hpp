#pragma once
// Signs the audit chain head periodically: once when started, then every
// `interval` (default one hour), and once more when stopped, so that a
// truncation of the log is detectable up to at most one interval back.
//
// Ownership: borrows the AuditLog, which must outlive this object. The server
// owns one for its lifetime. Thread-safety: Start/Stop may be called from any
// thread; Stop returns promptly (the worker waits on a condition variable) and
// is idempotent; the destructor stops.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace tsunagu::audit {

class AuditLog;

class AuditHeadSigner {
 public:
  explicit AuditHeadSigner(AuditLog& log,
                           std::chrono::milliseconds interval = std::chrono::hours(1));
  ~AuditHeadSigner();
  AuditHeadSigner(const AuditHeadSigner&) = delete;
  AuditHeadSigner& operator=(const AuditHeadSigner&) = delete;

  // Starts the worker (signs immediately). No-op when already running.
  void Start();
  // Wakes the worker, signs a final time and joins. No-op when not running.
  void Stop();
  bool running() const;
  // Number of SignHead calls that succeeded (for tests and metrics).
  int64_t signed_count() const;

 private:
  void Run();
  void SignOnce();

  AuditLog& log_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool running_ = false;
  int64_t signed_count_ = 0;
  std::thread thread_;
};

}  // namespace tsunagu::audit
