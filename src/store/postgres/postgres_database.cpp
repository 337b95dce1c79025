#include "store/postgres/postgres_database.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "core/log.hpp"
#include "store/postgres/placeholders.hpp"

namespace tsunagu::store {
namespace {

// Type OIDs from pg_type.dat (stable across server versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;
// Sent ahead of a batch (see RunBatch); local to its transaction.
constexpr const char* kGenericPlans =
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";

constexpr size_t kMaxCachedStatements = 1000;

// Frees a PGresult when it goes out of scope.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string Field(const PGresult* r, int code) {
  const char* v = r != nullptr ? PQresultErrorField(r, code) : nullptr;
  return v != nullptr ? v : "";
}

std::string TrimmedConnectionMessage(const PGconn* conn) {
  std::string m = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// Maps a failed result to a Status. Only the primary message goes into the
// detail: the DETAIL field of constraint errors repeats the offending values.
Status ErrorStatus(PGconn* conn, const PGresult* r) {
  if (PQstatus(conn) == CONNECTION_BAD) {
    return core::Unavailable("the database connection was lost", TrimmedConnectionMessage(conn));
  }
  const std::string state = Field(r, PG_DIAG_SQLSTATE);
  std::string primary = Field(r, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) primary = TrimmedConnectionMessage(conn);
  const std::string detail = state.empty() ? primary : state + ": " + primary;
  if (state == "23505") return core::Conflict("the record already exists", detail);
  if (state == "23503") {
    return core::Conflict("the record refers to a missing record or is still referenced", detail);
  }
  return core::Internal("database error", detail);
}

// Server notices ("relation already exists, skipping") go to the debug log
// instead of libpq's default of printing to stderr.
void OnNotice(void* /*arg*/, const PGresult* r) {
  core::LogDebug("postgres_notice", {{"message", Field(r, PG_DIAG_MESSAGE_PRIMARY)}});
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea in text output: "\x" followed by hex (bytea_output=hex, set on connect).
std::string DecodeBytea(const char* v, int len) {
  std::string out;
  if (len < 2 || v[0] != '\\' || v[1] != 'x') return std::string(v, len);
  out.reserve((len - 2) / 2);
  for (int i = 2; i + 1 < len; i += 2) {
    int hi = HexDigit(v[i]);
    int lo = HexDigit(v[i + 1]);
    if (hi < 0 || lo < 0) break;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

Value ConvertField(const PGresult* r, int row, int col, Oid type) {
  if (PQgetisnull(r, row, col)) return std::monostate{};
  const char* v = PQgetvalue(r, row, col);
  const int len = PQgetlength(r, row, col);
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t n = 0;
      std::from_chars(v, v + len, n);
      return n;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return std::strtod(v, nullptr);
    case kBoolOid:
      return int64_t{v[0] == 't' ? 1 : 0};
    case kByteaOid:
      return Bytes{DecodeBytea(v, len)};
    default:
      return std::string(v, len);
  }
}

// Parameter type used when the server cannot infer one from context.
Oid FallbackType(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return kInt8Oid;
  if (std::holds_alternative<double>(v)) return kFloat8Oid;
  if (std::holds_alternative<Bytes>(v)) return kByteaOid;
  return kTextOid;
}

}  // namespace

struct PostgresDatabase::Connection {
  struct Prepared {
    std::string name;  // empty: the server could not infer parameter types
    int parameter_count = 0;
    std::string rewritten;
  };

  PGconn* conn = nullptr;
  std::unordered_map<std::string, Prepared> statements;
  uint64_t next_statement = 0;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (conn != nullptr) PQfinish(conn);
  }

  Status Setup() {
    PgResult r(PQexec(conn, "SET client_encoding = 'UTF8'; SET bytea_output = 'hex'"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return ErrorStatus(conn, r.get());
    return Status::Ok();
  }

  // Runs a simple command (BEGIN, COMMIT, ...) and returns its command tag.
  Result<std::string> Command(const char* sql) {
    PgResult r(PQexec(conn, sql));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return ErrorStatus(conn, r.get());
    return std::string(PQcmdStatus(r.get()));
  }

  // Prepares `sql` under a fresh name. Sets *indeterminate when the server
  // could not infer a parameter type (SQLSTATE 42P18).
  Result<std::string> PrepareAs(const std::string& sql, const std::vector<Oid>& types,
                                bool* indeterminate) {
    std::string name = "s" + std::to_string(next_statement++);
    PgResult r(PQprepare(conn, name.c_str(), sql.c_str(), static_cast<int>(types.size()),
                         types.empty() ? nullptr : types.data()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      *indeterminate = Field(r.get(), PG_DIAG_SQLSTATE) == "42P18";
      return ErrorStatus(conn, r.get());
    }
    *indeterminate = false;
    return name;
  }

  // The name of the prepared statement for `sql` with these parameters,
  // preparing it on first use.
  Result<std::string> PreparedName(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto it = statements.find(key);
    if (it == statements.end()) {
      if (statements.size() >= kMaxCachedStatements) {
        PgResult r(PQexec(conn, "DEALLOCATE ALL"));
        statements.clear();
      }
      internal::RewrittenSql rewritten = internal::RewritePlaceholders(sql);
      if (rewritten.parameter_count != static_cast<int>(params.size())) {
        return core::Internal("database error",
                              "statement expects " + std::to_string(rewritten.parameter_count) +
                                  " parameters, got " + std::to_string(params.size()));
      }
      Prepared prepared{"", rewritten.parameter_count, std::move(rewritten.sql)};
      // A failed prepare would abort an open transaction; a savepoint keeps
      // it usable for the typed retry below. Only on a cache miss.
      const bool in_transaction = PQtransactionStatus(conn) == PQTRANS_INTRANS;
      if (in_transaction) (void)Command("SAVEPOINT tsunagu_prepare");
      bool indeterminate = false;
      auto name = PrepareAs(prepared.rewritten, {}, &indeterminate);
      if (in_transaction) {
        if (!name) (void)Command("ROLLBACK TO SAVEPOINT tsunagu_prepare");
        (void)Command("RELEASE SAVEPOINT tsunagu_prepare");
      }
      if (name) {
        prepared.name = std::move(*name);
      } else if (!indeterminate) {
        return name.error();
      }
      it = statements.emplace(key, std::move(prepared)).first;
    }
    const Prepared& prepared = it->second;
    if (prepared.parameter_count != static_cast<int>(params.size())) {
      return core::Internal("database error",
                            "statement expects " + std::to_string(prepared.parameter_count) +
                                " parameters, got " + std::to_string(params.size()));
    }
    if (!prepared.name.empty()) return prepared.name;
    // Typed variant, keyed by the parameter types of this call.
    std::vector<Oid> types;
    std::string typed_key = key;
    typed_key += '\x01';
    for (const Value& v : params) {
      types.push_back(FallbackType(v));
      typed_key += std::to_string(types.back()) + ",";
    }
    auto typed = statements.find(typed_key);
    if (typed == statements.end()) {
      bool indeterminate = false;
      auto typed_name = PrepareAs(prepared.rewritten, types, &indeterminate);
      if (!typed_name) return typed_name.error();
      typed =
          statements.emplace(typed_key, Prepared{*typed_name, prepared.parameter_count, ""}).first;
    }
    return typed->second.name;
  }

  // Parameters in libpq's form: text, except Bytes in binary.
  struct Bound {
    std::vector<std::string> text;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;

    explicit Bound(std::span<const Value> params)
        : text(params.size()),
          values(params.size(), nullptr),
          lengths(params.size(), 0),
          formats(params.size(), 0) {
      for (size_t i = 0; i < params.size(); ++i) {
        const Value& v = params[i];
        if (const auto* n = std::get_if<int64_t>(&v)) {
          text[i] = std::to_string(*n);
          values[i] = text[i].c_str();
        } else if (const auto* d = std::get_if<double>(&v)) {
          char buf[64];
          auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, *d);
          text[i].assign(buf, ec == std::errc() ? ptr : buf);
          values[i] = text[i].c_str();
        } else if (const auto* s = std::get_if<std::string>(&v)) {
          values[i] = s->c_str();
        } else if (const auto* t = std::get_if<TextRef>(&v)) {
          values[i] = t->text->c_str();
        } else if (const auto* b = std::get_if<Bytes>(&v)) {
          values[i] = b->data.data();
          lengths[i] = static_cast<int>(b->data.size());
          formats[i] = 1;
        }
      }
    }
    int count() const { return static_cast<int>(values.size()); }
  };

  // The outcome of one executed statement: rows into `out` if given, the
  // affected row count, or the error (forgetting a plan the server can no
  // longer use: table altered, DISCARD ALL).
  Result<int64_t> Finish(std::string_view sql, PGresult* r, ResultSet* out) {
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const std::string state = Field(r, PG_DIAG_SQLSTATE);
      Status error = ErrorStatus(conn, r);
      if (state == "0A000" || state == "26000") statements.erase(std::string(sql));
      return error;
    }
    if (out != nullptr) {
      out->columns.clear();
      out->rows.clear();
      const int columns = PQnfields(r);
      const int rows = PQntuples(r);
      std::vector<Oid> types(columns);
      for (int c = 0; c < columns; ++c) {
        out->columns.emplace_back(PQfname(r, c));
        types[c] = PQftype(r, c);
      }
      out->rows.reserve(rows);
      for (int row = 0; row < rows; ++row) {
        std::vector<Value> values_out;
        values_out.reserve(columns);
        for (int c = 0; c < columns; ++c) values_out.push_back(ConvertField(r, row, c, types[c]));
        out->rows.emplace_back(std::move(values_out));
      }
    }
    const char* affected = PQcmdTuples(r);
    return affected != nullptr && *affected != '\0' ? std::strtoll(affected, nullptr, 10)
                                                    : int64_t{0};
  }

  // Prepares (once) and runs `sql`; fills `out` with rows if given.
  Result<int64_t> Run(std::string_view sql, std::span<const Value> params, ResultSet* out) {
    TSUNAGU_ASSIGN_OR_RETURN(std::string name, PreparedName(sql, params));
    Bound bound(params);
    PgResult r(PQexecPrepared(conn, name.c_str(), bound.count(), bound.values.data(),
                              bound.lengths.data(), bound.formats.data(), 0));
    return Finish(sql, r.get(), out);
  }

  // Runs the statements in pipeline mode: all are sent, then all answers
  // read. Outside a transaction only.
  Result<std::vector<ResultSet>> RunBatch(std::span<const Statement> batch) {
    // Room for the whole batch first: emptying the cache halfway would drop
    // statements prepared for its first part.
    if (statements.size() + 2 * batch.size() + 1 >= kMaxCachedStatements) {
      PgResult r(PQexec(conn, "DEALLOCATE ALL"));
      statements.clear();
    }
    TSUNAGU_ASSIGN_OR_RETURN(std::string generic, PreparedName(kGenericPlans, {}));
    std::vector<std::string> names;
    names.reserve(batch.size());
    for (const Statement& s : batch) {
      TSUNAGU_ASSIGN_OR_RETURN(std::string name, PreparedName(s.sql, s.params));
      names.push_back(std::move(name));
    }
    if (PQenterPipelineMode(conn) != 1) {
      return core::Internal("database error", TrimmedConnectionMessage(conn));
    }
    Status sent = Status::Ok();
    // Generic plans for the batch (its implicit transaction ends at the
    // sync, and the setting with it): batches carry the hot reads of fixed
    // shape, whose IN lists made the planner keep custom plans, i.e. plan
    // again at every call (a timeline page spent more time planning than
    // running its statements).
    if (PQsendQueryPrepared(conn, generic.c_str(), 0, nullptr, nullptr, nullptr, 0) != 1) {
      sent = core::Internal("database error", TrimmedConnectionMessage(conn));
    }
    size_t queued = 0;
    for (size_t i = 0; i < batch.size() && sent.ok(); ++i) {
      Bound bound(batch[i].params);
      if (PQsendQueryPrepared(conn, names[i].c_str(), bound.count(), bound.values.data(),
                              bound.lengths.data(), bound.formats.data(), 0) != 1) {
        sent = core::Internal("database error", TrimmedConnectionMessage(conn));
      } else {
        ++queued;
      }
    }
    if (PQpipelineSync(conn) != 1 && sent.ok()) {
      sent = core::Unavailable("the database connection was lost", TrimmedConnectionMessage(conn));
    }
    // Every queued statement answers with its result (or PIPELINE_ABORTED
    // after an earlier error) and a null, then comes the sync.
    std::vector<ResultSet> out(batch.size());
    Status first_error = sent;
    if (sent.ok()) {
      PgResult r(PQgetResult(conn));
      if (r == nullptr || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        first_error = r == nullptr ? core::Unavailable("the database connection was lost",
                                                       TrimmedConnectionMessage(conn))
                                   : ErrorStatus(conn, r.get());
      }
      while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
    }
    for (size_t i = 0; i < queued; ++i) {
      PgResult r(PQgetResult(conn));
      if (r == nullptr) {
        if (first_error.ok()) {
          first_error =
              core::Unavailable("the database connection was lost", TrimmedConnectionMessage(conn));
        }
        break;
      }
      if (PQresultStatus(r.get()) == PGRES_PIPELINE_ABORTED) {
        if (first_error.ok()) first_error = core::Internal("database error", "pipeline aborted");
      } else if (auto done = Finish(batch[i].sql, r.get(), &out[i]); !done && first_error.ok()) {
        first_error = done.error();
      }
      while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
    }
    // Up to the sync; a broken connection ends the loop with null results.
    for (int guard = 0; guard < 1000 && PQstatus(conn) == CONNECTION_OK; ++guard) {
      PgResult r(PQgetResult(conn));
      if (r != nullptr && PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) break;
    }
    if (PQexitPipelineMode(conn) != 1) {
      // Answers left unread: start over on a fresh session rather than hand
      // out a connection in pipeline mode.
      if (first_error.ok()) {
        first_error = core::Internal("database error", TrimmedConnectionMessage(conn));
      }
      PQreset(conn);
      statements.clear();
      (void)Setup();
    }
    if (!first_error.ok()) return first_error;
    return out;
  }
};

// Exclusive use of one pooled connection; returns it on destruction.
class PostgresDatabase::Lease {
 public:
  Lease(PostgresDatabase* owner, std::unique_ptr<Connection> connection)
      : owner_(owner), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept : owner_(other.owner_), connection_(std::move(other.connection_)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() { Release(); }

  Connection& connection() { return *connection_; }
  void Release() {
    if (connection_) owner_->Release(std::move(connection_));
  }

 private:
  PostgresDatabase* owner_;
  std::unique_ptr<Connection> connection_;
};

class PostgresDatabase::PostgresTransaction final : public Transaction {
 public:
  explicit PostgresTransaction(Lease lease) : lease_(std::move(lease)) {}
  ~PostgresTransaction() override {
    // A failed ROLLBACK leaves a broken connection, which Release() resets.
    if (!finished_) (void)lease_.connection().Command("ROLLBACK");
  }

  Status Start(bool write) {
    auto begun = lease_.connection().Command(write ? "BEGIN" : "BEGIN READ ONLY");
    if (!begun) {
      finished_ = true;
      return begun.error();
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
  // One round trip, as outside a transaction; the generic plans it asks for
  // stay for the rest of the transaction.
  Result<std::vector<ResultSet>> QueryBatch(std::span<const Statement> statements) override {
    TSUNAGU_RETURN_IF_ERROR(Usable());
    if (statements.empty()) return std::vector<ResultSet>{};
    auto result = lease_.connection().RunBatch(statements);
    if (!result) failed_ = true;
    return result;
  }

  Status Commit() override {
    TSUNAGU_RETURN_IF_ERROR(Usable());
    auto tag = lease_.connection().Command("COMMIT");
    if (!tag) {
      failed_ = true;
      return tag.error();
    }
    finished_ = true;
    lease_.Release();
    // The server answers an aborted transaction's COMMIT with ROLLBACK.
    if (*tag != "COMMIT") {
      return core::Internal("database error", "transaction was rolled back by the server");
    }
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
    auto result = lease_.connection().Run(sql, params, out);
    if (!result) failed_ = true;
    return result;
  }

  Lease lease_;
  bool finished_ = false;
  bool failed_ = false;
};

PostgresDatabase::PostgresDatabase(std::string url) : url_(std::move(url)) {}

PostgresDatabase::~PostgresDatabase() = default;

Result<std::unique_ptr<Database>> PostgresDatabase::Open(const std::string& url) {
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(url));
  { TSUNAGU_ASSIGN_OR_RETURN(Lease lease, db->Acquire()); }
  return std::unique_ptr<Database>(std::move(db));
}

Result<std::unique_ptr<PostgresDatabase::Connection>> PostgresDatabase::Connect() {
  // Values from the URL override these defaults (expand_dbname).
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "tsunagu", url_.c_str(), nullptr};
  auto connection = std::make_unique<Connection>();
  connection->conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (PQstatus(connection->conn) != CONNECTION_OK) {
    return core::Unavailable("cannot connect to the database",
                             TrimmedConnectionMessage(connection->conn));
  }
  PQsetNoticeReceiver(connection->conn, OnNotice, nullptr);
  TSUNAGU_RETURN_IF_ERROR(connection->Setup());
  return connection;
}

Result<PostgresDatabase::Lease> PostgresDatabase::Acquire() {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kAcquireTimeout,
                    [&] { return !idle_.empty() || open_ < kMaxConnections; })) {
    return core::Unavailable("the database is busy", "no pooled connection became free");
  }
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  auto connection = Connect();
  if (!connection) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return connection.error();
  }
  return Lease(this, std::move(*connection));
}

void PostgresDatabase::Release(std::unique_ptr<Connection> connection) {
  PGconn* conn = connection->conn;
  if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
    // Left inside a transaction (should not happen): end it before reuse.
    PgResult r(PQexec(conn, "ROLLBACK"));
  }
  if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE) {
    PQreset(conn);
    connection->statements.clear();  // prepared statements died with the session
    if (PQstatus(conn) != CONNECTION_OK || !connection->Setup().ok()) connection.reset();
  }
  {
    std::lock_guard lock(mu_);
    if (connection) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

Result<ResultSet> PostgresDatabase::Query(std::string_view sql, std::span<const Value> params) {
  TSUNAGU_ASSIGN_OR_RETURN(Lease lease, Acquire());
  ResultSet out;
  TSUNAGU_RETURN_IF_ERROR(lease.connection().Run(sql, params, &out).status());
  return out;
}

Result<std::vector<ResultSet>> PostgresDatabase::QueryBatch(std::span<const Statement> statements) {
  if (statements.empty()) return std::vector<ResultSet>{};
  TSUNAGU_ASSIGN_OR_RETURN(Lease lease, Acquire());
  return lease.connection().RunBatch(statements);
}

Result<int64_t> PostgresDatabase::Execute(std::string_view sql, std::span<const Value> params) {
  TSUNAGU_ASSIGN_OR_RETURN(Lease lease, Acquire());
  return lease.connection().Run(sql, params, nullptr);
}

Result<std::unique_ptr<Transaction>> PostgresDatabase::Begin(Mode mode) {
  TSUNAGU_ASSIGN_OR_RETURN(Lease lease, Acquire());
  auto transaction = std::make_unique<PostgresTransaction>(std::move(lease));
  TSUNAGU_RETURN_IF_ERROR(transaction->Start(mode == Mode::kWrite));
  return std::unique_ptr<Transaction>(std::move(transaction));
}

}  // namespace tsunagu::store
