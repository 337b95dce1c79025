#include "registry/identifiers.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tsunagu::registry {
namespace {

TEST(InstitutionCodeTest, AcceptsCodeWithComputedCheckDigit) {
  std::string six = "123456";
  std::string code = std::string("131") + six + InstitutionCheckDigit(six);
  EXPECT_TRUE(ValidateInstitutionCode(code).ok());
}

TEST(InstitutionCodeTest, CheckDigitFollowsModulus10Weights21) {
  // 1*2=2, 2*1=2, 3*2=6, 4*1=4, 5*2=10->1, 6*1=6 => 21 => check 9
  EXPECT_EQ(InstitutionCheckDigit("123456"), '9');
  // 0 sum => check 0
  EXPECT_EQ(InstitutionCheckDigit("000000"), '0');
}

TEST(InstitutionCodeTest, RejectsWrongCheckDigitLengthPrefectureAndTable) {
  EXPECT_EQ(ValidateInstitutionCode("1311234560").code(), core::Code::kInvalidInput);  // check
  EXPECT_EQ(ValidateInstitutionCode("131123456").code(), core::Code::kInvalidInput);   // length
  EXPECT_EQ(ValidateInstitutionCode("13112345a9").code(), core::Code::kInvalidInput);  // digits
  EXPECT_EQ(ValidateInstitutionCode("4811234569").code(), core::Code::kInvalidInput);  // pref 48
  EXPECT_EQ(ValidateInstitutionCode("1321234569").code(), core::Code::kInvalidInput);  // table 2
  EXPECT_NE(ValidateInstitutionCode("1311234560").message().find("check digit"), std::string::npos);
}

TEST(RegionalIdTest, IsTwelveDigitsWithValidLuhnAndRandom) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string id = NewRegionalId();
    ASSERT_EQ(id.size(), 12u);
    EXPECT_TRUE(IsValidRegionalId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(RegionalIdTest, DetectsSingleDigitErrorsAndTranspositions) {
  std::string id = NewRegionalId();
  for (size_t i = 0; i < id.size(); ++i) {
    std::string bad = id;
    bad[i] = static_cast<char>('0' + (bad[i] - '0' + 1) % 10);
    EXPECT_FALSE(IsValidRegionalId(bad)) << bad;
  }
  EXPECT_FALSE(IsValidRegionalId("12345"));
  EXPECT_FALSE(IsValidRegionalId("abcdefghijkl"));
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');  // the classic Luhn example
}

TEST(DateTest, ValidatesCalendarDates) {
  EXPECT_TRUE(IsValidDate("1950-02-28"));
  EXPECT_TRUE(IsValidDate("2000-02-29"));
  EXPECT_FALSE(IsValidDate("1900-02-29"));
  EXPECT_FALSE(IsValidDate("2023-02-29"));
  EXPECT_FALSE(IsValidDate("2023-13-01"));
  EXPECT_FALSE(IsValidDate("2023-04-31"));
  EXPECT_FALSE(IsValidDate("1850-01-01"));
  EXPECT_FALSE(IsValidDate("2023/01/01"));
  EXPECT_FALSE(IsValidDate(""));
}

}  // namespace
}  // namespace tsunagu::registry
