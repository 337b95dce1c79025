#include "consent/types.hpp"

#include <array>
#include <utility>

namespace tsunagu::consent {
namespace {

constexpr std::array<std::pair<Scope, std::string_view>, 5> kScopes = {{
    {Scope::kClinicalSharing, "clinical_sharing"},
    {Scope::kDispensing, "dispensing"},
    {Scope::kEmergencySheet, "emergency_sheet"},
    {Scope::kCareTeam, "care_team"},
    {Scope::kFamily, "family"},
}};

}  // namespace

std::string_view ToString(Scope s) {
  for (const auto& [scope, name] : kScopes) {
    if (scope == s) return name;
  }
  return "clinical_sharing";
}

std::optional<Scope> ParseScope(std::string_view s) {
  for (const auto& [scope, name] : kScopes) {
    if (name == s) return scope;
  }
  return std::nullopt;
}

bool Consent::ActiveOn(std::string_view date) const { return StatusOn(date) == "active"; }

std::string_view Consent::StatusOn(std::string_view date) const {
  if (withdrawn()) return "withdrawn";
  if (date < valid_from) return "pending";
  if (!valid_to.empty() && date > valid_to) return "expired";
  return "active";
}

}  // namespace tsunagu::consent
