#include "clinical/resource_store.hpp"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <unordered_map>

#include "clinical/json_members.hpp"
#include "consent/access_policy.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace tsunagu::clinical {
namespace {

namespace json = boost::json;
using store::Value;

constexpr const char* kColumns =
    "id, resource_type, source_facility_id, local_patient_id, source_key, category, code_system, "
    "code, display, effective, effective_end, source_time, json, stored_at";

bool IsResourceTypeName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// The checks of a record that do not read its JSON.
core::Status ValidateKeys(const ResourceRecord& r, size_t index) {
  auto bad = [index](const std::string& what) {
    return core::InvalidInput("record " + std::to_string(index) + ": " + what);
  };
  if (!IsResourceTypeName(r.resource_type)) return bad("resource_type is not a FHIR type name");
  if (r.source_facility_id <= 0) return bad("source_facility_id is required");
  if (r.local_patient_id.empty() || r.local_patient_id.size() > 64) {
    return bad("local_patient_id is required (at most 64 bytes)");
  }
  if (r.source_key.empty() || r.source_key.size() > 512) {
    return bad("source_key is required (at most 512 bytes)");
  }
  if (r.json.empty() && !r.retracted) return bad("json is required");
  return core::Status::Ok();
}

bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  int month = (s[5] - '0') * 10 + (s[6] - '0');
  int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// The day after a YYYY-MM-DD date: "effective <= to" for date-times is
// "effective < next day", which sorts the same in every collation.
std::string NextDay(std::string_view date) {
  int64_t y = std::stoll(std::string(date.substr(0, 4)));
  unsigned m = static_cast<unsigned>(std::stoi(std::string(date.substr(5, 2))));
  unsigned d = static_cast<unsigned>(std::stoi(std::string(date.substr(8, 2))));
  return core::DateFromDays(core::DaysFromCivil(y, m, d) + 1);
}

std::string EncodeCursor(const std::string& effective, const std::string& id) {
  std::string raw = effective + "|" + id;
  return core::HexEncode(raw.data(), raw.size());
}

bool DecodeCursor(const std::string& cursor, std::string& effective, std::string& id) {
  if (cursor.empty() || cursor.size() % 2 != 0 || cursor.size() > 400) return false;
  std::string raw;
  for (size_t i = 0; i < cursor.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(cursor[i]), lo = nibble(cursor[i + 1]);
    if (hi < 0 || lo < 0) return false;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  auto bar = raw.rfind('|');
  if (bar == std::string::npos) return false;
  effective = raw.substr(0, bar);
  id = raw.substr(bar + 1);
  return !id.empty();
}

StoredResource FromRow(const store::Row& r) {
  StoredResource s;
  ResourceRecord& rec = s.record;
  rec.id = r.Text(0);
  rec.resource_type = r.Text(1);
  rec.source_facility_id = r.Int(2);
  rec.local_patient_id = r.Text(3);
  rec.source_key = r.Text(4);
  rec.category = ParseCategory(r.Text(5)).value_or(Category::kPatientInfo);
  rec.code_system = r.Text(6);
  rec.code = r.Text(7);
  rec.display = r.Text(8);
  rec.effective = r.Text(9);
  rec.effective_end = r.Text(10);
  rec.source_time = r.Int(11);
  s.stored_at = r.Int(13);
  rec.json = WithResourceId(r.Text(12), rec.id, s.stored_at);
  return s;
}

// The columns of a row as lists show it; every one is in
// resources_patient_summary, so a page is read from that index alone.
constexpr const char* kSummaryColumns =
    "id, resource_type, source_facility_id, local_patient_id, category, effective, summary";

// A row of kSummaryColumns. Without a readable stored summary (a row written
// before summaries were stored), `summary` stays empty: the caller
// summarizes it from its JSON.
StoredResource FromSummaryRow(const store::Row& r) {
  StoredResource s;
  ResourceRecord& rec = s.record;
  rec.id = r.Text(0);
  rec.resource_type = r.Text(1);
  rec.source_facility_id = r.Int(2);
  rec.local_patient_id = r.Text(3);
  rec.category = ParseCategory(r.Text(4)).value_or(Category::kPatientInfo);
  rec.effective = r.Text(5);
  ResourceSummary summary;
  if (DecodeStoredSummary(r.Text(6), rec, summary)) s.summary = std::move(summary);
  return s;
}

// Rows of kSummaryColumns from several statements, each in the page's
// order, put in that order (effective, then id, as SQLite compares text)
// and cut to the page: `offset` rows skipped, at most `count` kept.
void MergeSummaryRows(std::vector<const store::Row*>& rows, bool newest_first, size_t offset,
                      size_t count) {
  auto text = [](const store::Row* r, size_t i) -> std::string_view {
    const auto* s = std::get_if<std::string>(&r->at(i));
    return s ? std::string_view(*s) : std::string_view();
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const store::Row* a, const store::Row* b) {
    const int by_date = text(a, 5).compare(text(b, 5));
    const int c = by_date != 0 ? by_date : text(a, 0).compare(text(b, 0));
    return newest_first ? c > 0 : c < 0;
  });
  rows.erase(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(std::min(offset, rows.size())));
  if (rows.size() > count) rows.resize(count);
}

// "(?, ?, ?)" for an IN list of n values.
std::string InList(size_t n) {
  std::string out = "(";
  out += store::Placeholders(n);
  out += ')';
  return out;
}

// --- write path -----------------------------------------------------------

constexpr const char* kInsertColumns =
    "INSERT INTO resources (id, resource_type, source_facility_id, local_patient_id, source_key, "
    "category, code_system, code, display, effective, effective_end, source_time, retracted, "
    "json, stored_at, summary) VALUES ";

// Replaces the stored row when the record is not older and differs from it.
// RETURNING names the rows written: our fresh id means inserted, another id
// means updated; a record without a row is older or unchanged (classified
// afterwards).
constexpr const char* kUpsertTail =
    " ON CONFLICT (source_facility_id, resource_type, source_key) DO UPDATE SET "
    "local_patient_id = excluded.local_patient_id, category = excluded.category, "
    "code_system = excluded.code_system, code = excluded.code, display = excluded.display, "
    "effective = excluded.effective, effective_end = excluded.effective_end, "
    "source_time = excluded.source_time, retracted = 0, json = excluded.json, "
    "stored_at = excluded.stored_at, summary = excluded.summary "
    "WHERE excluded.source_time >= resources.source_time AND (resources.retracted <> 0 OR "
    "resources.json <> excluded.json OR resources.local_patient_id <> excluded.local_patient_id) "
    "RETURNING id, source_facility_id, resource_type, source_key";

// A retraction keeps the stored content and only hides it. A retraction of a
// key never seen is stored too, so that an older record arriving later cannot
// resurrect it.
constexpr const char* kRetractTail =
    " ON CONFLICT (source_facility_id, resource_type, source_key) DO UPDATE SET "
    "retracted = 1, source_time = excluded.source_time, stored_at = excluded.stored_at "
    "WHERE excluded.source_time >= resources.source_time AND resources.retracted = 0 "
    "RETURNING id, source_facility_id, resource_type, source_key";

// An identical record with a newer source time: remember the time so that a
// record older than it (but newer than the first copy) cannot win later.
constexpr const char* kTouchSql =
    "UPDATE resources SET source_time = ? "
    "WHERE source_facility_id = ? AND resource_type = ? AND source_key = ? AND source_time < ?";

// Records per run of distinct keys (a layer of a batch is cut into runs),
// and the statement sizes a run is cut into (a few fixed sizes keep the
// prepared-statement cache small; 128 rows of 15 parameters stay far below
// both backends' parameter limits).
constexpr size_t kWriteRun = 1024;
constexpr size_t kStatementRows[] = {128, 32, 8, 1};

std::string KeyOf(int64_t facility_id, std::string_view type, std::string_view key) {
  std::string k = std::to_string(facility_id);
  k += '\n';
  k += type;
  k += '\n';
  k += key;
  return k;
}

// 32 lowercase hex digits: the time and a counter first, so that new rows
// append to the primary-key index instead of landing at random pages, then
// 64 random bits (`random`: 8 bytes), so that ids stay unguessable and
// unique across processes.
std::string NewResourceId(int64_t now_millis, const unsigned char* random) {
  static std::atomic<uint32_t> counter{0};
  const uint64_t head =
      (static_cast<uint64_t>(now_millis) << 16) | (counter.fetch_add(1) & 0xffffu);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) id[i] = kHex[(head >> (60 - 4 * i)) & 15];
  for (int i = 0; i < 8; ++i) {
    id[16 + 2 * i] = kHex[random[i] >> 4];
    id[17 + 2 * i] = kHex[random[i] & 15];
  }
  return id;
}

