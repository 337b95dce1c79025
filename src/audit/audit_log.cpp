#include "audit/audit_log.hpp"

#include <openssl/evp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

#include "audit/audit_signer.hpp"
#include "core/log.hpp"
#include "core/response_fence.hpp"
#include "core/text.hpp"

namespace tsunagu::audit {

using store::Value;

namespace {

constexpr int kMaxBatch = 256;  // entries per group commit
// The writer thread's linger under load (see RunWriter): at most kLinger, or
// until kLingerBatch entries wait, when the previous commit ended less than
// kBusyWindow ago.
constexpr auto kLinger = std::chrono::microseconds(400);
constexpr size_t kLingerBatch = 32;
constexpr auto kBusyWindow = std::chrono::milliseconds(2);
constexpr int64_t kVerifyBatch = 1000;  // rows per read while verifying
constexpr int kConflictRetries = 8;     // another process appended concurrently
constexpr size_t kRowsPerInsert = 64;   // entries per INSERT statement
constexpr size_t kEventColumnCount = 14;
// PostgreSQL advisory lock key of the audit appenders ("tsunagu audit").
constexpr int64_t kAppendLockKey = 0x7473756e61677541;

// The lookup's tables (see the header). audit_lookup_state holds one row:
// the last entry copied (0: none) and its hash, which tells whether the
// lookup still belongs to this chain.
constexpr const char* kLookupDdl =
    "CREATE TABLE audit_lookup (\n"
    "  seq BIGINT PRIMARY KEY,\n"
    "  time BIGINT NOT NULL,\n"
    "  user_id BIGINT NOT NULL,\n"
    "  facility_id BIGINT NOT NULL,\n"
    "  patient_id TEXT NOT NULL,\n"
    "  action TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX audit_lookup_time ON audit_lookup (time);\n"
    "CREATE INDEX audit_lookup_user ON audit_lookup (user_id, seq);\n"
    "CREATE INDEX audit_lookup_patient ON audit_lookup (patient_id, seq);\n"
    "CREATE INDEX audit_lookup_facility ON audit_lookup (facility_id, seq);\n"
    "CREATE TABLE audit_lookup_state (\n"
    "  id BIGINT PRIMARY KEY,\n"
    "  indexed_upto BIGINT NOT NULL,\n"
    "  indexed_hash TEXT NOT NULL\n"
    ");\n"
    "INSERT INTO audit_lookup_state (id, indexed_upto, indexed_hash) VALUES (1, 0, '')";
constexpr int kLookupInsertRows = 128;  // rows per multi-row INSERT
// Wake the indexer after this many appends (it also runs every second).
constexpr int64_t kLookupWake = AuditLog::kLookupBatch / 2;
// The indexer thread's nice value: the request threads come first.
constexpr int kLookupIndexerNice = 5;

constexpr const char* kEventColumns =
    "seq, time, user_id, user_name, facility_id, occupation, action, patient_id, object, "
    "outcome, client_address, reason, prev_hash, hash";

AuditEvent EventFromRow(const store::Row& row) {
  AuditEvent e;
  e.seq = row.Int(0);
  e.time = row.Int(1);
  e.user_id = row.Int(2);
  e.user_name = row.Text(3);
  e.facility_id = row.Int(4);
  e.occupation = row.Text(5);
  e.action = row.Text(6);
  e.patient_id = row.Text(7);
  e.object = row.Text(8);
  e.outcome = row.Text(9);
  e.client_address = row.Text(10);
  e.reason = row.Text(11);
  e.prev_hash = row.Text(12);
  e.hash = row.Text(13);
  return e;
}

void AppendField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

std::string Sha256Hex(std::string_view a, std::string_view b) {
  // Every audited request hashes one entry: the digest is fetched from the
  // provider once and each thread keeps its context (OpenSSL 3 would look
  // the implementation up again at every EVP_sha256() initialisation).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Context context;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = context.ctx;
  bool ok = sha256 != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx, sha256, nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, digest.data(), &size) == 1;
  if (!ok) throw std::runtime_error("SHA-256 unavailable");  // broken OpenSSL: truly exceptional
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(size) * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string HeadMessage(int64_t seq, std::string_view hash) {
  return std::to_string(seq) + "|" + std::string(hash);
}

size_t Utf8Length(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

VerifyReport Bad(int64_t checked, int64_t seq, std::string problem) {
  VerifyReport r;
  r.ok = false;
  r.checked = checked;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

// Walks entries with seq > after_seq in order, checking that seqs are
// contiguous, that each prev_hash links to the previous hash and that each
// hash matches the entry. `on_entry` sees every good entry (seq, hash).
template <typename OnEntry>
VerifyReport WalkChain(store::Database& db, int64_t after_seq, std::string prev_hash,
                       OnEntry on_entry) {
  VerifyReport report;
  int64_t expected = after_seq + 1;
  const std::string sql = std::string("SELECT ") + kEventColumns +
                          " FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?";
  while (true) {
    auto rows = db.Query(sql, {Value{expected - 1}, Value{kVerifyBatch}});
    if (!rows) {
      core::LogError("audit.verify_storage", {{"detail", rows.error().detail()}});
      VerifyReport r = Bad(report.checked, expected, "storage error while reading the audit log");
      r.first_bad_seq.reset();
      return r;
    }
    for (const auto& row : rows->rows) {
      AuditEvent e = EventFromRow(row);
      if (e.seq != expected) {
        return Bad(report.checked, expected,
                   "entry " + std::to_string(expected) + " is missing (the next entry is " +
                       std::to_string(e.seq) + "): entries were deleted");
      }
      if (e.prev_hash != prev_hash) {
        return Bad(report.checked, e.seq,
                   "entry " + std::to_string(e.seq) +
                       " does not link to the previous entry (prev_hash differs)");
      }
      if (AuditLog::ComputeHash(e.prev_hash, e) != e.hash) {
        return Bad(report.checked, e.seq,
                   "entry " + std::to_string(e.seq) +
                       " was modified (its content does not match its hash)");
      }
      ++report.checked;
      on_entry(e.seq, e.hash);
      prev_hash = e.hash;
      ++expected;
    }
    if (static_cast<int64_t>(rows->size()) < kVerifyBatch) break;
  }
  return report;
}

}  // namespace

core::Result<int64_t> MoveAuditTrail(store::Database& from, store::Database& to) {
  auto max_seq = [](store::Database& db) -> core::Result<int64_t> {
    TSUNAGU_ASSIGN_OR_RETURN(auto rs, db.Query("SELECT COALESCE(MAX(seq), 0) FROM audit_events"));
    return rs.rows[0].Int(0);
  };
  TSUNAGU_ASSIGN_OR_RETURN(int64_t from_max, max_seq(from));
  if (from_max == 0) return int64_t{0};
  TSUNAGU_ASSIGN_OR_RETURN(int64_t to_max, max_seq(to));
  int64_t moved = 0;
  if (to_max == 0) {
    const std::string insert = std::string("INSERT INTO audit_events (") + kEventColumns +
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const std::string select = std::string("SELECT ") + kEventColumns +
                               " FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?";
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, to.Begin(store::Database::Mode::kWrite));
    int64_t after = 0;
    while (true) {
      TSUNAGU_ASSIGN_OR_RETURN(auto rows, from.Query(select, {Value{after}, Value{kVerifyBatch}}));
      for (const auto& row : rows.rows) {
        std::vector<Value> values;
        for (size_t i = 0; i < row.size(); ++i) values.push_back(row.at(i));
        TSUNAGU_RETURN_IF_ERROR(tx->Execute(insert, values).status());
        after = row.Int(0);
        ++moved;
      }
      if (static_cast<int64_t>(rows.size()) < kVerifyBatch) break;
    }
    TSUNAGU_ASSIGN_OR_RETURN(
        auto heads,
        from.Query("SELECT id, seq, hash, signed_at, signature FROM audit_heads ORDER BY id"));
    for (const auto& row : heads.rows) {
      TSUNAGU_RETURN_IF_ERROR(
          tx->Execute("INSERT INTO audit_heads (id, seq, hash, signed_at, signature) "
                      "VALUES (?, ?, ?, ?, ?)",
                      {row.at(0), row.at(1), row.at(2), row.at(3), row.at(4)})
              .status());
    }
    TSUNAGU_RETURN_IF_ERROR(tx->Commit());
    to_max = from_max;
  }
  // Empty `from` only when its last entry is in `to`, identical (so the
  // whole chain before it is too).
  const std::string hash_at = "SELECT hash FROM audit_events WHERE seq = ?";
  TSUNAGU_ASSIGN_OR_RETURN(auto from_last, from.Query(hash_at, {Value{from_max}}));
  TSUNAGU_ASSIGN_OR_RETURN(auto to_same, to.Query(hash_at, {Value{from_max}}));
  if (to_same.empty() || to_same.rows[0].Text(0) != from_last.rows[0].Text(0)) {
    return core::Internal(
        "two audit logs",
        "the main database holds audit entries up to " + std::to_string(from_max) +
            " that the audit database does not have (it ends at " + std::to_string(to_max) + ")");
  }
  // Every entry of `from` is in `to` now: empty the old tables.
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, from.Begin(store::Database::Mode::kWrite));
  TSUNAGU_RETURN_IF_ERROR(tx->Execute("DELETE FROM audit_heads").status());
  TSUNAGU_RETURN_IF_ERROR(tx->Execute("DELETE FROM audit_events").status());
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  return moved;
}

struct AuditLog::PendingAppend {
  AuditEvent event;
  core::Status status;
  bool done = false;
  // Set when the request's response waits instead of the caller (owned by
  // the queue then, and deleted once released).
  std::shared_ptr<core::ResponseFence> fence;
};

AuditLog::AuditLog(store::Database& db, const core::Clock& clock, AuditSigner& signer,
                   store::Database* lookup)
    : db_(db), lookup_(lookup != nullptr ? *lookup : db), clock_(clock), signer_(signer) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(indexer_mu_);
    indexer_stopping_ = true;
  }
  indexer_cv_.notify_all();
  if (indexer_.joinable()) indexer_.join();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // drains the queue first
}

