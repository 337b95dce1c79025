#include "auth/auth_routes.hpp"

#include <boost/json/object.hpp>

#include "audit/audit_log.hpp"
#include "auth/account_service.hpp"
#include "auth/internal/text_checks.hpp"
#include "auth/principal_context.hpp"
#include "auth/session_service.hpp"
#include "auth/totp.hpp"
#include "auth/user_json.hpp"
#include "core/log.hpp"
#include "http/json.hpp"

namespace tsunagu::auth {
namespace {

constexpr const char* kSessionKey = "auth.session";
constexpr std::string_view kApiPrefix = "/api/";
constexpr std::string_view kAuthPrefix = "/api/v1/auth/";

std::string Cookie(const AuthDeps& deps, const http::Request& req, const std::string& value,
                   bool clear) {
  std::string cookie =
      std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (clear) cookie += "; Max-Age=0";
  if (deps.secure_cookies || req.tls) cookie += "; Secure";
  return cookie;
}

bool SetsSessionCookie(const http::Response& response) {
  const std::string prefix = std::string(kSessionCookie) + "=";
  for (const auto& [name, value] : response.headers.all()) {
    if (name == "set-cookie" && value.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

bool IsStateChanging(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

void Audit(AuthDeps& deps, const http::Request& req, std::string action, std::string outcome,
           int64_t user_id, int64_t facility_id, std::string user_name, std::string occupation,
           std::string reason) {
  audit::AuditEvent event;
  event.user_id = user_id;
  event.user_name = std::move(user_name);
  event.facility_id = facility_id;
  event.occupation = std::move(occupation);
  event.action = std::move(action);
  event.object = user_id != 0 ? "user:" + std::to_string(user_id) : "";
  event.outcome = std::move(outcome);
  event.client_address = req.client_address;
  event.reason = std::move(reason);
  if (auto stored = deps.audit.Append(std::move(event)); !stored) {
    core::LogError("auth.audit_failed", {{"detail", stored.error().detail()}});
  }
}

void AuditSession(AuthDeps& deps, const http::Request& req, const SessionInfo& s,
                  std::string action, std::string outcome, std::string reason = {}) {
  Audit(deps, req, std::move(action), std::move(outcome), s.user.id, s.user.facility_id,
        s.user.display_name, std::string(ToString(s.user.occupation)), std::move(reason));
}

void AuditLogin(AuthDeps& deps, const http::Request& req, const LoginTrace& trace,
                const core::Status& status, const std::string& attempted_login) {
  std::string outcome = status.ok() ? "success" : "failure";
  if (!status.ok() && trace.reason == "account disabled") outcome = "denied";
  std::string reason = trace.reason;
  // The attempted ID is kept for unknown users (password spraying shows up);
  // never the password.
  if (trace.user_id == 0 && !attempted_login.empty()) {
    reason += " (login id: " + attempted_login.substr(0, 64) + ")";
  }
  Audit(deps, req, status.ok() ? "auth.login" : "auth.login_failed", outcome, trace.user_id,
        trace.facility_id, trace.user_name, trace.occupation, reason);
  if (trace.locked_now) {
    Audit(deps, req, "auth.lockout", "denied", trace.user_id, trace.facility_id, trace.user_name,
          trace.occupation,
          std::to_string(AccountService::kMaxFailedLogins) + " consecutive failed logins");
  }
}

boost::json::object SessionJson(AuthDeps& deps, const SessionInfo& s) {
  std::string facility = deps.facility_name ? deps.facility_name(s.user.facility_id) : "";
  return {{"user", UserToJson(s.user, facility, s.mfa_enrollment_required)},
          {"csrf_token", s.csrf_token}};
}

// The answer of a completed login: {user, csrf_token} and the cookie.
http::Response SessionResponse(AuthDeps& deps, const http::Request& req, const LoginResult& login) {
  http::Response response = http::JsonResponse(200, SessionJson(deps, login.session));
  response.headers.Add("Set-Cookie", Cookie(deps, req, login.session_token, false));
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

// A login replaces the session the browser already had.
void EndPreviousSession(AuthDeps& deps, const http::Request& req) {
  if (auto old = req.Cookie(kSessionCookie); old && !old->empty()) {
    (void)deps.sessions.Logout(*old);
  }
}

http::Response Login(AuthDeps& deps, http::Request& req) {
  auto body = http::ParseJsonObject(req.body);
  if (!body) return http::Response::Error(body.error());
  auto login_id = http::RequireString(*body, "login_id");
  if (!login_id) return http::Response::Error(login_id.error());
  auto password = http::RequireString(*body, "password");
  if (!password) return http::Response::Error(password.error());

  LoginTrace trace;
  auto result = deps.sessions.Login(*login_id, *password, req.client_address, &trace);
  if (!result) {
    if (result.error().code() == core::Code::kUnauthenticated) {
      AuditLogin(deps, req, trace, result.error(), *login_id);
    }
    return http::Response::Error(result.error());
  }
  if (result->mfa_required) {
    // The login is audited when the second factor completes (or fails).
    http::Response response = http::JsonResponse(
        200, boost::json::object{{"mfa_required", true}, {"mfa_token", result->mfa_token}});
    response.headers.Set("Cache-Control", "no-store");
    return response;
  }
  AuditLogin(deps, req, trace, core::Status::Ok(), *login_id);
  EndPreviousSession(deps, req);
  return SessionResponse(deps, req, *result);
}

http::Response LoginTotp(AuthDeps& deps, http::Request& req) {
  auto body = http::ParseJsonObject(req.body);
  if (!body) return http::Response::Error(body.error());
  auto token = http::RequireString(*body, "mfa_token");
  if (!token) return http::Response::Error(token.error());
  auto code = http::RequireString(*body, "code");
  if (!code) return http::Response::Error(code.error());

  LoginTrace trace;
  auto result = deps.sessions.VerifyTotp(*token, *code, req.client_address, &trace);
  if (!result) {
    if (result.error().code() == core::Code::kUnauthenticated) {
      AuditLogin(deps, req, trace, result.error(), {});
    }
    return http::Response::Error(result.error());
  }
  AuditLogin(deps, req, trace, core::Status::Ok(), {});
  EndPreviousSession(deps, req);
  return SessionResponse(deps, req, *result);
}

http::Response Logout(AuthDeps& deps, http::Request& req) {
  if (const SessionInfo* s = CurrentSession(req)) {
    AuditSession(deps, req, *s, "auth.logout", "success");
  }
  if (auto token = req.Cookie(kSessionCookie); token && !token->empty()) {
    if (auto status = deps.sessions.Logout(*token); !status.ok()) {
      return http::Response::Error(status);
    }
  }
  http::Response response = http::Response::NoContent();
  response.headers.Add("Set-Cookie", Cookie(deps, req, "", true));
  return response;
}

http::Response Me(AuthDeps& deps, http::Request& req) {
  const SessionInfo* s = CurrentSession(req);
  if (s == nullptr)
    return http::Response::Error(core::Unauthenticated(SessionService::kLoginRequired));
  http::Response response = http::JsonResponse(200, SessionJson(deps, *s));
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

http::Response TotpEnroll(AuthDeps& deps, http::Request& req) {
  const SessionInfo* s = CurrentSession(req);
  if (s == nullptr)
    return http::Response::Error(core::Unauthenticated(SessionService::kLoginRequired));
  auto enrollment = deps.sessions.StartTotpEnrollment(s->user.id);
  if (!enrollment) return http::Response::Error(enrollment.error());
  http::Response response =
      http::JsonResponse(200, boost::json::object{{"secret", enrollment->secret},
                                                  {"otpauth_uri", enrollment->otpauth_uri},
                                                  {"qr_svg", enrollment->qr_svg}});
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

http::Response TotpConfirm(AuthDeps& deps, http::Request& req) {
  const SessionInfo* s = CurrentSession(req);
  if (s == nullptr)
    return http::Response::Error(core::Unauthenticated(SessionService::kLoginRequired));
  auto body = http::ParseJsonObject(req.body);
  if (!body) return http::Response::Error(body.error());
  auto code = http::RequireString(*body, "code");
  if (!code) return http::Response::Error(code.error());
  auto user = deps.sessions.ConfirmTotpEnrollment(s->user.id, *code);
  if (!user) {
    AuditSession(deps, req, *s, "auth.totp_enroll", "failure", user.error().message());
    return http::Response::Error(user.error());
  }
  AuditSession(deps, req, *s, "auth.totp_enroll", "success");
  std::string facility = deps.facility_name ? deps.facility_name(user->facility_id) : "";
  return http::JsonResponse(
      200, boost::json::object{
               {"user", UserToJson(*user, facility, deps.sessions.MfaEnrollmentRequired(*user))}});
}

http::Response ChangePassword(AuthDeps& deps, http::Request& req) {
  const SessionInfo* s = CurrentSession(req);
  if (s == nullptr)
    return http::Response::Error(core::Unauthenticated(SessionService::kLoginRequired));
  auto body = http::ParseJsonObject(req.body);
  if (!body) return http::Response::Error(body.error());
  auto current = http::RequireString(*body, "current_password");
  if (!current) return http::Response::Error(current.error());
  auto next = http::RequireString(*body, "new_password");
  if (!next) return http::Response::Error(next.error());
  auto status = deps.sessions.ChangePassword(*s, *current, *next);
  if (!status.ok()) {
    AuditSession(deps, req, *s, "auth.password_change", "failure", status.message());
    return http::Response::Error(status);
  }
  AuditSession(deps, req, *s, "auth.password_change", "success", "changed by the user");
  return http::Response::NoContent();
}

}  // namespace

const SessionInfo* CurrentSession(const http::Request& request) {
  auto it = request.context.find(kSessionKey);
  if (it == request.context.end()) return nullptr;
  const auto* shared = std::any_cast<std::shared_ptr<const SessionInfo>>(&it->second);
  return shared ? shared->get() : nullptr;
}

core::Result<Principal> RequirePrincipal(const http::Request& request) {
  if (const Principal* p = CurrentPrincipal(request)) return *p;
  return core::Unauthenticated(SessionService::kLoginRequired);
}

void RegisterAuthRoutes(http::Router& router, AuthDeps& deps) {
  constexpr http::RouteOptions kSmallBody{.body_limit = 16 * 1024};
  router.Post(
      "/api/v1/auth/login", [&deps](http::Request& r) { return Login(deps, r); }, kSmallBody);
  router.Post(
      "/api/v1/auth/login/totp", [&deps](http::Request& r) { return LoginTotp(deps, r); },
      kSmallBody);
  router.Post(
      "/api/v1/auth/logout", [&deps](http::Request& r) { return Logout(deps, r); }, kSmallBody);
  router.Get("/api/v1/auth/me", [&deps](http::Request& r) { return Me(deps, r); });
  router.Post(
      "/api/v1/auth/totp/enroll", [&deps](http::Request& r) { return TotpEnroll(deps, r); },
      kSmallBody);
  router.Post(
      "/api/v1/auth/totp/confirm", [&deps](http::Request& r) { return TotpConfirm(deps, r); },
      kSmallBody);
  router.Post(
      "/api/v1/auth/password", [&deps](http::Request& r) { return ChangePassword(deps, r); },
      kSmallBody);
}

http::Middleware MakeSessionMiddleware(AuthDeps& deps) {
  return [&deps](http::Request& req, const http::Handler& next) -> http::Response {
    if (req.path.rfind(kApiPrefix, 0) != 0) return next(req);
    auto token = req.Cookie(kSessionCookie);
    if (!token || token->empty()) return next(req);

    auto session = deps.sessions.ResolveShared(*token);
    if (!session) {
      if (session.error().code() != core::Code::kUnauthenticated) {
        core::LogError("auth.session_lookup_failed", {{"detail", session.error().detail()}});
        return http::Response::Error(session.error());
      }
      // A stale cookie: go on anonymously and tell the browser to drop it.
      http::Response response = next(req);
      if (!SetsSessionCookie(response)) {
        response.headers.Add("Set-Cookie", Cookie(deps, req, "", true));
      }
      return response;
    }

    if (IsStateChanging(req.method)) {
      auto sent = req.Header(kCsrfHeader);
      if (!sent || !internal::ConstantTimeEquals(*sent, (*session)->csrf_token)) {
        core::LogWarn("auth.csrf_rejected",
                      {{"session", (*session)->principal.session_id}, {"path", req.path}});
        return http::Response::Error(core::Forbidden("missing or invalid CSRF token"));
      }
    }
    if (req.path.rfind(kAuthPrefix, 0) != 0) {
      if ((*session)->must_change_password) {
        return http::Response::Error(
            core::Forbidden("the password must be changed before continuing"));
      }
      if ((*session)->mfa_enrollment_required) {
        return http::Response::Error(
            core::Forbidden("two-factor authentication must be set up before continuing"));
      }
    }
    // The principal shares the cached session: no copy per request.
    const std::shared_ptr<const SessionInfo>& info = *session;
    SetPrincipal(req, std::shared_ptr<const Principal>(info, &info->principal));
    req.context[kSessionKey] = info;
    return next(req);
  };
}

}  // namespace tsunagu::auth
