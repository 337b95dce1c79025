#pragma once
// The storage interface. Two backends implement it: SQLite (embedded default)
// and PostgreSQL (libpq). Domain code writes SQL once, with '?' placeholders;
// the PostgreSQL backend rewrites them to $1..$n. Portable SQL only:
// types INTEGER/BIGINT, TEXT, REAL/DOUBLE PRECISION, BLOB via the "{{BLOB}}"
// macro in migrations; booleans are stored as integers 0/1; timestamps as
// BIGINT milliseconds since the epoch (UTC). "INSERT ... RETURNING id" works on
// both. Auto-increment keys in migrations: "{{ID}}" (expands to
// "INTEGER PRIMARY KEY AUTOINCREMENT" / "BIGSERIAL PRIMARY KEY").
//
// Thread-safety: Database is safe to share between threads; a Transaction
// belongs to the thread that began it. Every statement is prepared once per
// connection and cached. A thread holding a write Transaction must run its
// writes through that Transaction, not through the Database (SQLite has one
// writer connection; such a call returns Internal instead of deadlocking).
//
// Portability notes: a statement is one SQL statement (no trailing second
// statement). PostgreSQL infers parameter types from context; where it
// cannot ("? IS NULL" alone) the value's own type is used. The PostgreSQL
// operators containing '?' (jsonb ?, ?|, ?&) cannot be written; use the
// jsonb_exists* functions. Integer results of SUM() come back as double on
// PostgreSQL (numeric); Row::Int converts.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::store {

using core::Result;
using core::Status;

struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

// A text parameter that refers to a string instead of holding a copy of it,
// for large values bound once (a resource's JSON in a batch write): the
// string must outlive the statement's execution. Never a column value.
struct TextRef {
  const std::string* text = nullptr;
  bool operator==(const TextRef& other) const { return *text == *other.text; }
};

// A bound parameter or a column value.
using Value = std::variant<std::monostate, int64_t, double, std::string, Bytes, TextRef>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // Lenient accessors: NULL -> 0 / "" ; numeric text is converted.
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;
  std::optional<std::string> OptText(size_t i) const;
  const Value& at(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

enum class Dialect { kSqlite, kPostgres };

// "?, ?, ?" for n parameters (an IN list).
std::string Placeholders(size_t n);
// "(?, ?), (?, ?), (?, ?)" for a multi-row VALUES of `rows` rows of `columns`.
std::string RowPlaceholders(size_t rows, size_t columns);
// " LIMIT n OFFSET m" of a page, written out rather than bound (the caller
// has checked the numbers): PostgreSQL then plans a prepared statement once,
// where a bound limit makes it plan every call, which costs more than
// walking a page. The one exception to binding every value.
std::string LimitSql(int64_t limit, int64_t offset);

// One statement of a batch (Executor::QueryBatch).
struct Statement {
  std::string sql;
  std::vector<Value> params;
};

// Something you can run statements on: a Database (autocommit, one statement
// per transaction) or a Transaction.
class Executor {
 public:
  virtual ~Executor() = default;
  // Runs a statement returning rows. Errors: unique / primary-key and
  // foreign-key violations map to Conflict; a lost database connection to
  // Unavailable; everything else (SQL errors, wrong parameter count) to
  // Internal. The detail holds the driver message (never shown to clients);
  // the message is generic.
  virtual Result<ResultSet> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs a statement, returns affected rows. Same error mapping.
  virtual Result<int64_t> Execute(std::string_view sql, std::span<const Value> params = {}) = 0;

  // Runs statements that do not depend on each other's results and returns
  // their results in order. PostgreSQL sends them all before reading any
  // answer: one round trip to the server instead of one per statement, and
  // one implicit transaction (a failing statement undoes the earlier ones
  // and the later ones do not run). SQLite runs reads in one read
  // transaction on one reader connection, and a batch that writes one
  // statement after another, each on its own; a Transaction runs them in
  // itself (on PostgreSQL also in one round trip; its generic plans then
  // last to the end of the transaction). So write with it on PostgreSQL
  // only, or in a Transaction. The
  // first failing statement's error is returned; nothing is returned partly.
  // PostgreSQL plans a batch's statements generically (plan_cache_mode =
  // force_generic_plan), once per connection instead of at every call: a
  // batch is for statements of fixed shape whose plan does not depend on
  // the values bound (an index chosen by a key, not by a range's width).
  virtual Result<std::vector<ResultSet>> QueryBatch(std::span<const Statement> statements);

  // Convenience overloads: Query("... ?", {Value{int64_t{1}}, Value{"x"}}).
  Result<ResultSet> Query(std::string_view sql, std::initializer_list<Value> params) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params) {
    return Execute(sql, std::span<const Value>(params.begin(), params.size()));
  }
};

// RAII transaction: rolled back on destruction unless Commit() succeeded.
// After any failed statement the transaction is aborted on both backends:
// later statements and Commit() return an error (use INSERT ... ON CONFLICT
// instead of catching Conflict inside a transaction). After Commit(), the
// object accepts no more statements.
class Transaction : public Executor {
 public:
  using Executor::Execute;
  using Executor::Query;
  virtual Status Commit() = 0;
};

class Database : public Executor {
 public:
  using Executor::Execute;
  using Executor::Query;
  enum class Mode { kRead, kWrite };
  // kWrite serialises writers (SQLite: BEGIN IMMEDIATE on the writer
  // connection; PostgreSQL: a pooled connection, READ COMMITTED). kRead is a
  // read-only transaction on a reader connection (writes in it fail).
  // PostgreSQL's kWrite does not lock what it reads: do read-modify-write in
  // one statement ("UPDATE c SET n = n + 1 ... RETURNING n", INSERT ... ON
  // CONFLICT), which is atomic on both backends. Blocks while all
  // connections are in use. Errors: Unavailable if no connection can be
  // opened, Internal otherwise.
  virtual Result<std::unique_ptr<Transaction>> Begin(Mode mode = Mode::kWrite) = 0;
  virtual Dialect dialect() const = 0;
};

struct OpenOptions {
  // Page size of a SQLite file created by this open (512..65536, a power of
  // two; 0 = SQLite's 4,096). An existing file keeps its page size.
  int sqlite_page_size = 0;
  // Page cache of a SQLite file's writer connection, in KiB (0 or less: 64 MiB).
  // An append-only file needs little: its writer only touches the last pages.
  int sqlite_writer_cache_kib = 0;
};

// Opens "sqlite:/path/to.db", a plain file path (SQLite; the parent directory
// is created; ":memory:" gives a private in-memory database), or
// "postgresql://user@host:port/db" / "postgres://..." (PostgreSQL). Errors:
// InvalidInput for an empty URL or a bad page size, Unavailable if the server
// cannot be reached, Internal if the file cannot be opened.
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url,
                                               const OpenOptions& options = {});
// The file of a SQLite URL as OpenDatabase reads it ("sqlite:PATH" or a bare
// PATH; may be ":memory:"), or nullopt for a PostgreSQL URL.
std::optional<std::string> SqlitePathOf(const std::string& url);

}  // namespace tsunagu::store
