#include "core/random.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tsunagu::core {
namespace {

TEST(RandomTest, HexLengthAndAlphabet) {
  for (size_t n : {0u, 1u, 16u, 33u}) {
    std::string h = RandomHex(n);
    EXPECT_EQ(h.size(), 2 * n);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
  }
}

TEST(RandomTest, TokenLengthAndAlphabet) {
  // base64url without padding: ceil(4n/3) characters.
  const std::pair<size_t, size_t> cases[] = {{0, 0}, {1, 2}, {2, 3}, {3, 4}, {32, 43}};
  for (auto [n, len] : cases) {
    std::string t = RandomToken(n);
    EXPECT_EQ(t.size(), len) << n;
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << t;
  }
  EXPECT_NE(RandomToken(), RandomToken());
}

TEST(RandomTest, EncodersMatchKnownVectors) {
  const unsigned char bytes[] = {0x00, 0xff, 0x10, 0xfb, 0xef};
  EXPECT_EQ(HexEncode(bytes, 5), "00ff10fbef");
  EXPECT_EQ(Base64UrlEncode("foobar", 6), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("fooba", 5), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foob", 4), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode(bytes + 1, 4), "_xD77w");
}

TEST(RandomTest, RandomBelowStaysInBounds) {
  EXPECT_EQ(RandomBelow(0), 0u);
  EXPECT_EQ(RandomBelow(1), 0u);
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = RandomBelow(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);  // each value has probability 1 - 0.9^2000 of showing up
  const uint64_t big = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 100; ++i) ASSERT_LT(RandomBelow(big), big);
}

}  // namespace
}  // namespace tsunagu::core
