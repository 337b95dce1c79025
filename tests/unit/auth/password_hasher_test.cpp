#include "auth/password_hasher.hpp"

#include <gtest/gtest.h>

namespace tsunagu::auth {
namespace {

TEST(PasswordHasherTest, RoundTripWithArgon2id) {
  PasswordHasher hasher(PasswordHasher::MinimumLimits());
  auto hash = hasher.Hash("correct horse battery");
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(hasher.Verify("correct horse battery", *hash));
  EXPECT_FALSE(hasher.Verify("correct horse batterY", *hash));
  EXPECT_FALSE(hasher.Verify("", *hash));
}

TEST(PasswordHasherTest, SaltMakesEveryHashDifferent) {
  PasswordHasher hasher(PasswordHasher::MinimumLimits());
  auto a = hasher.Hash("same password here");
  auto b = hasher.Hash("same password here");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(hasher.Verify("same password here", *a));
  EXPECT_TRUE(hasher.Verify("same password here", *b));
}

TEST(PasswordHasherTest, DefaultParametersAreOwaspMinimum) {
  PasswordHasher hasher;
  EXPECT_EQ(hasher.limits().memory_kib, 19456u);
  EXPECT_EQ(hasher.limits().iterations, 2u);
  auto hash = hasher.Hash("パスワードは長いほうがよい");
  ASSERT_TRUE(hash.has_value());
  EXPECT_NE(hash->find("$m=19456,t=2,p=1$"), std::string::npos) << *hash;
  EXPECT_TRUE(hasher.Verify("パスワードは長いほうがよい", *hash));
  EXPECT_FALSE(hasher.NeedsRehash(*hash));
}

TEST(PasswordHasherTest, NeedsRehashWhenParametersChange) {
  PasswordHasher fast(PasswordHasher::MinimumLimits());
  PasswordHasher strong;
  auto hash = fast.Hash("a long enough password");
  ASSERT_TRUE(hash.has_value());
  EXPECT_FALSE(fast.NeedsRehash(*hash));
  EXPECT_TRUE(strong.NeedsRehash(*hash));
  // Old hashes keep verifying with a hasher of other parameters.
  EXPECT_TRUE(strong.Verify("a long enough password", *hash));
}

TEST(PasswordHasherTest, MalformedHashesNeverVerify) {
  PasswordHasher hasher(PasswordHasher::MinimumLimits());
  EXPECT_FALSE(hasher.Verify("x", ""));
  EXPECT_FALSE(hasher.Verify("x", "plaintext"));
  EXPECT_FALSE(hasher.Verify("x", "$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA"));
  EXPECT_FALSE(hasher.Verify("x", "$argon2id$garbage"));
  EXPECT_TRUE(hasher.NeedsRehash("$2b$10$bcrypt-hash"));
}

}  // namespace
}  // namespace tsunagu::auth
