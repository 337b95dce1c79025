#include "auth/auth_routes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "audit/audit_log.hpp"
#include "audit/audit_signer.hpp"
#include "auth/principal_context.hpp"
#include "auth_fixture.hpp"
#include "http/router.hpp"

namespace tsunagu::auth {
namespace {

class AuthRoutesTest : public AuthFixture {
 protected:
  void SetUp() override {
    AuthFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto signer = audit::AuditSigner::FromSeedHex(std::string(64, '1'));
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(*signer);
    audit_ = std::make_unique<audit::AuditLog>(db(), clock_, *signer_);
    deps_ =
        std::make_unique<AuthDeps>(AuthDeps{*accounts_, *sessions_, *totp_, *audit_,
                                            [](int64_t id) { return id == 1 ? "つなぐ病院" : ""; },
                                            /*secure_cookies=*/true});
    router_.Use(MakeSessionMiddleware(*deps_));
    RegisterAuthRoutes(router_, *deps_);
    // A non-auth route standing in for the other modules.
    router_.Get("/api/v1/facilities", [](http::Request& req) {
      auto principal = RequirePrincipal(req);
      if (!principal) return http::Response::Error(principal.error());
      return http::Response::Json(200, "{\"login\":\"" + principal->login_id + "\"}");
    });
    router_.Post("/api/v1/facilities", [](http::Request& req) {
      auto principal = RequirePrincipal(req);
      if (!principal) return http::Response::Error(principal.error());
      return http::Response::Json(201, "{}");
    });
  }

  std::vector<store::MigrationSet> ExtraMigrations() override {
    return {AccountService::Migrations(), audit::AuditLog::Migrations()};
  }

  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = {}, const std::string& cookie = {},
                      const std::string& csrf = {}) {
    http::Request req;
    req.method = method;
    req.target = path;
    req.path = path;
    req.body = body;
    req.client_address = "192.0.2.10";
    if (!cookie.empty()) req.headers.Set("Cookie", std::string(kSessionCookie) + "=" + cookie);
    if (!csrf.empty()) req.headers.Set(kCsrfHeader, csrf);
    if (!body.empty()) req.headers.Set("Content-Type", "application/json");
    return router_.Dispatch(req);
  }

  static std::string SessionCookieOf(const http::Response& r) {
    const std::string prefix = std::string(kSessionCookie) + "=";
    for (const auto& [name, value] : r.headers.all()) {
      if (name == "set-cookie" && value.rfind(prefix, 0) == 0) return value;
    }
    return {};
  }
  static std::string TokenOf(const http::Response& r) {
    std::string cookie = SessionCookieOf(r);
    auto start = cookie.find('=') + 1;
    return cookie.substr(start, cookie.find(';') - start);
  }
  static boost::json::object Json(const http::Response& r) {
    return boost::json::parse(r.body).as_object();
  }
  static std::string ErrorMessage(const http::Response& r) {
    return std::string(Json(r).at("error").at("message").as_string());
  }

  struct Login {
    std::string token, csrf;
  };
  Login LogIn(const std::string& login_id, const std::string& password = kGoodPassword) {
    auto r = Call("POST", "/api/v1/auth/login",
                  R"({"login_id":")" + login_id + R"(","password":")" + password + R"("})");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return {TokenOf(r), std::string(Json(r).at("csrf_token").as_string())};
  }

  std::vector<audit::AuditEvent> Events(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    auto events = audit_->Search(q);
    std::sort(events.begin(), events.end(),
              [](const audit::AuditEvent& a, const audit::AuditEvent& b) { return a.seq < b.seq; });
    return events;
  }

