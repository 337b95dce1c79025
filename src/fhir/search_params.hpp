#pragma once
// FHIR search parameters, parsed from a query string into the filters the
// clinical store and the registry understand. Repeated parameters (date=ge..
// &date=le..) are kept, as FHIR requires. Pure functions; thread-safe.
//
// Unknown parameters are ignored (and left out of the "self" link, which is
// how FHIR tells a client what was applied) unless `strict` (the client sent
// "Prefer: handling=strict"): then they are an error.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/resource.hpp"
#include "clinical/resource_store.hpp"
#include "core/status.hpp"
#include "fhir/resource_types.hpp"

namespace tsunagu::fhir {

struct QueryParam {
  std::string name;
  std::string value;
  bool operator==(const QueryParam&) const = default;
};

// The decoded parameters of a request target ("/fhir/Observation?a=1&b=2"),
// in order. '+' is a space. Malformed percent escapes are kept literally.
std::vector<QueryParam> ParseQueryString(std::string_view target);

inline constexpr int kDefaultCount = 50;
inline constexpr int kMaxCount = 1000;

struct SearchParams {
  // Clinical types.
  std::string patient;  // regional ID (from patient=, subject=, with or without "Patient/")
  std::vector<clinical::Category> categories;  // any of; empty = every category of the type
  std::string code_system, code;               // "" = any
  std::string from, to;                        // YYYY-MM-DD, inclusive; "" = open
  std::vector<std::string> include;            // "DiagnosticReport:result", "Observation:patient"
  // Patient (PDQm).
  std::string name, family, given, birthdate, gender, identifier_system, identifier_value;
  std::string id;  // _id
  // Result control.
  int count = kDefaultCount;
  clinical::SortOrder order = clinical::SortOrder::kNewestFirst;
  std::string page;    // _page: the store's cursor (clinical) or an offset (Patient)
  bool total = false;  // _total=accurate / estimate
  // The parameters applied, for the Bundle's self link.
  std::vector<QueryParam> applied;
};

// Errors: InvalidInput naming the parameter (bad date, bad _count, a
// category the type does not have, patient missing, unknown parameter when
// strict).
core::Result<SearchParams> ParseClinicalSearch(const ResourceType& type,
                                               std::span<const QueryParam> params, bool strict);
core::Result<SearchParams> ParsePatientSearch(std::span<const QueryParam> params, bool strict);

// A FHIR date search value ("ge2024-04", "2024-04-06", "lt2024-04-06T10:00:00+09:00")
// narrowed into an inclusive [from, to] day range (either may stay open).
core::Status ApplyDateParam(std::string_view value, std::string& from, std::string& to);

// "system|code", "|code", "code" -> system, code.
void SplitToken(std::string_view token, std::string& system, std::string& code);

}  // namespace tsunagu::fhir
