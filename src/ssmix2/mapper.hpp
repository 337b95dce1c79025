#pragma once
// SS-MIX2 standardized storage messages -> FHIR R4 resources (JP Core),
// following the JAMI SS-MIX2 -> FHIR mapping guide where it exists.
// Pure: no storage. Thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "clinical/fhir_summary.hpp"
#include "clinical/resource.hpp"
#include "core/status.hpp"
#include "hl7v2/message.hpp"

namespace tsunagu::ssmix2 {

// Where a message came from (from the storage path / file name, or MLLP).
struct SourceContext {
  int64_t facility_id = 0;
  std::string facility_code;  // 10-digit medical institution code ("" if none)
  std::string patient_id;     // local patient ID (file name / PID-3)
  std::string data_type;      // SS-MIX2 data type, e.g. "OML-11" ("" = from MSH-9)
  std::string order_number;   // from the file name ("" = from the message)
  int64_t file_time = 0;      // file-name timestamp, ms UTC (0 = MSH-7)
  bool cancelled = false;     // condition flag 0 in the file name
};

// Maps one message to resources. InvalidInput (with a reason) for a message
// that cannot be mapped: unknown message type, missing PID, invalid dates,
// missing required fields. All records carry the source context.
core::Result<std::vector<clinical::ResourceRecord>> MapMessage(const hl7v2::Message& message,
                                                               const SourceContext& context);

// MapMessage, with each record's summary (summaries[i] is records[i]'s)
// taken from the document its json was written from, for
// clinical::ResourceStore::Check without parsing the json again.
struct MappedMessage {
  std::vector<clinical::ResourceRecord> records;
  std::vector<clinical::ResourceSummary> summaries;
};
core::Result<MappedMessage> MapMessageSummarized(const hl7v2::Message& message,
                                                 const SourceContext& context);

}  // namespace tsunagu::ssmix2