store::MigrationSet AuditLog::Migrations() {
  return {"audit",
          {
              // seq is assigned by Append (contiguous from 1), not by the database:
              // a gap must mean a deletion.
              "CREATE TABLE audit_events (\n"
              "  seq BIGINT PRIMARY KEY,\n"
              "  time BIGINT NOT NULL,\n"
              "  user_id BIGINT NOT NULL,\n"
              "  user_name TEXT NOT NULL,\n"
              "  facility_id BIGINT NOT NULL,\n"
              "  occupation TEXT NOT NULL,\n"
              "  action TEXT NOT NULL,\n"
              "  patient_id TEXT NOT NULL,\n"
              "  object TEXT NOT NULL,\n"
              "  outcome TEXT NOT NULL,\n"
              "  client_address TEXT NOT NULL,\n"
              "  reason TEXT NOT NULL,\n"
              "  prev_hash TEXT NOT NULL,\n"
              "  hash TEXT NOT NULL\n"
              ");\n"
              "CREATE INDEX audit_events_time ON audit_events (time);\n"
              "CREATE INDEX audit_events_user ON audit_events (user_id, seq);\n"
              "CREATE INDEX audit_events_patient ON audit_events (patient_id, seq);\n"
              "CREATE INDEX audit_events_facility ON audit_events (facility_id, seq);\n"
              "CREATE INDEX audit_events_action ON audit_events (action, seq);\n"
              "CREATE TABLE audit_heads (\n"
              "  id {{ID}},\n"
              "  seq BIGINT NOT NULL,\n"
              "  hash TEXT NOT NULL,\n"
              "  signed_at BIGINT NOT NULL,\n"
              "  signature TEXT NOT NULL\n"
              ");\n"
              "CREATE INDEX audit_heads_seq ON audit_heads (seq, id);",
              // The entries' search indexes move to the lookup (see the header).
              std::string("DROP INDEX IF EXISTS audit_events_time;\n"
                          "DROP INDEX IF EXISTS audit_events_user;\n"
                          "DROP INDEX IF EXISTS audit_events_patient;\n"
                          "DROP INDEX IF EXISTS audit_events_facility;\n"
                          "DROP INDEX IF EXISTS audit_events_action;\n") +
                  kLookupDdl,
          }};
}

