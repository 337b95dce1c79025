#include "care/care_notifier.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "auth/account_service.hpp"
#include "core/log.hpp"
#include "http/json_writer.hpp"
#include "http/websocket_hub.hpp"
#include "mail/mailer.hpp"

namespace tsunagu::care {
namespace {

using store::Value;

constexpr int kBatchRows = 200;      // rows sent per pass
constexpr int64_t kMinWaitMs = 200;  // worker back-off when something is due but failing
constexpr int64_t kMaxWaitMs = 60'000;

std::string_view KindName(CareEvent::Kind kind) {
  switch (kind) {
    case CareEvent::Kind::kPost:
      return "post";
    case CareEvent::Kind::kComment:
      return "comment";
    case CareEvent::Kind::kMessage:
      return "message";
    case CareEvent::Kind::kRead:
      return "read";
  }
  return "post";
}

// Header-safe group name: control characters (a CR/LF would break the
// subject line) become spaces.
std::string Printable(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string GroupLink(const std::string& public_url, int64_t group_id) {
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/care/groups/" + std::to_string(group_id);
}

constexpr char kFooter[] =
    "\n内容はつなぐにログインしてご確認ください。\n"
    "※ このメールには投稿やメッセージの内容を記載していません。\n"
    "※ "
    "通知メールの受け取り方（すぐに・まとめて・受け取らない）は、つなぐの通知設定で変更できます。\n"
    "※ このメールは送信専用です。返信はできません。\n";

mail::Mail ImmediateMail(const std::string& to, const std::string& public_url, int64_t group_id,
                         const std::string& group_name, std::string_view kind) {
  std::string name = Printable(group_name);
  std::string what = kind == "message" ? "新しいメッセージ" : "新しい投稿";
  mail::Mail m;
  m.to = to;
  m.subject = "【つなぐ】" + name + "に" + what + "があります";
  m.body = "ケアグループ「" + name + "」に" + what + "があります。\n\n" +
           GroupLink(public_url, group_id) + "\n" + kFooter;
  return m;
}

struct DigestLine {
  int64_t group_id = 0;
  std::string group_name;
  int64_t posts = 0, comments = 0, messages = 0;
};

mail::Mail DigestMail(const std::string& to, const std::string& public_url,
                      const std::vector<DigestLine>& lines) {
  mail::Mail m;
  m.to = to;
  std::string first = Printable(lines.front().group_name);
  m.subject = lines.size() == 1 ? "【つなぐ】" + first + "の新着のお知らせ"
                                : "【つなぐ】" + first + "ほか" + std::to_string(lines.size() - 1) +
                                      "グループの新着のお知らせ";
  m.body = "参加しているケアグループに新着があります。\n";
  for (const DigestLine& l : lines) {
    std::vector<std::string> parts;
    if (l.posts) parts.push_back("新しい投稿 " + std::to_string(l.posts) + "件");
    if (l.comments) parts.push_back("コメント " + std::to_string(l.comments) + "件");
    if (l.messages) parts.push_back("メッセージ " + std::to_string(l.messages) + "件");
    std::string counts;
    for (size_t i = 0; i < parts.size(); ++i) counts += (i ? "、" : "") + parts[i];
    m.body += "\n■ " + Printable(l.group_name) + "\n  " + counts + "\n  " +
              GroupLink(public_url, l.group_id) + "\n";
  }
  m.body += kFooter;
  return m;
}

// Who may still be mailed: an enabled account with an address whose setting
// (now) is not off.
struct Addressee {
  std::string email;
  EmailMode mode = EmailMode::kOff;
};

}  // namespace

struct CareNotifier::Row {
  int64_t user_id = 0;
  int64_t group_id = 0;
  std::string group_name;
  std::string kind;
  EmailMode mode = EmailMode::kImmediate;
  int64_t created_at = 0;
  int64_t due_at = 0;
};

CareNotifier::CareNotifier(store::Database& db, const core::Clock& clock,
                           auth::AccountService& accounts, NotificationSettings& settings,
                           http::WebSocketHub& hub, mail::Mailer* mailer, NotifierOptions options)
    : db_(db),
      clock_(clock),
      accounts_(accounts),
      settings_(settings),
      hub_(hub),
      mailer_(mailer),
      options_(std::move(options)) {}

CareNotifier::~CareNotifier() { Stop(); }

store::MigrationSet CareNotifier::Migrations() {
  return {"care_notify", {R"sql(
CREATE TABLE care_notify_settings (
  user_id BIGINT PRIMARY KEY,
  email_mode TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE care_notify_outbox (
  id {{ID}},
  user_id BIGINT NOT NULL,
  group_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  mode TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX care_notify_outbox_due ON care_notify_outbox (mode, due_at);
CREATE INDEX care_notify_outbox_user ON care_notify_outbox (user_id, mode, id)
)sql"}};
}

std::string CareNotifier::LiveFrame(const CareEvent& e, int64_t at_millis) {
  http::JsonWriter w(256);
  w.BeginObject();
  w.Key("type").String(std::string("care.") + std::string(KindName(e.kind)));
  w.Key("group_id").Int(e.group.id);
  w.Key("group_name").String(e.group.name);
  if (e.kind == CareEvent::Kind::kMessage) {
    w.Key("conversation_id").Int(e.conversation_id);
    w.Key("message_id").Int(e.message_id);
  } else {
    w.Key("post_id").Int(e.post_id);
    if (e.kind == CareEvent::Kind::kComment) w.Key("comment_id").Int(e.comment_id);
  }
  w.Key("actor_name").String(e.actor_name);
  w.Key("at").String(core::FormatIsoUtc(at_millis));
  w.EndObject();
  return w.Take();
}

void CareNotifier::OnCareEvent(const CareEvent& event) {
  try {
    const int64_t now = clock_.NowMillis();
    if (!event.recipients.empty()) {
      std::string frame = LiveFrame(event, now);
      for (int64_t uid : event.recipients) hub_.Publish(uid, frame);
    }
    if (!mailer_ || event.recipients.empty() || event.kind == CareEvent::Kind::kRead) return;
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= options_.max_queue) {
        core::LogWarn("care.notify.queue_full", {{"group_id", std::to_string(event.group.id)}});
        return;
      }
      queue_.push_back({event, now});
    }
    wake_.notify_one();
  } catch (const std::exception& e) {
    // The post is committed; a notification failure must not fail the request.
    core::LogError("care.notify.failed", {{"error", e.what()}});
  }
}

void CareNotifier::Start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable() || !mailer_) return;
  stopping_ = false;
  worker_ = std::thread([this] { Loop(); });
}

void CareNotifier::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!worker_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
  // Keep what is still queued for the next start; no network on the way out.
  if (auto s = Record(TakeQueue()); !s.ok()) {
    core::LogError("care.notify.record_failed", {{"error", s.ToString()}});
  }
}

