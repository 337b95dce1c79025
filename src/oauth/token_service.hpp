#pragma once
// The OAuth 2.0 token endpoint's logic (RFC 6749 §4.4 client credentials,
// client authentication by a JWT assertion per RFC 7523 §2.2/§3 and SMART
// Backend Services) and the resolution of the access tokens it issues.
//
// Assertion rules, checked in this order:
//  - grant_type is client_credentials, client_assertion_type is
//    urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion
//    is a compact JWS (else invalid_request / unsupported_grant_type);
//  - iss == sub == a registered, enabled client_id (and == client_id when the
//    request sends one); alg one of SupportedAlgs() (never "none"); no "crit";
//    header kid selects the key (or the client's only key); the signature
//    verifies; aud holds exactly the token endpoint URL given to the
//    constructor; exp present, in the future and at most kMaxAssertionLifetime
//    (+ kClockSkew) ahead; nbf and iat, when present, not after now +
//    kClockSkew; jti present and never accepted before for this client (kept
//    until the assertion's exp) — any failure here is invalid_client (RFC 7523
//    §3.2 names that code for a client assertion that is not valid);
//  - every requested scope is covered by the client's allowed scopes
//    (invalid_scope); no scope requested means all allowed scopes.
// A token is 32 random bytes (base64url), valid kTokenLifetime; only its
// SHA-256 is stored. Expired jtis and tokens are purged as new ones arrive.
// Thread-safety: safe to share; the jti check is one atomic insert.
// Ownership: borrows the database, clock and registry.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/epoch_cache.hpp"
#include "core/status.hpp"
#include "oauth/client_context.hpp"
#include "oauth/types.hpp"
#include "store/database.hpp"

namespace tsunagu::oauth {

class ClientRegistry;

inline constexpr std::string_view kClientCredentials = "client_credentials";
inline constexpr std::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// RFC 6749 §5.2 error codes (plus server_error for storage failures).
enum class TokenError {
  kNone,
  kInvalidRequest,
  kInvalidClient,
  kInvalidScope,
  kUnsupportedGrantType,
  kServerError,
};
// "invalid_request", ...
std::string_view ToString(TokenError e);
// 400, 401 for invalid_client, 500 for server_error.
int HttpStatusFor(TokenError e);

// The form parameters of a token request (absent = empty).
struct TokenRequest {
  std::string grant_type;
  std::optional<std::string> scope;
  std::string client_assertion_type;
  std::string client_assertion;
  std::string client_id;
};

struct IssuedToken {
  std::string access_token;  // the secret; returned once, never stored
  std::string token_id;      // short public id (first 16 hex digits of the hash)
  int64_t expires_in = 0;    // seconds
  std::string scope;         // granted scopes, space-separated
};

struct TokenOutcome {
  std::optional<IssuedToken> token;  // set on success
  TokenError error = TokenError::kNone;
  std::string description;             // for the client: no secrets, no key material
  std::optional<SystemClient> client;  // the client the assertion named, when registered
  // The iss of the assertion when it could be read (at most 64 characters):
  // for the audit trail of refused requests naming unknown clients.
  std::string claimed_client_id;
  bool ok() const { return token.has_value(); }
};

class TokenService {
 public:
  static constexpr int64_t kTokenLifetimeSeconds = 300;
  static constexpr int64_t kMaxAssertionLifetimeSeconds = 300;
  static constexpr int64_t kClockSkewSeconds = 60;

  // token_endpoint: the one accepted "aud", "<public url>/oauth/token".
  TokenService(store::Database& db, const core::Clock& clock, const ClientRegistry& registry,
               std::string token_endpoint);

  TokenOutcome Exchange(const TokenRequest& request);

  // The grant of a live access token. Unauthenticated ("invalid access
  // token", "the access token has expired", "the client is disabled"),
  // Internal on storage failure. The returned client is the registered one.
  struct Resolved {
    ClientGrant grant;
    SystemClient client;
  };
  // Resolved tokens are kept in memory for kResolveCacheMillis (never past
  // their expiry); disabling a client in this process (core::AccessEpoch)
  // drops them at once.
  static constexpr int64_t kResolveCacheMillis = 1000;
  core::Result<Resolved> Resolve(std::string_view access_token) const;

  const std::string& token_endpoint() const { return token_endpoint_; }

 private:
  TokenOutcome Check(const TokenRequest& request);
  TokenOutcome Refuse(TokenError error, std::string description,
                      std::optional<SystemClient> client = std::nullopt) const;
  void PurgeExpired(int64_t now_ms);

  store::Database& db_;
  const core::Clock& clock_;
  const ClientRegistry& registry_;
  std::string token_endpoint_;
  std::atomic<int64_t> last_purge_ms_{0};
  core::Result<Resolved> Lookup(std::string_view access_token) const;
  static constexpr size_t kMaxCachedTokens = 10000;
  core::EpochCache<std::string, Resolved> cache_{kResolveCacheMillis,
                                                 kMaxCachedTokens};  // by access token
};

}  // namespace tsunagu::oauth