// The largest statement size for `left` (at least 1) records still to go.
size_t StatementRows(size_t left) {
  for (size_t size : kStatementRows) {
    if (size <= left) return size;
  }
  return 1;
}

const std::string& MultiRowSql(bool retract, size_t rows) {
  // Built once per (kind, size); statements are immutable afterwards.
  static const auto build = [](bool r, size_t n) {
    std::string sql = kInsertColumns;
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ", " : "";
      sql += r ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"
               : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)";
    }
    sql += r ? kRetractTail : kUpsertTail;
    return sql;
  };
  static const std::vector<std::string> upsert = [] {
    std::vector<std::string> v;
    for (size_t n : kStatementRows) v.push_back(build(false, n));
    return v;
  }();
  static const std::vector<std::string> retraction = [] {
    std::vector<std::string> v;
    for (size_t n : kStatementRows) v.push_back(build(true, n));
    return v;
  }();
  size_t slot = 0;
  while (kStatementRows[slot] != rows) ++slot;
  return retract ? retraction[slot] : upsert[slot];
}

const std::string& SourceTimeSql(size_t rows) {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> v;
    for (size_t n : kStatementRows) {
      std::string s =
          "SELECT source_facility_id, resource_type, source_key, source_time FROM resources "
          "WHERE ";
      for (size_t i = 0; i < n; ++i) {
        s += i ? " OR " : "";
        s += "(source_facility_id = ? AND resource_type = ? AND source_key = ?)";
      }
      v.push_back(std::move(s));
    }
    return v;
  }();
  size_t slot = 0;
  while (kStatementRows[slot] != rows) ++slot;
  return sql[slot];
}

