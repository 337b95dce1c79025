#pragma once
// HL7 v2 date/time values (DT, DTM, TS.1): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
// A value without a zone is Japan Standard Time (UTC+9), as JAHIS messages
// are. Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::hl7v2 {

struct Timestamp {
  enum class Precision { kYear, kMonth, kDay, kHour, kMinute, kSecond };
  Precision precision = Precision::kDay;
  // The instant of the start of the value, ms since the Unix epoch (UTC).
  int64_t millis_utc = 0;
  // FHIR date / dateTime: "2024", "2024-04", "2024-04-01" for dates;
  // "2024-04-01T10:30:00+09:00" once a time is given (minutes and seconds
  // are zero-filled, fractions dropped, the zone kept as sent or +09:00).
  std::string fhir;
  // Local calendar date of the value ("2024-04-01"; month/day 01 when absent).
  int year = 0;
  int month = 1;
  int day = 1;
};

// InvalidInput ("invalid HL7 date/time ...") for anything else: wrong
// length, non-digits, month 13, February 30, hour 24, a zone beyond +-14:00.
// The reason quotes `what` (e.g. "PID-7"), never the value.
core::Result<Timestamp> ParseTimestamp(std::string_view value, std::string_view what = "value");

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int year, int month, int day);
// "YYYY-MM-DD" of a day number.
std::string CivilDate(int64_t days);

// "YYYYMMDDHHMMSS" in Japan Standard Time (for MSH-7 of generated messages).
std::string FormatHl7Jst(int64_t millis_utc);

}  // namespace tsunagu::hl7v2
