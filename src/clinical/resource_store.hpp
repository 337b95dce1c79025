#pragma once
// Storage of clinical resources: the FHIR JSON plus the index columns that
// the timeline, the FHIR search and the access check read. Owns the table
// "resources". Nothing here decides who may see what: callers pass the
// patient's local IDs (resolved through the master patient index) and the
// viewer's AccessScope, and the store applies both in SQL.
//
// Rows are keyed by (source_facility_id, resource_type, source_key). A later
// record with the same key supersedes the stored one unless its source_time is
// older; a retraction keeps the row (retracted = 1), which hides it from every
// read. Data of a local patient ID that no regional patient links to is stored
// but reachable only through that (facility, local ID) pair: linking it later
// makes it visible at once, without rewriting a row.
//
// Thread-safety: safe to share between threads (stateless over the Database).
// Ownership: borrows the database and the clock; both must outlive the store.
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/fhir_summary.hpp"
#include "clinical/resource.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::consent {
class AccessGrant;
}

namespace tsunagu::clinical {

// What one Write() call did, per record.
struct WriteStats {
  int64_t inserted = 0;       // new key
  int64_t updated = 0;        // content replaced by a newer (or equally new) record
  int64_t unchanged = 0;      // same content re-imported (idempotent)
  int64_t retracted = 0;      // hidden by a retraction (or a retraction stored first)
  int64_t older_ignored = 0;  // older than the stored record: dropped
  bool operator==(const WriteStats&) const = default;
};

// One local patient: a facility's patient ID.
struct LocalPatient {
  int64_t facility_id = 0;
  std::string local_id;
};

// One access rule: these categories from these sources.
struct AccessRule {
  std::set<Category> categories;
  std::set<int64_t> sources;
  bool any_source = false;
  bool Allows(int64_t source_facility_id, Category category) const;
};

// What a viewer may see of one patient: the union of its rules. Built from
// the consent module's AccessGrant (the one access check) and applied in SQL.
struct AccessScope {
  std::vector<AccessRule> rules;
  // Rule 1: the grant's categories from its sources; rule 2: prescription and
  // dispensing data from its medication sources (dispensing consents).
  static AccessScope FromGrant(const consent::AccessGrant& grant);
  bool Allows(int64_t source_facility_id, Category category) const;
  // Every category some rule allows from some source.
  std::set<Category> Categories() const;
};

// A record that passed the store's checks, with its list summary: made by
// ResourceStore::Check, which does all the JSON work of a write, so that a
// caller with several threads (the SS-MIX2 importer) can do it outside the
// single writer. Only Check makes one.
class CheckedRecord {
 public:
  const ResourceRecord& record() const { return record_; }
  const std::string& summary() const { return summary_; }  // stored form

 private:
  friend class ResourceStore;
  CheckedRecord() = default;
  ResourceRecord record_;
  std::string summary_;
};

enum class SortOrder { kNewestFirst, kOldestFirst };

struct ResourceQuery {
  // The patient: every (facility, local ID) linked to the regional patient.
  // Required unless all_patients is set (an empty list matches nothing).
  std::vector<LocalPatient> patients;
  bool all_patients = false;  // population queries (the caller restricts otherwise)
  // Applied in SQL: rows outside the scope are never returned or counted.
  std::optional<AccessScope> scope;
  std::vector<Category> categories;         // any of; empty = all
  std::vector<std::string> resource_types;  // any of; empty = all
  std::string code_system;                  // with code; "" = any system
  std::string code;                         // "" = any code
  std::string from;                         // effective >= this date (YYYY-MM-DD); "" = open
  std::string to;                           // effective on or before this date; "" = open
  std::vector<int64_t> source_facilities;   // any of; empty = all
  SortOrder order = SortOrder::kNewestFirst;
  int limit = 50;           // 1..ResourceStore::kMaxLimit
  int offset = 0;           // ignored when cursor is set
  std::string cursor;       // ResourcePage::next_cursor of the previous page
  bool with_total = false;  // also count all matches (one more query)
  // Rows as lists show them (the timeline, lab tables, medication checks):
  // the record's id, resource_type, source_facility_id, local_patient_id,
  // category, effective, code_system, code, display and effective_end, and
  // the summary, all read from one index; no JSON (record.json, source_key
  // and source_time empty, stored_at 0).
  bool summaries = false;
};

struct StoredResource {
  ResourceRecord record;                   // id set; json carries "id" and meta.lastUpdated
  int64_t stored_at = 0;                   // ms UTC of the last change
  std::optional<ResourceSummary> summary;  // ResourceQuery::summaries only
};

struct ResourcePage {
  std::vector<StoredResource> items;
  std::string next_cursor;       // "" when this is the last page
  std::optional<int64_t> total;  // with_total only
};

class ResourceStore {
 public:
  static constexpr int kMaxLimit = 1000;
  static constexpr size_t kMaxBatch = 20000;