// Applies records[group[...]] (distinct keys, all upserts or all
// retractions) and adds what happened to `stats`. With distinct keys no
// statement depends on another's record: the upserts go as one batch, then
// the stored source times of the records nothing was written for, then the
// touches (one round trip each on PostgreSQL, where the server's work also
// overlaps ours; a record at a time made updates and re-imports slow).
core::Status WriteGroup(store::Transaction& tx, std::span<const CheckedRecord> records,
                        const std::vector<std::string>& ids, const std::vector<size_t>& group,
                        int64_t now, WriteStats& stats) {
  if (group.empty()) return core::Status::Ok();
  const bool retract = records[group[0]].record().retracted;
  std::vector<store::Statement> statements;
  std::vector<std::pair<size_t, size_t>> chunks;  // [at, at + n) of group
  for (size_t at = 0; at < group.size();) {
    const size_t n = StatementRows(group.size() - at);
    store::Statement& st = statements.emplace_back();
    st.sql = MultiRowSql(retract, n);
    std::vector<Value>& params = st.params;
    params.reserve(n * 15);
    for (size_t k = at; k < at + n; ++k) {
      const ResourceRecord& r = records[group[k]].record();
      params.emplace_back(ids[group[k]]);
      params.emplace_back(r.resource_type);
      params.emplace_back(r.source_facility_id);
      params.emplace_back(r.local_patient_id);
      params.emplace_back(r.source_key);
      params.emplace_back(std::string(ToString(r.category)));
      params.emplace_back(r.code_system);
      params.emplace_back(r.code);
      params.emplace_back(r.display);
      params.emplace_back(r.effective);
      params.emplace_back(r.effective_end);
      params.emplace_back(r.source_time);
      // The two long texts are bound where they are, not copied.
      params.emplace_back(store::TextRef{&r.json});
      params.emplace_back(now);
      params.emplace_back(store::TextRef{&records[group[k]].summary()});
    }
    chunks.emplace_back(at, n);
    at += n;
  }
  TSUNAGU_ASSIGN_OR_RETURN(std::vector<store::ResultSet> results, tx.QueryBatch(statements));
  statements.clear();
  std::unordered_map<std::string, size_t> pending;  // key -> record index, nothing written yet
  std::vector<size_t> rest;                         // records nothing was written for
  for (size_t c = 0; c < chunks.size(); ++c) {
    const auto [at, n] = chunks[c];
    pending.clear();
    for (size_t k = at; k < at + n; ++k) {
      const ResourceRecord& r = records[group[k]].record();
      pending.emplace(KeyOf(r.source_facility_id, r.resource_type, r.source_key), group[k]);
    }
    for (const auto& row : results[c].rows) {
      auto it = pending.find(KeyOf(row.Int(1), row.Text(2), row.Text(3)));
      if (it == pending.end()) return core::Internal("database error", "unexpected upsert row");
      if (retract) {
        ++stats.retracted;
      } else if (row.Text(0) == ids[it->second]) {
        ++stats.inserted;
      } else {
        ++stats.updated;
      }
      pending.erase(it);
    }
    // Nothing written for the rest: the stored record is newer, or identical.
    for (const auto& [key, index] : pending) rest.push_back(index);
  }
  if (rest.empty()) return core::Status::Ok();
  // Their stored source times, again as one batch.
  std::sort(rest.begin(), rest.end());
  for (size_t done = 0; done < rest.size();) {
    const size_t m = StatementRows(rest.size() - done);
    store::Statement& st = statements.emplace_back();
    st.sql = SourceTimeSql(m);
    for (size_t k = done; k < done + m; ++k) {
      const ResourceRecord& r = records[rest[k]].record();
      st.params.emplace_back(r.source_facility_id);
      st.params.emplace_back(r.resource_type);
      st.params.emplace_back(r.source_key);
    }
    done += m;
  }
  TSUNAGU_ASSIGN_OR_RETURN(results, tx.QueryBatch(statements));
  statements.clear();
  std::unordered_map<std::string, int64_t> stored_times;
  for (const auto& rs : results) {
    for (const auto& row : rs.rows) {
      stored_times[KeyOf(row.Int(0), row.Text(1), row.Text(2))] = row.Int(3);
    }
  }
  for (size_t index : rest) {
    const ResourceRecord& r = records[index].record();
    auto it = stored_times.find(KeyOf(r.source_facility_id, r.resource_type, r.source_key));
    int64_t stored_time = it == stored_times.end() ? r.source_time : it->second;
    if (r.source_time < stored_time) {
      ++stats.older_ignored;
      continue;
    }
    ++stats.unchanged;
    if (r.source_time > stored_time) {
      statements.push_back(
          {kTouchSql,
           {r.source_time, r.source_facility_id, r.resource_type, r.source_key, r.source_time}});
    }
  }
  if (!statements.empty()) TSUNAGU_RETURN_IF_ERROR(tx.QueryBatch(statements).status());
  return core::Status::Ok();
}

}  // namespace

namespace {

// WithResourceId without a parse, for the usual stored shape: an object with
// "resourceType" first-level, no "id", and "meta" absent or an object
// without "lastUpdated". Empty when the text is not of that shape.
std::string SpliceResourceId(const std::string& text, const std::string& id, int64_t stored_at) {
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || text[start] != '{') return {};
  if (FindMemberValue(text, start, "id") != kNoMember) return {};
  const size_t type = FindMemberValue(text, start, "resourceType");
  if (type == kNoMember || text[type] != '"') return {};
  const size_t type_end = SkipValue(text, type);
  if (type_end == kNoMember) return {};
  std::string out;
  out.reserve(text.size() + id.size() + 64);
  out.append(text, 0, type_end);
  out += ",\"id\":";
  out += JsonQuote(id);
  if (stored_at <= 0) {
    out.append(text, type_end);
    return out;
  }
  const std::string updated = "\"lastUpdated\":\"" + core::FormatIsoUtc(stored_at) + "\"";
  const size_t meta = FindMemberValue(text, start, "meta");
  if (meta == kNoMember) {
    out += ",\"meta\":{" + updated + "}";
    out.append(text, type_end);
    return out;
  }
  if (text[meta] != '{' || FindMemberValue(text, meta, "lastUpdated") != kNoMember) return {};
  if (meta < type_end) return {};  // "meta" before "resourceType": let the parser order it
  const size_t inner = text.find_first_not_of(" \t\r\n", meta + 1);
  if (inner == std::string::npos) return {};
  out.append(text, type_end, meta + 1 - type_end);
  out += updated;
  if (text[inner] != '}') out += ',';
  out.append(text, meta + 1);
  return out;
}

}  // namespace