store::MigrationSet AuditLog::LookupMigrations() { return {"audit_lookup", {kLookupDdl}}; }

std::string AuditLog::ComputeHash(std::string_view prev_hash, const AuditEvent& e) {
  std::string canonical = "tsunagu.audit.v1\n";
  canonical.reserve(256);
  AppendField(canonical, std::to_string(e.seq));
  AppendField(canonical, std::to_string(e.time));
  AppendField(canonical, std::to_string(e.user_id));
  AppendField(canonical, e.user_name);
  AppendField(canonical, std::to_string(e.facility_id));
  AppendField(canonical, e.occupation);
  AppendField(canonical, e.action);
  AppendField(canonical, e.patient_id);
  AppendField(canonical, e.object);
  AppendField(canonical, e.outcome);
  AppendField(canonical, e.client_address);
  AppendField(canonical, e.reason);
  return Sha256Hex(prev_hash, canonical);
}

core::Result<AuditEvent> AuditLog::Append(AuditEvent event) {
  if (event.action.empty()) return core::InvalidInput("audit event without an action");
  for (const std::string* field :
       {&event.user_name, &event.occupation, &event.action, &event.patient_id, &event.object,
        &event.outcome, &event.client_address, &event.reason}) {
    if (!core::IsValidUtf8(*field)) return core::InvalidInput("audit event text is not UTF-8");
  }
  if (auto fence = core::CurrentResponseFence()) {
    // The response waits for the entry, not this thread: the writer thread
    // stores it with whatever else is queued and then releases the fence.
    fence->Hold();
    AuditEvent accepted = event;
    auto* pending = new PendingAppend{std::move(event), {}, false, std::move(fence)};
    bool wake = true;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(pending);
      if (!writer_.joinable()) writer_ = std::thread([this] { RunWriter(); });
      // A lingering writer wakes by itself, or once a full batch waits.
      wake = !lingering_ || queue_.size() >= kLingerBatch;
    }
    if (wake) writer_cv_.notify_one();
    return accepted;
  }
  PendingAppend self{std::move(event), {}, false, nullptr};
  std::unique_lock lock(mu_);
  queue_.push_back(&self);
  while (!self.done) {
    if (writing_) {
      cv_.wait(lock);
      continue;
    }
    // Become the writer for everything queued so far (self included).
    WriteQueued(lock);
  }
  lock.unlock();
  if (!self.status.ok()) return self.status;
  return std::move(self.event);
}

