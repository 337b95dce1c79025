#include "fhir/resource_types.hpp"

#include <array>
#include <string>

namespace tsunagu::fhir {
namespace {

using clinical::Category;

const std::vector<ResourceType>& Table() {
  static const std::vector<ResourceType> kTypes = {
      {"AllergyIntolerance",
       {Category::kAllergy},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_AllergyIntolerance",
       {"date", "onset"},
       {"code"},
       "patient"},
      {"Condition",
       {Category::kCondition},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Condition",
       {"date", "onset-date", "recorded-date"},
       {"code"},
       "subject"},
      {"Observation",
       {Category::kLabResult},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_LabResult",
       {"date"},
       {"code"},
       "subject"},
      {"DiagnosticReport",
       {Category::kLabResult, Category::kReport},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_DiagnosticReport_Common",
       {"date", "issued"},
       {"code"},
       "subject"},
      {"MedicationRequest",
       {Category::kPrescription, Category::kInjection},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationRequest",
       {"date", "authoredon"},
       {"code", "medication"},
       "subject"},
      {"MedicationDispense",
       {Category::kDispensing},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationDispense",
       {"date", "whenhandedover", "whenprepared"},
       {"code", "medication"},
       "subject"},
      {"MedicationAdministration",
       {Category::kAdministration},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationAdministration",
       {"date", "effective-time"},
       {"code", "medication"},
       "subject"},
      {"Immunization",
       {Category::kImmunization},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Immunization",
       {"date"},
       {"code", "vaccine-code"},
       "patient"},
      {"Encounter",
       {Category::kEncounter},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Encounter",
       {"date"},
       {"code", "class"},
       "subject"},
      {"ServiceRequest",
       {Category::kOrder},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_ServiceRequest_Common",
       {"date", "authored", "occurrence"},
       {"code"},
       "subject"},
      {"DocumentReference",
       {Category::kDocument},
       "http://jpfhir.jp/fhir/core/StructureDefinition/JP_DocumentReference",
       {"date"},
       {"code", "type"},
       "subject",
       /*writable=*/false},
  };
  return kTypes;
}

struct Token {
  std::string_view type;  // "" = any type
  std::string_view token;
  Category category;
};

// FHIR category codes (and common spellings) per type.
constexpr std::array<Token, 12> kTokens{{
    {"Observation", "laboratory", Category::kLabResult},
    {"DiagnosticReport", "LAB", Category::kLabResult},
    {"DiagnosticReport", "laboratory", Category::kLabResult},
    {"DiagnosticReport", "RAD", Category::kReport},
    {"DiagnosticReport", "imaging", Category::kReport},
    {"DiagnosticReport", "OTH", Category::kReport},
    {"MedicationRequest", "outpatient", Category::kPrescription},
    {"MedicationRequest", "inpatient", Category::kPrescription},
    {"MedicationRequest", "discharge", Category::kPrescription},
    {"MedicationRequest", "OHI", Category::kPrescription},
    {"MedicationRequest", "OHP", Category::kPrescription},
    {"MedicationRequest", "FTP", Category::kInjection},
}};

}  // namespace

std::span<const ResourceType> ClinicalTypes() { return Table(); }

const ResourceType* FindClinicalType(std::string_view name) {
  for (const auto& t : Table()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<clinical::Category> CategoryForToken(const ResourceType& type,
                                                   std::string_view token) {
  // A "system|code" token: the code decides.
  if (auto bar = token.rfind('|'); bar != std::string_view::npos) token = token.substr(bar + 1);
  std::optional<Category> found;
  for (const auto& t : kTokens) {
    if (t.type == type.name && t.token == token) found = t.category;
  }
  if (!found) found = clinical::ParseCategory(token);
  if (!found) return std::nullopt;
  for (Category c : type.categories) {
    if (c == *found) return found;
  }
  return std::nullopt;
}

std::string LocalIdSystem(std::string_view institution_code) {
  if (institution_code.empty()) return {};
  return std::string(kLocalIdSystemPrefix) + std::string(institution_code);
}

std::string_view InstitutionCodeOf(std::string_view system) {
  if (!system.starts_with(kLocalIdSystemPrefix)) return {};
  std::string_view code = system.substr(kLocalIdSystemPrefix.size());
  if (code.size() != 10) return {};
  for (char c : code) {
    if (c < '0' || c > '9') return {};
  }
  return code;
}

}  // namespace tsunagu::fhir
