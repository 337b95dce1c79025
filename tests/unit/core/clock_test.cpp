#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace tsunagu::core {
namespace {

TEST(ClockTest, FormatIsoUtc) {
  EXPECT_EQ(FormatIsoUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoUtc(1'767'225'600'000), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoUtc(1'767'225'600'123), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatIsoUtc(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatIsoUtc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ClockTest, FormatJstIsUtcPlusNine) {
  EXPECT_EQ(FormatJst(1'767'225'600'000), "2026-01-01 09:00");
  // 15:30 UTC on 31 Dec is already the next day in Japan.
  EXPECT_EQ(FormatJst(1'767'195'000'000), "2026-01-01 00:30");
  EXPECT_EQ(FormatJst(1'767'225'600'000 + 59'999), "2026-01-01 09:00");
}

TEST(ClockTest, FakeClockIsDeterministic) {
  FakeClock clock;
  EXPECT_EQ(clock.NowMillis(), 1'767'225'600'000);
  EXPECT_EQ(clock.NowSeconds(), 1'767'225'600);
  clock.Advance(1'500);
  EXPECT_EQ(clock.NowMillis(), 1'767'225'601'500);
  clock.Set(42);
  EXPECT_EQ(clock.NowMillis(), 42);
}

TEST(ClockTest, SystemClockIsAfter2025) {
  EXPECT_GT(SystemClock::Instance().NowMillis(), 1'735'689'600'000);
}

}  // namespace
}  // namespace tsunagu::core

namespace tsunagu::core {
namespace {

TEST(CalendarTest, DaysFromCivilRoundTripsAcrossLeapYearsAndTheEpoch) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1) - DaysFromCivil(2000, 2, 28), 2);  // 2000 is leap
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28), 1);  // 1900 is not
  EXPECT_EQ(DateFromDays(DaysFromCivil(2026, 11, 21)), "2026-11-21");
  EXPECT_EQ(DateFromDays(-1), "1969-12-31");
  for (int64_t d = -800000; d < 800000; d += 997) {
    int y = 0, m = 0, day = 0;
    CivilFromDays(d, y, m, day);
    EXPECT_EQ(DaysFromCivil(y, m, day), d);
  }
}

}  // namespace
}  // namespace tsunagu::core