std::string WithResourceId(const std::string& text, const std::string& id, int64_t stored_at) {
  if (std::string spliced = SpliceResourceId(text, id, stored_at); !spliced.empty()) {
    return spliced;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return text;
  json::object& o = v.as_object();
  // Keep "resourceType" first, then "id", as FHIR servers customarily do.
  json::object out;
  out.reserve(o.size() + 2);
  if (auto* t = o.if_contains("resourceType")) out["resourceType"] = *t;
  out["id"] = id;
  for (auto& kv : o) {
    if (kv.key() == "resourceType" || kv.key() == "id") continue;
    out[kv.key()] = std::move(kv.value());
  }
  if (stored_at > 0) {
    json::value& meta = out["meta"];
    if (!meta.is_object()) meta = json::object{};
    meta.as_object()["lastUpdated"] = core::FormatIsoUtc(stored_at);
  }
  return json::serialize(out);
}

bool AccessRule::Allows(int64_t source_facility_id, Category category) const {
  return categories.contains(category) && (any_source || sources.contains(source_facility_id));
}

AccessScope AccessScope::FromGrant(const consent::AccessGrant& grant) {
  AccessScope scope;
  scope.rules.push_back({grant.categories(), grant.sources(), grant.any_source()});
  AccessRule medication{{}, grant.medication_sources(), grant.any_medication_source()};
  for (Category c : {Category::kPrescription, Category::kDispensing}) {
    if (grant.HasCategory(c)) medication.categories.insert(c);
  }
  scope.rules.push_back(std::move(medication));
  std::erase_if(scope.rules, [](const AccessRule& r) {
    return r.categories.empty() || (!r.any_source && r.sources.empty());
  });
  return scope;
}

bool AccessScope::Allows(int64_t source_facility_id, Category category) const {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const AccessRule& r) { return r.Allows(source_facility_id, category); });
}

std::set<Category> AccessScope::Categories() const {
  std::set<Category> out;
  for (const auto& r : rules) out.insert(r.categories.begin(), r.categories.end());
  return out;
}

ResourceStore::ResourceStore(store::Database& db, const core::Clock& clock)
    : db_(db), clock_(clock) {}

store::MigrationSet ResourceStore::Migrations() {
  return {"clinical.resources",
          {R"sql(
CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  resource_type TEXT NOT NULL,
  source_facility_id BIGINT NOT NULL,
  local_patient_id TEXT NOT NULL,
  source_key TEXT NOT NULL,
  category TEXT NOT NULL,
  code_system TEXT NOT NULL DEFAULT '',
  code TEXT NOT NULL DEFAULT '',
  display TEXT NOT NULL DEFAULT '',
  effective TEXT NOT NULL DEFAULT '',
  effective_end TEXT NOT NULL DEFAULT '',
  source_time BIGINT NOT NULL,
  retracted INTEGER NOT NULL DEFAULT 0,
  json TEXT NOT NULL,
  stored_at BIGINT NOT NULL,
  UNIQUE (source_facility_id, resource_type, source_key)
);
CREATE INDEX resources_patient_effective
  ON resources (source_facility_id, local_patient_id, effective DESC);
CREATE INDEX resources_patient_code ON resources (source_facility_id, local_patient_id, code);
CREATE INDEX resources_type_code ON resources (resource_type, code);
)sql",
           // A patient's timeline, its count and its allergies are
           // read from this index alone: every column they filter
           // or sort on is in it, so the (large) rows are read only
           // for the page itself.
           R"sql(
CREATE INDEX resources_patient_timeline ON resources
  (source_facility_id, local_patient_id, effective DESC, id DESC, category, resource_type,
   retracted);
DROP INDEX resources_patient_effective;
)sql",
           // Lists (the timeline, lab tables, medication checks) read
           // each row's stored summary from this index alone: a
           // patient's page is a few adjacent index pages instead of a
           // table page per row. Rows stored before get their summary
           // from FillSummaries; resources_summary_missing finds them
           // and is empty afterwards.
           R"sql(
ALTER TABLE resources ADD COLUMN summary TEXT NOT NULL DEFAULT '';
CREATE INDEX resources_patient_summary ON resources
  (source_facility_id, local_patient_id, effective DESC, id DESC, category, resource_type,
   retracted, summary);
DROP INDEX resources_patient_timeline;
CREATE INDEX resources_summary_missing ON resources (id) WHERE summary = '';
)sql",
           // Every read names the patient (Plan keeps the planner off
           // this index) or the resource; only a population query, which
           // reads the whole table anyway, could use it, and every
           // stored row paid for one more B-tree entry.
           R"sql(
DROP INDEX resources_type_code;
)sql"}};
}

core::Result<CheckedRecord> ResourceStore::Check(ResourceRecord record, size_t index) {
  TSUNAGU_RETURN_IF_ERROR(ValidateKeys(record, index));
  CheckedRecord checked;
  if (record.json.empty()) {  // a retraction may come without content
    checked.summary_ = EncodeStoredSummary(record, ResourceSummary{});
  } else {
    // One parse for the check and the summary; the document lives in a
    // stack arena for this call only.
    unsigned char arena[8192];
    json::monotonic_resource memory(arena, sizeof arena);
    boost::system::error_code ec;
    json::value v = json::parse(record.json, ec, &memory);
    if (ec || !v.is_object()) {
      return core::InvalidInput("record " + std::to_string(index) + ": json is not a JSON object");
    }
    const json::value* type = v.get_object().if_contains("resourceType");
    if (type == nullptr || !type->is_string() || type->get_string() != record.resource_type) {
      return core::InvalidInput("record " + std::to_string(index) +
                                ": json resourceType does not match resource_type");
    }
    checked.summary_ = EncodeStoredSummary(record, Summarize(record, v));
  }
  checked.record_ = std::move(record);
  return checked;
}

