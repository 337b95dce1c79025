#pragma once
// JAHIS notebook -> FHIR R4 MedicationDispense (JP Core) records for the
// clinical ResourceStore: one record per drug of each RP of each
// dispensing event. Pure and thread-safe.
//
// Each record: category dispensing; effective = the dispensing date (record
// 5); effective_end = date + days - 1 when the RP is dispensed in 日分;
// code = the YJ code (clinical::kYjCodeSystem) when the code type is YJ,
// else the code under its own system; source key
// "JAHIS|<YYYYMMDD>|<pharmacy institution code>|<RP>|<drug index>" so that
// uploading the same file again changes nothing. A second event of the same
// date and pharmacy in one file gets "/2", "/3" after the pharmacy code.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/resource.hpp"
#include "jahis/notebook.hpp"

namespace tsunagu::jahis {

// Code systems of the drug code types (docs/jahis.md).
inline constexpr std::string_view kReceiptDrugCodeSystem = "urn:oid:1.2.392.100495.20.2.71";
inline constexpr std::string_view kMhlwDrugCodeSystem = "urn:oid:1.2.392.100495.20.2.74";
inline constexpr std::string_view kDosageFormSystem = "urn:tsunagu:codesystem:jahis-dosage-form";

// Where the records go.
struct MappingTarget {
  int64_t facility_id = 0;       // the uploading facility: the records' source
  std::string facility_code;     // its medical institution code ("" = none)
  std::string local_patient_id;  // the patient's ID at that facility
};

// One record and where it came from in the notebook.
struct MappedDispense {
  clinical::ResourceRecord record;
  size_t event = 0;  // index into Notebook::events
  size_t rp = 0;     // index into DispensingEvent::rps
  size_t drug = 0;   // index into NotebookRp::drugs
};

// The code system URI of a drug code type and code ("" for no code).
std::string DrugCodeSystem(int code_type, std::string_view code);

std::vector<MappedDispense> MapDispenses(const Notebook& notebook, const MappingTarget& target);

}  // namespace tsunagu::jahis
