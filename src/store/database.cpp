#include "store/database.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>

#include "store/postgres/postgres_database.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace tsunagu::store {
namespace {

bool ParseInt(std::string_view s, int64_t& out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseDouble(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return false;
  while (*end == ' ' || *end == '\t') ++end;
  if (*end != '\0') return false;
  out = v;
  return true;
}

int64_t DoubleToInt(double d) {
  if (std::isnan(d)) return 0;
  // Saturate instead of invoking undefined behaviour on out-of-range values.
  if (d >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

int64_t Row::Int(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return DoubleToInt(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    if (ParseInt(*s, n)) return n;
    double d = 0;
    if (ParseDouble(*s, d)) return DoubleToInt(d);
  }
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double d = 0;
    if (ParseDouble(*s, d)) return d;
  }
  return 0.0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return ec == std::errc() ? std::string(buf, ptr) : std::string();
  }
  if (const auto* b = std::get_if<Bytes>(&v)) return b->data;
  if (const auto* t = std::get_if<TextRef>(&v)) return *t->text;
  return {};
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

std::optional<std::string> Row::OptText(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Text(i);
}

std::string Placeholders(size_t n) {
  std::string out;
  out.reserve(n * 3);
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

std::string RowPlaceholders(size_t rows, size_t columns) {
  std::string row = "(";
  row += Placeholders(columns);
  row += ')';
  std::string out;
  out.reserve(rows * (row.size() + 2));
  for (size_t i = 0; i < rows; ++i) {
    if (i) out += ", ";
    out += row;
  }
  return out;
}

std::string LimitSql(int64_t limit, int64_t offset) {
  return " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
}

Result<std::vector<ResultSet>> Executor::QueryBatch(std::span<const Statement> statements) {
  std::vector<ResultSet> out;
  out.reserve(statements.size());
  for (const Statement& s : statements) {
    TSUNAGU_ASSIGN_OR_RETURN(auto rs, Query(s.sql, s.params));
    out.push_back(std::move(rs));
  }
  return out;
}

std::optional<std::string> SqlitePathOf(const std::string& url) {
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) return std::nullopt;
  return StartsWith(url, "sqlite:") ? url.substr(7) : url;
}

Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url, const OpenOptions& options) {
  if (url.empty()) return core::InvalidInput("database URL is empty");
  const int page = options.sqlite_page_size;
  if (page != 0 && (page < 512 || page > 65536 || (page & (page - 1)) != 0)) {
    return core::InvalidInput("SQLite page size must be a power of two from 512 to 65536",
                              std::to_string(page));
  }
  std::optional<std::string> sqlite = SqlitePathOf(url);
  if (!sqlite) return PostgresDatabase::Open(url);
  std::string path = *sqlite;
  if (path.empty()) return core::InvalidInput("database URL names no file", url);
  if (path != ":memory:") {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return core::Internal("cannot create the database directory",
                              parent.string() + ": " + ec.message());
      }
    }
  }
  return SqliteDatabase::Open(path, page, options.sqlite_writer_cache_kib);
}

}  // namespace tsunagu::store
