#pragma once
// Value types of the auth module shared with the domains above it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tsunagu::auth {

enum class Occupation {
  kPhysician,
  kDentist,
  kPharmacist,
  kNurse,
  kVisitingNurse,
  kCareManager,
  kHomeHelper,
  kTherapist,
  kSocialWorker,
  kClerk,
  kEms,
  kFamily,
};
enum class Role { kNetworkAdmin, kFacilityAdmin, kStaff };

// "physician", "visiting_nurse", ... (docs/api.md)
std::string_view ToString(Occupation o);
std::string_view ToString(Role r);
std::optional<Occupation> ParseOccupation(std::string_view s);
std::optional<Role> ParseRole(std::string_view s);

struct User {
  int64_t id = 0;
  int64_t facility_id = 0;
  std::string login_id;
  std::string display_name;
  std::string kana;
  std::string email;
  Occupation occupation = Occupation::kClerk;
  Role role = Role::kStaff;
  bool totp_enabled = false;
  bool must_change_password = false;
  bool disabled = false;
  int64_t created_at = 0;  // ms UTC
};

// Who is making a request (set by the session middleware).
struct Principal {
  int64_t user_id = 0;
  int64_t facility_id = 0;
  std::string login_id;
  std::string display_name;
  Occupation occupation = Occupation::kClerk;
  Role role = Role::kStaff;
  std::string session_id;  // opaque id (not the cookie secret), for logs
  bool IsNetworkAdmin() const { return role == Role::kNetworkAdmin; }
  bool IsFacilityAdminOf(int64_t fid) const {
    return role == Role::kFacilityAdmin && facility_id == fid;
  }
};

}  // namespace tsunagu::auth
