#include "store/migrations.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace tsunagu::store {
namespace {

// Key of the PostgreSQL advisory lock that serialises migrating processes.
constexpr int64_t kMigrationLockKey = 0x7473756e61677531;  // "tsunagu1"

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "module TEXT NOT NULL, version INTEGER NOT NULL, applied_at BIGINT NOT NULL, "
    "PRIMARY KEY (module, version))";

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) {
  return IsWordStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// True if the statement holds more than comments and whitespace.
bool HasCode(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s.substr(i, 2) == "--") {
      size_t nl = s.find('\n', i);
      i = nl == std::string_view::npos ? s.size() : nl + 1;
    } else if (s.substr(i, 2) == "/*") {
      size_t close = s.find("*/", i + 2);
      i = close == std::string_view::npos ? s.size() : close + 2;
    } else {
      return true;
    }
  }
  return false;
}

Status StepFailed(const std::string& module, int64_t version, const Status& cause) {
  return core::Internal(
      "database migration " + module + " version " + std::to_string(version) + " failed",
      cause.detail().empty() ? cause.message() : cause.detail());
}

Status ApplyStep(Database& db, const std::string& module, int64_t version,
                 const std::string& step) {
  const Dialect dialect = db.dialect();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db.Begin(Database::Mode::kWrite));
  if (dialect == Dialect::kPostgres) {
    TSUNAGU_RETURN_IF_ERROR(
        tx->Query("SELECT pg_advisory_xact_lock(?)", {Value{kMigrationLockKey}}).status());
  }
  // Another process may have applied the step while this one waited.
  TSUNAGU_ASSIGN_OR_RETURN(
      ResultSet done, tx->Query("SELECT 1 FROM schema_migrations WHERE module = ? AND version = ?",
                                {Value{module}, Value{version}}));
  if (!done.empty()) return Status::Ok();

  for (const std::string& statement : SplitSqlStatements(ExpandSqlMacros(step, dialect))) {
    auto executed = tx->Execute(statement);
    if (!executed) return StepFailed(module, version, executed.error());
  }
  auto recorded = tx->Execute(
      "INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)",
      {Value{module}, Value{version}, Value{core::SystemClock::Instance().NowMillis()}});
  if (!recorded) return StepFailed(module, version, recorded.error());
  Status committed = tx->Commit();
  if (!committed.ok()) return StepFailed(module, version, committed);
  core::LogInfo("migration_applied", {{"module", module}, {"version", std::to_string(version)}});
  return Status::Ok();
}

}  // namespace

std::string ExpandSqlMacros(const std::string& sql, Dialect dialect) {
  const bool sqlite = dialect == Dialect::kSqlite;
  const std::pair<std::string_view, std::string_view> macros[] = {
      {"{{ID}}", sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"},
      {"{{BLOB}}", sqlite ? "BLOB" : "BYTEA"},
  };
  std::string out;
  out.reserve(sql.size() + 32);
  size_t i = 0;
  while (i < sql.size()) {
    bool replaced = false;
    // "{{SQLITE:text}}" / "{{POSTGRES:text}}": text on that dialect only.
    for (const auto& [prefix, keep] : {std::pair<std::string_view, bool>{"{{SQLITE:", sqlite},
                                       std::pair<std::string_view, bool>{"{{POSTGRES:", !sqlite}}) {
      if (sql.compare(i, prefix.size(), prefix) != 0) continue;
      const size_t close = sql.find("}}", i + prefix.size());
      if (close == std::string::npos) break;  // unterminated: left as written
      if (keep)
        out += ExpandSqlMacros(sql.substr(i + prefix.size(), close - i - prefix.size()), dialect);
      i = close + 2;
      replaced = true;
      break;
    }
    if (replaced) continue;
    if (sql[i] == '{') {
      for (const auto& [macro, expansion] : macros) {
        if (sql.compare(i, macro.size(), macro) == 0) {
          out += expansion;
          i += macro.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += sql[i++];
  }
  return out;
}

std::vector<std::string> SplitSqlStatements(const std::string& sql) {
  std::vector<std::string> statements;
  const size_t n = sql.size();
  size_t start = 0;
  size_t i = 0;
  // BEGIN/CASE ... END nesting: a ';' inside a trigger body does not split.
  int depth = 0;
  auto finish = [&](size_t end) {
    std::string statement = Trim(std::string_view(sql).substr(start, end - start));
    if (HasCode(statement)) statements.push_back(std::move(statement));
  };
  while (i < n) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < n) {
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        ++j;
      }
      i = j;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      size_t nl = sql.find('\n', i);
      i = nl == std::string::npos ? n : nl;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t close = sql.find("*/", i + 2);
      i = close == std::string::npos ? n : close + 2;
    } else if (c == '$' && (i == 0 || !IsWordChar(sql[i - 1]))) {
      size_t j = i + 1;
      if (j < n && IsWordStart(sql[j])) {
        while (j < n && IsWordChar(sql[j]) && sql[j] != '$') ++j;
      }
      if (j < n && sql[j] == '$') {
        const std::string tag = sql.substr(i, j - i + 1);
        size_t close = sql.find(tag, j + 1);
        i = close == std::string::npos ? n : close + tag.size();
      } else {
        ++i;
      }
    } else if (IsWordStart(c)) {
      size_t j = i + 1;
      while (j < n && IsWordChar(sql[j])) ++j;
      std::string_view word(sql.data() + i, j - i);
      if (EqualsIgnoreCase(word, "BEGIN") || EqualsIgnoreCase(word, "CASE")) {
        ++depth;
      } else if (EqualsIgnoreCase(word, "END") && depth > 0) {
        --depth;
      }
      i = j;
    } else if (c == ';' && depth == 0) {
      finish(i);
      start = ++i;
    } else {
      ++i;
    }
  }
  finish(n);
  return statements;
}

Status ApplyMigrations(Database& db, const std::vector<MigrationSet>& sets) {
  std::set<std::string> modules;
  for (const MigrationSet& set : sets) {
    if (set.module.empty()) return core::InvalidInput("migration set without a module name");
    if (!modules.insert(set.module).second) {
      return core::InvalidInput("migration module listed twice: " + set.module);
    }
  }

  {
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, db.Begin(Database::Mode::kWrite));
    if (db.dialect() == Dialect::kPostgres) {
      // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL.
      TSUNAGU_RETURN_IF_ERROR(
          tx->Query("SELECT pg_advisory_xact_lock(?)", {Value{kMigrationLockKey}}).status());
    }
    TSUNAGU_RETURN_IF_ERROR(tx->Execute(kCreateMigrationsTable).status());
    TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  }

  for (const MigrationSet& set : sets) {
    TSUNAGU_ASSIGN_OR_RETURN(
        ResultSet applied_rows,
        db.Query("SELECT version FROM schema_migrations WHERE module = ?", {Value{set.module}}));
    std::set<int64_t> applied;
    for (const Row& row : applied_rows.rows) applied.insert(row.Int(0));
    const auto known = static_cast<int64_t>(set.steps.size());
    if (!applied.empty() && *applied.rbegin() > known) {
      core::LogWarn("schema_newer_than_program",
                    {{"module", set.module},
                     {"database_version", std::to_string(*applied.rbegin())},
                     {"program_version", std::to_string(known)}});
    }
    for (int64_t version = 1; version <= known; ++version) {
      if (applied.count(version) != 0) continue;
      TSUNAGU_RETURN_IF_ERROR(ApplyStep(db, set.module, version, set.steps[version - 1]));
    }
  }
  return Status::Ok();
}

}  // namespace tsunagu::store
