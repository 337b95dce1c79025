#include "store/sqlite/sqlite_database.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace tsunagu::store {
namespace {

constexpr int kBusyTimeoutMillis = 10'000;
// The writer connection: WAL, synchronous=NORMAL, foreign keys, and a page
// cache of 64 MiB by default (see Open) instead of SQLite's 2 MiB, so that
// large write transactions (group-committed imports) keep their dirty index
// pages in memory instead of spilling them to the WAL mid-transaction, and index pages stay cached
// between transactions. Checkpoints run on a background thread with a
// connection of its own (see Checkpointer), so that no request waits for the
// copy; the writer's own automatic checkpoint (every 8,192 WAL pages) is the
// fallback. Durability is unchanged: a
// committed transaction survives a crash of the process (WAL, synchronous=NORMAL).
constexpr const char* kWriterSetup =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
    "PRAGMA wal_autocheckpoint=8192; PRAGMA temp_store=MEMORY;";
// A reader connection: 16 MiB of page cache instead of SQLite's 2 MiB, so
// that the interior pages of the large tables' B-trees stay cached (1.28
// million clinical resources take about 8 MiB of them, and a point read
// with 2 MiB went to the file for two or three of its pages). At most
// kMaxReaders readers, and a cache only grows as pages are read. Temporary
// B-trees and statement journals stay in memory (temp_store), on the
// writer too: a large multi-row insert spilled its statement journal to a
// temporary file.
constexpr const char* kReaderSetup =
    "PRAGMA foreign_keys=ON; PRAGMA query_only=ON; PRAGMA cache_size=-16384; "
    "PRAGMA temp_store=MEMORY;";
// Statements are cached by SQL text; the set used by an application is
// finite, but dynamically built SQL (IN lists) must not grow it forever.
constexpr size_t kMaxCachedStatements = 1000;

std::string Message(sqlite3* db) { return db != nullptr ? sqlite3_errmsg(db) : "out of memory"; }

Status ErrorStatus(int code, const std::string& detail) {
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return core::Conflict("the record already exists", detail);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return core::Conflict("the record refers to a missing record or is still referenced", detail);
    default:
      break;
  }
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return core::Unavailable("the database is busy", detail);
  }
  return core::Internal("database error", detail);
}

// True if `rest` holds nothing but whitespace and SQL comments.
bool OnlyTrivia(const char* p, const char* end) {
  while (p < end) {
    if (std::isspace(static_cast<unsigned char>(*p))) {
      ++p;
    } else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
      while (p < end && *p != '\n') ++p;
    } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
      p += 2;
      while (end - p >= 2 && !(p[0] == '*' && p[1] == '/')) ++p;
      p = end - p >= 2 ? p + 2 : end;
    } else if (*p == ';') {
      ++p;
    } else {
      return false;
    }
  }
  return true;
}

// contains(haystack, needle): 1 if the text holds the needle, else 0; NULL
// if either is NULL. The same answer as `instr(h, n) > 0` on valid UTF-8
// (a UTF-8 sequence can only match at a character boundary), but through
// memmem instead of SQLite's character-by-character loop: free-word
// searches test it on every post they walk.
void ContainsFunction(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(context);
    return;
  }
  const auto* haystack = sqlite3_value_text(argv[0]);
  const int haystack_size = sqlite3_value_bytes(argv[0]);
  const auto* needle = sqlite3_value_text(argv[1]);
  const int needle_size = sqlite3_value_bytes(argv[1]);
  if (haystack == nullptr || needle == nullptr) {  // out of memory
    sqlite3_result_error_nomem(context);
    return;
  }
  const bool found = needle_size == 0 || memmem(haystack, haystack_size, needle, needle_size);
  sqlite3_result_int(context, found ? 1 : 0);
}

// The background checkpointer copies the WAL to the database every 1,024
// pages (8 MiB of 8 KiB pages); at 8,192 the committing writer completes it.
constexpr int kBackgroundCheckpointPages = 1024;
constexpr int kWriterCheckpointPages = 8192;

}  // namespace

