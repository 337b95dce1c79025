#include "oauth/scope.hpp"

#include <gtest/gtest.h>

#include "oauth/client_context.hpp"

namespace tsunagu::oauth {
namespace {

std::vector<ScopeGrant> Parse(std::string_view s) {
  auto r = ParseScopes(s);
  EXPECT_TRUE(r.has_value()) << r.status().ToString();
  return r.value_or(std::vector<ScopeGrant>{});
}

TEST(ScopeTest, ParsesSmartV1AndV2SystemScopes) {
  auto scopes = Parse("system/*.read  system/Observation.write system/Patient.rs system/*.cruds");
  ASSERT_EQ(scopes.size(), 4u);
  EXPECT_EQ(scopes[0].resource_type, "*");
  EXPECT_TRUE(scopes[0].read && scopes[0].search && !scopes[0].create);
  EXPECT_TRUE(scopes[1].create && scopes[1].update && scopes[1].del && !scopes[1].read);
  EXPECT_EQ(scopes[2].resource_type, "Patient");
  EXPECT_TRUE(scopes[2].read && scopes[2].search && !scopes[2].update);
  EXPECT_TRUE(scopes[3].create && scopes[3].read && scopes[3].update && scopes[3].del &&
              scopes[3].search);
  EXPECT_EQ(JoinScopes(scopes),
            "system/*.read system/Observation.write system/Patient.rs system/*.cruds");
}

TEST(ScopeTest, DropsDuplicatesAndAcceptsEmpty) {
  EXPECT_EQ(Parse("system/*.read system/*.read").size(), 1u);
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse("   ").empty());
}

TEST(ScopeTest, RefusesOtherScopeFamiliesAndBadGrammar) {
  for (const char* bad :
       {"patient/*.read", "user/Observation.read", "openid", "launch", "system/*.dr", "system/*.sr",
        "system/*.rr", "system/observation.read", "system/*.read?category=laboratory", "system/*",
        "system/*.", "system/.read", "system/Pat-ient.read"}) {
    auto r = ParseScopes(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), core::Code::kInvalidInput);
    EXPECT_NE(r.error().message().find("unsupported scope"), std::string::npos);
  }
}

TEST(ScopeTest, CoverageIsPerResourceTypeAndPermission) {
  auto allowed = Parse("system/*.read system/Observation.c system/Observation.u");
  auto covered = [&](const char* s) { return ScopesCover(allowed, *ParseScope(s)); };
  EXPECT_TRUE(covered("system/*.read"));
  EXPECT_TRUE(covered("system/*.rs"));
  EXPECT_TRUE(covered("system/Patient.r"));
  EXPECT_TRUE(covered("system/Observation.cru"));  // union of three grants
  EXPECT_FALSE(covered("system/Observation.d"));
  EXPECT_FALSE(covered("system/Observation.write"));  // write includes delete
  EXPECT_FALSE(covered("system/*.write"));
  EXPECT_FALSE(covered("system/*.cruds"));
  // A typed grant never covers a wildcard request.
  EXPECT_FALSE(ScopesCover(Parse("system/Patient.read"), *ParseScope("system/*.read")));
}

TEST(ScopeTest, ClientGrantAllowsReadAndWrite) {
  ClientGrant g;
  g.scopes = Parse("system/*.rs system/Observation.cud");
  EXPECT_TRUE(g.Allows("Patient", false));
  EXPECT_FALSE(g.Allows("Patient", true));
  EXPECT_TRUE(g.Allows("Observation", true));
  EXPECT_TRUE(g.Permits("Observation", Interaction::kDelete));
  EXPECT_FALSE(g.Permits("Condition", Interaction::kCreate));
  EXPECT_TRUE(g.Permits("Condition", Interaction::kSearch));
}

}  // namespace
}  // namespace tsunagu::oauth