core::Result<CheckedRecord> ResourceStore::Check(ResourceRecord record,
                                                 const ResourceSummary& summary, size_t index) {
  TSUNAGU_RETURN_IF_ERROR(ValidateKeys(record, index));
  if (!record.json.empty()) {
    // Of what the parsing Check refuses, the one thing a producer's own
    // text can get wrong: the type it names.
    std::string head = "{\"resourceType\":\"";
    head += record.resource_type;
    head += '"';
    const std::string_view text = record.json;
    if (!text.starts_with(head) || text.size() <= head.size() ||
        (text[head.size()] != ',' && text[head.size()] != '}') || text.back() != '}') {
      return core::InvalidInput("record " + std::to_string(index) +
                                ": json resourceType does not match resource_type");
    }
  }
  CheckedRecord checked;
  checked.summary_ = EncodeStoredSummary(record, record.json.empty() ? ResourceSummary{} : summary);
  checked.record_ = std::move(record);
  return checked;
}

core::Result<WriteStats> ResourceStore::Write(std::span<const ResourceRecord> records) {
  if (records.size() > kMaxBatch) {
    return core::InvalidInput("too many records in one batch (at most " +
                              std::to_string(kMaxBatch) + ")");
  }
  // Checked (and summarized: a parse of each JSON) before the write lock.
  std::vector<CheckedRecord> checked;
  checked.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    TSUNAGU_ASSIGN_OR_RETURN(CheckedRecord c, Check(records[i], i));
    checked.push_back(std::move(c));
  }
  return Write(std::span<const CheckedRecord>(checked));
}

core::Result<WriteStats> ResourceStore::Write(std::span<const CheckedRecord> records) {
  WriteStats stats;
  if (records.empty()) return stats;
  if (records.size() > kMaxBatch) {
    return core::InvalidInput("too many records in one batch (at most " +
                              std::to_string(kMaxBatch) + ")");
  }
  // One getrandom for the whole batch.
  std::vector<unsigned char> random(records.size() * 8);
  core::RandomBytes(random.data(), random.size());
  const int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin(store::Database::Mode::kWrite));
  // Records are applied in layers: the first record of every key, then the
  // second record of every key that has one, and so on. Within a layer no
  // record can affect another, so a layer is written in runs of a few
  // multi-row statements; a key's records are applied in their order, one
  // layer after the other, which gives the same result as applying the
  // records one by one ("later record wins" included). A batch from the
  // SS-MIX2 import repeats some keys (a patient's ADT messages, new
  // versions of an order): cutting the batch at each repeat instead gave
  // runs of a few records, and a round trip per few rows on PostgreSQL.
  std::vector<std::string> ids(records.size());
  std::vector<std::vector<size_t>> layers(1);
  {
    std::unordered_map<std::string, size_t> occurrences;
    occurrences.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const ResourceRecord& r = records[i].record();
      const size_t layer =
          occurrences[KeyOf(r.source_facility_id, r.resource_type, r.source_key)]++;
      if (layer == layers.size()) layers.emplace_back();
      layers[layer].push_back(i);
      ids[i] = NewResourceId(now, random.data() + 8 * i);
    }
  }
  std::vector<size_t> upserts, retractions;
  for (const std::vector<size_t>& layer : layers) {
    for (size_t at = 0; at < layer.size(); at += kWriteRun) {
      upserts.clear();
      retractions.clear();
      for (size_t k = at; k < std::min(layer.size(), at + kWriteRun); ++k) {
        (records[layer[k]].record().retracted ? retractions : upserts).push_back(layer[k]);
      }
      for (const auto* group : {&upserts, &retractions}) {
        TSUNAGU_RETURN_IF_ERROR(WriteGroup(*tx, records, ids, *group, now, stats));
      }
    }
  }
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  return stats;
}

core::Result<StoredResource> ResourceStore::Get(std::string_view resource_type,
                                                std::string_view id) const {
  if (!IsResourceTypeName(resource_type) || id.empty() || id.size() > 64) {
    return core::NotFound("resource not found");
  }
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query(std::string("SELECT ") + kColumns +
                             " FROM resources WHERE id = ? AND resource_type = ? AND retracted = 0",
                         {std::string(id), std::string(resource_type)}));
  if (rs.empty()) return core::NotFound("resource not found");
  return FromRow(rs.rows[0]);
}

core::Result<std::string> ResourceStore::Read(std::string_view resource_type,
                                              std::string_view id) const {
  TSUNAGU_ASSIGN_OR_RETURN(StoredResource s, Get(resource_type, id));
  return std::move(s.record.json);
}