void AuditLog::WriteQueued(std::unique_lock<std::mutex>& lock) {
  writing_ = true;
  std::vector<PendingAppend*> batch;
  while (!queue_.empty() && static_cast<int>(batch.size()) < kMaxBatch) {
    batch.push_back(queue_.front());
    queue_.pop_front();
  }
  lock.unlock();
  core::Status status = WriteBatch(batch);
  lock.lock();
  std::vector<PendingAppend*> fenced;
  for (PendingAppend* p : batch) {
    if (p->fence) {
      fenced.push_back(p);
    } else {
      p->status = status;
      p->done = true;
    }
  }
  writing_ = false;
  cv_.notify_all();
  if (!queue_.empty()) writer_cv_.notify_one();
  if (status.ok()) {
    bool wake = false;
    {
      std::lock_guard indexer_lock(indexer_mu_);
      appended_since_index_ += static_cast<int64_t>(batch.size());
      wake = indexer_.joinable() && appended_since_index_ >= kLookupWake;
    }
    if (wake) indexer_cv_.notify_one();
  }
  if (fenced.empty()) return;
  lock.unlock();
  for (PendingAppend* p : fenced) {
    p->fence->Release(status);
    delete p;
  }
  lock.lock();
}

void AuditLog::RunWriter() {
  pthread_setname_np(pthread_self(), "audit-writer");
  std::unique_lock lock(mu_);
  while (true) {
    writer_cv_.wait(lock, [&] { return stopping_ || (!queue_.empty() && !writing_); });
    if (queue_.empty() || writing_) {
      if (stopping_ && queue_.empty() && !writing_) return;
      if (stopping_) cv_.wait(lock);  // let the current writer finish
      continue;
    }
    // Under load (the previous commit ended moments ago) the writer waits
    // a little for more entries: one commit then stores a batch instead of
    // one or two entries, each commit's fixed cost (locks, WAL frames) paid
    // once. An idle server writes at once.
    const auto now = std::chrono::steady_clock::now();
    if (!stopping_ && queue_.size() < kLingerBatch && now - last_commit_ < kBusyWindow) {
      lingering_ = true;
      writer_cv_.wait_until(lock, now + kLinger,
                            [&] { return stopping_ || queue_.size() >= kLingerBatch; });
      lingering_ = false;
      if (writing_ || queue_.empty()) continue;  // a caller wrote them meanwhile
    }
    WriteQueued(lock);
    last_commit_ = std::chrono::steady_clock::now();
  }
}

namespace {

// INSERTs of chained rows (kEventColumns values, row after row), at most
// kRowsPerInsert rows each.
std::vector<store::Statement> InsertStatements(std::span<const Value> params) {
  std::vector<store::Statement> out;
  const size_t rows = params.size() / kEventColumnCount;
  for (size_t first = 0; first < rows; first += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, rows - first);
    auto part = params.subspan(first * kEventColumnCount, n * kEventColumnCount);
    out.push_back({std::string("INSERT INTO audit_events (") + kEventColumns + ") VALUES " +
                       store::RowPlaceholders(n, kEventColumnCount),
                   std::vector<Value>(part.begin(), part.end())});
  }
  return out;
}

}  // namespace

// Chains the batch after (*seq, *prev), which end at its last entry, and
// returns its rows as kEventColumns values.
std::vector<Value> AuditLog::ChainBatch(const std::vector<PendingAppend*>& batch, int64_t* seq,
                                        std::string* prev) const {
  const int64_t now = clock_.NowMillis();
  std::vector<Value> params;
  params.reserve(batch.size() * kEventColumnCount);
  for (PendingAppend* p : batch) {
    AuditEvent& e = p->event;
    e.seq = ++*seq;
    e.time = now;
    e.prev_hash = *prev;
    e.hash = ComputeHash(*prev, e);
    params.emplace_back(e.seq);
    params.emplace_back(e.time);
    params.emplace_back(e.user_id);
    params.emplace_back(e.user_name);
    params.emplace_back(e.facility_id);
    params.emplace_back(e.occupation);
    params.emplace_back(e.action);
    params.emplace_back(e.patient_id);
    params.emplace_back(e.object);
    params.emplace_back(e.outcome);
    params.emplace_back(e.client_address);
    params.emplace_back(e.reason);
    params.emplace_back(e.prev_hash);
    params.emplace_back(e.hash);
    *prev = e.hash;
  }
  return params;
}

