#include "oauth/token_service.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "core/access_epoch.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "oauth/client_registry.hpp"
#include "oauth/jwt.hpp"
#include "oauth/public_key.hpp"
#include "oauth/scope.hpp"

namespace tsunagu::oauth {
namespace {

using store::Value;

constexpr size_t kMaxJtiLength = 256;
constexpr size_t kMaxTokenLength = 200;
constexpr int64_t kPurgeIntervalMs = 60 * 1000;

std::string Sha256Hex(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  return core::HexEncode(md, n);
}

}  // namespace

std::string_view ToString(TokenError e) {
  switch (e) {
    case TokenError::kNone:
      return "";
    case TokenError::kInvalidRequest:
      return "invalid_request";
    case TokenError::kInvalidClient:
      return "invalid_client";
    case TokenError::kInvalidScope:
      return "invalid_scope";
    case TokenError::kUnsupportedGrantType:
      return "unsupported_grant_type";
    case TokenError::kServerError:
      return "server_error";
  }
  return "server_error";
}

int HttpStatusFor(TokenError e) {
  switch (e) {
    case TokenError::kNone:
      return 200;
    case TokenError::kInvalidClient:
      return 401;
    case TokenError::kServerError:
      return 500;
    default:
      return 400;
  }
}

TokenService::TokenService(store::Database& db, const core::Clock& clock,
                           const ClientRegistry& registry, std::string token_endpoint)
    : db_(db), clock_(clock), registry_(registry), token_endpoint_(std::move(token_endpoint)) {}

TokenOutcome TokenService::Refuse(TokenError error, std::string description,
                                  std::optional<SystemClient> client) const {
  TokenOutcome out;
  out.error = error;
  out.description = std::move(description);
  out.client = std::move(client);
  return out;
}

TokenOutcome TokenService::Exchange(const TokenRequest& req) {
  TokenOutcome out = Check(req);
  if (out.client) {
    out.claimed_client_id = out.client->client_id;
  } else if (!req.client_assertion.empty()) {
    if (auto a = ParseJwtAssertion(req.client_assertion))
      out.claimed_client_id = a->iss.substr(0, 64);
  }
  return out;
}

TokenOutcome TokenService::Check(const TokenRequest& req) {
  if (req.grant_type.empty()) return Refuse(TokenError::kInvalidRequest, "grant_type is required");
  if (req.grant_type != kClientCredentials) {
    return Refuse(TokenError::kUnsupportedGrantType,
                  "only grant_type client_credentials is supported");
  }
  if (req.client_assertion_type.empty() || req.client_assertion.empty()) {
    return Refuse(TokenError::kInvalidRequest,
                  "client authentication needs client_assertion_type and client_assertion "
                  "(private_key_jwt)");
  }
  if (req.client_assertion_type != kJwtBearerAssertionType) {
    return Refuse(TokenError::kInvalidRequest,
                  "client_assertion_type must be " + std::string(kJwtBearerAssertionType));
  }
  auto assertion = ParseJwtAssertion(req.client_assertion);
  if (!assertion) return Refuse(TokenError::kInvalidRequest, assertion.error().message());
  const JwtAssertion& a = *assertion;

  if (a.iss.empty() || a.sub.empty()) {
    return Refuse(TokenError::kInvalidClient, "the assertion needs iss and sub (the client_id)");
  }
  if (a.iss != a.sub) return Refuse(TokenError::kInvalidClient, "iss and sub must be the same");
  if (!req.client_id.empty() && req.client_id != a.iss) {
    return Refuse(TokenError::kInvalidClient, "client_id does not match the assertion");
  }
  auto client = registry_.Get(a.iss);
  if (!client) {
    if (client.error().code() == core::Code::kNotFound) {
      return Refuse(TokenError::kInvalidClient, "unknown client");
    }
    core::LogError("oauth.client_lookup_failed", {{"detail", client.error().detail()}});
    return Refuse(TokenError::kServerError, "the server could not check the client");
  }
  if (client->disabled)
    return Refuse(TokenError::kInvalidClient, "the client is disabled", *client);
  if (!IsSupportedAlg(a.alg)) {
    return Refuse(
        TokenError::kInvalidClient,
        "alg " + a.alg.substr(0, 20) + " is not accepted (use RS384, ES384, RS256 or ES256)",
        *client);
  }
  if (a.has_crit) {
    return Refuse(TokenError::kInvalidClient, "the assertion header must not carry crit", *client);
  }

  auto keys = ParsePublicKeys(client->jwks);
  if (!keys) {
    core::LogError("oauth.stored_key_unreadable",
                   {{"client", client->client_id}, {"detail", keys.error().message()}});
    return Refuse(TokenError::kServerError, "the server could not read the client's keys", *client);
  }
  const Jwk* key = nullptr;
  if (a.kid.empty()) {
    if (keys->size() != 1) {
      return Refuse(TokenError::kInvalidClient,
                    "the client has several keys: the assertion header needs a kid", *client);
    }
    key = &keys->front();
  } else {
    auto it =
        std::find_if(keys->begin(), keys->end(), [&](const Jwk& k) { return k.kid == a.kid; });
    if (it == keys->end()) {
      return Refuse(TokenError::kInvalidClient, "no registered key has the assertion's kid",
                    *client);
    }
    key = &*it;
  }
  auto verified = VerifySignature(*key, a.alg, a.signing_input, a.signature);
  if (!verified) {
    core::LogError("oauth.verify_failed",
                   {{"client", client->client_id}, {"detail", verified.error().detail()}});
    return Refuse(TokenError::kServerError, "the server could not check the signature", *client);
  }
  if (!*verified) {
    return Refuse(TokenError::kInvalidClient, "the assertion signature does not verify", *client);
  }

  if (std::find(a.aud.begin(), a.aud.end(), token_endpoint_) == a.aud.end()) {
    return Refuse(TokenError::kInvalidClient, "aud must be the token endpoint " + token_endpoint_,
                  *client);
  }
  const int64_t now_ms = clock_.NowMillis();
  const int64_t now = now_ms / 1000;
  if (!a.exp) return Refuse(TokenError::kInvalidClient, "the assertion needs exp", *client);
  if (*a.exp <= now)
    return Refuse(TokenError::kInvalidClient, "the assertion has expired", *client);
  if (*a.exp > now + kMaxAssertionLifetimeSeconds + kClockSkewSeconds) {
    return Refuse(TokenError::kInvalidClient,
                  "exp must be at most 5 minutes after the time of the request", *client);
  }
  if (a.nbf && *a.nbf > now + kClockSkewSeconds) {
    return Refuse(TokenError::kInvalidClient, "the assertion is not valid yet (nbf)", *client);
  }
  if (a.iat && *a.iat > now + kClockSkewSeconds) {
    return Refuse(TokenError::kInvalidClient, "iat is in the future", *client);
  }
  if (a.jti.empty() || a.jti.size() > kMaxJtiLength) {
    return Refuse(TokenError::kInvalidClient, "the assertion needs a jti of at most 256 characters",
                  *client);
  }

  std::vector<ScopeGrant> allowed;
  for (const auto& s : client->scopes) {
    if (auto g = ParseScope(s)) allowed.push_back(std::move(*g));
  }
  std::vector<ScopeGrant> granted;
  if (!req.scope || req.scope->find_first_not_of(' ') == std::string::npos) {
    granted = allowed;
  } else {
    auto requested = ParseScopes(*req.scope);
    if (!requested) return Refuse(TokenError::kInvalidScope, requested.error().message(), *client);
    for (const auto& r : *requested) {
      if (!ScopesCover(allowed, r)) {
        return Refuse(TokenError::kInvalidScope,
                      "scope " + r.text + " is not allowed for this client", *client);
      }
    }
    granted = std::move(*requested);
  }
  if (granted.empty()) return Refuse(TokenError::kInvalidScope, "no scope to grant", *client);

  PurgeExpired(now_ms);
  IssuedToken token;
  token.access_token = core::RandomToken(32);
  const std::string hash = Sha256Hex(token.access_token);
  token.token_id = hash.substr(0, 16);
  token.expires_in = kTokenLifetimeSeconds;
  token.scope = JoinScopes(granted);

  auto server_error = [&](const core::Status& s) {
    core::LogError("oauth.token_store_failed",
                   {{"client", client->client_id}, {"detail", s.detail()}});
    return Refuse(TokenError::kServerError, "the server could not issue a token", *client);
  };
  auto tx = db_.Begin();
  if (!tx) return server_error(tx.error());
  auto fresh = (*tx)->Execute(
      "INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at) VALUES (?, ?, ?) "
      "ON CONFLICT (client_id, jti) DO NOTHING",
      {Value{client->client_id}, Value{a.jti}, Value{*a.exp * 1000}});
  if (!fresh) return server_error(fresh.error());
  if (*fresh == 0) {
    return Refuse(TokenError::kInvalidClient, "the assertion was already used (jti replayed)",
                  *client);
  }
  auto stored = (*tx)->Execute(
      "INSERT INTO oauth_access_tokens (token_hash, token_id, client_id, scopes, issued_at, "
      "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      {Value{hash}, Value{token.token_id}, Value{client->client_id}, Value{token.scope},
       Value{now_ms}, Value{now_ms + kTokenLifetimeSeconds * 1000}});
  if (!stored) return server_error(stored.error());
  if (auto s = (*tx)->Commit(); !s.ok()) return server_error(s);

