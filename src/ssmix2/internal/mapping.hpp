#pragma once
// Shared state and per-message-family mappers behind ssmix2::MapMessage.
// Internal to the ssmix2 mapping; thread-safe (no shared mutable state).
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/fhir_summary.hpp"
#include "clinical/resource.hpp"
#include "core/status.hpp"
#include "hl7v2/message.hpp"
#include "hl7v2/timestamp.hpp"
#include "ssmix2/internal/fhir_json.hpp"
#include "ssmix2/mapper.hpp"

namespace tsunagu::ssmix2::internal {

// Room for a resource's members, made when its object is created: grown a
// member at a time, an object reallocates its table seven times on the way
// to 13 members (capacity 1, 2, 3, 4, 6, 9, 13).
inline constexpr size_t kBodyMembers = 16;

inline constexpr std::string_view kJpCore = "http://jpfhir.jp/fhir/core/StructureDefinition/";

struct MappingContext {
  const hl7v2::Message* message = nullptr;
  const SourceContext* source = nullptr;
  const hl7v2::Segment* pid = nullptr;
  std::string data_type;     // resolved SS-MIX2 data type ("OMP-01")
  std::string patient_id;    // resolved local patient ID
  std::string id_system;     // system of the local patient ID
  int64_t source_time = 0;   // ms UTC
  std::string message_time;  // FHIR dateTime of MSH-7 ("" when absent)
  // When set (MapMessageSummarized), Finish appends each record's summary.
  struct Summarized {
    std::string resource_type, source_key;  // whose summary it is
    clinical::ResourceSummary summary;
  };
  std::vector<Summarized>* summaries = nullptr;

  // {"identifier": {"system": id_system, "value": patient_id}}
  boost::json::object SubjectRef() const;
  // The order number for a group: the file name's, else ORC-2, ORC-3,
  // OBR-2, OBR-3 (component 1), else "-".
  std::string OrderNumber(const hl7v2::Segment* orc, const hl7v2::Segment* obr = nullptr) const;
  int64_t facility_id() const { return source->facility_id; }
};

// Starts a record with the index fields every mapper fills the same way.
clinical::ResourceRecord NewRecord(const MappingContext& ctx, std::string_view resource_type,
                                   clinical::Category category, std::string_view order_number,
                                   std::string_view item);
// Writes record.json: resourceType, meta (profile, source) and, except for
// a Patient, an identifier holding the source key (followed by the body's
// "identifier" array, if any), then the members of `body` in order. The
// body's own "resourceType" and "meta", and outside a Patient an
// "identifier" that is not an array, are not written. With ctx.summaries
// set, also summarizes the record from `body` (the record's code fields
// must be final by then).
void Finish(const MappingContext& ctx, clinical::ResourceRecord& record, std::string_view profile,
            const boost::json::object& body);
// The same written directly, for a mapper that writes its members itself:
// BeginResource writes the head (no identifier besides the source key) and
// returns record.json, left open; the mapper appends each member as
// `,"name":value`; EndResource closes the object and, with ctx.summaries
// set, keeps `summary`, which must be what clinical::Summarize reads from
// the written resource (the golden tests check that it is).
std::string& BeginResource(const MappingContext& ctx, clinical::ResourceRecord& record,
                           std::string_view profile);
void EndResource(const MappingContext& ctx, clinical::ResourceRecord& record,
                 clinical::ResourceSummary summary);
void SetPrimaryCode(clinical::ResourceRecord& record, const std::vector<Code>& codes);

// Parses an optional HL7 date/time field: nullopt when empty, InvalidInput
// when present and malformed (the reason names `what`, e.g. "TQ1-7").
core::Result<std::optional<hl7v2::Timestamp>> OptionalTime(std::string_view value,
                                                           std::string_view what);

// One mapper per message family. Each returns at least one record or
// InvalidInput naming the missing segment.
core::Result<std::vector<clinical::ResourceRecord>> MapPatient(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapAllergies(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapConditions(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapEncounter(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapMedicationOrders(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapMedicationRecords(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapLabResults(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapServiceRequests(const MappingContext& ctx);
core::Result<std::vector<clinical::ResourceRecord>> MapReports(const MappingContext& ctx);

}  // namespace tsunagu::ssmix2::internal