  std::unique_ptr<audit::AuditSigner> signer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<AuthDeps> deps_;
  http::Router router_;
};

TEST_P(AuthRoutesTest, LoginSetsHardenedCookieAndReturnsUser) {
  User user = CreateUser("taro");
  auto r = Call("POST", "/api/v1/auth/login",
                R"({"login_id":"taro","password":"correct horse battery"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie = SessionCookieOf(r);
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("; Secure"), std::string::npos);
  auto body = Json(r);
  const auto& u = body.at("user").as_object();
  EXPECT_EQ(u.at("id").as_int64(), user.id);
  EXPECT_EQ(u.at("login_id").as_string(), "taro");
  EXPECT_EQ(u.at("facility_name").as_string(), "つなぐ病院");
  EXPECT_EQ(u.at("occupation").as_string(), "nurse");
  EXPECT_EQ(u.at("role").as_string(), "staff");
  EXPECT_FALSE(u.at("totp_enabled").as_bool());
  EXPECT_FALSE(u.at("must_change_password").as_bool());
  EXPECT_FALSE(u.at("mfa_enrollment_required").as_bool());
  EXPECT_FALSE(u.at("disabled").as_bool());
  EXPECT_FALSE(u.contains("password_hash"));
  EXPECT_FALSE(body.at("csrf_token").as_string().empty());

  auto me = Call("GET", "/api/v1/auth/me", {}, TokenOf(r));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me).at("csrf_token"), body.at("csrf_token"));
  EXPECT_EQ(Call("GET", "/api/v1/facilities", {}, TokenOf(r)).status, 200);

  auto events = Events("auth.login");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].user_id, user.id);
  EXPECT_EQ(events[0].outcome, "success");
  EXPECT_EQ(events[0].client_address, "192.0.2.10");
}

