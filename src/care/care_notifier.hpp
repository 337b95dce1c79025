#pragma once
// Live and e-mail notifications of care-group activity (docs/care.md,
// "Notifications").
//
// Live: OnCareEvent publishes one JSON text frame to the open WebSocket
// connections of every recipient, on the caller's thread (ids and names
// only, never content):
//   {"type": "care.post"|"care.comment"|"care.message", "group_id",
//    "group_name", "post_id"?, "comment_id"?, "conversation_id"?,
//    "message_id"?, "actor_name", "at"}
// Publishing is O(recipients) and touches no database.
//
// E-mail: OnCareEvent only queues the event (bounded, in memory). A worker
// thread (Start/Stop) resolves each recipient's setting and address and
// writes one row per recipient into the care_notify_outbox table; then it
// sends what is due: "immediate" rows at once (new posts and messages; no
// mail for comments), "digest" rows as one summary mail per user once the
// user's oldest pending row is a digest interval old (posts, comments and
// messages counted per group). Mails name the group and link to
// <public_url>/care/groups/<id>; they carry no post text, title, value,
// comment or actor. Rows survive a restart; a failed send is retried with a
// doubling delay up to max_attempts times, then dropped (logged without
// content). Rows of users who left the group, turned mail off, have no
// address or are disabled are dropped unsent.
//
// Without a mailer (no SMTP server configured) only live frames are sent.
//
// Ownership: borrows every reference; they must outlive the notifier.
// Thread-safety: OnCareEvent may be called from any thread; Start/Stop from
// one controlling thread. RunOnce must not run concurrently with the worker.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/types.hpp"
#include "care/notification_settings.hpp"
#include "care/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::auth {
class AccountService;
}
namespace tsunagu::http {
class WebSocketHub;
}
namespace tsunagu::mail {
class Mailer;
}

namespace tsunagu::care {

struct NotifierOptions {
  std::string public_url = "http://localhost:8080";  // links in mails
  int64_t digest_interval_ms = int64_t{60} * 60 * 1000;
  int max_attempts = 4;             // the first try included
  int64_t retry_delay_ms = 30'000;  // doubled after every failure
  size_t max_queue = 10'000;        // events waiting for the worker; more are dropped
};

class CareNotifier final : public CareListener {
 public:
  CareNotifier(store::Database& db, const core::Clock& clock, auth::AccountService& accounts,
               NotificationSettings& settings, http::WebSocketHub& hub, mail::Mailer* mailer,
               NotifierOptions options);
  ~CareNotifier() override;
  CareNotifier(const CareNotifier&) = delete;
  CareNotifier& operator=(const CareNotifier&) = delete;

  // Tables care_notify_settings and care_notify_outbox (set "care_notify",
  // after the care set).
  static store::MigrationSet Migrations();

  // Publishes the live frame and queues the event for e-mail. Never blocks
  // on the database or the network; never throws.
  void OnCareEvent(const CareEvent& event) override;

  // Starts the worker thread (idempotent).
  void Start();
  // Stops the worker; events still queued are written to the outbox (not
  // sent) so that the next start mails them.
  void Stop();
  // One pass of the worker on the caller's thread: records queued events,
  // then sends the due immediate mails and digests. For tests and Stop.
  void RunOnce();

  // The live frame of an event (exposed for tests).
  static std::string LiveFrame(const CareEvent& event, int64_t at_millis);
  // Events waiting for the worker.
  size_t QueuedEvents() const;

 private:
  struct Row;
  struct Pending {
    CareEvent event;
    int64_t at = 0;  // when it happened (ms UTC): digests count from here
  };
  void Loop();
  std::vector<Pending> TakeQueue();
  core::Status Record(const std::vector<Pending>& batch);
  core::Status Resolve(const CareEvent& event, int64_t at,
                       std::map<int64_t, std::optional<auth::User>>& users, std::vector<Row>& rows);
  void SendImmediate(int64_t now);
  void SendDigests(int64_t now);
  void Failed(const std::string& where_sql, const std::vector<store::Value>& params, int attempts,
              int64_t now, const core::Status& error);
  int64_t NextDue() const;

  store::Database& db_;
  const core::Clock& clock_;
  auth::AccountService& accounts_;
  NotificationSettings& settings_;
  http::WebSocketHub& hub_;
  mail::Mailer* mailer_;  // null: live notifications only
  NotifierOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::atomic<bool> stopping_ = false;  // written under mu_; read while sending, too
  std::thread worker_;
};

}  // namespace tsunagu::care
