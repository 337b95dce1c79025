#include "audit/internal/time_param.hpp"

#include <gtest/gtest.h>

namespace tsunagu::audit::internal {
namespace {

constexpr int64_t k2026Jan1Utc = 1'767'225'600'000;
constexpr int64_t kHour = 3'600'000;

TEST(ParseAuditTime, DateIsAJapanDay) {
  // 2026-01-01 in Japan runs from 2025-12-31T15:00Z to 2026-01-01T14:59:59.999Z.
  EXPECT_EQ(ParseAuditTime("2026-01-01", Bound::kLower), k2026Jan1Utc - 9 * kHour);
  EXPECT_EQ(ParseAuditTime("2026-01-01", Bound::kUpper), k2026Jan1Utc + 15 * kHour - 1);
}

TEST(ParseAuditTime, DateTimeWithoutZoneIsJapanTime) {
  EXPECT_EQ(ParseAuditTime("2026-01-01T09:00", Bound::kLower), k2026Jan1Utc);
  EXPECT_EQ(ParseAuditTime("2026-01-01 09:00:30", Bound::kUpper), k2026Jan1Utc + 30'000);
  EXPECT_EQ(ParseAuditTime("2026-01-01T09:00:00.250", Bound::kLower), k2026Jan1Utc + 250);
}

TEST(ParseAuditTime, ExplicitZones) {
  EXPECT_EQ(ParseAuditTime("2026-01-01T00:00:00Z", Bound::kLower), k2026Jan1Utc);
  EXPECT_EQ(ParseAuditTime("2026-01-01T00:00:00.000Z", Bound::kUpper), k2026Jan1Utc);
  EXPECT_EQ(ParseAuditTime("2026-01-01T09:00+09:00", Bound::kLower), k2026Jan1Utc);
  EXPECT_EQ(ParseAuditTime("2025-12-31T19:00-0500", Bound::kLower), k2026Jan1Utc);
}

TEST(ParseAuditTime, RejectsMalformedAndOutOfRange) {
  for (const char* bad :
       {"", "2026", "2026-1-01", "2026-13-01", "2026-02-29", "2026-01-32", "2026-01-01T24:00",
        "2026-01-01T10:60", "2026-01-01T10", "yesterday", "2026-01-01T10:00:00.",
        "2026-01-01T10:00+9", "2026-01-01 ", "2026-01-01T10:00Zjunk"}) {
    EXPECT_FALSE(ParseAuditTime(bad, Bound::kLower).has_value()) << bad;
  }
  EXPECT_TRUE(ParseAuditTime("2028-02-29", Bound::kLower).has_value());
}

}  // namespace
}  // namespace tsunagu::audit::internal