core::Result<std::vector<StoredResource>> ResourceStore::FindBySourceKeys(
    std::string_view resource_type, std::span<const SourceRef> refs) const {
  std::vector<StoredResource> out;
  if (refs.empty() || !IsResourceTypeName(resource_type)) return out;
  if (refs.size() > static_cast<size_t>(kMaxLimit)) {
    return core::InvalidInput("at most " + std::to_string(kMaxLimit) + " references at once");
  }
  // The type goes into every term: each is then one lookup in the unique
  // (source_facility_id, resource_type, source_key) index. With the type as
  // a condition of its own, SQLite chose (resource_type, code) for a long
  // list, i.e. every resource of that type in the network.
  std::string sql = std::string("SELECT ") + kColumns + " FROM resources WHERE retracted = 0 AND (";
  std::vector<Value> params;
  params.reserve(refs.size() * 3);
  for (size_t i = 0; i < refs.size(); ++i) {
    sql += i ? " OR " : "";
    sql += "(source_facility_id = ? AND resource_type = ? AND source_key = ?)";
    params.emplace_back(refs[i].facility_id);
    params.emplace_back(std::string(resource_type));
    params.emplace_back(refs[i].source_key);
  }
  sql += ")";
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(sql, params));
  out.reserve(rs.size());
  for (const auto& row : rs.rows) out.push_back(FromRow(row));
  return out;
}

// The statements of one search (the count first when asked for, then the
// page), or none when the query cannot match anything.
struct ResourceStore::SearchPlan {
  bool nothing = false;
  std::vector<store::Statement> statements;
  // The page's rows come from this many statements (the last ones), one
  // per link of the patient, each in the page's order: SearchAll merges them.
  size_t page_statements = 1;
  size_t page_offset = 0;  // rows of the merged statements before the page
};

