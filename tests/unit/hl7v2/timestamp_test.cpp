#include "hl7v2/timestamp.hpp"

#include <gtest/gtest.h>

namespace tsunagu::hl7v2 {
namespace {

TEST(TimestampTest, ValidValues) {
  struct Case {
    const char* in;
    const char* fhir;
    int64_t millis;
  };
  // 2024-04-01T00:00:00Z = 1711929600000
  const Case cases[] = {
      {"2024", "2024", 1704067200000 - 9 * 3600000},
      {"202404", "2024-04", 1711929600000 - 9 * 3600000},
      {"20240401", "2024-04-01", 1711929600000 - 9 * 3600000},
      {"2024040109", "2024-04-01T09:00:00+09:00", 1711929600000},
      {"202404010930", "2024-04-01T09:30:00+09:00", 1711929600000 + 1800000},
      {"20240401093015", "2024-04-01T09:30:15+09:00", 1711929600000 + 1815000},
      {"20240401093015.25", "2024-04-01T09:30:15+09:00", 1711929600000 + 1815250},
      {"20240401000000+0000", "2024-04-01T00:00:00+00:00", 1711929600000},
      {"20240331190000-0500", "2024-03-31T19:00:00-05:00", 1711929600000},
      {"20240229", "2024-02-29", 1709164800000 - 9 * 3600000},
      {"18000101120000+0545", "1800-01-01T12:00:00+05:45", -5364619200000 - 345 * 60000},
      {" 20240401 ", "2024-04-01", 1711929600000 - 9 * 3600000},
  };
  for (const Case& c : cases) {
    auto t = ParseTimestamp(c.in);
    ASSERT_TRUE(t.has_value()) << c.in << ": " << t.error().message();
    EXPECT_EQ(t->fhir, c.fhir) << c.in;
    EXPECT_EQ(t->millis_utc, c.millis) << c.in;
  }
}

TEST(TimestampTest, InvalidValues) {
  for (const char* bad :
       {"", "2024-04-01", "2024041", "20241301", "20230229", "20240431", "2024040124",
        "202404012360", "20240401235960", "20240401+0900", "20240401120000+1500",
        "20240401120000+09", "1700", "2024x401", "20240401120000.12345", "202404011200.5"}) {
    auto t = ParseTimestamp(bad, "PID-7");
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_EQ(t.error().code(), core::Code::kInvalidInput);
    EXPECT_NE(t.error().message().find("PID-7"), std::string::npos);
  }
}

TEST(TimestampTest, CivilDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(CivilDate(DaysFromCivil(2024, 2, 28) + 1), "2024-02-29");
  EXPECT_EQ(CivilDate(DaysFromCivil(2023, 12, 31) + 1), "2024-01-01");
  EXPECT_EQ(FormatHl7Jst(1711929600000), "20240401090000");
}

}  // namespace
}  // namespace tsunagu::hl7v2
