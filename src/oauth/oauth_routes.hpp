#pragma once
// HTTP surface of the oauth module (docs/oauth.md, docs/api.md "System
// clients"):
//  - POST /oauth/token: the client credentials token endpoint (form-encoded,
//    public: no session, no CSRF); answers RFC 6749 §5.1 / §5.2 JSON with
//    Cache-Control: no-store; every issued and refused token is audited as
//    "oauth.token" (no assertion, no token in the trail);
//  - GET /.well-known/smart-configuration and GET
//    /fhir/.well-known/smart-configuration: SMART discovery;
//  - GET/POST /api/v1/system-clients, POST /api/v1/system-clients/:id/disable:
//    the registry, for the network secretariat (Role::kNetworkAdmin) only;
//    registrations and disables are audited.
//
// Bearer middleware contract (install with Router::Use): for a request whose
// path is /fhir or below it and that carries "Authorization: Bearer <token>",
//  - a live token sets the auth::Principal (user_id 0, the client's facility
//    and occupation, login_id "client:<client_id>", role staff, session_id =
//    the token's short id) and the oauth::ClientGrant (client_context.hpp);
//  - an unknown, expired or revoked token (or a disabled client) answers 401
//    with WWW-Authenticate: Bearer error="invalid_token" and a FHIR
//    OperationOutcome (issue code "login"); nothing else runs;
//  - any other request passes untouched (cookies and CSRF are the session
//    middleware's business; bearer requests carry neither).
#include <functional>
#include <string>

#include "http/router.hpp"

namespace tsunagu::audit {
class AuditLog;
}

namespace tsunagu::oauth {

class ClientRegistry;
class TokenService;

// References must outlive the router.
struct OAuthDeps {
  ClientRegistry& registry;
  TokenService& tokens;
  audit::AuditLog& audit;
};

void RegisterOAuthRoutes(http::Router& router, OAuthDeps& deps);
http::Middleware MakeBearerMiddleware(OAuthDeps& deps);

}  // namespace tsunagu::oauth
