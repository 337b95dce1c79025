#include "oauth/oauth_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/principal_context.hpp"
#include "oauth/client_context.hpp"
#include "oauth_fixture.hpp"

namespace tsunagu::oauth {
namespace {

using testing::Claims;
using testing::Ec384Key;
using testing::kHospital;
using testing::OAuthFixture;
using testing::RsaKey;

namespace json = boost::json;

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += k + '=';
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
  }
  return out;
}

class OAuthRoutesTest : public OAuthFixture {
 protected:
  void SetUp() override {
    OAuthFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    deps_ = std::make_unique<OAuthDeps>(OAuthDeps{*registry_, *tokens_, *audit_});
    // Stands in for the session middleware: "X-Test-Role: network_admin".
    router_.Use([](http::Request& req, const http::Handler& next) {
      if (auto role = req.Header("X-Test-Role")) {
        auth::Principal p;
        p.user_id = 42;
        p.facility_id = 9;
        p.login_id = "secretariat";
        p.display_name = "事務局 太郎";
        p.role = auth::ParseRole(*role).value_or(auth::Role::kStaff);
        auth::SetPrincipal(req, p);
      }
      return next(req);
    });
    router_.Use(MakeBearerMiddleware(*deps_));
    RegisterOAuthRoutes(router_, *deps_);
    // A FHIR route standing in for the FHIR API.
    auto echo = [](http::Request& req) {
      const auth::Principal* p = auth::CurrentPrincipal(req);
      const ClientGrant* c = CurrentClient(req);
      json::object o{{"login", p ? p->login_id : ""},
                     {"facility", p ? p->facility_id : 0},
                     {"occupation", p ? std::string(auth::ToString(p->occupation)) : ""},
                     {"client", c ? c->client_id : ""},
                     {"reads_patient", c != nullptr && c->Allows("Patient", false)},
                     {"writes_patient", c != nullptr && c->Allows("Patient", true)}};
      return http::Response::Json(200, json::serialize(o));
    };
    router_.Get("/fhir/Patient", echo);
    router_.Post("/fhir/Observation", echo);
    router_.Get("/api/v1/other", echo);
  }

  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = method;
    req.target = path;
    req.path = path;
    req.body = body;
    req.client_address = "192.0.2.20";
    for (auto& [k, v] : headers) req.headers.Set(k, v);
    return router_.Dispatch(req);
  }
  http::Response Token(const std::vector<std::pair<std::string, std::string>>& fields) {
    return Call("POST", "/oauth/token", FormEncode(fields),
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  http::Response TokenFor(const std::string& assertion, const std::string& scope = {}) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"grant_type", "client_credentials"},
        {"client_assertion_type", std::string(kJwtBearerAssertionType)},
        {"client_assertion", assertion}};
    if (!scope.empty()) f.emplace_back("scope", scope);
    return Token(f);
  }
  http::Response AsAdmin(const std::string& method, const std::string& path,
                         const std::string& body = {}) {
    return Call(method, path, body,
                {{"X-Test-Role", "network_admin"}, {"Content-Type", "application/json"}});
  }
  static json::object Json(const http::Response& r) { return json::parse(r.body).as_object(); }
  std::vector<audit::AuditEvent> Audited(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    q.limit = 50;
    return audit_->Search(q);
  }

  http::Router router_;
  std::unique_ptr<OAuthDeps> deps_;
};

