#pragma once
// The FHIR resource types the network serves at /fhir, with what the API
// needs to know of each: the data categories it is stored under (the unit of
// consent), the element that carries its date and its code, its JP Core
// profile and the search parameters it accepts. One table, read by the
// CapabilityStatement, the search parser and the transaction importer.
// Pure data; thread-safe.
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "clinical/resource.hpp"

namespace tsunagu::fhir {

// Identifier system of the regional patient ID (12 digits, Luhn check digit).
inline constexpr std::string_view kRegionalIdSystem = "urn:tsunagu:regional-id";
// JP Core: a facility's local patient ID is identified by this OID prefix
// followed by "1" and the 10-digit medical institution code.
inline constexpr std::string_view kLocalIdSystemPrefix = "urn:oid:1.2.392.100495.20.3.51.1";

struct ResourceType {
  std::string_view name;                       // "Observation"
  std::vector<clinical::Category> categories;  // stored under one of these
  std::string_view profile;                    // JP Core profile URL
  std::vector<std::string_view> date_params;   // search names meaning "date"
  std::vector<std::string_view> code_params;   // search names meaning "code"
  std::string_view patient_element;            // "subject" or "patient"
  bool writable = true;                        // accepted in transactions
};

// Every clinical type (Patient and Binary are served separately).
std::span<const ResourceType> ClinicalTypes();
const ResourceType* FindClinicalType(std::string_view name);

// A FHIR category token (Observation "laboratory", MedicationRequest
// "injection", DocumentReference types ...) or one of the network's own
// category names, for a type. nullopt when it means nothing for the type.
std::optional<clinical::Category> CategoryForToken(const ResourceType& type,
                                                   std::string_view token);

// "urn:oid:1.2.392.100495.20.3.51.1" + code, or "" for a facility without one.
std::string LocalIdSystem(std::string_view institution_code);
// The institution code of a JP Core local-ID system, or "".
std::string_view InstitutionCodeOf(std::string_view system);

}  // namespace tsunagu::fhir
