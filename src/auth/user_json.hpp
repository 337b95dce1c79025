#pragma once
// JSON shape of a user (docs/api.md "user"), shared by the auth routes and the
// registry's user-management routes. Includes Boost.JSON: route files only.
#include <boost/json/object.hpp>
#include <string>

#include "auth/types.hpp"

namespace tsunagu::auth {

// {id, login_id, display_name, kana, email, facility_id, facility_name,
//  occupation, role, totp_enabled, must_change_password,
//  mfa_enrollment_required, disabled}
boost::json::object UserToJson(const User& user, const std::string& facility_name,
                               bool mfa_enrollment_required);

}  // namespace tsunagu::auth
