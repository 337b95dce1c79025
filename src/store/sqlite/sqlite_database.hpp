#pragma once
// SQLite backend of store::Database (the embedded default).
//
// One writer connection guarded by a mutex (write transactions are BEGIN
// IMMEDIATE on it) and a small pool of query_only reader connections used by
// read transactions and by autocommit statements that do not write. The
// database runs in WAL mode, so readers never wait for the writer.
// Statements are prepared once per connection (SQLITE_PREPARE_PERSISTENT) and
// cached by SQL text. ":memory:" databases have no readers (every statement
// uses the writer connection).
//
// A reader keeps its read transaction (its snapshot) between uses for up to
// kSnapshotMillis, as long as this process has committed nothing since it
// began: a point read then takes no WAL lock (two fcntl calls) and starts no
// transaction. A commit made by this process is therefore seen by every read
// that starts after it; one made by another process sharing the file within
// kSnapshotMillis. The checkpointer thread ends the snapshots of idle
// readers that are older than that or than the last commit (at least once a
// second), and the committing writer all of them when the WAL has grown to
// 8,192 pages, so that they do not hold back the WAL.
//
// Thread-safety: as store::Database. <sqlite3.h> stays in the .cpp.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"

namespace tsunagu::store {

class SqliteDatabase final : public Database {
 public:
  // Opens (creating if missing) the database file at `path`; the parent
  // directory must exist. A file created now gets `page_size` (0: SQLite's
  // default; the caller checks the value). The writer connection keeps up to
  // `writer_cache_kib` KiB of pages (0: kDefaultWriterCacheKib). Errors:
  // Internal with the SQLite message.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, int page_size = 0,
                                                int writer_cache_kib = 0);
  static constexpr int kDefaultWriterCacheKib = 65536;
  // How long a reader keeps its snapshot (see the file comment).
  static constexpr int kSnapshotMillis = 5;

  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  using Database::Execute;
  using Database::Query;
  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params) override;
  // Read-only statements in one read transaction on one reader connection.
  Result<std::vector<ResultSet>> QueryBatch(std::span<const Statement> statements) override;
  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override;
  Result<std::unique_ptr<Transaction>> Begin(Mode mode) override;
  Dialect dialect() const override { return Dialect::kSqlite; }

  // Connection internals, shared with the transaction class in the .cpp.
  struct Connection;
  class Lease;
  class SqliteTransaction;
  class Checkpointer;

 private:
  SqliteDatabase(std::string path, int page_size, int writer_cache_kib);
  Result<std::unique_ptr<Connection>> Connect(bool reader);
  // Acquires a reader (blocking while all are busy); the writer for :memory:.
  Result<Lease> AcquireReader();
  Result<Lease> AcquireWriter();
  void ReleaseReader(std::unique_ptr<Connection> connection);
  // Puts a reader inside a read transaction that has seen every commit of
  // this process and began less than kSnapshotMillis ago (a kept one if it
  // qualifies). Without kept snapshots (no checkpointer thread) it does
  // nothing: statements run in their own transactions.
  Status KeepSnapshot(Connection& reader);
  // Ends a reader's kept transaction (after an error, or when it is stale).
  static void EndSnapshot(Connection& reader);
  // Ends the snapshots of idle readers that will not be reused (older than
  // kSnapshotMillis or than the last commit; all of them while `committing`,
  // on the writer). Called by the checkpointer.
  void EndIdleSnapshots(bool committing);

  std::string path_;
  bool in_memory_ = false;
  int page_size_ = 0;  // for a new file; set before it enters WAL mode
  int writer_cache_kib_ = kDefaultWriterCacheKib;

  std::unique_ptr<Connection> writer_;
  std::mutex writer_mu_;
  // Write leases released so far: a snapshot older than the last one may
  // miss a commit of this process.
  std::atomic<uint64_t> writes_{0};
  bool keep_snapshots_ = false;
  // Declared after writer_: destroyed (thread stopped) before the writer
  // closes, whose hook points at it.
  std::unique_ptr<Checkpointer> checkpointer_;
  // The thread holding the writer (to report re-entrant use instead of
  // deadlocking); guarded by owner_mu_.
  std::mutex owner_mu_;
  std::thread::id writer_owner_;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  int open_readers_ = 0;
  static constexpr int kMaxReaders = 4;
};

}  // namespace tsunagu::store