  ResourceStore(store::Database& db, const core::Clock& clock);
  static store::MigrationSet Migrations();

  // Stores a batch in one write transaction (group commit). Records are
  // applied in order, so a later record of the same key in the batch wins
  // unless it is older. Errors: InvalidInput naming the first bad record
  // (missing resource_type / facility / local patient / source key, JSON that
  // is not an object of that resourceType, more than kMaxBatch records) —
  // nothing is written then; Unavailable / Internal on storage failure
  // (nothing is written either).
  core::Result<WriteStats> Write(std::span<const ResourceRecord> records);
  // Checks one record as Write does (the error names it "record <index>")
  // and summarizes it. Any thread; no database access.
  static core::Result<CheckedRecord> Check(ResourceRecord record, size_t index = 0);
  // The same for a producer that wrote record.json itself from a document
  // and summarized that document (Summarize): its summary is taken as it
  // is, and record.json is not parsed again. record.json must be that
  // document's text, starting {"resourceType":"<resource_type>", (or empty).
  static core::Result<CheckedRecord> Check(ResourceRecord record, const ResourceSummary& summary,
                                           size_t index);
  // Write for records checked already: the transaction only. InvalidInput
  // for more than kMaxBatch records.
  core::Result<WriteStats> Write(std::span<const CheckedRecord> records);

  // The FHIR JSON with "id" set. NotFound for an unknown or retracted
  // resource. No access check: callers check the returned record first (Get).
  core::Result<std::string> Read(std::string_view resource_type, std::string_view id) const;
  // The record with its index fields (for the access check) and JSON.
  core::Result<StoredResource> Get(std::string_view resource_type, std::string_view id) const;

  // The non-retracted resources of one type with these (source facility,
  // source key) pairs, in no particular order; unknown keys are skipped. At
  // most kMaxLimit keys. No access check: callers filter the records.
  struct SourceRef {
    int64_t facility_id = 0;
    std::string source_key;
  };
  core::Result<std::vector<StoredResource>> FindBySourceKeys(std::string_view resource_type,
                                                             std::span<const SourceRef> refs) const;

  // Matching non-retracted resources, sorted by effective then id. Errors:
  // InvalidInput for a bad limit, offset, date or cursor; Internal on storage
  // failure.
  core::Result<ResourcePage> Search(const ResourceQuery& query) const;
  // Several searches read together (one snapshot; one round trip on
  // PostgreSQL); the pages in the order of the queries. Fails as a whole.
  core::Result<std::vector<ResourcePage>> SearchAll(std::span<const ResourceQuery> queries) const;

  // Writes the stored summary of rows written before it existed (migration 3
  // left them without one): up to `batch` such rows after `after_id`, in id
  // order; `after_id` moves past them. Returns how many were filled, 0 when
  // none is left (then at the cost of one empty index lookup). Safe while
  // others write: a row rewritten meanwhile keeps its own summary. Reads are
  // correct before and after: a row without a summary is summarized from its
  // JSON when read.
  core::Result<size_t> FillSummaries(std::string& after_id, size_t batch = 500);

 private:
  struct SearchPlan;
  core::Result<SearchPlan> Plan(const ResourceQuery& query) const;
  core::Status SummarizeUnsummarized(std::span<const ResourceQuery> queries,
                                     std::vector<ResourcePage>& pages) const;

  store::Database& db_;
  const core::Clock& clock_;
};

// Sets "id" (and meta.lastUpdated when stored_at > 0) in a stored FHIR JSON
// object. Returns the input unchanged if it is not a JSON object.
std::string WithResourceId(const std::string& json, const std::string& id, int64_t stored_at);

}  // namespace tsunagu::clinical
