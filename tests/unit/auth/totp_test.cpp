#include "auth/totp.hpp"

#include <gtest/gtest.h>

#include "auth/qr_svg.hpp"
#include "core/clock.hpp"

namespace tsunagu::auth {
namespace {

// RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const std::string kRfcSecret = Totp::Base32Encode("12345678901234567890");

TEST(TotpTest, MatchesRfc6238TestVectors) {
  EXPECT_EQ(kRfcSecret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  // The RFC lists 8-digit codes; 6-digit codes are their last six digits.
  EXPECT_EQ(Totp::CodeAt(kRfcSecret, 59), "287082");
  EXPECT_EQ(Totp::CodeAt(kRfcSecret, 1111111109), "081804");
  EXPECT_EQ(Totp::CodeAt(kRfcSecret, 1234567890), "005924");
  EXPECT_EQ(Totp::CodeAt(kRfcSecret, 20000000000), "353130");
}

TEST(TotpTest, Base32RoundTripAndLenientDecoding) {
  const std::string bytes("\x00\x01\xfe\xff hello", 10);
  const std::string encoded = Totp::Base32Encode(bytes);
  EXPECT_EQ(Totp::Base32Decode(encoded), bytes);
  EXPECT_EQ(Totp::Base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"), "12345678901234567890");
  EXPECT_EQ(Totp::Base32Decode("MZXW6==="), "foo");
  EXPECT_FALSE(Totp::Base32Decode("MZXW6!").has_value());
  EXPECT_FALSE(Totp::Base32Decode("MZ=XW").has_value());
  EXPECT_FALSE(Totp::Base32Decode("MZXW1").has_value());  // '1' is not base32
}

TEST(TotpTest, NewSecretIsTwentyRandomBytes) {
  core::FakeClock clock;
  Totp totp(clock);
  const std::string a = totp.NewSecret();
  const std::string b = totp.NewSecret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  auto decoded = Totp::Base32Decode(a);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->size(), 20u);
}

TEST(TotpTest, AcceptsOneStepOfClockDriftEachWay) {
  core::FakeClock clock(1'767'225'600'000);
  Totp totp(clock);
  const std::string secret = totp.NewSecret();
  const int64_t now = clock.NowSeconds();
  const int64_t step = now / 30;
  EXPECT_EQ(totp.Match(secret, totp.CurrentCode(secret)), step);
  EXPECT_EQ(totp.Match(secret, Totp::CodeAt(secret, now - 30)), step - 1);
  EXPECT_EQ(totp.Match(secret, Totp::CodeAt(secret, now + 30)), step + 1);
  const std::string old_code = Totp::CodeAt(secret, now - 90);
  if (old_code != totp.CurrentCode(secret)) {
    EXPECT_FALSE(totp.Match(secret, old_code));
  }
  // Spaces as shown by some apps ("123 456") are accepted; other input is not.
  std::string spaced = totp.CurrentCode(secret);
  spaced.insert(3, " ");
  EXPECT_EQ(totp.Match(secret, spaced), step);
  EXPECT_FALSE(totp.Match(secret, "12345"));
  EXPECT_FALSE(totp.Match(secret, "abcdef"));
  EXPECT_FALSE(totp.Match("not base32!", "123456"));
}

TEST(TotpTest, OtpauthUriNamesIssuerAndAccount) {
  EXPECT_EQ(Totp::OtpauthUri("JBSWY3DPEHPK3PXP", "yamada@clinic"),
            "otpauth://totp/Tsunagu%3Ayamada%40clinic?secret=JBSWY3DPEHPK3PXP&issuer=Tsunagu"
            "&algorithm=SHA1&digits=6&period=30");
}

TEST(TotpTest, QrSvgIsAnSvgDocument) {
  auto svg = QrSvg(Totp::OtpauthUri("JBSWY3DPEHPK3PXP", "yamada"));
  ASSERT_TRUE(svg.has_value());
  EXPECT_EQ(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg->find("<path"), std::string::npos);
  EXPECT_EQ(svg->substr(svg->size() - 6), "</svg>");
  EXPECT_FALSE(QrSvg(std::string(5000, 'x')).has_value());
}

}  // namespace
}  // namespace tsunagu::auth
