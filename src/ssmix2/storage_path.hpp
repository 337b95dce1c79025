#pragma once
// SS-MIX2 standardized storage paths:
//   <root>/<pid[0:3]>/<pid[3:6]>/<pid>/<YYYYMMDD | "-">/<data type>/<file>
// with the file name
//   <pid>_<YYYYMMDD | "-">_<data type>_<order no>_<YYYYMMDDHHMMSSfff>_<dept>_<flag>
// (flag 1 = valid, 0 = cancelled). Pure functions, thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::ssmix2 {

struct StoragePath {
  std::string patient_id;    // local patient ID of the source facility
  std::string date;          // "YYYYMMDD" (date of care) or "-" (no date)
  std::string data_type;     // e.g. "OML-11"
  std::string order_number;  // "-" when the data has no order
  std::string timestamp;     // "YYYYMMDDHHMMSSfff" as written (Japan time)
  int64_t time_millis = 0;   // the timestamp as ms since the epoch, UTC
  std::string department;    // department code, "-" when none
  bool cancelled = false;    // condition flag 0
  std::string relative;      // the path below the root, '/'-separated
  // The patient directory below the root ("012/345/0123456789").
  std::string PatientDir() const;
};

// Parses a file name alone. InvalidInput with a reason naming the part that
// is wrong (field count, patient ID, date, data type, timestamp, flag).
core::Result<StoragePath> ParseStorageFileName(std::string_view file_name);

// Parses a path relative to the storage root ('/'-separated, six parts) and
// checks that the directories agree with the file name. InvalidInput with a
// reason otherwise.
core::Result<StoragePath> ParseStoragePath(std::string_view relative_path);

// The relative path of a file name's standard location.
std::string StandardRelativePath(const StoragePath& p);

// "YYYYMMDDHHMMSSfff" (Japan time, 14 to 17 digits) -> ms UTC; InvalidInput
// for a malformed or impossible date/time.
core::Result<int64_t> ParseJstTimestamp(std::string_view digits);

// True for "AAA-NN" (three upper-case letters, '-', two digits).
bool IsDataTypeShape(std::string_view data_type);

}  // namespace tsunagu::ssmix2
