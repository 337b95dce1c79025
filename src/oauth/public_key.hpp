#pragma once
// Public signing keys of system clients, held as JSON Web Keys (RFC 7517):
// RSA (2048 bits or more) or EC on P-256 / P-384. Keys arrive as a JWK, a JWK
// Set or PEM and are always stored as public JWKs; private members are
// refused, never kept. Signatures are checked with OpenSSL 3 (RFC 7518: RS256,
// RS384 = RSASSA-PKCS1-v1_5; ES256, ES384 = ECDSA with the JOSE r||s form).
// OpenSSL stays in public_key.cpp. Thread-safety: pure functions.
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::oauth {

struct Jwk {
  std::string kid;   // from the key, or its RFC 7638 SHA-256 thumbprint
  std::string kty;   // "RSA" or "EC"
  std::string crv;   // "P-256" / "P-384" for EC, "" for RSA
  std::string alg;   // optional "alg" member of the key ("" if absent)
  std::string json;  // the public JWK as compact JSON (what is stored)
};

// Parses pasted key text: a JWK object, a JWK Set {"keys": [...]}, or PEM
// ("BEGIN PUBLIC KEY", "BEGIN RSA PUBLIC KEY" or an X.509 "BEGIN
// CERTIFICATE"). InvalidInput with a plain message when the text holds a
// private key, no key, more than kMaxKeys keys, two keys with one kid, an
// unsupported key type or curve, an RSA key under 2048 bits, a point not on
// its curve, or an "alg"/"use" that does not fit a signing key.
inline constexpr size_t kMaxKeys = 5;
core::Result<std::vector<Jwk>> ParsePublicKeys(std::string_view text);
// {"keys":[...]} of the given keys (their `json`).
std::string ToJwks(const std::vector<Jwk>& keys);

// JOSE algorithms accepted for client assertions, preferred first.
const std::vector<std::string>& SupportedAlgs();
bool IsSupportedAlg(std::string_view alg);

// True when `signature` (raw JWS bytes) is a valid `alg` signature of
// `signing_input` by `key`. False too when the alg does not fit the key
// (RS* on an EC key, ES256 on P-384, an alg other than the key's "alg").
// Internal when the stored key cannot be loaded.
core::Result<bool> VerifySignature(const Jwk& key, std::string_view alg,
                                   std::string_view signing_input, std::string_view signature);

}  // namespace tsunagu::oauth
