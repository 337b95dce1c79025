#include "oauth/token_service.hpp"

#include <gtest/gtest.h>

#include "oauth/client_registry.hpp"
#include "oauth_fixture.hpp"

namespace tsunagu::oauth {
namespace {

using testing::B64;
using testing::Claims;
using testing::Ec256Key;
using testing::Ec384Key;
using testing::kCareHome;
using testing::kHospital;
using testing::kPharmacy;
using testing::kSuspended;
using testing::OAuthFixture;
using testing::OtherRsaKey;
using testing::RsaKey;

class ClientRegistryTest : public OAuthFixture {};
class TokenServiceTest : public OAuthFixture {
 protected:
  // Expects a refusal with `error` whose description holds `words`, and no token stored.
  void ExpectRefused(const TokenOutcome& out, TokenError error, std::string_view words) {
    EXPECT_FALSE(out.ok());
    EXPECT_EQ(ToString(out.error), ToString(error)) << out.description;
    EXPECT_NE(out.description.find(words), std::string::npos) << out.description;
    EXPECT_EQ(TokenRows(), 0);
  }
};

TEST_P(ClientRegistryTest, RegistersWithDefaultsAndLists) {
  SystemClient c = Register(Ec384Key().PublicPem(), "");
  EXPECT_EQ(c.client_id.size(), 24u);
  EXPECT_EQ(c.client_id.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(c.occupation, auth::Occupation::kPhysician);
  EXPECT_EQ(c.scopes, std::vector<std::string>{"system/*.read"});
  ASSERT_EQ(c.kids.size(), 1u);
  EXPECT_EQ(c.created_at, clock_.NowMillis());

  NewSystemClient pharmacy;
  pharmacy.name = "さくら薬局 レセコン";
  pharmacy.facility_id = kPharmacy;
  pharmacy.public_key = RsaKey().PublicPem();
  auto p = registry_->Register(pharmacy);
  ASSERT_TRUE(p.has_value()) << p.status().ToString();
  EXPECT_EQ(p->occupation, auth::Occupation::kPharmacist);

  auto all = registry_->List();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].client_id, p->client_id);  // newest first
  auto got = registry_->Get(c.client_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->jwks, c.jwks);
  EXPECT_EQ(got->kids, c.kids);
  EXPECT_EQ(got->created_by, 7);
}

TEST_P(ClientRegistryTest, RefusesBadRegistrationsAndStoresNothing) {
  auto refused = [&](NewSystemClient n, std::string_view words) {
    auto r = registry_->Register(n);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), core::Code::kInvalidInput);
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
  };
  NewSystemClient ok;
  ok.name = "EHR";
  ok.facility_id = kHospital;
  ok.public_key = Ec384Key().PublicPem();
  NewSystemClient n = ok;
  n.name = " ";
  refused(n, "name is required");
  n = ok;
  n.name = std::string(101, 'a');
  refused(n, "at most 100");
  n = ok;
  n.facility_id = 99;
  refused(n, "not a known facility");
  n = ok;
  n.facility_id = kSuspended;
  refused(n, "suspended");
  n = ok;
  n.facility_id = kCareHome;
  refused(n, "occupation is required");
  n = ok;
  n.occupation = auth::Occupation::kFamily;
  refused(n, "family");
  n = ok;
  n.scopes = "system/*.read patient/*.read";
  refused(n, "unsupported scope");
  n = ok;
  n.public_key = Ec384Key().PrivatePem();
  refused(n, "private key");
  n = ok;
  n.public_key = "";
  refused(n, "public_key is required");
  EXPECT_TRUE(registry_->List()->empty());

  n = ok;
  n.facility_id = kCareHome;
  n.occupation = auth::Occupation::kNurse;
  auto care = registry_->Register(n);
  ASSERT_TRUE(care.has_value()) << care.status().ToString();
  EXPECT_EQ(care->occupation, auth::Occupation::kNurse);
}