TEST_P(OAuthRoutesTest, TokenEndpointIssuesABearerTokenUsableUnderFhir) {
  SystemClient c = Register(Ec384Key().PublicPem(), "system/*.read");
  http::Response r = TokenFor(Assertion(c, Ec384Key(), "ES384"), "system/Patient.rs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("cache-control").value_or(""), "no-store");
  json::object body = Json(r);
  EXPECT_EQ(body.at("token_type").as_string(), "bearer");
  EXPECT_EQ(body.at("expires_in").as_int64(), 300);
  EXPECT_EQ(body.at("scope").as_string(), "system/Patient.rs");
  std::string token(body.at("access_token").as_string());

  http::Response fhir = Call("GET", "/fhir/Patient", {}, {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(fhir.status, 200) << fhir.body;
  json::object who = Json(fhir);
  EXPECT_EQ(who.at("login").as_string(), "client:" + c.client_id);
  EXPECT_EQ(who.at("facility").as_int64(), kHospital);
  EXPECT_EQ(who.at("occupation").as_string(), "physician");
  EXPECT_EQ(who.at("client").as_string(), c.client_id);
  EXPECT_TRUE(who.at("reads_patient").as_bool());
  EXPECT_FALSE(who.at("writes_patient").as_bool());
  // A POST with a bearer token needs no CSRF token and no cookie.
  EXPECT_EQ(Call("POST", "/fhir/Observation", "{}", {{"Authorization", "bearer " + token}}).status,
            200);

  auto issued = Audited("oauth.token");
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].outcome, "success");
  EXPECT_EQ(issued[0].object, "client:" + c.client_id);
  EXPECT_EQ(issued[0].facility_id, kHospital);
  EXPECT_EQ(issued[0].reason.find(token), std::string::npos);  // never the secret
}

TEST_P(OAuthRoutesTest, BadOrExpiredBearerTokensGet401WithAnOperationOutcome) {
  SystemClient c = Register(RsaKey().PublicPem());
  http::Response r = TokenFor(Assertion(c, RsaKey(), "RS384"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string token(Json(r).at("access_token").as_string());

  for (const std::string& auth : {std::string("Bearer nope"), std::string("Bearer ")}) {
    http::Response bad = Call("GET", "/fhir/Patient", {}, {{"Authorization", auth}});
    EXPECT_EQ(bad.status, 401);
    EXPECT_NE(bad.headers.Get("www-authenticate").value_or("").find("error=\"invalid_token\""),
              std::string::npos);
    json::object oo = Json(bad);
    EXPECT_EQ(oo.at("resourceType").as_string(), "OperationOutcome");
    EXPECT_EQ(oo.at("issue").as_array()[0].at("code").as_string(), "login");
  }
  clock_.Advance(301 * 1000);
  http::Response expired = Call("GET", "/fhir/Patient", {}, {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(Json(expired).at("issue").as_array()[0].at("diagnostics").as_string(),
            "the access token has expired");
  // Outside /fhir, and without a token, the middleware stays out of the way.
  EXPECT_EQ(Call("GET", "/api/v1/other", {}, {{"Authorization", "Bearer nope"}}).status, 200);
  http::Response anonymous = Call("GET", "/fhir/Patient");
  EXPECT_EQ(anonymous.status, 200);
  EXPECT_EQ(Json(anonymous).at("login").as_string(), "");
}

TEST_P(OAuthRoutesTest, TokenErrorsFollowRfc6749) {
  SystemClient c = Register(Ec384Key().PublicPem(), "system/*.read");
  auto expect = [](const http::Response& r, int status, const char* error) {
    EXPECT_EQ(r.status, status) << r.body;
    json::object o = Json(r);
    EXPECT_EQ(o.at("error").as_string(), error) << r.body;
    EXPECT_TRUE(o.at("error_description").is_string());
    EXPECT_EQ(r.headers.Get("cache-control").value_or(""), "no-store");
  };
  std::string jws = Assertion(c, Ec384Key(), "ES384");
  expect(TokenFor(jws, "system/*.write"), 400, "invalid_scope");
  ASSERT_EQ(TokenFor(jws).status, 200);
  expect(TokenFor(jws), 401, "invalid_client");  // replay
  expect(
      TokenFor(Assertion(c, Ec384Key(), "ES384", Claims().Aud("https://127.0.0.1:9/oauth/token"))),
      401, "invalid_client");
  expect(TokenFor("x.y"), 400, "invalid_request");
  expect(Token({{"grant_type", "authorization_code"}}), 400, "unsupported_grant_type");
  expect(Token({{"grant_type", "client_credentials"}, {"grant_type", "client_credentials"}}), 400,
         "invalid_request");
  expect(Call("POST", "/oauth/token", "{\"grant_type\":\"client_credentials\"}",
              {{"Content-Type", "application/json"}}),
         400, "invalid_request");
  auto refused = Audited("oauth.token");
  ASSERT_EQ(refused.size(), 8u);  // every request, the form-level refusals too
  EXPECT_EQ(refused[0].outcome, "failure");
  EXPECT_EQ(refused.back().outcome, "failure");  // oldest: the scope refusal
  EXPECT_NE(refused.back().reason.find("invalid_scope"), std::string::npos);
}

TEST_P(OAuthRoutesTest, DiscoveryDocument) {
  for (const char* path :
       {"/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"}) {
    http::Response r = Call("GET", path);
    ASSERT_EQ(r.status, 200);
    json::object o = Json(r);
    EXPECT_EQ(o.at("token_endpoint").as_string(), testing::kTokenEndpoint);
    EXPECT_EQ(o.at("token_endpoint_auth_methods_supported").as_array()[0].as_string(),
              "private_key_jwt");
    EXPECT_EQ(o.at("grant_types_supported").as_array()[0].as_string(), "client_credentials");
    EXPECT_EQ(o.at("token_endpoint_auth_signing_alg_values_supported").as_array()[0].as_string(),
              "RS384");
    EXPECT_EQ(o.at("capabilities").as_array()[0].as_string(), "client-confidential-asymmetric");
  }
}

TEST_P(OAuthRoutesTest, OnlyTheSecretariatManagesClients) {
  json::object body{{"name", "さくら薬局 レセコン"},
                    {"facility_id", testing::kPharmacy},
                    {"scopes", json::array{"system/*.read"}},
                    {"public_key", Ec384Key().PublicPem()}};
  EXPECT_EQ(Call("GET", "/api/v1/system-clients").status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/system-clients", json::serialize(body),
                 {{"X-Test-Role", "facility_admin"}})
                .status,
            403);
  EXPECT_EQ(Call("GET", "/api/v1/system-clients", {}, {{"X-Test-Role", "staff"}}).status, 403);

  http::Response created = AsAdmin("POST", "/api/v1/system-clients", json::serialize(body));
  ASSERT_EQ(created.status, 201) << created.body;
  json::object c = Json(created);
  std::string id(c.at("client_id").as_string());
  EXPECT_EQ(c.at("facility_name").as_string(), "さくら薬局");
  EXPECT_EQ(c.at("occupation").as_string(), "pharmacist");
  EXPECT_EQ(c.at("status").as_string(), "active");
  EXPECT_EQ(c.at("token_endpoint").as_string(), testing::kTokenEndpoint);
  EXPECT_EQ(c.at("jwks").at("keys").as_array().size(), 1u);

  body["public_key"] = Ec384Key().PrivatePem();
  http::Response bad = AsAdmin("POST", "/api/v1/system-clients", json::serialize(body));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("private key"), std::string::npos);

  http::Response list = AsAdmin("GET", "/api/v1/system-clients");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(Json(list).at("items").as_array().size(), 1u);

  http::Response disabled = AsAdmin("POST", "/api/v1/system-clients/" + id + "/disable");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(Json(disabled).at("status").as_string(), "disabled");
  EXPECT_EQ(AsAdmin("POST", "/api/v1/system-clients/" + id + "/disable").status, 409);
  EXPECT_EQ(AsAdmin("POST", "/api/v1/system-clients/unknown/disable").status, 404);

  ASSERT_EQ(Audited("oauth.client_register").size(), 2u);  // one denied, one success
  auto disables = Audited("oauth.client_disable");
  ASSERT_EQ(disables.size(), 1u);
  EXPECT_EQ(disables[0].user_id, 42);
  EXPECT_EQ(disables[0].object, "client:" + id);
}

INSTANTIATE_TEST_SUITE_P(Backends, OAuthRoutesTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::oauth