size_t CareNotifier::QueuedEvents() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::vector<CareNotifier::Pending> CareNotifier::TakeQueue() {
  std::lock_guard lock(mu_);
  std::vector<Pending> events(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.end()));
  queue_.clear();
  return events;
}

void CareNotifier::Loop() {
  for (;;) {
    int64_t next = 0;
    try {
      RunOnce();
      next = NextDue();
    } catch (const std::exception& e) {
      core::LogError("care.notify.worker_failed", {{"error", e.what()}});
      next = clock_.NowMillis() + kMinWaitMs;
    }
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (!queue_.empty()) continue;
    int64_t wait =
        next ? std::clamp(next - clock_.NowMillis(), kMinWaitMs, kMaxWaitMs) : kMaxWaitMs;
    wake_.wait_for(lock, std::chrono::milliseconds(wait),
                   [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
  }
}

void CareNotifier::RunOnce() {
  if (!mailer_) return;
  if (auto s = Record(TakeQueue()); !s.ok()) {
    core::LogError("care.notify.record_failed", {{"error", s.ToString()}});
  }
  int64_t now = clock_.NowMillis();
  SendImmediate(now);
  SendDigests(now);
}

// Resolves each recipient's setting (one query per event for the stored
// choices; each account read once per batch for the occupation default and
// the address) and writes one outbox row per recipient to be mailed, all
// events of the batch in one transaction (one commit on the writer).
core::Status CareNotifier::Record(const std::vector<Pending>& batch) {
  std::vector<Row> rows;
  std::map<int64_t, std::optional<auth::User>> users;
  for (const Pending& p : batch) {
    TSUNAGU_RETURN_IF_ERROR(Resolve(p.event, p.at, users, rows));
  }
  if (rows.empty()) return core::Status::Ok();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  for (const Row& r : rows) {
    TSUNAGU_RETURN_IF_ERROR(
        tx->Execute("INSERT INTO care_notify_outbox (user_id, group_id, group_name, kind, mode, "
                    "created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    {Value{r.user_id}, Value{r.group_id}, Value{r.group_name}, Value{r.kind},
                     Value{std::string(ToString(r.mode))}, Value{r.created_at}, Value{r.due_at}}));
  }
  return tx->Commit();
}

core::Status CareNotifier::Resolve(const CareEvent& e, int64_t at,
                                   std::map<int64_t, std::optional<auth::User>>& users,
                                   std::vector<Row>& rows) {
  TSUNAGU_ASSIGN_OR_RETURN(auto chosen, settings_.Chosen(e.recipients));
  for (int64_t uid : e.recipients) {
    auto it = chosen.find(uid);
    if (it != chosen.end() && it->second == EmailMode::kOff) continue;
    auto cached = users.find(uid);
    if (cached == users.end()) {
      auto loaded = accounts_.Get(uid);
      cached = users.emplace(uid, loaded ? std::optional<auth::User>(*loaded) : std::nullopt).first;
    }
    const std::optional<auth::User>& user = cached->second;
    if (!user || user->disabled || user->email.empty()) continue;
    EmailMode mode =
        it != chosen.end() ? it->second : NotificationSettings::DefaultFor(user->occupation);
    if (mode == EmailMode::kOff) continue;
    // Comments are told live and counted in digests, but mailed one by one
    // they would flood the team's inboxes.
    if (mode == EmailMode::kImmediate && e.kind == CareEvent::Kind::kComment) continue;
    Row r;
    r.user_id = uid;
    r.group_id = e.group.id;
    r.group_name = e.group.name;
    r.kind = std::string(KindName(e.kind));
    r.mode = mode;
    r.created_at = at;
    r.due_at = mode == EmailMode::kImmediate ? at : at + options_.digest_interval_ms;
    rows.push_back(std::move(r));
  }
  return core::Status::Ok();
}

namespace {

// The user's address and current setting; nullopt when nothing may be sent.
std::optional<Addressee> AddresseeOf(auth::AccountService& accounts, NotificationSettings& settings,
                                     int64_t user_id) {
  auto user = accounts.Get(user_id);
  if (!user || user->disabled || user->email.empty()) return std::nullopt;
  auto mode = settings.Get(user_id, user->occupation);
  if (!mode || *mode == EmailMode::kOff) return std::nullopt;
  return Addressee{user->email, *mode};
}

}  // namespace

void CareNotifier::SendImmediate(int64_t now) {
  // Rows of users who left the group have no member row any more.
  auto due = db_.Query(
      "SELECT o.id, o.user_id, o.group_id, o.group_name, o.kind, o.attempts, "
      "CASE WHEN m.user_id IS NULL THEN 0 ELSE 1 END FROM care_notify_outbox o "
      "LEFT JOIN care_members m ON m.group_id = o.group_id AND m.user_id = o.user_id "
      "WHERE o.mode = 'immediate' AND o.due_at <= ? ORDER BY o.id LIMIT " +
          std::to_string(kBatchRows),
      {Value{now}});
  if (!due) {
    core::LogError("care.notify.query_failed", {{"error", due.error().ToString()}});
    return;
  }
  for (const auto& r : due->rows) {
    if (stopping_) return;  // the rest stays in the outbox for the next start
    int64_t id = r.Int(0), uid = r.Int(1);
    std::optional<Addressee> to;
    if (r.Int(6)) to = AddresseeOf(accounts_, settings_, uid);
    core::Status sent = core::Status::Ok();
    if (to)
      sent = mailer_->Send(
          ImmediateMail(to->email, options_.public_url, r.Int(2), r.Text(3), r.Text(4)));
    if (sent.ok()) {
      (void)db_.Execute("DELETE FROM care_notify_outbox WHERE id = ?", {Value{id}});
    } else {
      Failed("id = ?", {Value{id}}, static_cast<int>(r.Int(5)) + 1, now, sent);
    }
  }
}

void CareNotifier::SendDigests(int64_t now) {
  auto due = db_.Query(
      "SELECT user_id, MAX(id) FROM care_notify_outbox WHERE mode = 'digest' "
      "GROUP BY user_id HAVING MIN(due_at) <= ? ORDER BY user_id LIMIT " +
          std::to_string(kBatchRows),
      {Value{now}});
  if (!due) {
    core::LogError("care.notify.query_failed", {{"error", due.error().ToString()}});
    return;
  }
  for (const auto& u : due->rows) {
    if (stopping_) return;
    int64_t uid = u.Int(0), max_id = u.Int(1);
    const std::vector<Value> mine{Value{uid}, Value{max_id}};
    const std::string where = "user_id = ? AND mode = 'digest' AND id <= ?";
    std::optional<Addressee> to = AddresseeOf(accounts_, settings_, uid);
    auto counts = db_.Query(
        "SELECT o.group_id, MAX(o.group_name), o.kind, COUNT(*), MAX(o.attempts) "
        "FROM care_notify_outbox o JOIN care_members m "
        "ON m.group_id = o.group_id AND m.user_id = o.user_id "
        "WHERE o.user_id = ? AND o.mode = 'digest' AND o.id <= ? "
        "GROUP BY o.group_id, o.kind ORDER BY o.group_id",
        mine);
    if (!counts) {
      core::LogError("care.notify.query_failed", {{"error", counts.error().ToString()}});
      continue;
    }
    std::vector<DigestLine> lines;
    int attempts = 0;
    for (const auto& r : counts->rows) {
      if (lines.empty() || lines.back().group_id != r.Int(0)) {
        lines.push_back({r.Int(0), r.Text(1)});
      }
      std::string kind = r.Text(2);
      int64_t n = r.Int(3);
      if (kind == "post") lines.back().posts += n;
      if (kind == "comment") lines.back().comments += n;
      if (kind == "message") lines.back().messages += n;
      attempts = std::max(attempts, static_cast<int>(r.Int(4)));
    }
    core::Status sent = core::Status::Ok();
    if (to && !lines.empty())
      sent = mailer_->Send(DigestMail(to->email, options_.public_url, lines));
    if (sent.ok()) {
      (void)db_.Execute("DELETE FROM care_notify_outbox WHERE " + where, mine);
    } else {
      Failed(where, mine, attempts + 1, now, sent);
    }
  }
}

// Schedules another try with a doubling delay, or gives up after
// max_attempts (the log names ids only).
void CareNotifier::Failed(const std::string& where_sql, const std::vector<Value>& params,
                          int attempts, int64_t now, const core::Status& error) {
  if (attempts >= options_.max_attempts) {
    core::LogWarn("care.notify.mail_dropped",
                  {{"attempts", std::to_string(attempts)}, {"error", error.ToString()}});
    (void)db_.Execute("DELETE FROM care_notify_outbox WHERE " + where_sql, params);
    return;
  }
  int64_t delay = options_.retry_delay_ms << std::min(attempts - 1, 20);
  core::LogWarn("care.notify.mail_retry", {{"attempts", std::to_string(attempts)},
                                           {"retry_in_ms", std::to_string(delay)},
                                           {"error", error.ToString()}});
  std::vector<Value> p{Value{int64_t{attempts}}, Value{now + delay}};
  p.insert(p.end(), params.begin(), params.end());
  (void)db_.Execute("UPDATE care_notify_outbox SET attempts = ?, due_at = ? WHERE " + where_sql, p);
}

int64_t CareNotifier::NextDue() const {
  auto rs = db_.Query("SELECT MIN(due_at) FROM care_notify_outbox");
  if (!rs || rs->empty() || rs->rows[0].IsNull(0)) return 0;
  return rs->rows[0].Int(0);
}

}  // namespace tsunagu::care
