#include "oauth/public_key.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/json.hpp>
#include <memory>

#include "core/random.hpp"
#include "oauth/jwt.hpp"

namespace tsunagu::oauth {
namespace {

namespace json = boost::json;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct DecoderCtxFree {
  void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Failed OpenSSL calls leave entries on the thread's error queue; a later TLS
// call on the same worker thread would read them as its own failure.
struct ClearErrorsOnExit {
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

constexpr int kMinRsaBits = 2048;

struct Curve {
  const char* jose;     // "P-256"
  const char* openssl;  // group name
  size_t size;          // coordinate bytes
  const char* alg;      // matching JOSE alg
};
constexpr Curve kCurves[] = {{"P-256", "prime256v1", 32, "ES256"},
                             {"P-384", "secp384r1", 48, "ES384"}};

const Curve* CurveByJose(std::string_view name) {
  for (const auto& c : kCurves) {
    if (name == c.jose) return &c;
  }
  return nullptr;
}

const Curve* CurveByOpenssl(std::string_view name) {
  for (const auto& c : kCurves) {
    if (name == c.openssl || name == c.jose) return &c;
  }
  return nullptr;
}

std::string B64(const std::string& bytes) {
  return core::Base64UrlEncode(bytes.data(), bytes.size());
}

std::string BnBytes(const BIGNUM* bn, size_t pad = 0) {
  size_t n = pad != 0 ? pad : static_cast<size_t>(BN_num_bytes(bn));
  std::string out(n, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

Bn BnFromBytes(std::string_view bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()), nullptr));
}

std::string Sha256B64(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  return core::Base64UrlEncode(md, n);
}

// Public members of an RSA or EC key, as base64url.
struct KeyMembers {
  std::string kty, crv, n, e, x, y;
};

core::Result<KeyMembers> MembersOf(EVP_PKEY* pkey) {
  KeyMembers m;
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits) {
      return core::InvalidInput("RSA keys must have at least 2048 bits");
    }
    BIGNUM *n = nullptr, *e = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      BN_free(n);
      return core::InvalidInput("the RSA key cannot be read");
    }
    Bn nn(n), ee(e);
    m.kty = "RSA";
    m.n = B64(BnBytes(n));
    m.e = B64(BnBytes(e));
    return m;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1) {
      return core::InvalidInput("the EC key has no named curve");
    }
    const Curve* curve = CurveByOpenssl(group);
    if (curve == nullptr) return core::InvalidInput("EC keys must be on P-256 or P-384");
    BIGNUM *x = nullptr, *y = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
      BN_free(x);
      return core::InvalidInput("the EC key cannot be read");
    }
    Bn xx(x), yy(y);
    m.kty = "EC";
    m.crv = curve->jose;
    m.x = B64(BnBytes(x, curve->size));
    m.y = B64(BnBytes(y, curve->size));
    return m;
  }
  return core::InvalidInput("only RSA and EC (P-256, P-384) keys are supported");
}

// RFC 7638: the SHA-256 of the required members in lexical order.
std::string Thumbprint(const KeyMembers& m) {
  std::string canonical = m.kty == "RSA"
                              ? "{\"e\":\"" + m.e + "\",\"kty\":\"RSA\",\"n\":\"" + m.n + "\"}"
                              : "{\"crv\":\"" + m.crv + "\",\"kty\":\"EC\",\"x\":\"" + m.x +
                                    "\",\"y\":\"" + m.y + "\"}";
  return Sha256B64(canonical);
}

Jwk MakeJwk(const KeyMembers& m, std::string kid, std::string alg) {
  Jwk k;
  k.kid = kid.empty() ? Thumbprint(m) : std::move(kid);
  k.kty = m.kty;
  k.crv = m.crv;
  k.alg = std::move(alg);
  json::object o;
  o["kty"] = m.kty;
  o["kid"] = k.kid;
  o["use"] = "sig";
  if (!k.alg.empty()) o["alg"] = k.alg;
  if (m.kty == "RSA") {
    o["n"] = m.n;
    o["e"] = m.e;
  } else {
    o["crv"] = m.crv;
    o["x"] = m.x;
    o["y"] = m.y;
  }
  k.json = json::serialize(o);
  return k;
}

Pkey FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Pkey(pkey);
}

core::Result<std::string> Member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string() || v->as_string().empty()) {
    return core::InvalidInput("the JWK has no \"" + std::string(key) + "\" member");
  }
  auto bytes = Base64UrlDecode(std::string_view(v->as_string()));
  if (!bytes || bytes->empty()) {
    return core::InvalidInput("the JWK member \"" + std::string(key) + "\" is not base64url");
  }
  return std::move(*bytes);
}

