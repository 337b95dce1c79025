#pragma once
// Reads the fields a timeline shows from a stored FHIR R4 (JP Core)
// resource: medication dose / unit / frequency / days / route, lab value /
// unit / reference range / abnormal flag, condition status, and so on.
// Tolerant: a field that is absent or of an unexpected shape is left empty.
// Pure functions; thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clinical/resource.hpp"

namespace boost::json {
class object;
class value;
}  // namespace boost::json

namespace tsunagu::clinical {

// The code system the network uses for YJ codes (個別医薬品コード, 12
// characters; the first 7 name the ingredient). IsYjCodeSystem also accepts
// the other spellings seen in the field.
inline constexpr std::string_view kYjCodeSystem = "urn:oid:1.2.392.100495.20.1.73";
bool IsYjCodeSystem(std::string_view system);

struct LabValue {
  bool operator==(const LabValue&) const = default;
  std::optional<double> value;  // valueQuantity.value (or a numeric valueString)
  std::string value_text;       // the value as shown ("5.6", "陰性", "<0.5")
  std::string unit;
  std::optional<double> low, high;  // referenceRange[0]
  std::string range_text;           // referenceRange[0].text or "low-high"
  std::string flag;                 // interpretation code: H, L, HH, LL, A, ... or ""
  bool abnormal = false;            // flag other than N, or the value outside low..high
};

struct MedicationInfo {
  bool operator==(const MedicationInfo&) const = default;
  std::string name;       // medication text
  std::string yj_code;    // "" when the resource carries no YJ code
  std::string dose;       // "1"
  std::string unit;       // "錠"
  std::string frequency;  // "1日3回毎食後"
  std::string days;       // supply days, "14"
  std::string route;      // "内服"
  std::string quantity;   // total quantity with unit, "42錠"
};

struct ResourceSummary {
  // Ordered key/value pairs to display (keys in snake_case; docs/api.md).
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<LabValue> lab;               // Observation with a value
  std::optional<MedicationInfo> medication;  // MedicationRequest / Dispense / Administration
  bool operator==(const ResourceSummary&) const = default;
};

// An Observation's summary from what was read from it (or mapped into it):
// `lab` holds the value (value, value_text, unit), the first reference
// range (low, high; range_text only when the range is text) and the
// interpretation's code (flag, "" when none). Makes the range text from low
// and high, derives the flag from the range when none is given and sets
// abnormal. Summarize reads an Observation's JSON into it; a producer that
// writes its Observation directly calls it with the values it wrote.
ResourceSummary SummarizeLab(LabValue lab, const std::string& status);

// Never fails: unreadable JSON gives an empty summary.
ResourceSummary Summarize(const ResourceRecord& record);
// The same from record.json parsed already (a caller that parses it anyway).
ResourceSummary Summarize(const ResourceRecord& record, const boost::json::value& parsed);
// The same from the resource's members. resourceType, meta and identifier
// are not read, so a producer may pass the members it wrote besides those.
ResourceSummary Summarize(const ResourceRecord& record, const boost::json::object& resource);

// What a list of resources shows of each one besides its key columns,
// stored with the resource at write time (ResourceStore's "summary" column)
// so that a timeline page is read from an index alone, without the JSON:
// code_system, code, display, effective_end and the summary, as compact JSON
// of at most kMaxStoredSummary bytes (when longer, every text is cut at a
// character boundary and ends in "…"; the resource itself keeps it all).
inline constexpr size_t kMaxStoredSummary = 1800;
std::string EncodeStoredSummary(const ResourceRecord& record, const ResourceSummary& summary);
// Sets record.code_system, code, display and effective_end and the summary
// from EncodeStoredSummary's text. False, changing nothing, for other text.
bool DecodeStoredSummary(std::string_view text, ResourceRecord& record, ResourceSummary& summary);

// "5", "5.25", "-0.3": a number without trailing zeros.
std::string FormatNumber(double value);

}  // namespace tsunagu::clinical
