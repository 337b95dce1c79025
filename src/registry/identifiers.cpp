#include "registry/identifiers.hpp"

#include <algorithm>
#include <cctype>

#include "core/random.hpp"

namespace tsunagu::registry {
namespace {
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

char InstitutionCheckDigit(std::string_view six) {
  int sum = 0;
  for (size_t i = 0; i < six.size(); ++i) {
    int p = (six[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += p / 10 + p % 10;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

core::Status ValidateInstitutionCode(std::string_view code) {
  if (code.size() != 10 || !AllDigits(code)) {
    return core::InvalidInput("medical institution code must be 10 digits");
  }
  int pref = (code[0] - '0') * 10 + (code[1] - '0');
  if (pref < 1 || pref > 47) return core::InvalidInput("medical institution code: bad prefecture");
  char table = code[2];
  if (table != '1' && table != '3' && table != '4' && table != '6') {
    return core::InvalidInput("medical institution code: bad score table number");
  }
  if (InstitutionCheckDigit(code.substr(3, 6)) != code[9]) {
    return core::InvalidInput("medical institution code: wrong check digit");
  }
  return core::Status::Ok();
}

char LuhnCheckDigit(std::string_view digits) {
  int sum = 0;
  bool dbl = true;  // rightmost payload digit is doubled
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string NewRegionalId() {
  std::string id(11, '0');
  id[0] = static_cast<char>('1' + core::RandomBelow(9));  // no leading zero
  for (size_t i = 1; i < id.size(); ++i) id[i] = static_cast<char>('0' + core::RandomBelow(10));
  id += LuhnCheckDigit(id);
  return id;
}

bool IsValidRegionalId(std::string_view id) {
  return id.size() == 12 && AllDigits(id) && LuhnCheckDigit(id.substr(0, 11)) == id[11];
}

bool IsValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  if (!AllDigits(d.substr(0, 4)) || !AllDigits(d.substr(5, 2)) || !AllDigits(d.substr(8, 2))) {
    return false;
  }
  int y = std::stoi(std::string(d.substr(0, 4)));
  int m = std::stoi(std::string(d.substr(5, 2)));
  int day = std::stoi(std::string(d.substr(8, 2)));
  if (y < 1880 || y > 2200 || m < 1 || m > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return day <= max;
}

}  // namespace tsunagu::registry
