#include "hl7v2/timestamp.hpp"

#include <cstdio>

#include "core/clock.hpp"
#include "core/text.hpp"

namespace tsunagu::hl7v2 {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
constexpr int kJstOffsetMinutes = 9 * 60;

// Appends n (0 <= n < 10^width) as exactly `width` decimal digits.
void PutDigits(std::string& out, int n, int width) {
  char digits[4];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  out.append(digits, static_cast<size_t>(width));
}

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  return core::DaysFromCivil(year, month, day);
}

std::string CivilDate(int64_t days) { return core::DateFromDays(days); }

std::string FormatHl7Jst(int64_t millis_utc) {
  int64_t local = millis_utc + int64_t{kJstOffsetMinutes} * 60'000;
  int64_t days = local >= 0 ? local / kMsPerDay : (local - kMsPerDay + 1) / kMsPerDay;
  int64_t ms = local - days * kMsPerDay;
  int y, m, d;
  core::CivilFromDays(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", y, m, d,
                static_cast<int>(ms / 3'600'000), static_cast<int>(ms / 60'000 % 60),
                static_cast<int>(ms / 1000 % 60));
  return buf;
}

core::Result<Timestamp> ParseTimestamp(std::string_view value, std::string_view what) {
  const std::string trimmed = core::Trim(value);
  std::string_view v = trimmed;
  auto bad = [&](const char* why) {
    return core::InvalidInput("invalid HL7 date/time in " + std::string(what) + ": " + why);
  };
  if (v.empty()) return bad("empty");

  int zone_minutes = kJstOffsetMinutes;
  bool zone_sent = false;
  size_t zpos = v.find_first_of("+-");
  if (zpos != std::string_view::npos) {
    std::string_view z = v.substr(zpos + 1);
    if (z.size() != 4 || !AllDigits(z)) return bad("time zone must be +ZZZZ or -ZZZZ");
    int hh = ToInt(z.substr(0, 2));
    int mm = ToInt(z.substr(2, 2));
    if (hh > 14 || mm > 59 || (hh == 14 && mm != 0)) return bad("time zone out of range");
    zone_minutes = (hh * 60 + mm) * (v[zpos] == '-' ? -1 : 1);
    zone_sent = true;
    v = v.substr(0, zpos);
  }
  int fraction_ms = 0;
  size_t dot = v.find('.');
  if (dot != std::string_view::npos) {
    std::string_view f = v.substr(dot + 1);
    if (dot != 14 || f.empty() || f.size() > 4 || !AllDigits(f))
      return bad("fractional seconds need YYYYMMDDHHMMSS.S[S[S[S]]]");
    std::string ms(f.substr(0, 3));
    while (ms.size() < 3) ms.push_back('0');
    fraction_ms = ToInt(ms);
    v = v.substr(0, dot);
  }
  if (!AllDigits(v)) return bad("expected digits YYYY[MM[DD[HH[MM[SS]]]]]");
  if (v.size() != 4 && v.size() != 6 && v.size() != 8 && v.size() != 10 && v.size() != 12 &&
      v.size() != 14)
    return bad("expected YYYY[MM[DD[HH[MM[SS]]]]]");

  Timestamp t;
  t.year = ToInt(v.substr(0, 4));
  if (t.year < 1800) return bad("year before 1800");
  t.precision = Timestamp::Precision::kYear;
  if (v.size() >= 6) {
    t.month = ToInt(v.substr(4, 2));
    if (t.month < 1 || t.month > 12) return bad("month out of range");
    t.precision = Timestamp::Precision::kMonth;
  }
  if (v.size() >= 8) {
    t.day = ToInt(v.substr(6, 2));
    if (t.day < 1 || t.day > DaysInMonth(t.year, t.month)) return bad("day out of range");
    t.precision = Timestamp::Precision::kDay;
  }
  int hour = 0, minute = 0, second = 0;
  if (v.size() >= 10) {
    hour = ToInt(v.substr(8, 2));
    if (hour > 23) return bad("hour out of range");
    t.precision = Timestamp::Precision::kHour;
  }
  if (v.size() >= 12) {
    minute = ToInt(v.substr(10, 2));
    if (minute > 59) return bad("minute out of range");
    t.precision = Timestamp::Precision::kMinute;
  }
  if (v.size() >= 14) {
    second = ToInt(v.substr(12, 2));
    if (second > 59) return bad("second out of range");
    t.precision = Timestamp::Precision::kSecond;
  }
  if (zone_sent && v.size() < 10) return bad("a time zone needs a time of day");

  const int64_t days = DaysFromCivil(t.year, t.month, t.day);
  t.millis_utc = days * kMsPerDay + int64_t{hour} * 3'600'000 + int64_t{minute} * 60'000 +
                 int64_t{second} * 1000 + fraction_ms - int64_t{zone_minutes} * 60'000;

  // Every part is in range here (the year has four digits): written digit
  // by digit, as snprintf would ("%04d-%02d-...") at a tenth of its cost.
  std::string& f = t.fhir;
  f.reserve(25);
  PutDigits(f, t.year, 4);
  if (t.precision >= Timestamp::Precision::kMonth) {
    f += '-';
    PutDigits(f, t.month, 2);
  }
  if (t.precision >= Timestamp::Precision::kDay) {
    f += '-';
    PutDigits(f, t.day, 2);
  }
  if (t.precision > Timestamp::Precision::kDay) {
    f += 'T';
    PutDigits(f, hour, 2);
    f += ':';
    PutDigits(f, minute, 2);
    f += ':';
    PutDigits(f, second, 2);
    const int az = zone_minutes < 0 ? -zone_minutes : zone_minutes;
    f += zone_minutes < 0 ? '-' : '+';
    PutDigits(f, az / 60, 2);
    f += ':';
    PutDigits(f, az % 60, 2);
  }
  return t;
}

}  // namespace tsunagu::hl7v2