  TokenOutcome out;
  out.token = std::move(token);
  out.client = std::move(*client);
  return out;
}

void TokenService::PurgeExpired(int64_t now_ms) {
  int64_t last = last_purge_ms_.load();
  if (now_ms - last < kPurgeIntervalMs) return;
  if (!last_purge_ms_.compare_exchange_strong(last, now_ms)) return;  // another thread purges
  auto jtis = db_.Execute("DELETE FROM oauth_assertion_jtis WHERE expires_at < ?", {Value{now_ms}});
  auto tokens =
      db_.Execute("DELETE FROM oauth_access_tokens WHERE expires_at < ?", {Value{now_ms}});
  if (!jtis || !tokens) {
    core::LogWarn("oauth.purge_failed",
                  {{"detail", !jtis ? jtis.error().detail() : tokens.error().detail()}});
  }
}

core::Result<TokenService::Resolved> TokenService::Resolve(std::string_view access_token) const {
  if (access_token.empty() || access_token.size() > kMaxTokenLength) {
    return core::Unauthenticated("invalid access token");
  }
  const uint64_t epoch = core::AccessEpoch();
  const int64_t now = clock_.NowMillis();
  const std::string key(access_token);
  if (auto hit = cache_.Find(key, epoch, now); hit && now < hit->grant.expires_at) {
    return std::move(*hit);
  }
  auto resolved = Lookup(access_token);
  if (resolved) cache_.Store(key, *resolved, epoch, now);
  return resolved;
}