// An OpenSSL key from the public members of a JWK object.
core::Result<Pkey> PkeyFromJwk(const json::object& o) {
  const json::value* kty = o.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return core::InvalidInput("the JWK has no \"kty\"");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (kty->as_string() == "RSA") {
    TSUNAGU_ASSIGN_OR_RETURN(std::string n, Member(o, "n"));
    TSUNAGU_ASSIGN_OR_RETURN(std::string e, Member(o, "e"));
    Bn bn_n = BnFromBytes(n), bn_e = BnFromBytes(e);
    if (!bld || !bn_n || !bn_e ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
      return core::InvalidInput("the RSA JWK cannot be read");
    }
    Pkey pkey = FromData("RSA", bld.get());
    if (!pkey) return core::InvalidInput("the RSA JWK cannot be read");
    return pkey;
  }
  if (kty->as_string() == "EC") {
    const json::value* crv = o.if_contains("crv");
    const Curve* curve = crv != nullptr && crv->is_string()
                             ? CurveByJose(std::string_view(crv->as_string()))
                             : nullptr;
    if (curve == nullptr) return core::InvalidInput("EC keys must be on P-256 or P-384");
    TSUNAGU_ASSIGN_OR_RETURN(std::string x, Member(o, "x"));
    TSUNAGU_ASSIGN_OR_RETURN(std::string y, Member(o, "y"));
    if (x.size() != curve->size || y.size() != curve->size) {
      return core::InvalidInput("the EC JWK coordinates do not fit the curve");
    }
    std::string point = "\x04" + x + y;
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->openssl, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return core::InvalidInput("the EC JWK cannot be read");
    }
    Pkey pkey = FromData("EC", bld.get());
    if (!pkey) return core::InvalidInput("the EC JWK is not a point on its curve");
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
      return core::InvalidInput("the EC JWK is not a point on its curve");
    }
    return pkey;
  }
  return core::InvalidInput("only RSA and EC (P-256, P-384) keys are supported");
}

bool AlgFitsKey(std::string_view alg, const Jwk& k) {
  if (alg == "RS256" || alg == "RS384") return k.kty == "RSA";
  if (alg == "ES256") return k.kty == "EC" && k.crv == "P-256";
  if (alg == "ES384") return k.kty == "EC" && k.crv == "P-384";
  return false;
}

core::Result<Jwk> JwkFromObject(const json::object& o) {
  for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (o.contains(secret)) {
      return core::InvalidInput(
          "this is a private key: register the public key only (the private key stays with the "
          "client)");
    }
  }
  std::string kid, alg;
  if (const json::value* v = o.if_contains("kid")) {
    if (!v->is_string() || v->as_string().size() > 200) {
      return core::InvalidInput("the JWK kid must be a string of at most 200 characters");
    }
    kid = std::string(v->as_string());
  }
  if (const json::value* v = o.if_contains("use")) {
    if (!v->is_string() || v->as_string() != "sig") {
      return core::InvalidInput("the JWK \"use\" must be \"sig\"");
    }
  }
  if (const json::value* v = o.if_contains("alg")) {
    if (!v->is_string() || !IsSupportedAlg(std::string_view(v->as_string()))) {
      return core::InvalidInput("the JWK alg must be one of RS384, ES384, RS256, ES256");
    }
    alg = std::string(v->as_string());
  }
  TSUNAGU_ASSIGN_OR_RETURN(Pkey pkey, PkeyFromJwk(o));
  TSUNAGU_ASSIGN_OR_RETURN(KeyMembers m, MembersOf(pkey.get()));
  Jwk k = MakeJwk(m, std::move(kid), std::move(alg));
  if (!k.alg.empty() && !AlgFitsKey(k.alg, k)) {
    return core::InvalidInput("the JWK alg " + k.alg + " does not fit the key");
  }
  return k;
}

