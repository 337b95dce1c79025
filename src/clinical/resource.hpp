#pragma once
// A clinical resource as stored: the FHIR R4 JSON (JP Core) plus the index
// fields that the timeline, the FHIR search and the access check read.
// Data of a local patient ID stays invisible outside its facility until the
// master patient index links that ID to a regional patient.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tsunagu::clinical {

// Data categories: the unit of access control (consent x occupation) and of
// timeline filters. Strings: see ToString.
enum class Category {
  kPatientInfo,     // "patient_info"   Patient demographics from a source
  kAllergy,         // "allergy"        AllergyIntolerance
  kCondition,       // "condition"      Condition (disease names)
  kPrescription,    // "prescription"   MedicationRequest (oral/external)
  kInjection,       // "injection"      MedicationRequest (injection)
  kDispensing,      // "dispensing"     MedicationDispense (hospital or pharmacy)
  kAdministration,  // "administration" MedicationAdministration
  kImmunization,    // "immunization"   Immunization
  kLabResult,       // "lab_result"     Observation (+ DiagnosticReport of labs)
  kReport,          // "report"         DiagnosticReport (imaging, endoscopy, physiology)
  kEncounter,       // "encounter"      Encounter (visit, admission, discharge)
  kOrder,           // "order"          ServiceRequest
  kDocument,        // "document"       DocumentReference (+ Binary)
};
std::string_view ToString(Category c);
std::optional<Category> ParseCategory(std::string_view s);
// Every category, in declaration order.
std::span<const Category> AllCategories();

struct ResourceRecord {
  std::string resource_type;  // FHIR type, e.g. "Observation"
  std::string id;             // logical id; assigned on first store, kept on update
  int64_t source_facility_id = 0;
  std::string local_patient_id;  // the source facility's patient ID
  // Unique per (source facility, resource_type): a later record with the
  // same key supersedes (if its source_time is not older) or retracts it.
  // SS-MIX2: "<data type>|<order number>|<item>" (e.g. "OML-11|0001234|3").
  std::string source_key;
  Category category = Category::kPatientInfo;
  std::string code_system;  // e.g. "urn:oid:1.2.392.200119.4.504" (JLAC10)
  std::string code;
  std::string display;        // human-readable text of the code
  std::string effective;      // ISO 8601 date or date-time; the sort key
  std::string effective_end;  // end of a period (medication days) or ""
  int64_t source_time = 0;    // message timestamp, ms UTC
  bool retracted = false;     // cancelled at the source (SS-MIX2 condition flag 0)
  std::string json;           // the FHIR resource; "subject" names the local patient
};

}  // namespace tsunagu::clinical
