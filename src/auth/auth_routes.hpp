#pragma once
// HTTP surface of the auth module: the /api/v1/auth/* routes (docs/api.md
// "Auth") and the session middleware that authenticates every /api/ request.
//
// Middleware contract (install it with Router::Use before dispatching):
//  - reads cookie tsunagu_session; a valid session puts the Principal into
//    the request (auth::CurrentPrincipal) and the SessionInfo (CurrentSession);
//    an invalid or expired cookie is cleared and the request goes on without
//    a principal (routes decide with RequirePrincipal);
//  - POST/PUT/PATCH/DELETE of an authenticated request must carry header
//    X-CSRF-Token equal to the session's CSRF token, else 403 forbidden;
//  - while the user must change the password or must enrol in TOTP, only
//    /api/v1/auth/* passes (403 forbidden with a message saying why).
#include <cstdint>
#include <functional>
#include <string>

#include "core/status.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace tsunagu::audit {
class AuditLog;
}

namespace tsunagu::auth {

class AccountService;
class SessionService;
class Totp;
struct Principal;
struct SessionInfo;

inline constexpr const char* kSessionCookie = "tsunagu_session";
inline constexpr const char* kCsrfHeader = "X-CSRF-Token";

// References must outlive the router.
struct AuthDeps {
  AccountService& accounts;
  SessionService& sessions;
  Totp& totp;
  audit::AuditLog& audit;
  // Facility display name for the "user" JSON ("" when unknown).
  std::function<std::string(int64_t facility_id)> facility_name;
  // Adds "Secure" to the cookie (also added on TLS requests).
  bool secure_cookies = false;
};

void RegisterAuthRoutes(http::Router& router, AuthDeps& deps);
http::Middleware MakeSessionMiddleware(AuthDeps& deps);

// The principal set by the middleware, or Unauthenticated "login required".
core::Result<Principal> RequirePrincipal(const http::Request& request);
// The session set by the middleware; nullptr if not authenticated.
const SessionInfo* CurrentSession(const http::Request& request);

}  // namespace tsunagu::auth
