#include "oauth/oauth_routes.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include "audit/audit_log.hpp"
#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "http/json.hpp"
#include "oauth/client_context.hpp"
#include "oauth/client_registry.hpp"
#include "oauth/public_key.hpp"
#include "oauth/token_service.hpp"

namespace tsunagu::oauth {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr std::string_view kFhirPrefix = "/fhir";

// ---- token endpoint ------------------------------------------------------

Response OAuthError(TokenError error, const std::string& description) {
  Response r = http::JsonResponse(
      HttpStatusFor(error),
      json::object{{"error", ToString(error)}, {"error_description", description}});
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

bool IsFormEncoded(const Request& req) {
  auto type = req.Header("Content-Type");
  if (!type) return false;
  std::string v(type->substr(0, type->find(';')));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "application/x-www-form-urlencoded";
}

// The form parameters; InvalidInput for a malformed body or a parameter sent
// twice (RFC 6749 §3.2).
core::Result<std::map<std::string, std::string, std::less<>>> ParseForm(std::string_view body) {
  std::map<std::string, std::string, std::less<>> out;
  if (body.empty()) return out;
  auto params = boost::urls::parse_query(body);
  if (!params) return core::InvalidInput("the request body is not form-encoded");
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (auto p : *params) {
    std::string key = p.key.decode(opts);
    std::string value = p.has_value ? p.value.decode(opts) : std::string();
    if (key.empty()) continue;
    if (!out.emplace(key, std::move(value)).second) {
      return core::InvalidInput("parameter " + key.substr(0, 40) + " is sent more than once");
    }
  }
  return out;
}

void AuditToken(OAuthDeps& deps, const Request& req, const TokenOutcome& outcome) {
  audit::AuditEvent e;
  e.action = "oauth.token";
  e.client_address = req.client_address;
  e.outcome = outcome.ok() ? "success" : "failure";
  if (outcome.client) {
    e.user_name = outcome.client->name;
    e.facility_id = outcome.client->facility_id;
    e.occupation = std::string(auth::ToString(outcome.client->occupation));
  }
  if (!outcome.claimed_client_id.empty()) e.object = "client:" + outcome.claimed_client_id;
  e.reason = outcome.ok() ? "token " + outcome.token->token_id + " scope " + outcome.token->scope
                          : std::string(ToString(outcome.error)) + ": " + outcome.description;
  if (auto stored = deps.audit.Append(std::move(e)); !stored) {
    core::LogError("oauth.audit_failed", {{"detail", stored.error().detail()}});
  }
}

// A refusal before the request reaches the token service, audited like the others.
Response RefuseRequest(OAuthDeps& deps, const Request& req, std::string description) {
  TokenOutcome outcome;
  outcome.error = TokenError::kInvalidRequest;
  outcome.description = std::move(description);
  AuditToken(deps, req, outcome);
  return OAuthError(outcome.error, outcome.description);
}

Response Token(OAuthDeps& deps, Request& req) {
  if (!IsFormEncoded(req)) {
    return RefuseRequest(deps, req, "the body must be application/x-www-form-urlencoded");
  }
  auto form = ParseForm(req.body);
  if (!form) return RefuseRequest(deps, req, form.error().message());
  auto get = [&](std::string_view key) {
    auto it = form->find(key);
    return it == form->end() ? std::string() : it->second;
  };
  TokenRequest tr;
  tr.grant_type = get("grant_type");
  if (form->contains("scope")) tr.scope = get("scope");
  tr.client_assertion_type = get("client_assertion_type");
  tr.client_assertion = get("client_assertion");
  tr.client_id = get("client_id");
  TokenOutcome outcome = deps.tokens.Exchange(tr);
  AuditToken(deps, req, outcome);
  if (!outcome.ok()) {
    core::LogInfo("oauth.token_refused", {{"client", outcome.claimed_client_id},
                                          {"error", std::string(ToString(outcome.error))},
                                          {"reason", outcome.description}});
    return OAuthError(outcome.error, outcome.description);
  }
  Response r = http::JsonResponse(200, json::object{{"access_token", outcome.token->access_token},
                                                    {"token_type", "bearer"},
                                                    {"expires_in", outcome.token->expires_in},
                                                    {"scope", outcome.token->scope}});
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

Response SmartConfiguration(OAuthDeps& deps) {
  json::array algs;
  for (const auto& a : SupportedAlgs()) algs.emplace_back(a);
  return http::JsonResponse(
      200, json::object{{"token_endpoint", deps.tokens.token_endpoint()},
                        {"token_endpoint_auth_methods_supported", json::array{"private_key_jwt"}},
                        {"token_endpoint_auth_signing_alg_values_supported", std::move(algs)},
                        {"grant_types_supported", json::array{"client_credentials"}},
                        {"scopes_supported", json::array{"system/*.read", "system/*.write",
                                                         "system/*.rs", "system/*.cruds"}},
                        {"capabilities", json::array{"client-confidential-asymmetric"}}});
}

// ---- bearer middleware ---------------------------------------------------

bool UnderFhir(std::string_view path) {
  return path.rfind(kFhirPrefix, 0) == 0 &&
         (path.size() == kFhirPrefix.size() || path[kFhirPrefix.size()] == '/');
}

// The token of "Bearer <token>" (scheme case-insensitive); nullopt for
// another scheme.
std::optional<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view rest = header.substr(kScheme.size());
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;
  size_t b = rest.find_first_not_of(' ');
  if (b == std::string_view::npos) return std::string_view();
  rest = rest.substr(b);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

Response OperationOutcome(int status, std::string_view code, const std::string& diagnostics) {
  json::object issue{{"severity", "error"}, {"code", code}, {"diagnostics", diagnostics}};
  Response r = http::JsonResponse(status, json::object{{"resourceType", "OperationOutcome"},
                                                       {"issue", json::array{std::move(issue)}}});
  r.headers.Set("Content-Type", "application/fhir+json; charset=utf-8");
  return r;
}

Response InvalidToken(const std::string& why) {
  Response r = OperationOutcome(401, "login", why);
  std::string quoted;
  for (char c : why) {
    if (c != '"' && c != '\\') quoted += c;
  }
  r.headers.Set(
      "WWW-Authenticate",
      "Bearer realm=\"tsunagu\", error=\"invalid_token\", error_description=\"" + quoted + "\"");
  return r;
}

// ---- system-client registry ----------------------------------------------

core::Result<auth::Principal> RequireSecretariat(const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (p == nullptr) return core::Unauthenticated("login required");
  if (!p->IsNetworkAdmin()) {
    return core::Forbidden("only the network secretariat manages system clients");
  }
  return *p;
}

json::value ClientJson(OAuthDeps& deps, const SystemClient& c) {
  json::array scopes, kids;
  for (const auto& s : c.scopes) scopes.emplace_back(s);
  for (const auto& k : c.kids) kids.emplace_back(k);
  std::string facility_name;
  if (const auto& lookup = deps.registry.facilities()) {
    if (auto f = lookup(c.facility_id)) facility_name = f->name;
  }
  boost::system::error_code ec;
  json::value jwks = json::parse(c.jwks, ec);
  if (ec) jwks = nullptr;
  return json::object{
      {"client_id", c.client_id},
      {"name", c.name},
      {"facility_id", c.facility_id},
      {"facility_name", facility_name},
      {"occupation", auth::ToString(c.occupation)},
      {"scopes", std::move(scopes)},
      {"kids", std::move(kids)},
      {"jwks", std::move(jwks)},
      {"status", c.disabled ? "disabled" : "active"},
      {"created_at", core::FormatIsoUtc(c.created_at)},
      {"created_by", c.created_by},
      {"disabled_at", c.disabled ? json::value(core::FormatIsoUtc(c.disabled_at)) : nullptr},
      {"token_endpoint", deps.tokens.token_endpoint()}};
}

Response ListClients(OAuthDeps& deps, Request& req) {
  auto principal = RequireSecretariat(req);
  if (!principal) return Response::Error(principal.error());
  auto clients = deps.registry.List();
  if (!clients) return Response::Error(clients.error());
  json::array items;
  for (const auto& c : *clients) items.push_back(ClientJson(deps, c));
  return http::JsonResponse(200, json::object{{"items", std::move(items)}});
}

core::Result<NewSystemClient> NewClientFromJson(const json::object& body) {
  NewSystemClient n;
  TSUNAGU_ASSIGN_OR_RETURN(n.name, http::RequireString(body, "name"));
  TSUNAGU_ASSIGN_OR_RETURN(auto facility_id, http::OptInt64(body, "facility_id"));
  if (!facility_id) return core::InvalidInput("facility_id is required");
  n.facility_id = *facility_id;
  TSUNAGU_ASSIGN_OR_RETURN(auto occupation, http::OptString(body, "occupation"));
  if (occupation && !occupation->empty()) {
    n.occupation = auth::ParseOccupation(*occupation);
    if (!n.occupation) return core::InvalidInput("occupation is not a known occupation");
  }
  // "scopes": an array of strings or one space-separated string.
  if (const json::value* v = body.if_contains("scopes"); v != nullptr && !v->is_null()) {
    if (v->is_string()) {
      n.scopes = std::string(v->as_string());
    } else {
      TSUNAGU_ASSIGN_OR_RETURN(auto list, http::OptStringArray(body, "scopes"));
      for (const auto& s : list.value_or(std::vector<std::string>{})) {
        n.scopes += (n.scopes.empty() ? "" : " ") + s;
      }
    }
  }
  TSUNAGU_ASSIGN_OR_RETURN(n.public_key, http::RequireString(body, "public_key"));
  return n;
}

Response RegisterClient(OAuthDeps& deps, Request& req) {
  auto principal = RequireSecretariat(req);
  if (!principal) {
    if (principal.error().code() == core::Code::kForbidden) {
      audit::RecordRequest(deps.audit, req, "oauth.client_register", "", "", "denied",
                           principal.error().message());
    }
    return Response::Error(principal.error());
  }
  auto body = http::ParseJsonObject(req.body);
  if (!body) return Response::Error(body.error());
  auto fresh = NewClientFromJson(*body);
  if (!fresh) return Response::Error(fresh.error());
  fresh->created_by = principal->user_id;
  auto client = deps.registry.Register(*fresh);
  if (!client) return Response::Error(client.error());
  std::string scopes;
  for (const auto& s : client->scopes) scopes += (scopes.empty() ? "" : " ") + s;
  audit::RecordRequest(deps.audit, req, "oauth.client_register", "client:" + client->client_id, "",
                       "success",
                       "facility " + std::to_string(client->facility_id) + ", occupation " +
                           std::string(auth::ToString(client->occupation)) + ", scopes " + scopes);
  return http::JsonResponse(201, ClientJson(deps, *client));
}

Response DisableClient(OAuthDeps& deps, Request& req) {
  auto principal = RequireSecretariat(req);
  const std::string object = "client:" + req.Param("id").substr(0, 64);
  if (!principal) {
    if (principal.error().code() == core::Code::kForbidden) {
      audit::RecordRequest(deps.audit, req, "oauth.client_disable", object, "", "denied",
                           principal.error().message());
    }
    return Response::Error(principal.error());
  }
  auto client = deps.registry.Disable(req.Param("id"));
  if (!client) return Response::Error(client.error());
  audit::RecordRequest(deps.audit, req, "oauth.client_disable", object, "", "success",
                       "access tokens revoked");
  return http::JsonResponse(200, ClientJson(deps, *client));
}

}  // namespace

void RegisterOAuthRoutes(http::Router& router, OAuthDeps& deps) {
  constexpr http::RouteOptions kTokenBody{.body_limit = 32 * 1024};
  constexpr http::RouteOptions kKeyBody{.body_limit = 128 * 1024};
  router.Post(
      "/oauth/token", [&deps](Request& r) { return Token(deps, r); }, kTokenBody);
  router.Get("/.well-known/smart-configuration",
             [&deps](Request&) { return SmartConfiguration(deps); });
  router.Get("/fhir/.well-known/smart-configuration",
             [&deps](Request&) { return SmartConfiguration(deps); });
  router.Get("/api/v1/system-clients", [&deps](Request& r) { return ListClients(deps, r); });
  router.Post(
      "/api/v1/system-clients", [&deps](Request& r) { return RegisterClient(deps, r); }, kKeyBody);
  router.Post("/api/v1/system-clients/:id/disable",
              [&deps](Request& r) { return DisableClient(deps, r); });
}

http::Middleware MakeBearerMiddleware(OAuthDeps& deps) {
  return [&deps](Request& req, const http::Handler& next) -> Response {
    if (!UnderFhir(req.path)) return next(req);
    auto header = req.Header("Authorization");
    if (!header) return next(req);
    auto token = BearerToken(*header);
    if (!token) return next(req);
    if (token->empty()) return InvalidToken("the bearer token is empty");
    auto resolved = deps.tokens.Resolve(*token);
    if (!resolved) {
      if (resolved.error().code() == core::Code::kUnauthenticated) {
        core::LogInfo("oauth.bearer_refused",
                      {{"path", req.path}, {"reason", resolved.error().message()}});
        return InvalidToken(resolved.error().message());
      }
      core::LogError("oauth.bearer_lookup_failed", {{"detail", resolved.error().detail()}});
      return OperationOutcome(500, "exception", "internal error");
    }
    auth::Principal p;
    p.user_id = 0;
    p.facility_id = resolved->client.facility_id;
    p.login_id = "client:" + resolved->client.client_id;
    p.display_name = resolved->client.name;
    p.occupation = resolved->client.occupation;
    p.role = auth::Role::kStaff;
    p.session_id = resolved->grant.token_id;
    auth::SetPrincipal(req, std::move(p));
    SetClient(req, std::move(resolved->grant));
    return next(req);
  };
}

}  // namespace tsunagu::oauth
