#pragma once
// The one clock source. All timestamps are UTC; Japan time only for display.
// Thread-safety: implementations are safe to call from any thread.
#include <atomic>
#include <cstdint>
#include <string>

namespace tsunagu::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual int64_t NowMillis() const = 0;
  int64_t NowSeconds() const { return NowMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  static SystemClock& Instance();
};

// Deterministic clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_millis = 1'767'225'600'000) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Advance(int64_t millis) { now_ += millis; }
  void Set(int64_t millis) { now_ = millis; }

 private:
  std::atomic<int64_t> now_;
};

// Calendar arithmetic on the proleptic Gregorian calendar (H. Hinnant's
// algorithms): days since 1970-01-01 and back.
int64_t DaysFromCivil(int64_t year, int month, int day);
void CivilFromDays(int64_t days, int& year, int& month, int& day);
// "YYYY-MM-DD" of a day number.
std::string DateFromDays(int64_t days);

// "2026-01-01T00:00:00.000Z"
std::string FormatIsoUtc(int64_t millis);
// "2026-01-01 09:00" in Japan Standard Time (UTC+9, no DST).
std::string FormatJst(int64_t millis);

}  // namespace tsunagu::core
