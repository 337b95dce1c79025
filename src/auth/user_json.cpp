#include "auth/user_json.hpp"

namespace tsunagu::auth {

boost::json::object UserToJson(const User& user, const std::string& facility_name,
                               bool mfa_enrollment_required) {
  boost::json::object o;
  o["id"] = user.id;
  o["login_id"] = user.login_id;
  o["display_name"] = user.display_name;
  o["kana"] = user.kana;
  o["email"] = user.email;
  o["facility_id"] = user.facility_id;
  o["facility_name"] = facility_name;
  o["occupation"] = ToString(user.occupation);
  o["role"] = ToString(user.role);
  o["totp_enabled"] = user.totp_enabled;
  o["must_change_password"] = user.must_change_password;
  o["mfa_enrollment_required"] = mfa_enrollment_required;
  o["disabled"] = user.disabled;
  return o;
}

}  // namespace tsunagu::auth