// Runs passive WAL checkpoints off the request path: the writer's WAL hook
// wakes it when the log holds kBackgroundCheckpointPages; it also checkpoints
// once a second when there is anything to copy. A passive checkpoint never
// blocks writers or readers; what it cannot copy yet waits for the next one.
// After a complete checkpoint the next write starts the WAL over, so it stays
// small; should the thread fall behind, the committing writer checkpoints the
// rest itself at kWriterCheckpointPages (see OnCommit: it ends idle readers'
// snapshots and waits for a copy in progress first), which bounds the WAL.
class SqliteDatabase::Checkpointer {
 public:
  // `end_snapshots(committing)` ends the snapshots of idle readers that
  // would hold a checkpoint back: on the thread at every wake (at least
  // once a second), and on the writer (committing) before it copies.
  Checkpointer(sqlite3* db, std::function<void(bool)> end_snapshots)
      : db_(db), end_snapshots_(std::move(end_snapshots)), thread_([this] { Run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
    sqlite3_close_v2(db_);
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // sqlite3_wal_hook callback of the writer connection (after each commit).
  static int OnCommit(void* self, sqlite3* writer, const char*, int pages) {
    auto* c = static_cast<Checkpointer*>(self);
    if (pages >= kWriterCheckpointPages) {
      // Copies all of the WAL, so that the next transaction starts it over
      // and rewrites the same file pages: readers' kept snapshots (all
      // older than this commit) end first, and a copy the thread is making
      // is waited for instead of skipped. Otherwise a steady stream of
      // commits (an import) grew the WAL to hundreds of MiB, a new block
      // of the file for every page written and one more hash table for
      // every page looked up.
      c->end_snapshots_(true);
      std::lock_guard copying(c->copy_mu_);
      (void)sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      return SQLITE_OK;
    }
    c->pending_.store(true, std::memory_order_relaxed);
    // Wake the thread once per kBackgroundCheckpointPages of growth.
    const int step = pages / kBackgroundCheckpointPages;
    if (step > 0 && step != c->woken_step_.exchange(step, std::memory_order_relaxed)) {
      {
        std::lock_guard lock(c->mu_);
        c->wake_ = true;
      }
      c->cv_.notify_one();
    }
    return SQLITE_OK;
  }

 private:
  void Run() {
    // A connection sees the WAL only once it has read the database.
    (void)sqlite3_exec(db_, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || wake_; });
      if (stop_) break;
      wake_ = false;
      lock.unlock();
      end_snapshots_(false);
      lock.lock();
      if (!pending_.exchange(false, std::memory_order_relaxed)) continue;
      lock.unlock();
      int log_frames = 0, copied = 0;
      {
        std::lock_guard copying(copy_mu_);
        (void)sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                        &copied);
      }
      if (copied < log_frames) pending_.store(true, std::memory_order_relaxed);
      lock.lock();
    }
  }

  sqlite3* db_;
  std::function<void(bool)> end_snapshots_;
  std::mutex mu_;
  std::mutex copy_mu_;  // held while a checkpoint copies
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  std::atomic<bool> pending_{false};
  std::atomic<int> woken_step_{0};
  std::thread thread_;
};

