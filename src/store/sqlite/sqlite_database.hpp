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
// Thread-safety: as store::Database. <sqlite3.h> stays in the .cpp.
#include <condition_variable>
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

  std::string path_;
  bool in_memory_ = false;
  int page_size_ = 0;  // for a new file; set before it enters WAL mode
  int writer_cache_kib_ = kDefaultWriterCacheKib;

  std::unique_ptr<Connection> writer_;
  std::mutex writer_mu_;
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