core::Result<ResourceStore::SearchPlan> ResourceStore::Plan(const ResourceQuery& q) const {
  if (q.limit < 1 || q.limit > kMaxLimit) {
    return core::InvalidInput("limit must be between 1 and " + std::to_string(kMaxLimit));
  }
  if (q.offset < 0) return core::InvalidInput("offset must not be negative");
  if (!q.from.empty() && !IsDate(q.from)) return core::InvalidInput("from must be YYYY-MM-DD");
  if (!q.to.empty() && !IsDate(q.to)) return core::InvalidInput("to must be YYYY-MM-DD");
  std::string cursor_effective, cursor_id;
  if (!q.cursor.empty() && !DecodeCursor(q.cursor, cursor_effective, cursor_id)) {
    return core::InvalidInput("cursor is not valid");
  }

  SearchPlan plan;
  if (!q.all_patients && q.patients.empty()) {
    plan.nothing = true;
    return plan;
  }
  // The conditions besides the patient's links, each " AND ...".
  std::string where;
  std::vector<Value> params;
  // For one patient, the (source_facility_id, local_patient_id) indexes must
  // drive the query: a few hundred rows per patient. The other filters are
  // written as expressions no index matches, so that the planner cannot pick
  // "source_facility_id IN (scope)" (every row of a large source) or
  // "(resource_type, code)" (that code for every patient) instead. Both
  // spellings mean the same in SQLite and PostgreSQL.
  const char* source_column = q.all_patients ? "source_facility_id" : "source_facility_id + 0";
  const char* type_column = q.all_patients ? "resource_type" : "resource_type || ''";

  const std::set<Category> wanted(q.categories.begin(), q.categories.end());
  // "category IN (..)" or, when fewer, "category NOT IN" the others ("" for
  // every category): a list of more than two values costs SQLite a
  // temporary B-tree built at every execution, two values are compared
  // in place. The column only ever holds the names of AllCategories().
  auto category_in = [&params](const std::set<Category>& categories) -> std::string {
    std::vector<Category> others;
    for (Category c : AllCategories()) {
      if (!categories.contains(c)) others.push_back(c);
    }
    if (others.empty()) return {};
    const bool negate = others.size() < categories.size();
    if (negate) {
      for (Category c : others) params.emplace_back(std::string(ToString(c)));
      return "category NOT IN " + InList(others.size());
    }
    for (Category c : categories) params.emplace_back(std::string(ToString(c)));
    return "category IN " + InList(categories.size());
  };
  if (q.scope) {
    // Each rule becomes "(category IN (..) AND source_facility_id IN (..))",
    // narrowed to the categories asked for; no rule left means nothing visible.
    std::string rules;
    for (const AccessRule& rule : q.scope->rules) {
      std::set<Category> categories = rule.categories;
      if (!wanted.empty())
        std::erase_if(categories, [&](Category c) { return !wanted.contains(c); });
      if (categories.empty() || (!rule.any_source && rule.sources.empty())) continue;
      std::string rule_sql = category_in(categories);
      if (!rule.any_source) {
        rule_sql += rule_sql.empty() ? "" : " AND ";
        rule_sql += std::string(source_column) + " IN " + InList(rule.sources.size());
        for (int64_t s : rule.sources) params.emplace_back(s);
      }
      rules += rules.empty() ? "(" : " OR (";
      rules += rule_sql.empty() ? "1 = 1" : rule_sql;
      rules += ")";
    }
    if (rules.empty()) {
      plan.nothing = true;
      return plan;
    }
    where += " AND (" + rules + ")";
  } else if (!wanted.empty()) {
    if (std::string in = category_in(wanted); !in.empty()) where += " AND " + in;
  }
  if (!q.source_facilities.empty()) {
    where += std::string(" AND ") + source_column + " IN " + InList(q.source_facilities.size());
    for (int64_t s : q.source_facilities) params.emplace_back(s);
  }
  if (!q.resource_types.empty()) {
    where += std::string(" AND ") + type_column + " IN " + InList(q.resource_types.size());
    for (const auto& t : q.resource_types) params.emplace_back(t);
  }
  if (!q.code.empty()) {
    where += " AND code = ?";
    params.emplace_back(q.code);
    if (!q.code_system.empty()) {
      where += " AND code_system = ?";
      params.emplace_back(q.code_system);
    }
  }
  if (!q.from.empty()) {
    where += " AND effective >= ?";
    params.emplace_back(q.from);
  }
  if (!q.to.empty()) {
    where += " AND effective < ?";
    params.emplace_back(NextDay(q.to));
  }

  const bool desc = q.order == SortOrder::kNewestFirst;
  std::string cursor;
  std::vector<Value> cursor_params;
  if (!q.cursor.empty()) {
    cursor = desc ? " AND (effective < ? OR (effective = ? AND id < ?))"
                  : " AND (effective > ? OR (effective = ? AND id > ?))";
    cursor_params = {Value{cursor_effective}, Value{cursor_effective}, Value{cursor_id}};
  }
  // SELECT `columns` of the links [first, first + count) (all rows for a
  // population query) with the filters; parameters appended to `out`.
  auto select = [&](const std::string& columns, size_t first, size_t count, bool with_cursor,
                    std::vector<Value>& out) {
    std::string sql = "SELECT " + columns + " FROM resources WHERE retracted = 0";
    if (!q.all_patients) {
      sql += " AND (";
      for (size_t i = first; i < first + count; ++i) {
        sql += i > first ? " OR " : "";
        sql += "(source_facility_id = ? AND local_patient_id = ?)";
        out.emplace_back(q.patients[i].facility_id);
        out.emplace_back(q.patients[i].local_id);
      }
      sql += ")";
    }
    sql += where;
    out.insert(out.end(), params.begin(), params.end());
    if (with_cursor) {
      sql += cursor;
      out.insert(out.end(), cursor_params.begin(), cursor_params.end());
    }
    return sql;
  };

  if (q.with_total) {
    std::vector<Value> count_params;
    std::string sql;
    if (q.all_patients || q.patients.size() < 2) {
      sql = select("COUNT(*)", 0, q.patients.size(), false, count_params);
    } else {
      // A patient linked at several facilities: each link counted alone and
      // the counts added (a row belongs to one link). Counted under an OR of
      // the links, PostgreSQL reads every row of the patient from the table
      // to test it; each link alone is counted from resources_patient_summary
      // (an index-only scan, and a covering index on SQLite either way).
      sql = "SELECT ";
      for (size_t i = 0; i < q.patients.size(); ++i) {
        sql += i ? " + (" : "(";
        sql += select("COUNT(*)", i, 1, false, count_params) + ")";
      }
    }
    plan.statements.push_back({std::move(sql), std::move(count_params)});
  }

  const char* order =
      desc ? " ORDER BY effective DESC, id DESC" : " ORDER BY effective ASC, id ASC";
  // With a code, (source_facility_id, local_patient_id, code) finds the few
  // rows of that code, which are then sorted: the order is written so that
  // no index matches it, or SQLite would rather walk all of the patient's
  // entries in date order and read each row to test its code.
  const char* index_order = q.code.empty() ? order
                            : desc         ? " ORDER BY effective || '' DESC, id DESC"
                                           : " ORDER BY effective || '' ASC, id ASC";
  // One row more than asked tells whether another page follows.
  const int64_t rows = int64_t{q.limit} + 1;
  const int64_t offset = q.cursor.empty() ? q.offset : 0;
  const bool sqlite = db_.dialect() == store::Dialect::kSqlite;
  // Lists read every column from resources_patient_summary; other reads
  // page its entries first and then read only the page's rows whole
  // (deferred join; SQLite finds them by rowid, without a second index).
  const std::string columns = q.summaries ? kSummaryColumns
                              : sqlite    ? "rowid AS k, effective, id"
                                          : "id AS k, effective, id";
  std::vector<Value> page_params;
  if (q.summaries && sqlite && !q.all_patients && q.patients.size() > 1) {
    // A list of a patient linked at several facilities, on SQLite: each
    // link's entries read in index order and cut at the page's end by a
    // statement of its own (same read transaction), merged by SearchAll.
    // Within one statement (the UNION ALL below), SQLite would copy each
    // branch into a temporary table first.
    for (size_t i = 0; i < q.patients.size(); ++i) {
      std::vector<Value> link_params;
      std::string sql = select(columns, i, 1, true, link_params) + index_order +
                        store::LimitSql(rows + offset, 0);
      plan.statements.push_back({std::move(sql), std::move(link_params)});
    }
    plan.page_statements = q.patients.size();
    plan.page_offset = static_cast<size_t>(offset);
    return plan;
  }
  std::string page;
  if (q.all_patients || q.patients.size() == 1) {
    page = select(columns, 0, q.patients.size(), true, page_params) + index_order +
           store::LimitSql(rows, offset);
  } else {
    // A patient linked at several facilities: one branch per link, each
    // read in index order and cut at the page's end, then merged. An OR of
    // the links would read all of the patient's entries and sort them.
    std::string branches;
    for (size_t i = 0; i < q.patients.size(); ++i) {
      branches += i ? " UNION ALL " : "";
      branches += "SELECT * FROM (" + select(columns, i, 1, true, page_params) + index_order +
                  store::LimitSql(rows + offset, 0) + ") AS b" + std::to_string(i);
    }
    page = "SELECT * FROM (" + branches + ") AS u" + order + store::LimitSql(rows, offset);
  }
  std::string sql;
  if (q.summaries) {
    sql = std::move(page);
  } else {
    const char* key = sqlite ? "rowid" : "id";
    sql = std::string("SELECT ") + kColumns + " FROM resources WHERE " + key +
          " IN (SELECT k FROM (" + page + ") AS p)" + order;
  }
  plan.statements.push_back({std::move(sql), std::move(page_params)});
  return plan;
}

core::Result<ResourcePage> ResourceStore::Search(const ResourceQuery& q) const {
  TSUNAGU_ASSIGN_OR_RETURN(auto pages, SearchAll({&q, 1}));
  return std::move(pages[0]);
}

