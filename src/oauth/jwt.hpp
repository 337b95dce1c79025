#pragma once
// JWS compact serialisation of a client assertion (RFC 7515, RFC 7519, RFC
// 7523): splitting, base64url decoding and the claims a token endpoint
// checks. Signature verification is public_key.hpp's job; claim rules
// (audience, lifetime, replay) are TokenService's. Boost.JSON stays in jwt.cpp.
// Thread-safety: pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::oauth {

// Strict base64url without padding (RFC 7515 §2); nullopt on any other byte.
std::optional<std::string> Base64UrlDecode(std::string_view in);

struct JwtAssertion {
  // Header.
  std::string alg;
  std::string kid;  // "" if absent
  bool has_crit = false;
  // Claims ("" / nullopt when absent).
  std::string iss, sub, jti;
  std::vector<std::string> aud;          // a string audience becomes one element
  std::optional<int64_t> exp, nbf, iat;  // seconds since the epoch
  // What the signature covers ("<header>.<payload>") and the signature bytes.
  std::string signing_input;
  std::string signature;
};

inline constexpr size_t kMaxAssertionBytes = 16 * 1024;

// Splits and decodes a compact JWS. InvalidInput (a plain message) when it is
// not three base64url parts, a part is not a JSON object, a registered claim
// has the wrong type (iss/sub/jti strings, aud string or array of strings,
// exp/nbf/iat numbers) or the whole is larger than kMaxAssertionBytes.
core::Result<JwtAssertion> ParseJwtAssertion(std::string_view compact);

}  // namespace tsunagu::oauth