struct SqliteDatabase::Connection {
  sqlite3* db = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements;
  // A kept read transaction (readers only): when it began and the owner's
  // write count read just before.
  bool snapshot = false;
  std::chrono::steady_clock::time_point snapshot_at;
  uint64_t snapshot_writes = 0;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    ClearCache();
    if (db != nullptr) sqlite3_close_v2(db);
  }

  void ClearCache() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    statements.clear();
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = statements.find(key); it != statements.end()) return it->second;
    if (statements.size() >= kMaxCachedStatements) ClearCache();
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return ErrorStatus(rc, Message(db));
    }
    if (stmt == nullptr) return core::Internal("database error", "empty SQL statement");
    if (!OnlyTrivia(tail, key.data() + key.size())) {
      sqlite3_finalize(stmt);
      return core::Internal("database error", "more than one SQL statement in one call");
    }
    statements.emplace(std::move(key), stmt);
    return stmt;
  }

  // Runs a prepared statement; fills `out` (if given) with its rows.
  Result<int64_t> Run(sqlite3_stmt* stmt, std::span<const Value> params, ResultSet* out) {
    // Always leave the cached statement reset and unbound, whatever happens.
    struct ResetGuard {
      sqlite3_stmt* s;
      ~ResetGuard() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } guard{stmt};

    const int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size())) {
      return core::Internal("database error", "statement expects " + std::to_string(expected) +
                                                  " parameters, got " +
                                                  std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // The values outlive the step loop, so SQLite need not copy them.
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else if (const auto* t = std::get_if<TextRef>(&v)) {
        rc = sqlite3_bind_text64(stmt, index, t->text->data(), t->text->size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Bytes>(&v)) {
        // data() is never null for std::string, so an empty value stays a
        // zero-length blob rather than NULL.
        rc = sqlite3_bind_blob64(stmt, index, b->data.data(), b->data.size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return ErrorStatus(rc, Message(db));
    }

    const int columns = sqlite3_column_count(stmt);
    if (out != nullptr) {
      out->columns.clear();
      out->rows.clear();
      for (int c = 0; c < columns; ++c) out->columns.emplace_back(sqlite3_column_name(stmt, c));
    }
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return ErrorStatus(rc, Message(db));
      if (out == nullptr) continue;
      std::vector<Value> values;
      values.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            values.emplace_back(std::string(text, sqlite3_column_bytes(stmt, c)));
            break;
          }
          case SQLITE_BLOB: {
            const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            const int size = sqlite3_column_bytes(stmt, c);
            values.emplace_back(Bytes{blob != nullptr ? std::string(blob, size) : std::string()});
            break;
          }
          default:
            values.emplace_back(std::monostate{});
            break;
        }
      }
      out->rows.emplace_back(std::move(values));
    }
    return static_cast<int64_t>(sqlite3_changes64(db));
  }

  Result<int64_t> RunSql(std::string_view sql, std::span<const Value> params, ResultSet* out) {
    TSUNAGU_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    return Run(stmt, params, out);
  }
};

// Exclusive use of one connection: a reader taken from the pool, or the
// writer with its mutex held. Releases on destruction.
class SqliteDatabase::Lease {
 public:
  Lease(SqliteDatabase* owner, std::unique_ptr<Connection> reader)
      : owner_(owner), reader_(std::move(reader)), connection_(reader_.get()) {}
  Lease(SqliteDatabase* owner, std::unique_lock<std::mutex> writer_lock)
      : owner_(owner), writer_lock_(std::move(writer_lock)), connection_(owner->writer_.get()) {}
  Lease(Lease&& other) noexcept
      : owner_(other.owner_),
        reader_(std::move(other.reader_)),
        writer_lock_(std::move(other.writer_lock_)),
        connection_(std::exchange(other.connection_, nullptr)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() { Release(); }

  Connection& connection() { return *connection_; }
  SqliteDatabase& owner() { return *owner_; }
  bool is_writer() const { return writer_lock_.owns_lock(); }

  void Release() {
    if (connection_ == nullptr) return;
    connection_ = nullptr;
    if (reader_) owner_->ReleaseReader(std::move(reader_));
    if (writer_lock_.owns_lock()) {
      // Whatever the writer committed is in the file now: snapshots taken
      // before it are not reused (KeepSnapshot).
      owner_->writes_.fetch_add(1, std::memory_order_acq_rel);
      {
        std::lock_guard lock(owner_->owner_mu_);
        owner_->writer_owner_ = std::thread::id();
      }
      writer_lock_.unlock();
    }
  }

 private:
  SqliteDatabase* owner_;
  std::unique_ptr<Connection> reader_;
  std::unique_lock<std::mutex> writer_lock_;
  Connection* connection_;
};

class SqliteDatabase::SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(Lease lease, bool write) : lease_(std::move(lease)), write_(write) {}
  ~SqliteTransaction() override {
    if (!finished_) {
      if (!write_ && !failed_ && kept_) return;  // the reader keeps its snapshot
      // Nothing useful can be done if ROLLBACK fails; SQLite rolls back
      // itself when the connection is next used or closed.
      (void)lease_.connection().RunSql("ROLLBACK", {}, nullptr);
      lease_.connection().snapshot = false;
    }
  }

