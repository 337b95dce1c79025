#pragma once
// Imports an SS-MIX2 standardized storage tree into the clinical resource
// store: the calling thread walks the tree down to the patient directories;
// a few reader threads each list one patient directory, read its new or
// changed files (asking the kernel to read them ahead) and parse and map
// them; the calling thread takes their results in walk order (streaming: a
// bounded number of patient directories in memory at a time, files of a
// patient in path order) and hands batches of records to a writer thread
// (clinical::ResourceStore::Write, one transaction per batch) through a
// bounded queue.
//
// Resumable and idempotent: the table ssmix2_import_state(facility_id, dir,
// path, size, mtime, status, reason, imported_at) remembers every file that
// was stored or quarantined; a later run skips files whose size and mtime are
// unchanged, so an interrupted run (even kill -9) continues where it
// stopped. A file's state is written only after its records are committed;
// a crash between the two re-imports those files, which the store reports as
// unchanged. Newer versions of an order (later file-name timestamp)
// supersede older ones in the store; condition flag 0 retracts.
//
// Bad files (path not in the standard layout, too large, unparseable,
// unmappable, rejected by the store) contribute no record; they are reported
// with a reason and copied (the source storage belongs to the EHR and is
// never modified) to the quarantine directory with a "<file>.reason.txt".
//
// Thread-safety: one Import/Watch at a time per object; callbacks run on the
// importing thread. Ownership: borrows the database, the store and the clock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/resource.hpp"
#include "clinical/resource_store.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "ssmix2/mapper.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::ssmix2 {

struct ImportProgress {
  int64_t files_done = 0;            // stored + unchanged + quarantined + deferred
  int64_t files_total_estimate = 0;  // files counted so far by a parallel walk
  bool total_final = false;          // the count walk has finished
  int64_t messages = 0;              // messages parsed and mapped
  double messages_per_second = 0;
  int64_t eta_seconds = -1;  // -1 while unknown
  int64_t elapsed_millis = 0;
  bool finished = false;  // the last report of a run
};

struct QuarantinedFile {
  std::string path;    // relative to the storage root
  std::string reason;  // names the segment / line or the path part; no patient data
  std::string copy;    // where the copy went ("" when no quarantine directory)
};

struct ImportSummary {
  int64_t files_seen = 0;
  int64_t files_imported = 0;     // records committed (state "imported")
  int64_t files_unchanged = 0;    // skipped: imported before with the same size and mtime
  int64_t files_quarantined = 0;  // new bad files in this run
  int64_t files_deferred = 0;     // modified within the settle time; picked up later
  int64_t messages = 0;
  clinical::WriteStats records;              // summed over all batches
  std::vector<QuarantinedFile> quarantined;  // the first kMaxListed of this run
  int64_t elapsed_millis = 0;
  static constexpr size_t kMaxListed = 1000;
};

struct ImportOptions {
  int64_t facility_id = 0;     // required: the source facility
  std::string facility_code;   // 10-digit institution code (for the mapping context)
  std::string quarantine_dir;  // "" = report only, copy nothing
  uint64_t max_file_bytes = 16ull << 20;
  size_t batch_records = 5000;  // records per store transaction (1..ResourceStore::kMaxBatch)
  size_t queue_batches = 4;     // bound of the reader -> writer queue
  bool rescan = false;          // ignore the import state: re-read every file
  int64_t settle_millis = 0;    // files modified more recently are deferred
  int64_t progress_interval_millis = 1000;
  std::function<void(const ImportProgress&)> on_progress;
  std::function<void(const QuarantinedFile&)> on_quarantine;
};

class Ssmix2Importer {
 public:
  Ssmix2Importer(store::Database& db, clinical::ResourceStore& resources,
                 const core::Clock& clock = core::SystemClock::Instance());
  // Module "ssmix2": the table ssmix2_import_state.
  static store::MigrationSet Migrations();

  // One walk over `root`. Errors: InvalidInput for a missing root, a zero
  // facility or bad options; Unavailable / Internal when storage fails (the
  // run stops; everything committed so far stays and is skipped next time).
  // Bad files are not errors: see ImportSummary.
  core::Result<ImportSummary> Import(const std::string& root, const ImportOptions& options);

  // Import, then re-walk every `poll` until `stop` becomes true (checked at
  // least every 200 ms). Files modified within the last second are deferred
  // to a later poll (the EHR may still be writing them), whatever
  // options.settle_millis says. Returns the summary of all walks.
  core::Result<ImportSummary> Watch(const std::string& root, const ImportOptions& options,
                                    std::chrono::milliseconds poll, const std::atomic<bool>& stop);

 private:
  store::Database& db_;
  clinical::ResourceStore& resources_;
  const core::Clock& clock_;
};

// Splits bytes holding one or more HL7 messages at every segment that starts
// with "MSH" (after CR, LF or at the start). Empty parts are dropped.
std::vector<std::string_view> SplitMessages(std::string_view bytes);

// Parses and maps one message and checks its records as the store will
// (clinical::ResourceStore::Check). InvalidInput with the parser's /
// mapper's reason (which names the segment or line), or the store's.
core::Result<std::vector<clinical::CheckedRecord>> ParseAndMap(std::string_view raw,
                                                               const SourceContext& context);

// Copies `source` to <quarantine_dir>/<relative> and writes
// <quarantine_dir>/<relative>.reason.txt. Returns the copy's path.
core::Result<std::string> QuarantineCopy(const std::string& quarantine_dir,
                                         const std::string& source, const std::string& relative,
                                         const std::string& reason);

}  // namespace tsunagu::ssmix2
