#include "audit/audit_head_signer.hpp"

#include "audit/audit_log.hpp"
#include "core/log.hpp"

namespace tsunagu::audit {

AuditHeadSigner::AuditHeadSigner(AuditLog& log, std::chrono::milliseconds interval)
    : log_(log), interval_(interval.count() > 0 ? interval : std::chrono::hours(1)) {}

AuditHeadSigner::~AuditHeadSigner() { Stop(); }

void AuditHeadSigner::Start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  stop_requested_ = false;
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void AuditHeadSigner::Stop() {
  std::thread worker;
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stop_requested_ = true;
    worker = std::move(thread_);
  }
  cv_.notify_all();
  if (worker.joinable()) worker.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

bool AuditHeadSigner::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

int64_t AuditHeadSigner::signed_count() const {
  std::lock_guard lock(mu_);
  return signed_count_;
}

void AuditHeadSigner::SignOnce() {
  core::Status status = log_.SignHead();
  if (!status.ok()) {
    core::LogError("audit.sign_head_failed", {{"error", status.ToString()}});
    return;
  }
  std::lock_guard lock(mu_);
  ++signed_count_;
}

void AuditHeadSigner::Run() {
  SignOnce();
  std::unique_lock lock(mu_);
  while (!stop_requested_) {
    if (cv_.wait_for(lock, interval_, [this] { return stop_requested_; })) break;
    lock.unlock();
    SignOnce();
    lock.lock();
  }
  lock.unlock();
  SignOnce();  // the final head, so a shutdown leaves nothing unsigned
}

}  // namespace tsunagu::audit