TEST_P(AuthRoutesTest, WrongPasswordIsGeneric401AndAudited) {
  CreateUser("taro");
  auto wrong = Call("POST", "/api/v1/auth/login", R"({"login_id":"taro","password":"nope nope"})");
  auto unknown =
      Call("POST", "/api/v1/auth/login", R"({"login_id":"nobody","password":"nope nope"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(ErrorMessage(wrong), "invalid login ID or password");
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_TRUE(SessionCookieOf(wrong).empty());
  auto failures = Events("auth.login_failed");
  ASSERT_EQ(failures.size(), 2u);
  for (const auto& e : failures) {
    EXPECT_EQ(e.outcome, "failure");
    EXPECT_EQ(e.reason.find("nope"), std::string::npos);  // never the password
  }
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", R"({"login_id":"taro"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", "not json").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/auth/login", R"({"login_id":1,"password":"x"})").status, 400);
}

TEST_P(AuthRoutesTest, LockoutIsAudited) {
  CreateUser("taro");
  for (int i = 0; i < 5; ++i) {
    (void)Call("POST", "/api/v1/auth/login", R"({"login_id":"taro","password":"nope nope"})");
  }
  auto locked = Call("POST", "/api/v1/auth/login",
                     R"({"login_id":"taro","password":"correct horse battery"})");
  EXPECT_EQ(locked.status, 401);
  EXPECT_NE(ErrorMessage(locked).find("locked"), std::string::npos);
  EXPECT_EQ(Events("auth.lockout").size(), 1u);
}

TEST_P(AuthRoutesTest, CsrfTokenRequiredForStateChanges) {
  CreateUser("taro");
  Login s = LogIn("taro");
  auto missing = Call("POST", "/api/v1/facilities", "{}", s.token);
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(ErrorMessage(missing), "missing or invalid CSRF token");
  auto wrong = Call("POST", "/api/v1/facilities", "{}", s.token, s.csrf + "x");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/facilities", "{}", s.token, s.csrf).status, 201);
  // Logout is a state change too.
  EXPECT_EQ(Call("POST", "/api/v1/auth/logout", {}, s.token).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", {}, s.token).status, 200);
}

TEST_P(AuthRoutesTest, MustChangePasswordBlocksOtherRoutes) {
  CreateUser("taro", Role::kStaff, /*must_change_password=*/true);
  Login s = LogIn("taro");
  auto blocked = Call("GET", "/api/v1/facilities", {}, s.token);
  EXPECT_EQ(blocked.status, 403);
  EXPECT_EQ(ErrorMessage(blocked), "the password must be changed before continuing");
  auto me = Call("GET", "/api/v1/auth/me", {}, s.token);
  ASSERT_EQ(me.status, 200);
  EXPECT_TRUE(Json(me).at("user").at("must_change_password").as_bool());

  auto weak = Call("POST", "/api/v1/auth/password",
                   R"({"current_password":"correct horse battery","new_password":"short"})",
                   s.token, s.csrf);
  EXPECT_EQ(weak.status, 400);
  auto changed =
      Call("POST", "/api/v1/auth/password",
           R"({"current_password":"correct horse battery","new_password":"a new long passphrase"})",
           s.token, s.csrf);
  EXPECT_EQ(changed.status, 204) << changed.body;
  EXPECT_EQ(Call("GET", "/api/v1/facilities", {}, s.token).status, 200);
  auto audited = Events("auth.password_change");
  ASSERT_EQ(audited.size(), 2u);
  EXPECT_EQ(audited[0].outcome, "failure");
  EXPECT_EQ(audited[1].outcome, "success");
}

TEST_P(AuthRoutesTest, AdminMustEnrolTotpThroughTheApi) {
  CreateUser("admin", Role::kFacilityAdmin);
  Login s = LogIn("admin");
  auto blocked = Call("GET", "/api/v1/facilities", {}, s.token);
  EXPECT_EQ(blocked.status, 403);
  EXPECT_EQ(ErrorMessage(blocked), "two-factor authentication must be set up before continuing");

  auto enroll = Call("POST", "/api/v1/auth/totp/enroll", {}, s.token, s.csrf);
  ASSERT_EQ(enroll.status, 200) << enroll.body;
  auto e = Json(enroll);
  const std::string secret(e.at("secret").as_string());
  EXPECT_EQ(e.at("otpauth_uri").as_string().subview().rfind("otpauth://totp/", 0), 0u);
  EXPECT_EQ(e.at("qr_svg").as_string().subview().rfind("<svg", 0), 0u);

  auto confirm = Call("POST", "/api/v1/auth/totp/confirm",
                      R"({"code":")" + totp_->CurrentCode(secret) + R"("})", s.token, s.csrf);
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  EXPECT_TRUE(Json(confirm).at("user").at("totp_enabled").as_bool());
  EXPECT_FALSE(Json(confirm).at("user").at("mfa_enrollment_required").as_bool());
  EXPECT_EQ(Call("GET", "/api/v1/facilities", {}, s.token).status, 200);
  EXPECT_EQ(Events("auth.totp_enroll").size(), 1u);

  // Next login asks for the code.
  clock_.Advance(Totp::kStepSeconds * 1000);
  auto first = Call("POST", "/api/v1/auth/login",
                    R"({"login_id":"admin","password":"correct horse battery"})");
  ASSERT_EQ(first.status, 200);
  EXPECT_TRUE(Json(first).at("mfa_required").as_bool());
  EXPECT_TRUE(SessionCookieOf(first).empty());
  const std::string mfa_token(Json(first).at("mfa_token").as_string());
  auto second = Call(
      "POST", "/api/v1/auth/login/totp",
      R"({"mfa_token":")" + mfa_token + R"(","code":")" + totp_->CurrentCode(secret) + R"("})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(TokenOf(second).empty());
  EXPECT_EQ(Call("GET", "/api/v1/facilities", {}, TokenOf(second)).status, 200);
}

TEST_P(AuthRoutesTest, LogoutClearsCookieAndEndsSession) {
  CreateUser("taro");
  Login s = LogIn("taro");
  auto out = Call("POST", "/api/v1/auth/logout", {}, s.token, s.csrf);
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(SessionCookieOf(out).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Events("auth.logout").size(), 1u);

  // The old cookie no longer authenticates, and the browser is told to drop it.
  auto after = Call("GET", "/api/v1/facilities", {}, s.token);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(ErrorMessage(after), "login required");
  EXPECT_NE(SessionCookieOf(after).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me").status, 401);
}

TEST_P(AuthRoutesTest, IdleSessionIsRejected) {
  CreateUser("taro");
  Login s = LogIn("taro");
  clock_.Advance(31 * 60 * 1000);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", {}, s.token).status, 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthRoutesTest, testing::AllBackends(),
                         testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::auth
