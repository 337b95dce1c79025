#pragma once
// PostgreSQL backend of store::Database (libpq).
//
// A pool of connections that grows on demand up to kMaxConnections; when all
// are in use, callers wait (Unavailable after kAcquireTimeout). '?'
// placeholders are rewritten to $1..$n; every statement is prepared once per
// connection and cached by SQL text. Parameters travel in text format, Bytes
// in binary; results come back in text format and are converted by column
// type: integer types -> int64, float/numeric -> double, bool -> 0/1, bytea ->
// Bytes, NULL -> monostate, everything else -> std::string. A connection found
// broken is reset (PQreset) before it is reused, or dropped.
//
// Thread-safety: as store::Database. <libpq-fe.h> stays in the .cpp.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace tsunagu::store {

class PostgresDatabase final : public Database {
 public:
  static constexpr int kMaxConnections = 16;
  static constexpr std::chrono::seconds kAcquireTimeout{30};

  // Connects once to validate `url` (a libpq URI). Errors: Unavailable with
  // the libpq message in the detail.
  static Result<std::unique_ptr<Database>> Open(const std::string& url);

  ~PostgresDatabase() override;
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  using Database::Execute;
  using Database::Query;
  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params) override;
  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override;
  // Pipeline mode: one round trip for the whole batch.
  Result<std::vector<ResultSet>> QueryBatch(std::span<const Statement> statements) override;
  Result<std::unique_ptr<Transaction>> Begin(Mode mode) override;
  Dialect dialect() const override { return Dialect::kPostgres; }

  // Connection internals, shared with the transaction class in the .cpp.
  struct Connection;
  class Lease;
  class PostgresTransaction;

 private:
  explicit PostgresDatabase(std::string url);
  Result<std::unique_ptr<Connection>> Connect();
  Result<Lease> Acquire();
  void Release(std::unique_ptr<Connection> connection);

  std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

}  // namespace tsunagu::store
