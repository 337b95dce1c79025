#include "audit/internal/time_param.hpp"

#include "core/clock.hpp"

namespace tsunagu::audit::internal {
namespace {

constexpr int64_t kJstOffsetMillis = int64_t{9} * 3600 * 1000;
constexpr int64_t kDayMillis = int64_t{24} * 3600 * 1000;

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Digits(size_t count, int& out) {
    if (s_.size() - pos_ < count) return false;
    int v = 0;
    for (size_t i = 0; i < count; ++i) {
      char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += count;
    out = v;
    return true;
  }
  bool Consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return pos_ == s_.size(); }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<int64_t> ParseAuditTime(std::string_view text, Bound bound) {
  Cursor c(text);
  int year = 0, month = 0, day = 0;
  if (!c.Digits(4, year) || !c.Consume('-') || !c.Digits(2, month) || !c.Consume('-') ||
      !c.Digits(2, day)) {
    return std::nullopt;
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return std::nullopt;
  }
  const int64_t day_start = core::DaysFromCivil(year, month, day) * kDayMillis;
  if (c.AtEnd()) {
    int64_t local = bound == Bound::kUpper ? day_start + kDayMillis - 1 : day_start;
    return local - kJstOffsetMillis;
  }
  if (!c.Consume('T') && !c.Consume(' ')) return std::nullopt;
  int hour = 0, minute = 0, second = 0, millis = 0;
  if (!c.Digits(2, hour) || !c.Consume(':') || !c.Digits(2, minute)) return std::nullopt;
  if (c.Consume(':')) {
    if (!c.Digits(2, second)) return std::nullopt;
    if (c.Consume('.')) {
      int digit = 0, scale = 100, count = 0;
      while (c.Peek() >= '0' && c.Peek() <= '9') {
        c.Digits(1, digit);
        millis += digit * scale;
        scale /= 10;
        ++count;
      }
      if (count == 0) return std::nullopt;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int64_t offset = kJstOffsetMillis;
  if (c.Consume('Z') || c.Consume('z')) {
    offset = 0;
  } else if (c.Peek() == '+' || c.Peek() == '-') {
    const int sign = c.Peek() == '-' ? -1 : 1;
    c.Consume(c.Peek());
    int oh = 0, om = 0;
    if (!c.Digits(2, oh)) return std::nullopt;
    c.Consume(':');
    if (!c.Digits(2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = int64_t{sign} * (oh * 3600 + om * 60) * 1000;
  }
  if (!c.AtEnd()) return std::nullopt;
  return day_start + ((hour * 60 + minute) * 60 + second) * int64_t{1000} + millis - offset;
}

}  // namespace tsunagu::audit::internal
