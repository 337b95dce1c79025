#include "auth/types.hpp"

#include <array>
#include <utility>

namespace tsunagu::auth {
namespace {

constexpr std::array<std::pair<Occupation, std::string_view>, 12> kOccupationNames{{
    {Occupation::kPhysician, "physician"},
    {Occupation::kDentist, "dentist"},
    {Occupation::kPharmacist, "pharmacist"},
    {Occupation::kNurse, "nurse"},
    {Occupation::kVisitingNurse, "visiting_nurse"},
    {Occupation::kCareManager, "care_manager"},
    {Occupation::kHomeHelper, "home_helper"},
    {Occupation::kTherapist, "therapist"},
    {Occupation::kSocialWorker, "social_worker"},
    {Occupation::kClerk, "clerk"},
    {Occupation::kEms, "ems"},
    {Occupation::kFamily, "family"},
}};

constexpr std::array<std::pair<Role, std::string_view>, 3> kRoleNames{{
    {Role::kNetworkAdmin, "network_admin"},
    {Role::kFacilityAdmin, "facility_admin"},
    {Role::kStaff, "staff"},
}};

}  // namespace

std::string_view ToString(Occupation o) {
  for (const auto& [value, name] : kOccupationNames) {
    if (value == o) return name;
  }
  return "clerk";
}

std::string_view ToString(Role r) {
  for (const auto& [value, name] : kRoleNames) {
    if (value == r) return name;
  }
  return "staff";
}

std::optional<Occupation> ParseOccupation(std::string_view s) {
  for (const auto& [value, name] : kOccupationNames) {
    if (name == s) return value;
  }
  return std::nullopt;
}

std::optional<Role> ParseRole(std::string_view s) {
  for (const auto& [value, name] : kRoleNames) {
    if (name == s) return value;
  }
  return std::nullopt;
}

}  // namespace tsunagu::auth