TEST_P(ClientRegistryTest, DisableIsFinalAndUnknownIsNotFound) {
  SystemClient c = Register(Ec384Key().PublicPem());
  clock_.Advance(1000);
  auto d = registry_->Disable(c.client_id);
  ASSERT_TRUE(d.has_value()) << d.status().ToString();
  EXPECT_TRUE(d->disabled);
  EXPECT_EQ(d->disabled_at, clock_.NowMillis());
  EXPECT_TRUE(registry_->Get(c.client_id)->disabled);
  EXPECT_EQ(registry_->Disable(c.client_id).error().code(), core::Code::kConflict);
  EXPECT_EQ(registry_->Disable("nope").error().code(), core::Code::kNotFound);
  EXPECT_EQ(registry_->Get("nope").error().code(), core::Code::kNotFound);
}

TEST_P(TokenServiceTest, ValidEs384AssertionGivesAToken) {
  SystemClient c = Register(Ec384Key().PublicPem());
  TokenOutcome out = tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384"), "system/*.read"));
  ASSERT_TRUE(out.ok()) << out.description;
  EXPECT_EQ(out.token->expires_in, 300);
  EXPECT_EQ(out.token->scope, "system/*.read");
  EXPECT_GE(out.token->access_token.size(), 43u);
  EXPECT_EQ(out.claimed_client_id, c.client_id);
  // Only the hash is stored.
  auto rows = db().Query("SELECT token_hash, client_id FROM oauth_access_tokens", {});
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE(rows->rows[0].Text(0), out.token->access_token);
  EXPECT_EQ(rows->rows[0].Text(1), c.client_id);

  auto resolved = tokens_->Resolve(out.token->access_token);
  ASSERT_TRUE(resolved.has_value()) << resolved.status().ToString();
  EXPECT_EQ(resolved->grant.client_id, c.client_id);
  EXPECT_EQ(resolved->grant.facility_id, kHospital);
  EXPECT_EQ(resolved->grant.token_id, out.token->token_id);
  EXPECT_TRUE(resolved->grant.Allows("Patient", false));
  EXPECT_FALSE(resolved->grant.Allows("Observation", true));  // not requested
}

TEST_P(TokenServiceTest, RsaAndP256KeysAndDefaultScopes) {
  SystemClient rsa = Register(RsaKey().PublicPem());
  for (const char* alg : {"RS384", "RS256"}) {
    TokenOutcome out = tokens_->Exchange(Request(Assertion(rsa, RsaKey(), alg)));
    ASSERT_TRUE(out.ok()) << alg << ": " << out.description;
    EXPECT_EQ(out.token->scope, "system/*.read system/Observation.write");
  }
  SystemClient p256 = Register(Ec256Key().PublicPem(), "system/*.cruds");
  TokenOutcome out =
      tokens_->Exchange(Request(Assertion(p256, Ec256Key(), "ES256"), "system/Observation.cud"));
  ASSERT_TRUE(out.ok()) << out.description;
  EXPECT_TRUE(tokens_->Resolve(out.token->access_token)->grant.Allows("Observation", true));
}

TEST_P(TokenServiceTest, RefusesAWrongSignature) {
  SystemClient c = Register(RsaKey().PublicPem());
  ExpectRefused(tokens_->Exchange(Request(Assertion(c, OtherRsaKey(), "RS384"))),
                TokenError::kInvalidClient, "signature does not verify");
  // A valid signature with a tampered payload.
  std::string jws = Assertion(c, RsaKey(), "RS384");
  size_t dot = jws.find('.');
  std::string forged = jws.substr(0, dot + 1) +
                       B64(Payload(Claims().Iss(c.client_id).Sub(c.client_id).Exp(Now() + 60))) +
                       jws.substr(jws.rfind('.'));
  ExpectRefused(tokens_->Exchange(Request(forged)), TokenError::kInvalidClient,
                "signature does not verify");
}

TEST_P(TokenServiceTest, RefusesAudienceAndLifetimeProblems) {
  SystemClient c = Register(Ec384Key().PublicPem());
  auto with = [&](Claims claims) {
    return tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384", claims)));
  };
  ExpectRefused(with(Claims().Aud("https://evil.example/oauth/token")), TokenError::kInvalidClient,
                "aud must be the token endpoint");
  ExpectRefused(with(Claims().Aud("https://tsunagu.example.jp/")), TokenError::kInvalidClient,
                "aud");
  ExpectRefused(with(Claims().Exp(Now() - 1)), TokenError::kInvalidClient, "expired");
  ExpectRefused(with(Claims().Exp(Now())), TokenError::kInvalidClient, "expired");
  ExpectRefused(with(Claims().Exp(Now() + 600)), TokenError::kInvalidClient, "at most 5 minutes");
  ExpectRefused(with(Claims().Extra(",\"nbf\":" + std::to_string(Now() + 120))),
                TokenError::kInvalidClient, "not valid yet");
  ExpectRefused(with(Claims().Extra(",\"iat\":" + std::to_string(Now() + 120))),
                TokenError::kInvalidClient, "iat");
  // No exp at all.
  std::string header = "{\"alg\":\"ES384\",\"kid\":\"" + c.kids[0] + "\"}";
  std::string no_exp = "{\"iss\":\"" + c.client_id + "\",\"sub\":\"" + c.client_id +
                       "\",\"aud\":\"" + testing::kTokenEndpoint + "\",\"jti\":\"j1\"}";
  ExpectRefused(tokens_->Exchange(Request(Ec384Key().Jws(header, no_exp, "ES384"))),
                TokenError::kInvalidClient, "needs exp");
  // An array audience holding the endpoint, iat a little ahead (clock skew): fine.
  std::string array_aud = "{\"iss\":\"" + c.client_id + "\",\"sub\":\"" + c.client_id +
                          "\",\"aud\":[\"x\",\"" + testing::kTokenEndpoint +
                          "\"],\"exp\":" + std::to_string(Now() + 300) +
                          ",\"iat\":" + std::to_string(Now() + 30) + ",\"jti\":\"j2\"}";
  TokenOutcome arr = tokens_->Exchange(Request(Ec384Key().Jws(header, array_aud, "ES384")));
  EXPECT_TRUE(arr.ok()) << arr.description;
}

TEST_P(TokenServiceTest, RefusesAReplayedJtiUntilItExpires) {
  SystemClient c = Register(Ec384Key().PublicPem());
  std::string jws = Assertion(c, Ec384Key(), "ES384", Claims().Jti("once-only"));
  ASSERT_TRUE(tokens_->Exchange(Request(jws)).ok());
  TokenOutcome again = tokens_->Exchange(Request(jws));
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.error, TokenError::kInvalidClient);
  EXPECT_NE(again.description.find("already used"), std::string::npos);
  // A new assertion with the same jti is a replay too.
  EXPECT_FALSE(
      tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384", Claims().Jti("once-only"))))
          .ok());
  EXPECT_EQ(TokenRows(), 1);
  // Another client may use the same jti value.
  SystemClient other = Register(Ec256Key().PublicPem());
  EXPECT_TRUE(
      tokens_->Exchange(Request(Assertion(other, Ec256Key(), "ES256", Claims().Jti("once-only"))))
          .ok());
}

TEST_P(TokenServiceTest, RefusesUnknownAndDisabledClients) {
  SystemClient c = Register(Ec384Key().PublicPem());
  Claims unknown = Claims().Iss("no-such-client").Sub("no-such-client");
  TokenOutcome out = tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384", unknown)));
  ExpectRefused(out, TokenError::kInvalidClient, "unknown client");
  EXPECT_EQ(out.claimed_client_id, "no-such-client");
  ExpectRefused(tokens_->Exchange(Request(
                    Assertion(c, Ec384Key(), "ES384", Claims().Iss(c.client_id).Sub("someone")))),
                TokenError::kInvalidClient, "iss and sub");
  TokenRequest mismatched = Request(Assertion(c, Ec384Key(), "ES384"));
  mismatched.client_id = "another";
  ExpectRefused(tokens_->Exchange(mismatched), TokenError::kInvalidClient, "client_id");

  // A live token dies with its client.
  TokenOutcome live = tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384")));
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE(registry_->Disable(c.client_id).has_value());
  EXPECT_EQ(tokens_->Resolve(live.token->access_token).error().code(),
            core::Code::kUnauthenticated);
  ExpectRefused(tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384"))),
                TokenError::kInvalidClient, "disabled");
}

TEST_P(TokenServiceTest, RefusesScopesNotAllowed) {
  SystemClient c = Register(Ec384Key().PublicPem(), "system/*.read system/Observation.c");
  auto with = [&](std::string scope) {
    return tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384"), scope));
  };
  ExpectRefused(with("system/*.write"), TokenError::kInvalidScope, "system/*.write");
  ExpectRefused(with("system/Observation.cu"), TokenError::kInvalidScope, "not allowed");
  ExpectRefused(with("patient/*.read"), TokenError::kInvalidScope, "unsupported scope");
  ExpectRefused(with("openid system/*.read"), TokenError::kInvalidScope, "openid");
  TokenOutcome ok = with("system/Patient.rs system/Observation.c");
  ASSERT_TRUE(ok.ok()) << ok.description;
  EXPECT_EQ(ok.token->scope, "system/Patient.rs system/Observation.c");
}

TEST_P(TokenServiceTest, RefusesMalformedRequestsAndAlgNone) {
  SystemClient c = Register(Ec384Key().PublicPem());
  ExpectRefused(tokens_->Exchange(Request("not-a-jwt")), TokenError::kInvalidRequest,
                "compact JWS");
  ExpectRefused(tokens_->Exchange(Request("a.b!.c")), TokenError::kInvalidRequest, "base64url");
  TokenRequest r = Request(Assertion(c, Ec384Key(), "ES384"));
  r.grant_type = "password";
  ExpectRefused(tokens_->Exchange(r), TokenError::kUnsupportedGrantType, "client_credentials");
  r.grant_type = "";
  ExpectRefused(tokens_->Exchange(r), TokenError::kInvalidRequest, "grant_type");
  r = Request(Assertion(c, Ec384Key(), "ES384"));
  r.client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer";
  ExpectRefused(tokens_->Exchange(r), TokenError::kInvalidRequest, "client_assertion_type");
  r.client_assertion.clear();
  r.client_assertion_type.clear();
  ExpectRefused(tokens_->Exchange(r), TokenError::kInvalidRequest, "private_key_jwt");

  // alg none: unsigned, empty signature.
  std::string none = B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." +
                     B64(Payload(Claims().Iss(c.client_id).Sub(c.client_id))) + ".";
  ExpectRefused(tokens_->Exchange(Request(none)), TokenError::kInvalidClient, "alg none");
  // HS256 with the public key as a MAC secret (algorithm confusion).
  std::string hs = B64("{\"alg\":\"HS256\"}") + "." +
                   B64(Payload(Claims().Iss(c.client_id).Sub(c.client_id))) + "." + B64("mac");
  ExpectRefused(tokens_->Exchange(Request(hs)), TokenError::kInvalidClient, "alg HS256");
  // A kid the client does not have.
  ExpectRefused(tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384", {}, "other-kid"))),
                TokenError::kInvalidClient, "kid");
  // crit header.
  std::string crit = Ec384Key().Jws("{\"alg\":\"ES384\",\"crit\":[\"exp\"]}",
                                    Payload(Claims().Iss(c.client_id).Sub(c.client_id)), "ES384");
  ExpectRefused(tokens_->Exchange(Request(crit)), TokenError::kInvalidClient, "crit");
}

TEST_P(TokenServiceTest, TokensExpireAfterFiveMinutes) {
  SystemClient c = Register(Ec384Key().PublicPem());
  TokenOutcome out = tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384")));
  ASSERT_TRUE(out.ok());
  clock_.Advance(299 * 1000);
  EXPECT_TRUE(tokens_->Resolve(out.token->access_token).has_value());
  clock_.Advance(1000);
  auto expired = tokens_->Resolve(out.token->access_token);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().message(), "the access token has expired");
  EXPECT_EQ(tokens_->Resolve("made-up").error().message(), "invalid access token");
  EXPECT_EQ(tokens_->Resolve("").error().code(), core::Code::kUnauthenticated);
  // A later exchange purges expired rows.
  clock_.Advance(120 * 1000);
  ASSERT_TRUE(tokens_->Exchange(Request(Assertion(c, Ec384Key(), "ES384"))).ok());
  EXPECT_EQ(TokenRows(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ClientRegistryTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);
INSTANTIATE_TEST_SUITE_P(Backends, TokenServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::oauth
