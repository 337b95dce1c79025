#include "oauth/public_key.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "oauth/jwt.hpp"
#include "oauth_fixture.hpp"

namespace tsunagu::oauth {
namespace {

using testing::B64;
using testing::Ec256Key;
using testing::Ec384Key;
using testing::RsaKey;

Jwk OnlyKey(const std::string& text) {
  auto keys = ParsePublicKeys(text);
  EXPECT_TRUE(keys.has_value()) << keys.status().ToString();
  if (!keys || keys->size() != 1) return {};
  return keys->front();
}

std::string ErrorOf(const std::string& text) {
  auto keys = ParsePublicKeys(text);
  EXPECT_FALSE(keys.has_value()) << text;
  return keys ? std::string() : keys.error().message();
}

TEST(PublicKeyTest, PemBecomesAPublicJwkWithAThumbprintKid) {
  Jwk rsa = OnlyKey(RsaKey().PublicPem());
  EXPECT_EQ(rsa.kty, "RSA");
  EXPECT_EQ(rsa.kid.size(), 43u);  // base64url SHA-256
  auto o = boost::json::parse(rsa.json).as_object();
  EXPECT_TRUE(o.contains("n") && o.contains("e"));
  EXPECT_FALSE(o.contains("d"));

  Jwk ec = OnlyKey(Ec384Key().PublicPem());
  EXPECT_EQ(ec.kty, "EC");
  EXPECT_EQ(ec.crv, "P-384");
  // The stored JWK parses back to the same key and kid.
  Jwk again = OnlyKey(ec.json);
  EXPECT_EQ(again.kid, ec.kid);
  EXPECT_EQ(again.json, ec.json);
}

TEST(PublicKeyTest, JwkSetKeepsKidsAndAlg) {
  Jwk a = OnlyKey(Ec256Key().PublicPem());
  Jwk b = OnlyKey(RsaKey().PublicPem());
  auto oa = boost::json::parse(a.json).as_object();
  oa["kid"] = "ehr-2026";
  oa["alg"] = "ES256";
  auto ob = boost::json::parse(b.json).as_object();
  ob["kid"] = "ehr-2025";
  std::string set =
      boost::json::serialize(boost::json::object{{"keys", boost::json::array{oa, ob}}});
  auto keys = ParsePublicKeys(set);
  ASSERT_TRUE(keys.has_value()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "ehr-2026");
  EXPECT_EQ((*keys)[0].alg, "ES256");
  EXPECT_EQ((*keys)[1].kid, "ehr-2025");
  EXPECT_NE(ToJwks(*keys).find("ehr-2025"), std::string::npos);
}

TEST(PublicKeyTest, RefusesPrivateAndUnusableKeys) {
  EXPECT_NE(ErrorOf(Ec384Key().PrivatePem()).find("private key"), std::string::npos);
  auto jwk = boost::json::parse(OnlyKey(Ec384Key().PublicPem()).json).as_object();
  jwk["d"] = "AAAA";
  EXPECT_NE(ErrorOf(boost::json::serialize(jwk)).find("private key"), std::string::npos);
  EXPECT_NE(ErrorOf(testing::TestKey::Rsa(1024).PublicPem()).find("2048"), std::string::npos);
  EXPECT_NE(ErrorOf(testing::TestKey::Ec("secp256k1", 32).PublicPem()).find("P-256 or P-384"),
            std::string::npos);
  EXPECT_FALSE(ErrorOf("").empty());
  EXPECT_FALSE(ErrorOf("not a key").empty());
  EXPECT_FALSE(ErrorOf("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").empty());
  EXPECT_FALSE(ErrorOf("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}").empty());
  // A point that is not on the curve.
  auto off = boost::json::parse(OnlyKey(Ec384Key().PublicPem()).json).as_object();
  std::string y = std::string(off["y"].as_string());
  y[5] = y[5] == 'A' ? 'B' : 'A';
  off["y"] = y;
  EXPECT_NE(ErrorOf(boost::json::serialize(off)).find("curve"), std::string::npos);
  // alg that does not fit the key; use other than sig.
  auto mismatch = boost::json::parse(OnlyKey(Ec384Key().PublicPem()).json).as_object();
  mismatch["alg"] = "ES256";
  EXPECT_NE(ErrorOf(boost::json::serialize(mismatch)).find("does not fit"), std::string::npos);
  mismatch["alg"] = "ES384";
  mismatch["use"] = "enc";
  EXPECT_FALSE(ErrorOf(boost::json::serialize(mismatch)).empty());
}

TEST(PublicKeyTest, VerifiesJoseSignaturesAndRefusesMismatches) {
  Jwk ec = OnlyKey(Ec384Key().PublicPem());
  Jwk rsa = OnlyKey(RsaKey().PublicPem());
  const std::string input = B64("{\"alg\":\"ES384\"}") + "." + B64("{}");
  std::string ec_sig = Ec384Key().Sign("ES384", input);
  EXPECT_EQ(ec_sig.size(), 96u);
  EXPECT_TRUE(*VerifySignature(ec, "ES384", input, ec_sig));
  EXPECT_FALSE(*VerifySignature(ec, "ES384", input + "x", ec_sig));
  EXPECT_FALSE(*VerifySignature(ec, "ES256", input, ec_sig));
  EXPECT_FALSE(*VerifySignature(ec, "RS384", input, ec_sig));
  EXPECT_FALSE(*VerifySignature(ec, "none", input, ""));
  EXPECT_FALSE(*VerifySignature(ec, "ES384", input, ec_sig.substr(1)));

  std::string rsa_sig = RsaKey().Sign("RS384", input);
  EXPECT_TRUE(*VerifySignature(rsa, "RS384", input, rsa_sig));
  EXPECT_FALSE(*VerifySignature(rsa, "RS256", input, rsa_sig));
  EXPECT_TRUE(*VerifySignature(rsa, "RS256", input, RsaKey().Sign("RS256", input)));
  EXPECT_FALSE(*VerifySignature(rsa, "HS256", input, rsa_sig));
  Jwk p256 = OnlyKey(Ec256Key().PublicPem());
  EXPECT_TRUE(*VerifySignature(p256, "ES256", input, Ec256Key().Sign("ES256", input)));
}

TEST(JwtTest, SplitsAndDecodes) {
  std::string compact = B64("{\"alg\":\"ES384\",\"kid\":\"k1\"}") + "." +
                        B64("{\"iss\":\"c\",\"sub\":\"c\",\"aud\":[\"a\",\"b\"],\"exp\":1.5e9,"
                            "\"jti\":\"j\"}") +
                        "." + B64("sig");
  auto a = ParseJwtAssertion(compact);
  ASSERT_TRUE(a.has_value()) << a.status().ToString();
  EXPECT_EQ(a->alg, "ES384");
  EXPECT_EQ(a->kid, "k1");
  EXPECT_EQ(a->aud.size(), 2u);
  EXPECT_EQ(*a->exp, 1500000000);
  EXPECT_EQ(a->signature, "sig");
  EXPECT_EQ(a->signing_input, compact.substr(0, compact.rfind('.')));
}

TEST(JwtTest, RefusesMalformedAssertions) {
  const std::string h = B64("{\"alg\":\"ES384\"}"), p = B64("{\"iss\":\"c\"}");
  for (const std::string& bad :
       {std::string(""), std::string("abc"), h + "." + p, h + "." + p + ".x.y",
        h + ".%%%." + B64("s"), B64("[1]") + "." + p + "." + B64("s"),
        B64("{\"kid\":\"x\"}") + "." + p + "." + B64("s"),
        h + "." + B64("{\"exp\":\"soon\"}") + "." + B64("s"),
        h + "." + B64("{\"aud\":7}") + "." + B64("s"), h + "." + p + ".a=", h + "." + p + ".A"}) {
    EXPECT_FALSE(ParseJwtAssertion(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode("ab+/").has_value());
  EXPECT_EQ(*Base64UrlDecode("aGk"), "hi");
  EXPECT_FALSE(Base64UrlDecode("aGl").has_value());  // non-zero leftover bits
}

}  // namespace
}  // namespace tsunagu::oauth