core::Result<Jwk> JwkFromPem(std::string_view text) {
  if (text.find("PRIVATE KEY") != std::string_view::npos) {
    return core::InvalidInput(
        "this is a private key: register the public key only (the private key stays with the "
        "client)");
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return core::Internal("internal error", "BIO_new_mem_buf failed");
  Pkey pkey;
  if (text.find("BEGIN CERTIFICATE") != std::string_view::npos) {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return core::InvalidInput("the PEM certificate cannot be read");
    pkey.reset(X509_get_pubkey(cert.get()));
  } else {
    EVP_PKEY* decoded = nullptr;
    std::unique_ptr<OSSL_DECODER_CTX, DecoderCtxFree> dctx(OSSL_DECODER_CTX_new_for_pkey(
        &decoded, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
    if (dctx) OSSL_DECODER_from_bio(dctx.get(), bio.get());
    pkey.reset(decoded);
  }
  if (!pkey) return core::InvalidInput("the PEM text holds no readable public key");
  TSUNAGU_ASSIGN_OR_RETURN(KeyMembers m, MembersOf(pkey.get()));
  return MakeJwk(m, {}, {});
}

}  // namespace

const std::vector<std::string>& SupportedAlgs() {
  static const std::vector<std::string> kAlgs = {"RS384", "ES384", "RS256", "ES256"};
  return kAlgs;
}

bool IsSupportedAlg(std::string_view alg) {
  const auto& algs = SupportedAlgs();
  return std::find(algs.begin(), algs.end(), alg) != algs.end();
}

core::Result<std::vector<Jwk>> ParsePublicKeys(std::string_view text) {
  ClearErrorsOnExit clear_errors;
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return core::InvalidInput("public_key is required");
  if (text.size() > 64 * 1024) return core::InvalidInput("public_key is too large");
  std::vector<Jwk> keys;
  if (text[start] == '-') {
    TSUNAGU_ASSIGN_OR_RETURN(Jwk k, JwkFromPem(text));
    keys.push_back(std::move(k));
    return keys;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return core::InvalidInput("public_key must be a JWK, a JWK Set or a PEM public key");
  }
  const json::object& o = v.as_object();
  if (const json::value* set = o.if_contains("keys")) {
    if (!set->is_array() || set->as_array().empty()) {
      return core::InvalidInput("the JWK Set holds no keys");
    }
    if (set->as_array().size() > kMaxKeys) {
      return core::InvalidInput("a client may have at most " + std::to_string(kMaxKeys) + " keys");
    }
    for (const auto& e : set->as_array()) {
      if (!e.is_object()) return core::InvalidInput("the JWK Set holds a non-object");
      TSUNAGU_ASSIGN_OR_RETURN(Jwk k, JwkFromObject(e.as_object()));
      for (const auto& prior : keys) {
        if (prior.kid == k.kid) return core::InvalidInput("two keys have the kid " + k.kid);
      }
      keys.push_back(std::move(k));
    }
    return keys;
  }
  TSUNAGU_ASSIGN_OR_RETURN(Jwk k, JwkFromObject(o));
  keys.push_back(std::move(k));
  return keys;
}

std::string ToJwks(const std::vector<Jwk>& keys) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i != 0) out += ',';
    out += keys[i].json;
  }
  return out + "]}";
}

core::Result<bool> VerifySignature(const Jwk& key, std::string_view alg,
                                   std::string_view signing_input, std::string_view signature) {
  ClearErrorsOnExit clear_errors;
  if (!IsSupportedAlg(alg) || !AlgFitsKey(alg, key)) return false;
  if (!key.alg.empty() && key.alg != alg) return false;
  boost::system::error_code ec;
  json::value v = json::parse(key.json, ec);
  if (ec || !v.is_object()) return core::Internal("internal error", "stored JWK is not JSON");
  auto pkey = PkeyFromJwk(v.as_object());
  if (!pkey) return core::Internal("internal error", "stored JWK: " + pkey.error().message());

  const EVP_MD* md = alg.substr(2) == "256" ? EVP_sha256() : EVP_sha384();
  std::string der;
  std::string_view sig = signature;
  if (key.kty == "EC") {
    // JOSE carries r||s, each the size of the curve; OpenSSL wants DER.
    const Curve* curve = CurveByJose(key.crv);
    if (curve == nullptr || signature.size() != 2 * curve->size) return false;
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> es(ECDSA_SIG_new());
    Bn r = BnFromBytes(signature.substr(0, curve->size));
    Bn s = BnFromBytes(signature.substr(curve->size));
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r.get(), s.get()) != 1) {
      return core::Internal("internal error", "ECDSA_SIG_set0 failed");
    }
    (void)r.release();
    (void)s.release();
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &out);
    if (len <= 0) return core::Internal("internal error", "i2d_ECDSA_SIG failed");
    der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey->get()) != 1) {
    return core::Internal("internal error", "EVP_DigestVerifyInit failed");
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  return rc == 1;
}

}  // namespace tsunagu::oauth