  Status Start() {
    if (!write_) {
      // A read transaction is the reader's kept snapshot, when it keeps one.
      Connection& c = lease_.connection();
      Status kept = lease_.owner().KeepSnapshot(c);
      if (!kept.ok()) {
        finished_ = true;
        return kept;
      }
      kept_ = c.snapshot;
      if (kept_) return Status::Ok();
    }
    auto started = lease_.connection().RunSql(write_ ? "BEGIN IMMEDIATE" : "BEGIN", {}, nullptr);
    if (!started) {
      finished_ = true;  // nothing to roll back
      return started.error();
    }
    return Status::Ok();
  }

  using Transaction::Execute;
  using Transaction::Query;
  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params) override {
    ResultSet out;
    TSUNAGU_RETURN_IF_ERROR(Run(sql, params, &out).status());
    return out;
  }
  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override {
    return Run(sql, params, nullptr);
  }

  Status Commit() override {
    TSUNAGU_RETURN_IF_ERROR(Usable());
    if (kept_) {
      finished_ = true;  // nothing written: the reader keeps the snapshot
      lease_.Release();
      return Status::Ok();
    }
    auto committed = lease_.connection().RunSql("COMMIT", {}, nullptr);
    if (!committed) {
      failed_ = true;
      return committed.error();
    }
    finished_ = true;
    lease_.Release();  // let the next writer in without waiting for destruction
    return Status::Ok();
  }

 private:
  Status Usable() const {
    if (finished_) return core::Internal("database error", "transaction already finished");
    if (failed_) {
      return core::Internal("database error", "transaction aborted by an earlier error");
    }
    return Status::Ok();
  }

  Result<int64_t> Run(std::string_view sql, std::span<const Value> params, ResultSet* out) {
    TSUNAGU_RETURN_IF_ERROR(Usable());
    Connection& c = lease_.connection();
    auto stmt = c.Prepare(sql);
    if (!stmt) {
      failed_ = true;
      return stmt.error();
    }
    if (!write_ && !sqlite3_stmt_readonly(*stmt)) {
      failed_ = true;
      return core::Internal("database error", "write statement in a read-only transaction");
    }
    auto result = c.Run(*stmt, params, out);
    if (!result) failed_ = true;
    return result;
  }

  Lease lease_;
  bool write_;
  bool kept_ = false;  // a read in the reader's kept snapshot
  bool finished_ = false;
  bool failed_ = false;
};

SqliteDatabase::SqliteDatabase(std::string path, int page_size, int writer_cache_kib)
    : path_(std::move(path)),
      in_memory_(path_ == ":memory:"),
      page_size_(page_size),
      writer_cache_kib_(writer_cache_kib > 0 ? writer_cache_kib : kDefaultWriterCacheKib) {}

SqliteDatabase::~SqliteDatabase() {
  if (writer_ && checkpointer_) sqlite3_wal_hook(writer_->db, nullptr, nullptr);
  checkpointer_.reset();  // its thread ends idle snapshots: stopped before the readers go
}

Result<std::unique_ptr<Database>> SqliteDatabase::Open(const std::string& path, int page_size,
                                                       int writer_cache_kib) {
  // Before SQLite's first use in the process: no memory statistics. With
  // them, every allocation and free inside SQLite takes a process-wide
  // mutex (about 40 lock pairs for one point read, 5 % of a small request);
  // nothing here reads the statistics. Fails harmlessly if SQLite was
  // already initialised.
  static std::once_flag configured;
  std::call_once(configured, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, page_size, writer_cache_kib));
  TSUNAGU_ASSIGN_OR_RETURN(db->writer_, db->Connect(/*reader=*/false));
  if (!db->in_memory_) {
    sqlite3* own = nullptr;
    if (sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) ==
        SQLITE_OK) {
      SqliteDatabase* self = db.get();
      db->checkpointer_ = std::make_unique<Checkpointer>(
          own, [self](bool committing) { self->EndIdleSnapshots(committing); });
      // Kept snapshots need the thread that ends idle ones.
      db->keep_snapshots_ = true;
      // Replaces the automatic checkpoint on the committing thread.
      sqlite3_wal_hook(db->writer_->db, &Checkpointer::OnCommit, db->checkpointer_.get());
    } else {
      sqlite3_close_v2(own);  // the writer keeps checkpointing by itself
    }
  }
  return std::unique_ptr<Database>(std::move(db));
}

