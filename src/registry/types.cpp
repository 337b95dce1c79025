#include "registry/types.hpp"

#include <array>
#include <utility>

namespace tsunagu::registry {
namespace {
constexpr std::array<std::pair<FacilityType, std::string_view>, 11> kFacilityTypes{{
    {FacilityType::kHospital, "hospital"},
    {FacilityType::kClinic, "clinic"},
    {FacilityType::kDentalClinic, "dental_clinic"},
    {FacilityType::kPharmacy, "pharmacy"},
    {FacilityType::kVisitingNurseStation, "visiting_nurse_station"},
    {FacilityType::kHomeCareSupportOffice, "home_care_support_office"},
    {FacilityType::kCareHome, "care_home"},
    {FacilityType::kLtcFacility, "ltc_facility"},
    {FacilityType::kEms, "ems"},
    {FacilityType::kMunicipality, "municipality"},
    {FacilityType::kLabCenter, "lab_center"},
}};
constexpr std::array<std::pair<Sex, std::string_view>, 4> kSexes{{{Sex::kMale, "male"},
                                                                  {Sex::kFemale, "female"},
                                                                  {Sex::kOther, "other"},
                                                                  {Sex::kUnknown, "unknown"}}};
}  // namespace

std::string_view ToString(FacilityType t) {
  for (const auto& [k, v] : kFacilityTypes) {
    if (k == t) return v;
  }
  return "clinic";
}

std::optional<FacilityType> ParseFacilityType(std::string_view s) {
  for (const auto& [k, v] : kFacilityTypes) {
    if (v == s) return k;
  }
  return std::nullopt;
}

bool RequiresInstitutionCode(FacilityType t) {
  return t == FacilityType::kHospital || t == FacilityType::kClinic ||
         t == FacilityType::kDentalClinic || t == FacilityType::kPharmacy;
}

std::string_view ToString(Sex s) {
  for (const auto& [k, v] : kSexes) {
    if (k == s) return v;
  }
  return "unknown";
}

std::optional<Sex> ParseSex(std::string_view s) {
  for (const auto& [k, v] : kSexes) {
    if (v == s) return k;
  }
  return std::nullopt;
}

}  // namespace tsunagu::registry
