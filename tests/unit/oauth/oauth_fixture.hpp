#pragma once
// Shared set-up of the oauth tests: signing keys made with OpenSSL in the
// test, compact JWS assertions, and a fresh database per backend with the
// oauth and audit schemas, a FakeClock, a registry and a token service.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "audit/audit_signer.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "oauth/client_registry.hpp"
#include "oauth/token_service.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::oauth::testing {

inline std::string B64(std::string_view s) { return core::Base64UrlEncode(s.data(), s.size()); }

// A private signing key held by the "client" side of a test.
class TestKey {
 public:
  static TestKey Rsa(int bits = 2048) {
    return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)), 0);
  }
  static TestKey Ec(const char* curve, size_t coordinate_size) {
    return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), coordinate_size);
  }

  std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
  }
  std::string PrivatePem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
  }

  // Raw JWS signature bytes (EC: r||s of the curve size).
  std::string Sign(std::string_view alg, std::string_view input) const {
    const EVP_MD* md = alg.substr(2) == "256" ? EVP_sha256() : EVP_sha384();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, md, nullptr, key_.get());
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (coordinate_size_ == 0) return sig;
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(2 * coordinate_size_, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    BN_bn2binpad(ECDSA_SIG_get0_r(es), out, static_cast<int>(coordinate_size_));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), out + coordinate_size_, static_cast<int>(coordinate_size_));
    ECDSA_SIG_free(es);
    return raw;
  }

  // header.payload.signature
  std::string Jws(const std::string& header_json, const std::string& payload_json,
                  std::string_view alg) const {
    std::string input = B64(header_json) + "." + B64(payload_json);
    return input + "." + B64(Sign(alg, input));
  }

 private:
  struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  TestKey(EVP_PKEY* key, size_t coordinate_size)
      : key_(key, Free{}), coordinate_size_(coordinate_size) {}
  std::shared_ptr<EVP_PKEY> key_;
  size_t coordinate_size_ = 0;
};

inline const TestKey& RsaKey() {
  static const TestKey key = TestKey::Rsa();
  return key;
}
inline const TestKey& OtherRsaKey() {
  static const TestKey key = TestKey::Rsa();
  return key;
}
inline const TestKey& Ec384Key() {
  static const TestKey key = TestKey::Ec("P-384", 48);
  return key;
}
inline const TestKey& Ec256Key() {
  static const TestKey key = TestKey::Ec("P-256", 32);
  return key;
}

inline constexpr const char* kTokenEndpoint = "https://tsunagu.example.jp/oauth/token";
inline constexpr int64_t kHospital = 1, kPharmacy = 2, kCareHome = 3, kSuspended = 4;

// The claims of a test assertion; unset members get working defaults
// (iss/sub: the client, aud: the token endpoint, exp: now + 240 s, a fresh jti).
struct Claims {
  std::string iss, sub, aud = kTokenEndpoint, jti;
  int64_t exp = 0;
  std::string extra;  // more JSON members, ",\"nbf\":1"
  Claims& Iss(std::string v) {
    iss = std::move(v);
    return *this;
  }
  Claims& Sub(std::string v) {
    sub = std::move(v);
    return *this;
  }
  Claims& Aud(std::string v) {
    aud = std::move(v);
    return *this;
  }
  Claims& Jti(std::string v) {
    jti = std::move(v);
    return *this;
  }
  Claims& Exp(int64_t v) {
    exp = v;
    return *this;
  }
  Claims& Extra(std::string v) {
    extra = std::move(v);
    return *this;
  }
};

class OAuthFixture : public ::testing::TestWithParam<tsunagu::testing::Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<tsunagu::testing::TestDatabase>(GetParam());
    ASSERT_TRUE(
        store::ApplyMigrations(db(), {audit::AuditLog::Migrations(), ClientRegistry::Migrations()})
            .ok());
    auto signer = audit::AuditSigner::FromSeedHex(std::string(64, '2'));
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(*signer);
    audit_ = std::make_unique<audit::AuditLog>(db(), clock_, *signer_);
    registry_ = std::make_unique<ClientRegistry>(db(), clock_, [](int64_t id) {
      std::optional<FacilityInfo> f;
      if (id == kHospital) f = FacilityInfo{id, "つなぐ総合病院", "hospital", true};
      if (id == kPharmacy) f = FacilityInfo{id, "さくら薬局", "pharmacy", true};
      if (id == kCareHome) f = FacilityInfo{id, "ひまわり苑", "care_home", true};
      if (id == kSuspended) f = FacilityInfo{id, "休止医院", "clinic", false};
      return f;
    });
    tokens_ = std::make_unique<TokenService>(db(), clock_, *registry_, kTokenEndpoint);
  }

  store::Database& db() { return tdb_->db(); }
  int64_t Now() const { return clock_.NowSeconds(); }

  SystemClient Register(const std::string& public_key,
                        const std::string& scopes = "system/*.read system/Observation.write",
                        int64_t facility_id = kHospital) {
    NewSystemClient n;
    n.name = "つなぐ総合病院 電子カルテ";
    n.facility_id = facility_id;
    n.scopes = scopes;
    n.public_key = public_key;
    n.created_by = 7;
    auto c = registry_->Register(n);
    EXPECT_TRUE(c.has_value()) << c.status().ToString();
    return c.value_or(SystemClient{});
  }

  std::string Payload(const Claims& c) const {
    int64_t exp = c.exp != 0 ? c.exp : Now() + 240;
    std::string jti = c.jti.empty() ? core::RandomHex(12) : c.jti;
    return "{\"iss\":\"" + c.iss + "\",\"sub\":\"" + c.sub + "\",\"aud\":\"" + c.aud +
           "\",\"exp\":" + std::to_string(exp) + ",\"jti\":\"" + jti + "\"" + c.extra + "}";
  }
  // A well-formed assertion of `client` signed by `key`.
  std::string Assertion(const SystemClient& client, const TestKey& key, std::string_view alg,
                        Claims claims = Claims(), std::string kid = {}) const {
    if (claims.iss.empty()) claims.iss = client.client_id;
    if (claims.sub.empty()) claims.sub = client.client_id;
    if (kid.empty() && !client.kids.empty()) kid = client.kids.front();
    std::string header =
        "{\"alg\":\"" + std::string(alg) + "\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}";
    return key.Jws(header, Payload(claims), alg);
  }
  TokenRequest Request(std::string assertion, std::optional<std::string> scope = std::nullopt) {
    TokenRequest r;
    r.grant_type = "client_credentials";
    r.client_assertion_type = std::string(kJwtBearerAssertionType);
    r.client_assertion = std::move(assertion);
    r.scope = std::move(scope);
    return r;
  }
  int64_t TokenRows() {
    auto rows = db().Query("SELECT COUNT(*) FROM oauth_access_tokens", {});
    return rows && !rows->empty() ? rows->rows[0].Int(0) : -1;
  }

  core::FakeClock clock_;
  std::unique_ptr<tsunagu::testing::TestDatabase> tdb_;
  std::unique_ptr<audit::AuditSigner> signer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ClientRegistry> registry_;
  std::unique_ptr<TokenService> tokens_;
};

}  // namespace tsunagu::oauth::testing