Result<std::unique_ptr<SqliteDatabase::Connection>> SqliteDatabase::Connect(bool reader) {
  auto connection = std::make_unique<Connection>();
  int rc =
      sqlite3_open_v2(path_.c_str(), &connection->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return core::Internal("cannot open the database", path_ + ": " + Message(connection->db));
  }
  sqlite3_extended_result_codes(connection->db, 1);
  sqlite3_busy_timeout(connection->db, kBusyTimeoutMillis);
  rc = sqlite3_create_function_v2(connection->db, "contains", 2,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                  &ContainsFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return core::Internal("cannot open the database", path_ + ": " + Message(connection->db));
  }
  std::string setup = reader ? kReaderSetup
                             : std::string(kWriterSetup) + " PRAGMA cache_size=-" +
                                   std::to_string(writer_cache_kib_) + ";";
  // Takes effect only on a file without pages yet (before WAL mode is set).
  if (!reader && page_size_ > 0) {
    setup = "PRAGMA page_size=" + std::to_string(page_size_) + "; " + setup;
  }
  char* error = nullptr;
  rc = sqlite3_exec(connection->db, setup.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string detail = path_ + ": " + (error != nullptr ? error : Message(connection->db));
    sqlite3_free(error);
    return core::Internal("cannot open the database", detail);
  }
  return connection;
}

Result<SqliteDatabase::Lease> SqliteDatabase::AcquireWriter() {
  {
    std::lock_guard lock(owner_mu_);
    if (writer_owner_ == std::this_thread::get_id()) {
      return core::Internal("database error",
                            "autocommit write or second write transaction while this thread "
                            "holds the write transaction");
    }
  }
  std::unique_lock writer_lock(writer_mu_);
  {
    std::lock_guard lock(owner_mu_);
    writer_owner_ = std::this_thread::get_id();
  }
  return Lease(this, std::move(writer_lock));
}

Result<SqliteDatabase::Lease> SqliteDatabase::AcquireReader() {
  if (in_memory_) return AcquireWriter();
  std::unique_lock lock(readers_mu_);
  readers_cv_.wait(lock, [&] { return !idle_readers_.empty() || open_readers_ < kMaxReaders; });
  if (!idle_readers_.empty()) {
    auto connection = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return Lease(this, std::move(connection));
  }
  ++open_readers_;
  lock.unlock();
  auto connection = Connect(/*reader=*/true);
  if (!connection) {
    lock.lock();
    --open_readers_;
    readers_cv_.notify_one();
    return connection.error();
  }
  return Lease(this, std::move(*connection));
}

void SqliteDatabase::ReleaseReader(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(readers_mu_);
    idle_readers_.push_back(std::move(connection));
  }
  readers_cv_.notify_one();
}

Result<ResultSet> SqliteDatabase::Query(std::string_view sql, std::span<const Value> params) {
  ResultSet out;
  {
    TSUNAGU_ASSIGN_OR_RETURN(Lease reader, AcquireReader());
    if (!reader.is_writer()) {
      Connection& c = reader.connection();
      // The snapshot first: a statement is prepared against its schema.
      TSUNAGU_RETURN_IF_ERROR(KeepSnapshot(c));
      TSUNAGU_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, c.Prepare(sql));
      if (sqlite3_stmt_readonly(stmt)) {
        auto ran = c.Run(stmt, params, &out);
        if (!ran) {
          EndSnapshot(c);
          return ran.error();
        }
        return out;
      }
    } else {
      TSUNAGU_RETURN_IF_ERROR(reader.connection().RunSql(sql, params, &out).status());
      return out;
    }
  }
  // A statement that writes (INSERT ... RETURNING) runs on the writer.
  TSUNAGU_ASSIGN_OR_RETURN(Lease writer, AcquireWriter());
  TSUNAGU_RETURN_IF_ERROR(writer.connection().RunSql(sql, params, &out).status());
  return out;
}

