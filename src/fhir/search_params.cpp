#include "fhir/search_params.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "core/clock.hpp"

namespace tsunagu::fhir {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Days since the epoch of "YYYY-MM-DD", or false.
bool ToDays(std::string_view date, int64_t& days) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' || !Digits(date.substr(0, 4)) ||
      !Digits(date.substr(5, 2)) || !Digits(date.substr(8, 2))) {
    return false;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  std::from_chars(date.data(), date.data() + 4, y);
  std::from_chars(date.data() + 5, date.data() + 7, m);
  std::from_chars(date.data() + 8, date.data() + 10, d);
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  days = core::DaysFromCivil(y, m, d);
  // Reject 2024-02-31 and the like: the round trip must give the same date.
  return core::DateFromDays(days) == date;
}

// The first and last day that a FHIR date value (year, month or day
// precision; a time part is cut off) covers.
bool DateRange(std::string_view value, int64_t& first, int64_t& last) {
  if (value.size() > 10 && value[10] == 'T') value = value.substr(0, 10);
  if (value.size() == 4 && Digits(value)) {
    int64_t y = 0;
    std::from_chars(value.data(), value.data() + 4, y);
    first = core::DaysFromCivil(y, 1, 1);
    last = core::DaysFromCivil(y, 12, 31);
    return true;
  }
  if (value.size() == 7 && value[4] == '-' && Digits(value.substr(0, 4)) &&
      Digits(value.substr(5, 2))) {
    int64_t y = 0;
    unsigned m = 0;
    std::from_chars(value.data(), value.data() + 4, y);
    std::from_chars(value.data() + 5, value.data() + 7, m);
    if (m < 1 || m > 12) return false;
    first = core::DaysFromCivil(y, m, 1);
    last = (m == 12 ? core::DaysFromCivil(y + 1, 1, 1) : core::DaysFromCivil(y, m + 1, 1)) - 1;
    return true;
  }
  if (!ToDays(value, first)) return false;
  last = first;
  return true;
}

std::string PatientId(std::string_view value) {
  if (value.starts_with("Patient/")) value.remove_prefix(8);
  // An absolute reference: ".../fhir/Patient/<id>".
  if (auto pos = value.rfind("/Patient/"); pos != std::string_view::npos) {
    value.remove_prefix(pos + 9);
  }
  return std::string(value);
}

bool IsControl(std::string_view name) {
  return name == "_format" || name == "_pretty" || name == "_summary" || name == "_elements";
}

core::Status ApplyResultParam(const QueryParam& p, SearchParams& out, bool& handled) {
  handled = true;
  if (p.name == "_count") {
    int n = 0;
    auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), n);
    if (ec != std::errc() || ptr != p.value.data() + p.value.size() || n < 1) {
      return core::InvalidInput("_count must be a positive number");
    }
    out.count = std::min(n, kMaxCount);
    out.applied.push_back({p.name, std::to_string(out.count)});
  } else if (p.name == "_sort") {
    std::string_view first = p.value;
    if (auto comma = first.find(','); comma != std::string_view::npos)
      first = first.substr(0, comma);
    const bool desc = first.starts_with('-');
    if (desc) first.remove_prefix(1);
    if (first != "date" && first != "_lastUpdated") {
      return core::InvalidInput("_sort supports date and -date");
    }
    out.order = desc ? clinical::SortOrder::kNewestFirst : clinical::SortOrder::kOldestFirst;
    out.applied.push_back({p.name, desc ? "-date" : "date"});
  } else if (p.name == "_page") {
    out.page = p.value;
  } else if (p.name == "_total") {
    if (p.value != "none" && p.value != "estimate" && p.value != "accurate") {
      return core::InvalidInput("_total must be none, estimate or accurate");
    }
    out.total = p.value != "none";
    out.applied.push_back(p);
  } else {
    handled = false;
  }
  return core::Status::Ok();
}

}  // namespace

std::vector<QueryParam> ParseQueryString(std::string_view target) {
  std::vector<QueryParam> out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    QueryParam p;
    p.name = Decode(pair.substr(0, eq));
    if (eq != std::string_view::npos) p.value = Decode(pair.substr(eq + 1));
    out.push_back(std::move(p));
  }
  return out;
}

void SplitToken(std::string_view token, std::string& system, std::string& code) {
  auto bar = token.find('|');
  if (bar == std::string_view::npos) {
    system.clear();
    code = std::string(token);
    return;
  }
  system = std::string(token.substr(0, bar));
  code = std::string(token.substr(bar + 1));
}