// Appends the batch after the head this writer last wrote, without reading
// it again: one round trip on PostgreSQL. If another process appended
// meanwhile (the server and an import sharing the database), the insert
// collides on seq; then, and for the first batch, the head is read inside a
// transaction holding the appenders' lock, so that nobody appends in between.
core::Status AuditLog::WriteBatch(const std::vector<PendingAppend*>& batch) {
  if (head_known_) {
    int64_t seq = head_seq_;
    std::string prev = head_hash_;
    std::vector<Value> params = ChainBatch(batch, &seq, &prev);
    core::Status status = InsertAfterKnownHead(params);
    if (status.ok()) {
      head_seq_ = seq;
      head_hash_ = std::move(prev);
      return status;
    }
    head_known_ = false;
    if (status.code() != core::Code::kConflict) {
      core::LogError("audit.append_failed", {{"detail", status.detail()}});
      return core::Internal("could not write the audit log", status.detail());
    }
  }
  core::Status last_error;
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto tx = db_.Begin(store::Database::Mode::kWrite);
    if (!tx) return core::Internal("could not write the audit log", tx.error().detail());
    core::Status status;
    if (db_.dialect() == store::Dialect::kPostgres) {
      // SQLite's BEGIN IMMEDIATE already serialises the appenders.
      status = (*tx)->Query("SELECT pg_advisory_xact_lock(?)", {Value{kAppendLockKey}}).status();
    }
    auto head = status.ok()
                    ? (*tx)->Query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                    : core::Result<store::ResultSet>(status);
    if (!head) return core::Internal("could not write the audit log", head.error().detail());
    int64_t seq = head->empty() ? 0 : head->rows[0].Int(0);
    std::string prev = head->empty() ? std::string(kGenesisHash) : head->rows[0].Text(1);
    for (const auto& insert : InsertStatements(ChainBatch(batch, &seq, &prev))) {
      if (status.ok()) status = (*tx)->Execute(insert.sql, insert.params).status();
    }
    if (status.ok()) status = (*tx)->Commit();
    if (status.ok()) {
      head_known_ = true;
      head_seq_ = seq;
      head_hash_ = std::move(prev);
      return status;
    }
    last_error = status;
    if (status.code() != core::Code::kConflict) break;
  }
  core::LogError("audit.append_failed", {{"detail", last_error.detail()}});
  return core::Internal("could not write the audit log", last_error.detail());
}

// Inserts chained rows (kEventColumns values, row after row) atomically.
core::Status AuditLog::InsertAfterKnownHead(std::span<const Value> params) {
  std::vector<store::Statement> inserts = InsertStatements(params);
  if (db_.dialect() == store::Dialect::kPostgres) {
    // A batch is one implicit transaction on PostgreSQL, holding the
    // appenders' lock until it ends.
    inserts.insert(inserts.begin(),
                   store::Statement{"SELECT pg_advisory_xact_lock(?)", {Value{kAppendLockKey}}});
    return db_.QueryBatch(inserts).status();
  }
  if (inserts.size() == 1) return db_.Execute(inserts[0].sql, inserts[0].params).status();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin(store::Database::Mode::kWrite));
  for (const auto& insert : inserts) {
    TSUNAGU_RETURN_IF_ERROR(tx->Execute(insert.sql, insert.params).status());
  }
  return tx->Commit();
}

