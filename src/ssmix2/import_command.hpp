#pragma once
// Command-line entry points of the importers, independent of src/app:
//   tsunagu import ss-mix2 --facility CODE [--watch] [--poll SECONDS] [--rescan]
//                          [--quarantine DIR] [--max-file-mb N] DIR
//   tsunagu import hl7 --facility CODE FILE...
// The Take* functions remove the arguments they own from `args` and leave
// the rest (--data, --db, ...) for the application's configuration parser.
// Exit codes: 0 done (bad files are reported, not fatal), 2 usage error or
// unknown facility, 1 fatal error (storage unavailable, unreadable root).
#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/resource_store.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "registry/facility_service.hpp"
#include "registry/types.hpp"
#include "store/database.hpp"

namespace tsunagu::ssmix2 {

struct ImportDeps {
  store::Database& db;
  clinical::ResourceStore& resources;
  registry::FacilityService& facilities;
  std::string data_dir;  // default quarantine: <data_dir>/quarantine/ss-mix2/<facility code>
  const core::Clock& clock = core::SystemClock::Instance();
  // --watch runs until this becomes true (the caller's SIGINT/SIGTERM handler
  // sets it); nullptr = watch until killed.
  const std::atomic<bool>* stop = nullptr;
  bool progress_tty = false;  // render a \r progress bar instead of periodic lines
};

struct Ssmix2ImportArgs {
  std::string facility_code;
  std::string root;
  std::string quarantine_dir;  // "" = default under the data dir
  bool watch = false;
  bool rescan = false;
  int poll_seconds = 5;
  uint64_t max_file_bytes = 16ull << 20;
};

struct Hl7ImportArgs {
  std::string facility_code;
  std::vector<std::string> files;
};

// InvalidInput (usage text in the message) for a missing --facility / DIR,
// a bad number or a second positional argument.
core::Result<Ssmix2ImportArgs> TakeSsmix2ImportArgs(std::vector<std::string>& args);
core::Result<Hl7ImportArgs> TakeHl7ImportArgs(std::vector<std::string>& args);

// The facility with this medical institution code. NotFound when there is
// none; Forbidden when it is suspended.
core::Result<registry::Facility> FindFacilityByCode(registry::FacilityService& facilities,
                                                    std::string_view code);

// Runs the import, writing progress and the summary to `out` and bad files
// to `err`. The database must have the clinical and ssmix2 migrations.
int RunImportSsmix2(const ImportDeps& deps, const Ssmix2ImportArgs& args, std::ostream& out,
                    std::ostream& err);
// One file may hold one message or several (each starting with an MSH
// segment). A bad message is reported and skipped; the records of a file's
// good messages are stored in one transaction.
int RunImportHl7(const ImportDeps& deps, const Hl7ImportArgs& args, std::ostream& out,
                 std::ostream& err);

extern const char* const kImportUsage;

}  // namespace tsunagu::ssmix2