core::Status ApplyDateParam(std::string_view value, std::string& from, std::string& to) {
  std::string_view prefix = "eq";
  if (value.size() > 2 && value[0] >= 'a' && value[0] <= 'z') {
    prefix = value.substr(0, 2);
    value.remove_prefix(2);
  }
  int64_t first = 0, last = 0;
  if (!DateRange(value, first, last)) {
    return core::InvalidInput("date must be YYYY, YYYY-MM or YYYY-MM-DD (with ge/gt/le/lt/eq)");
  }
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  if (prefix == "eq") {
    lo = first;
    hi = last;
  } else if (prefix == "ge" || prefix == "sa") {
    lo = prefix == "ge" ? first : last + 1;
  } else if (prefix == "gt") {
    lo = last + 1;
  } else if (prefix == "le" || prefix == "eb") {
    hi = prefix == "le" ? last : first - 1;
  } else if (prefix == "lt") {
    hi = first - 1;
  } else {
    return core::InvalidInput("date prefix must be eq, ge, gt, le, lt, sa or eb");
  }
  int64_t cur = 0;
  if (lo != INT64_MIN && (from.empty() || (ToDays(from, cur) && lo > cur))) {
    from = core::DateFromDays(lo);
  }
  if (hi != INT64_MAX && (to.empty() || (ToDays(to, cur) && hi < cur))) {
    to = core::DateFromDays(hi);
  }
  return core::Status::Ok();
}

core::Result<SearchParams> ParseClinicalSearch(const ResourceType& type,
                                               std::span<const QueryParam> params, bool strict) {
  SearchParams out;
  auto contains = [](const std::vector<std::string_view>& names, std::string_view n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  for (const QueryParam& p : params) {
    bool handled = false;
    TSUNAGU_RETURN_IF_ERROR(ApplyResultParam(p, out, handled));
    if (handled || IsControl(p.name)) continue;
    if (p.name == "patient" || p.name == "subject" || p.name == "subject:Patient") {
      std::string id = PatientId(p.value);
      if (id.empty()) return core::InvalidInput(p.name + " must name a Patient");
      if (!out.patient.empty() && out.patient != id) {
        return core::InvalidInput("only one patient per search");
      }
      out.patient = id;
      out.applied.push_back({"patient", id});
    } else if (contains(type.date_params, p.name)) {
      TSUNAGU_RETURN_IF_ERROR(ApplyDateParam(p.value, out.from, out.to));
      out.applied.push_back({p.name, p.value});
    } else if (contains(type.code_params, p.name)) {
      if (p.value.find(',') != std::string::npos) {
        return core::InvalidInput(p.name + " takes one code per search");
      }
      SplitToken(p.value, out.code_system, out.code);
      if (out.code.empty()) return core::InvalidInput(p.name + " must not be empty");
      out.applied.push_back({p.name, p.value});
    } else if (p.name == "category") {
      size_t start = 0;
      while (start <= p.value.size()) {
        size_t comma = p.value.find(',', start);
        if (comma == std::string::npos) comma = p.value.size();
        std::string_view token(p.value.data() + start, comma - start);
        auto c = CategoryForToken(type, token);
        if (!c) {
          return core::InvalidInput("category " + std::string(token) + " is not a category of " +
                                    std::string(type.name));
        }
        out.categories.push_back(*c);
        start = comma + 1;
      }
      out.applied.push_back(p);
    } else if (p.name == "_include") {
      out.include.push_back(p.value);
      out.applied.push_back(p);
    } else if (strict) {
      return core::InvalidInput("unknown search parameter " + p.name);
    }
  }
  if (out.patient.empty()) {
    return core::InvalidInput("patient is required: searches are per patient");
  }
  return out;
}

core::Result<SearchParams> ParsePatientSearch(std::span<const QueryParam> params, bool strict) {
  SearchParams out;
  for (const QueryParam& p : params) {
    bool handled = false;
    TSUNAGU_RETURN_IF_ERROR(ApplyResultParam(p, out, handled));
    if (handled || IsControl(p.name)) continue;
    std::string* field = nullptr;
    if (p.name == "name") field = &out.name;
    if (p.name == "family") field = &out.family;
    if (p.name == "given") field = &out.given;
    if (p.name == "gender") field = &out.gender;
    if (p.name == "_id") field = &out.id;
    if (field) {
      if (p.value.empty()) return core::InvalidInput(p.name + " must not be empty");
      *field = p.value;
      out.applied.push_back(p);
    } else if (p.name == "birthdate") {
      std::string value = p.value;
      if (value.starts_with("eq")) value = value.substr(2);
      int64_t days = 0;
      if (!ToDays(value, days)) return core::InvalidInput("birthdate must be YYYY-MM-DD");
      out.birthdate = value;
      out.applied.push_back(p);
    } else if (p.name == "identifier") {
      SplitToken(p.value, out.identifier_system, out.identifier_value);
      if (out.identifier_value.empty()) return core::InvalidInput("identifier must have a value");
      out.applied.push_back(p);
    } else if (strict) {
      return core::InvalidInput("unknown search parameter " + p.name);
    }
  }
  if (!out.gender.empty() && out.gender != "male" && out.gender != "female" &&
      out.gender != "other" && out.gender != "unknown") {
    return core::InvalidInput("gender must be male, female, other or unknown");
  }
  return out;
}

}  // namespace tsunagu::fhir