core::Result<std::vector<ResourcePage>> ResourceStore::SearchAll(
    std::span<const ResourceQuery> queries) const {
  std::vector<SearchPlan> plans;
  plans.reserve(queries.size());
  std::vector<store::Statement> statements;
  for (const ResourceQuery& q : queries) {
    TSUNAGU_ASSIGN_OR_RETURN(SearchPlan plan, Plan(q));
    for (auto& st : plan.statements) statements.push_back(std::move(st));
    plans.push_back(std::move(plan));
  }
  std::vector<store::ResultSet> results;
  if (!statements.empty()) {
    TSUNAGU_ASSIGN_OR_RETURN(results, db_.QueryBatch(statements));
  }
  std::vector<ResourcePage> pages(queries.size());
  size_t next = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    const ResourceQuery& q = queries[i];
    ResourcePage& page = pages[i];
    if (plans[i].nothing) {
      if (q.with_total) page.total = 0;
      continue;
    }
    if (q.with_total) {
      const store::ResultSet& count = results[next++];
      page.total = count.empty() ? 0 : count.rows[0].Int(0);
    }
    std::vector<const store::Row*> rows;
    if (plans[i].page_statements == 1) {
      for (const store::Row& row : results[next].rows) rows.push_back(&row);
      next += 1;
    } else {
      for (size_t b = 0; b < plans[i].page_statements; ++b) {
        for (const store::Row& row : results[next + b].rows) rows.push_back(&row);
      }
      next += plans[i].page_statements;
      MergeSummaryRows(rows, q.order == SortOrder::kNewestFirst, plans[i].page_offset,
                       static_cast<size_t>(q.limit) + 1);
    }
    const size_t n = std::min(rows.size(), static_cast<size_t>(q.limit));
    page.items.reserve(n);
    for (size_t j = 0; j < n; ++j) {
      page.items.push_back(q.summaries ? FromSummaryRow(*rows[j]) : FromRow(*rows[j]));
    }
    if (rows.size() > n && !page.items.empty()) {
      const auto& last = page.items.back().record;
      page.next_cursor = EncodeCursor(last.effective, last.id);
    }
  }
  TSUNAGU_RETURN_IF_ERROR(SummarizeUnsummarized(queries, pages));
  return pages;
}

// Rows of a summaries query that have no stored summary yet (written before
// summaries were stored, not yet filled): read whole and summarized here.
core::Status ResourceStore::SummarizeUnsummarized(std::span<const ResourceQuery> queries,
                                                  std::vector<ResourcePage>& pages) const {
  std::unordered_map<std::string, StoredResource*> missing;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (!queries[i].summaries) continue;
    for (StoredResource& item : pages[i].items) {
      if (!item.summary) missing.emplace(item.record.id, &item);
    }
  }
  if (missing.empty()) return core::Status::Ok();
  std::vector<Value> ids;
  ids.reserve(missing.size());
  for (const auto& [id, item] : missing) ids.emplace_back(id);
  for (size_t at = 0; at < ids.size(); at += kMaxLimit) {
    const size_t n = std::min(ids.size() - at, static_cast<size_t>(kMaxLimit));
    std::vector<Value> chunk(ids.begin() + static_cast<ptrdiff_t>(at),
                             ids.begin() + static_cast<ptrdiff_t>(at + n));
    TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(std::string("SELECT ") + kColumns +
                                                    " FROM resources WHERE id IN " + InList(n),
                                                chunk));
    for (const auto& row : rs.rows) {
      auto it = missing.find(row.Text(0));
      if (it == missing.end()) continue;
      StoredResource whole = FromRow(row);
      ResourceRecord& rec = it->second->record;
      rec.code_system = std::move(whole.record.code_system);
      rec.code = std::move(whole.record.code);
      rec.display = std::move(whole.record.display);
      rec.effective_end = std::move(whole.record.effective_end);
      it->second->summary = Summarize(whole.record);
    }
  }
  // A row gone in between (not possible within a read, but cheap to keep
  // safe): shown with an empty summary rather than failing the page.
  for (auto& [id, item] : missing) {
    if (!item->summary) item->summary.emplace();
  }
  return core::Status::Ok();
}

core::Result<size_t> ResourceStore::FillSummaries(std::string& after_id, size_t batch) {
  batch = std::clamp<size_t>(batch, 1, kMaxLimit);
  // resources_summary_missing holds exactly the rows to fill.
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query(std::string("SELECT ") + kColumns +
                             " FROM resources WHERE summary = '' AND id > ? ORDER BY id" +
                             store::LimitSql(static_cast<int64_t>(batch), 0),
                         {after_id}));
  if (rs.empty()) return size_t{0};
  std::string sql = "UPDATE resources SET summary = CASE id";
  std::vector<Value> params;
  params.reserve(rs.rows.size() * 3);
  for (const auto& row : rs.rows) {
    const StoredResource whole = FromRow(row);
    sql += " WHEN ? THEN ?";
    params.emplace_back(whole.record.id);
    params.emplace_back(EncodeStoredSummary(whole.record, Summarize(whole.record)));
  }
  // Only rows still without one: a row rewritten since carries its own.
  sql += " END WHERE summary = '' AND id IN " + InList(rs.rows.size());
  for (const auto& row : rs.rows) params.emplace_back(row.Text(0));
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin(store::Database::Mode::kWrite));
  TSUNAGU_RETURN_IF_ERROR(tx->Execute(sql, params));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  after_id = rs.rows.back().Text(0);
  return rs.rows.size();
}

}  // namespace tsunagu::clinical