// Read-only statements run on one reader connection in one read
// transaction: one snapshot, and one WAL read lock instead of one per
// statement. A statement that writes sends the batch the default way.
Result<std::vector<ResultSet>> SqliteDatabase::QueryBatch(std::span<const Statement> statements) {
  if (statements.size() < 2) return Database::QueryBatch(statements);
  {
    TSUNAGU_ASSIGN_OR_RETURN(Lease reader, AcquireReader());
    if (!reader.is_writer()) {
      Connection& c = reader.connection();
      TSUNAGU_RETURN_IF_ERROR(KeepSnapshot(c));
      const bool kept = c.snapshot;
      if (!kept) TSUNAGU_RETURN_IF_ERROR(c.RunSql("BEGIN", {}, nullptr).status());
      std::vector<ResultSet> out(statements.size());
      Status status = Status::Ok();
      bool read_only = true;
      for (size_t i = 0; i < statements.size() && status.ok() && read_only; ++i) {
        auto stmt = c.Prepare(statements[i].sql);
        if (!stmt) {
          status = stmt.error();
        } else if (!sqlite3_stmt_readonly(*stmt)) {
          read_only = false;
        } else {
          status = c.Run(*stmt, statements[i].params, &out[i]).status();
        }
      }
      // A read transaction: nothing to keep, only the snapshot to release
      // (or to keep for the next reads).
      if (!kept) {
        if (!c.RunSql("COMMIT", {}, nullptr)) (void)c.RunSql("ROLLBACK", {}, nullptr);
      } else if (!status.ok()) {
        EndSnapshot(c);
      }
      if (!status.ok()) return status;
      if (read_only) return out;
    }
  }
  return Database::QueryBatch(statements);
}

Status SqliteDatabase::KeepSnapshot(Connection& reader) {
  if (!keep_snapshots_) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  const uint64_t writes = writes_.load(std::memory_order_acquire);
  if (reader.snapshot) {
    if (reader.snapshot_writes == writes &&
        now - reader.snapshot_at < std::chrono::milliseconds(kSnapshotMillis) &&
        sqlite3_get_autocommit(reader.db) == 0) {
      return Status::Ok();
    }
    EndSnapshot(reader);
  }
  // The write count is read before the transaction takes its snapshot (at
  // its first statement): a commit in between only makes it end sooner.
  TSUNAGU_RETURN_IF_ERROR(reader.RunSql("BEGIN", {}, nullptr).status());
  reader.snapshot = true;
  reader.snapshot_at = now;
  reader.snapshot_writes = writes;
  return Status::Ok();
}

void SqliteDatabase::EndSnapshot(Connection& reader) {
  if (!reader.snapshot) return;
  reader.snapshot = false;
  if (sqlite3_get_autocommit(reader.db) != 0) return;  // SQLite ended it already
  if (!reader.RunSql("COMMIT", {}, nullptr)) (void)reader.RunSql("ROLLBACK", {}, nullptr);
}

void SqliteDatabase::EndIdleSnapshots(bool committing) {
  // A snapshot from before the last commit is not reused (KeepSnapshot),
  // so ending it now costs nothing and lets a checkpoint copy past it.
  const auto stale = std::chrono::steady_clock::now() - std::chrono::milliseconds(kSnapshotMillis);
  const uint64_t writes = writes_.load(std::memory_order_acquire);
  std::lock_guard lock(readers_mu_);
  for (auto& reader : idle_readers_) {
    if (reader->snapshot &&
        (committing || reader->snapshot_writes != writes || reader->snapshot_at < stale)) {
      EndSnapshot(*reader);
    }
  }
}

Result<int64_t> SqliteDatabase::Execute(std::string_view sql, std::span<const Value> params) {
  TSUNAGU_ASSIGN_OR_RETURN(Lease writer, AcquireWriter());
  return writer.connection().RunSql(sql, params, nullptr);
}

Result<std::unique_ptr<Transaction>> SqliteDatabase::Begin(Mode mode) {
  const bool write = mode == Mode::kWrite;
  auto lease = write ? AcquireWriter() : AcquireReader();
  if (!lease) return lease.error();
  auto transaction = std::make_unique<SqliteTransaction>(std::move(*lease), write);
  TSUNAGU_RETURN_IF_ERROR(transaction->Start());
  return std::unique_ptr<Transaction>(std::move(transaction));
}

}  // namespace tsunagu::store