namespace {

// The query's conditions on the columns audit_events and audit_lookup share,
// each preceded by " AND ".
struct Filter {
  std::string sql;
  std::vector<Value> params;
};

Filter BuildFilter(const AuditQuery& query) {
  Filter f;
  auto add = [&](const char* condition, Value value) {
    f.sql += " AND ";
    f.sql += condition;
    f.params.push_back(std::move(value));
  };
  if (query.user_id) add("user_id = ?", Value{*query.user_id});
  if (query.facility_id) add("facility_id = ?", Value{*query.facility_id});
  if (query.patient_id) add("patient_id = ?", Value{*query.patient_id});
  if (query.action && !query.action->empty()) {
    // Case-sensitive prefix match on both backends (LIKE is not).
    f.sql += " AND substr(action, 1, CAST(? AS INTEGER)) = ?";
    f.params.emplace_back(static_cast<int64_t>(Utf8Length(*query.action)));
    f.params.emplace_back(*query.action);
  }
  if (query.from) add("time >= ?", Value{*query.from});
  if (query.to) add("time <= ?", Value{*query.to});
  return f;
}

// params with `first` in front and `rest` behind.
std::vector<Value> Params(Value first, const std::vector<Value>& middle,
                          std::initializer_list<Value> rest = {}) {
  std::vector<Value> out;
  out.reserve(1 + middle.size() + rest.size());
  out.push_back(std::move(first));
  out.insert(out.end(), middle.begin(), middle.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

core::Status ReadError(const core::Status& status) {
  return core::Internal("could not read the audit log", status.detail());
}

}  // namespace

core::Result<AuditPage> AuditLog::Find(const AuditQuery& query) const {
  if (query.limit < 1 || query.limit > kMaxLimit) {
    return core::InvalidInput("limit must be between 1 and " + std::to_string(kMaxLimit));
  }
  if (query.offset < 0) return core::InvalidInput("offset must not be negative");
  const Filter f = BuildFilter(query);
  // Entries up to `upto` are searched in the lookup, the newer ones (a few
  // seconds' worth) in audit_events directly; the newer come first.
  auto state = lookup_.Query("SELECT indexed_upto FROM audit_lookup_state WHERE id = 1");
  if (!state) return ReadError(state.error());
  const int64_t upto = state->empty() ? 0 : state->rows[0].Int(0);

  auto tail_count = db_.Query("SELECT COUNT(*) FROM audit_events WHERE seq > ?" + f.sql,
                              Params(Value{upto}, f.params));
  if (!tail_count) return ReadError(tail_count.error());
  auto indexed_count = lookup_.Query("SELECT COUNT(*) FROM audit_lookup WHERE seq <= ?" + f.sql,
                                     Params(Value{upto}, f.params));
  if (!indexed_count) return ReadError(indexed_count.error());
  const int64_t tail_total = tail_count->rows[0].Int(0);
  const int64_t indexed_total = indexed_count->rows[0].Int(0);
  AuditPage page;
  page.total = tail_total + indexed_total;

  const std::string select = std::string("SELECT ") + kEventColumns + " FROM audit_events WHERE ";
  int64_t offset = query.offset;
  if (offset < tail_total) {
    auto rows = db_.Query(
        select + "seq > ?" + f.sql + " ORDER BY seq DESC LIMIT ? OFFSET ?",
        Params(Value{upto}, f.params, {Value{static_cast<int64_t>(query.limit)}, Value{offset}}));
    if (!rows) return ReadError(rows.error());
    for (const auto& row : rows->rows) page.items.push_back(EventFromRow(row));
  }
  offset = std::max<int64_t>(0, offset - tail_total);
  const int64_t wanted = query.limit - static_cast<int64_t>(page.items.size());
  if (wanted > 0 && offset < indexed_total) {
    auto seqs = lookup_.Query("SELECT seq FROM audit_lookup WHERE seq <= ?" + f.sql +
                                  " ORDER BY seq DESC LIMIT ? OFFSET ?",
                              Params(Value{upto}, f.params, {Value{wanted}, Value{offset}}));
    if (!seqs) return ReadError(seqs.error());
    if (!seqs->empty()) {
      std::string in;
      std::vector<Value> params;
      for (const auto& row : seqs->rows) {
        in += in.empty() ? "?" : ", ?";
        params.emplace_back(row.Int(0));
      }
      auto rows = db_.Query(select + "seq IN (" + in + ") ORDER BY seq DESC", params);
      if (!rows) return ReadError(rows.error());
      // An entry deleted from the chain since it was copied is left out
      // (Verify reports the deletion).
      for (const auto& row : rows->rows) page.items.push_back(EventFromRow(row));
    }
  }
  return page;
}

core::Result<int64_t> AuditLog::IndexBatch() {
  auto state =
      lookup_.Query("SELECT indexed_upto, indexed_hash FROM audit_lookup_state WHERE id = 1");
  if (!state) return state.error();
  if (state->empty()) return core::Internal("the audit lookup has no state row");
  int64_t upto = state->rows[0].Int(0);
  if (upto > 0) {
    // Does the lookup still belong to this chain?
    auto at = db_.Query("SELECT hash FROM audit_events WHERE seq = ?", {Value{upto}});
    if (!at) return at.error();
    if (at->empty() || at->rows[0].Text(0) != state->rows[0].Text(1)) {
      core::LogWarn("audit.lookup_rebuilt", {{"indexed_upto", std::to_string(upto)}});
      TSUNAGU_ASSIGN_OR_RETURN(auto tx, lookup_.Begin(store::Database::Mode::kWrite));
      TSUNAGU_RETURN_IF_ERROR(tx->Execute("DELETE FROM audit_lookup").status());
      TSUNAGU_RETURN_IF_ERROR(
          tx->Execute("UPDATE audit_lookup_state SET indexed_upto = 0, indexed_hash = '' "
                      "WHERE id = 1")
              .status());
      TSUNAGU_RETURN_IF_ERROR(tx->Commit());
      upto = 0;
    }
  }
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT seq, time, user_id, facility_id, patient_id, action, hash "
                           "FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                           {Value{upto}, Value{int64_t{kLookupBatch}}}));
  if (rows.empty()) return int64_t{0};

  TSUNAGU_ASSIGN_OR_RETURN(auto tx, lookup_.Begin(store::Database::Mode::kWrite));
  // Another process sharing the database may have copied them meanwhile
  // (PostgreSQL: the row lock serialises the copiers; SQLite: the write
  // transaction already does).
  TSUNAGU_ASSIGN_OR_RETURN(
      auto again,
      tx->Query(lookup_.dialect() == store::Dialect::kPostgres
                    ? "SELECT indexed_upto FROM audit_lookup_state WHERE id = 1 FOR UPDATE"
                    : "SELECT indexed_upto FROM audit_lookup_state WHERE id = 1"));
  if (again.empty() || again.rows[0].Int(0) != upto) return int64_t{0};
  const size_t n = rows.size();
  for (size_t first = 0; first < n; first += kLookupInsertRows) {
    const size_t count = std::min<size_t>(kLookupInsertRows, n - first);
    const std::string sql =
        "INSERT INTO audit_lookup (seq, time, user_id, facility_id, patient_id, action) VALUES " +
        store::RowPlaceholders(count, 6);
    std::vector<Value> params;
    params.reserve(count * 6);
    for (size_t i = first; i < first + count; ++i) {
      for (size_t c = 0; c < 6; ++c) params.push_back(rows.rows[i].at(c));
    }
    TSUNAGU_RETURN_IF_ERROR(tx->Execute(sql, params).status());
  }
  const store::Row& last = rows.rows[n - 1];
  TSUNAGU_RETURN_IF_ERROR(
      tx->Execute("UPDATE audit_lookup_state SET indexed_upto = ?, indexed_hash = ? WHERE id = 1",
                  {Value{last.Int(0)}, Value{last.Text(6)}})
          .status());
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  return static_cast<int64_t>(n);
}

core::Result<int64_t> AuditLog::IndexPending() {
  std::lock_guard guard(index_mu_);
  int64_t copied = 0;
  while (true) {
    auto batch = IndexBatch();
    if (!batch) {
      core::LogError("audit.lookup_failed", {{"detail", batch.error().detail()}});
      return core::Internal("could not fill the audit lookup", batch.error().detail());
    }
    copied += *batch;
    if (*batch < kLookupBatch) return copied;
    std::lock_guard lock(indexer_mu_);
    if (indexer_stopping_) return copied;
  }
}

void AuditLog::StartLookupIndexer() {
  std::lock_guard lock(indexer_mu_);
  if (indexer_.joinable() || indexer_stopping_) return;
  indexer_ = std::thread([this] { RunLookupIndexer(); });
}

void AuditLog::RunLookupIndexer() {
  pthread_setname_np(pthread_self(), "audit-lookup");  // as top -H shows it
  // Linux nice values are per thread.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kLookupIndexerNice);
  std::unique_lock lock(indexer_mu_);
  while (!indexer_stopping_) {
    appended_since_index_ = 0;
    lock.unlock();
    (void)IndexPending();  // failures are logged; the next round retries
    lock.lock();
    indexer_cv_.wait_for(lock, std::chrono::seconds(1),
                         [&] { return indexer_stopping_ || appended_since_index_ >= kLookupWake; });
  }
}

std::vector<AuditEvent> AuditLog::Search(const AuditQuery& query, int64_t* total) const {
  AuditQuery q = query;
  q.limit = std::clamp(q.limit, 1, kMaxLimit);
  q.offset = std::max(q.offset, 0);
  auto page = Find(q);
  if (!page) {
    core::LogError("audit.search_failed", {{"detail", page.error().detail()}});
    if (total != nullptr) *total = 0;
    return {};
  }
  if (total != nullptr) *total = page->total;
  return std::move(page->items);
}

core::Result<std::optional<SignedHead>> AuditLog::LatestSignedHead() const {
  auto rows = db_.Query(
      "SELECT seq, hash, signed_at, signature FROM audit_heads ORDER BY seq DESC, id DESC LIMIT 1");
  if (!rows) return core::Internal("could not read the audit log", rows.error().detail());
  if (rows->empty()) return std::optional<SignedHead>();
  const auto& r = rows->rows[0];
  return std::optional<SignedHead>(SignedHead{r.Int(0), r.Text(1), r.Int(2), r.Text(3)});
}

core::Result<std::optional<SignedHead>> AuditLog::LatestHeadWithValidSignature() const {
  constexpr int64_t kPage = 100;
  for (int64_t offset = 0;; offset += kPage) {
    auto rows = db_.Query(
        "SELECT seq, hash, signed_at, signature FROM audit_heads ORDER BY seq DESC, id DESC "
        "LIMIT ? OFFSET ?",
        {Value{kPage}, Value{offset}});
    if (!rows) return core::Internal("could not read the audit log", rows.error().detail());
    for (const auto& r : rows->rows) {
      SignedHead head{r.Int(0), r.Text(1), r.Int(2), r.Text(3)};
      if (signer_.Verify(HeadMessage(head.seq, head.hash), head.signature)) {
        return std::optional<SignedHead>(std::move(head));
      }
    }
    if (static_cast<int64_t>(rows->size()) < kPage) return std::optional<SignedHead>();
  }
}

core::Status AuditLog::SignHead() {
  std::lock_guard guard(sign_mu_);
  auto head = db_.Query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
  if (!head) return core::Internal("could not sign the audit log", head.error().detail());
  if (head->empty()) return core::Status::Ok();
  const int64_t seq = head->rows[0].Int(0);
  const std::string hash = head->rows[0].Text(1);

  TSUNAGU_ASSIGN_OR_RETURN(std::optional<SignedHead> previous, LatestSignedHead());
  if (previous && previous->seq == seq && previous->hash == hash &&
      signer_.Verify(HeadMessage(seq, hash), previous->signature)) {
    return core::Status::Ok();  // already signed
  }
  // Start from the newest head that carries our valid signature: a head row
  // with a bad signature proves nothing about the entries before it.
  TSUNAGU_ASSIGN_OR_RETURN(std::optional<SignedHead> trusted, LatestHeadWithValidSignature());
  if (previous && (!trusted || trusted->seq != previous->seq || trusted->hash != previous->hash)) {
    // Expected once after the key was replaced; otherwise a forged head.
    core::LogWarn("audit.head_signature_invalid", {{"seq", std::to_string(previous->seq)}});
  }
  int64_t after_seq = 0;
  std::string prev_hash(kGenesisHash);
  if (trusted) {
    auto at = db_.Query("SELECT " + std::string(kEventColumns) + " FROM audit_events WHERE seq = ?",
                        {Value{trusted->seq}});
    if (!at) return core::Internal("could not sign the audit log", at.error().detail());
    if (at->empty() || at->rows[0].Text(13) != trusted->hash ||
        ComputeHash(at->rows[0].Text(12), EventFromRow(at->rows[0])) != trusted->hash) {
      core::LogError("audit.head_not_signed",
                     {{"seq", std::to_string(trusted->seq)},
                      {"detail", "the entry of the last signed head is missing or altered"}});
      return core::Internal("the audit chain is broken; head not signed");
    }
    after_seq = trusted->seq;
    prev_hash = trusted->hash;
  }
  // Check only what is new since the last signature, up to the head read above.
  std::string walked_hash = prev_hash;
  int64_t walked_seq = after_seq;
  VerifyReport report = WalkChain(db_, after_seq, prev_hash, [&](int64_t s, const std::string& h) {
    if (s <= seq) {
      walked_seq = s;
      walked_hash = h;
    }
  });
  if (!report.ok || walked_seq < seq || walked_hash != hash) {
    core::LogError("audit.head_not_signed",
                   {{"seq", std::to_string(report.first_bad_seq.value_or(seq))},
                    {"detail", report.ok ? "head moved while signing" : report.problem}});
    return core::Internal("the audit chain is broken; head not signed");
  }
  const int64_t now = clock_.NowMillis();
  const std::string signature = signer_.Sign(HeadMessage(seq, hash));
  auto inserted =
      db_.Execute("INSERT INTO audit_heads (seq, hash, signed_at, signature) VALUES (?, ?, ?, ?)",
                  {Value{seq}, Value{hash}, Value{now}, Value{signature}});
  if (!inserted) return core::Internal("could not sign the audit log", inserted.error().detail());
  // Logged so that a copy of every signed head exists outside the database.
  core::LogInfo("audit.head_signed", {{"seq", std::to_string(seq)}, {"hash", hash}});
  return core::Status::Ok();
}

VerifyReport AuditLog::Verify() const {
  auto head = LatestSignedHead();
  if (!head) {
    VerifyReport r;
    r.ok = false;
    r.problem = "storage error while reading the signed heads";
    core::LogError("audit.verify_storage", {{"detail", head.error().detail()}});
    return r;
  }
  std::optional<std::string> hash_at_head;
  int64_t last_seq = 0;
  VerifyReport report =
      WalkChain(db_, 0, std::string(kGenesisHash), [&](int64_t seq, const std::string& hash) {
        last_seq = seq;
        if (*head && seq == (*head)->seq) hash_at_head = hash;
      });
  if (!report.ok || !*head) return report;

  const SignedHead& signed_head = **head;
  if (!signer_.Verify(HeadMessage(signed_head.seq, signed_head.hash), signed_head.signature)) {
    return Bad(report.checked, signed_head.seq,
               "the signature of the head signed at entry " + std::to_string(signed_head.seq) +
                   " does not verify (forged head or different key)");
  }
  if (signed_head.seq > last_seq) {
    return Bad(report.checked, last_seq + 1,
               "truncated: entry " + std::to_string(signed_head.seq) + " was signed at " +
                   core::FormatIsoUtc(signed_head.signed_at) + " but the log ends at entry " +
                   std::to_string(last_seq));
  }
  if (!hash_at_head || *hash_at_head != signed_head.hash) {
    return Bad(report.checked, signed_head.seq,
               "entry " + std::to_string(signed_head.seq) +
                   " differs from the signed head: the chain was rewritten");
  }
  return report;
}

}  // namespace tsunagu::audit