core::Result<TokenService::Resolved> TokenService::Lookup(std::string_view access_token) const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query("SELECT token_id, client_id, scopes, expires_at FROM oauth_access_tokens "
                "WHERE token_hash = ?",
                {Value{Sha256Hex(access_token)}}));
  if (rows.empty()) return core::Unauthenticated("invalid access token");
  const store::Row& r = rows.rows[0];
  if (r.Int(3) <= clock_.NowMillis()) return core::Unauthenticated("the access token has expired");
  auto client = registry_.Get(r.Text(1));
  if (!client) {
    if (client.error().code() == core::Code::kNotFound) {
      return core::Unauthenticated("invalid access token");
    }
    return client.error();
  }
  if (client->disabled) return core::Unauthenticated("the client is disabled");
  Resolved out;
  out.grant.client_id = client->client_id;
  out.grant.name = client->name;
  out.grant.facility_id = client->facility_id;
  out.grant.token_id = r.Text(0);
  out.grant.expires_at = r.Int(3);
  auto scopes = ParseScopes(r.Text(2));
  if (!scopes)
    return core::Internal("internal error", "stored token scopes: " + scopes.error().message());
  out.grant.scopes = std::move(*scopes);
  out.client = std::move(*client);
  return out;
}

}  // namespace tsunagu::oauth
