#include "jahis/notebook.hpp"

#include <algorithm>
#include <charconv>

#include "core/clock.hpp"
#include "core/text.hpp"

namespace tsunagu::jahis {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string LinePrefix(int line) { return "line " + std::to_string(line) + ": "; }

core::Status LineError(int line, const std::string& reason) {
  return core::InvalidInput(LinePrefix(line) + reason);
}

// One CSV line: fields separated by ',', optionally quoted with '"' ("" is a
// quote inside). JAHIS text uses the full-width comma inside values, but
// quoted fields are met in the wild.
core::Result<std::vector<std::string>> SplitFields(std::string_view line, int line_no) {
  std::vector<std::string> fields;
  size_t i = 0;
  for (;;) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field.push_back(line[i++]);
      }
      if (!closed) return LineError(line_no, "a quoted field is not closed (line cut short?)");
      // Anything between the closing quote and the next comma is kept.
      while (i < line.size() && line[i] != ',') field.push_back(line[i++]);
    } else {
      while (i < line.size() && line[i] != ',') field.push_back(line[i++]);
    }
    fields.push_back(core::Trim(field));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> SmallNumber(std::string_view s) {
  if (!AllDigits(s) || s.size() > 6) return std::nullopt;
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

bool IsDecimal(std::string_view s) {
  if (s.empty()) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() && v >= 0;
}

// "YYYYMMDD" -> "YYYY-MM-DD"; nullopt unless a real calendar date.
std::optional<std::string> ParseDate(std::string_view s) {
  if (s.size() != 8 || !AllDigits(s)) return std::nullopt;
  int y = 0, m = 0, d = 0;
  std::from_chars(s.data(), s.data() + 4, y);
  std::from_chars(s.data() + 4, s.data() + 6, m);
  std::from_chars(s.data() + 6, s.data() + 8, d);
  if (y < 1800 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  int yy = 0, mm = 0, dd = 0;
  core::CivilFromDays(core::DaysFromCivil(y, m, d), yy, mm, dd);
  if (yy != y || mm != m || dd != d) return std::nullopt;  // 20250230
  return core::DateFromDays(core::DaysFromCivil(y, m, d));
}

// The text of a note record: its fields from `from` on, joined by ",",
// without the trailing レコード作成者 field ("1" facility, "2" patient) that
// most records end with.
std::string Join(const std::vector<std::string>& fields, size_t from) {
  size_t end = fields.size();
  if (end > from + 1 && (fields[end - 1] == "1" || fields[end - 1] == "2")) --end;
  std::string out;
  for (size_t i = from; i < end; ++i) {
    if (fields[i].empty()) continue;
    if (!out.empty()) out += ",";
    out += fields[i];
  }
  return out;
}

// Records of the format this parser reads (fewest fields each needs,
// counting the record number).
struct RecordSpec {
  int number;
  size_t min_fields;
  bool needs_event;
  const char* name;
};
constexpr RecordSpec kRecords[] = {
    {1, 4, false, "patient"},
    {2, 3, false, "patient remark"},
    {5, 2, false, "dispensing date"},
    {11, 2, true, "pharmacy"},
    {15, 2, true, "pharmacist"},
    {51, 2, true, "prescribing facility"},
    {55, 2, true, "prescribing doctor"},
    {201, 5, true, "drug"},
    {281, 3, true, "drug supplement"},
    {291, 3, true, "drug caution"},
    {301, 5, true, "usage"},
    {311, 3, true, "usage supplement"},
};
// Free-text records kept as notes without a warning.
constexpr int kNoteRecords[] = {3, 4, 391, 401, 411, 421, 501, 601, 701, 911, 921};

const RecordSpec* SpecOf(int number) {
  for (const RecordSpec& s : kRecords) {
    if (s.number == number) return &s;
  }
  return nullptr;
}

NotebookFacility FacilityOf(const std::vector<std::string>& f) {
  NotebookFacility out;
  auto at = [&f](size_t i) { return i < f.size() ? f[i] : std::string(); };
  out.name = at(1);
  out.prefecture = at(2);
  out.score_table = at(3);
  out.code = at(4);
  return out;
}

class Parser {
 public:
  explicit Parser(Notebook& nb) : nb_(nb) {}

  core::Status Line(int line_no, std::string_view line) {
    if (core::Trim(line).empty()) return core::Status::Ok();
    TSUNAGU_ASSIGN_OR_RETURN(std::vector<std::string> f, SplitFields(line, line_no));
    if (f[0].rfind("JAHISTC", 0) == 0) return Header(line_no, f);
    if (!seen_header_) {
      if (AllDigits(f[0]))
        return LineError(line_no, "record " + f[0] + " before the JAHISTC header");
      return LineError(line_no, "not a JAHIS medication notebook file (no JAHISTC header)");
    }
    std::optional<int> number = SmallNumber(f[0]);
    if (!number) return LineError(line_no, "the record number is not a number");
    const RecordSpec* spec = SpecOf(*number);
    if (spec == nullptr) {
      Note(line_no, *number, f);
      bool known = std::find(std::begin(kNoteRecords), std::end(kNoteRecords), *number) !=
                   std::end(kNoteRecords);
      if (!known) {
        Warn(line_no, "record " + f[0] + " is not known; kept as a note");
      }
      return core::Status::Ok();
    }
    if (f.size() < spec->min_fields) {
      return LineError(line_no, "record " + f[0] + " (" + spec->name +
                                    ") is cut short: " + std::to_string(spec->min_fields) +
                                    " fields needed, " + std::to_string(f.size()) + " found");
    }
    if (spec->needs_event && nb_.events.empty()) {
      return LineError(line_no, "record " + f[0] + " (" + spec->name +
                                    ") outside a dispensing event (no record 5 before it)");
    }
    switch (*number) {
      case 1:
        return Patient(line_no, f);
      case 2:
        nb_.remarks.push_back({line_no, f[1], Join(f, 2)});
        return core::Status::Ok();
      case 5:
        return Event(line_no, f);
      case 11: {
        DispensingEvent& e = nb_.events.back();
        e.pharmacy = FacilityOf(f);
        e.pharmacy_postcode = At(f, 5);
        e.pharmacy_address = At(f, 6);
        e.pharmacy_phone = At(f, 7);
        return CheckFacility(line_no, e.pharmacy);
      }
      case 15:
        nb_.events.back().pharmacist = f[1];
        nb_.events.back().pharmacist_contact = At(f, 2);
        return core::Status::Ok();
      case 51:
        nb_.events.back().prescriber = FacilityOf(f);
        return CheckFacility(line_no, nb_.events.back().prescriber);
      case 55:
        nb_.events.back().doctor = f[1];
        nb_.events.back().department = At(f, 2);
        return core::Status::Ok();
      case 201:
        return Drug(line_no, f);
      case 281:
      case 291:
        return DrugNote(line_no, f);
      case 301:
        return Usage(line_no, f);
      case 311:
        return UsageNote(line_no, f);
      default:
        return core::Status::Ok();
    }
  }

  core::Status Finish(int last_line) {
    if (!seen_header_) {
      return LineError(std::max(1, last_line), "the file is empty");
    }
    for (const DispensingEvent& e : nb_.events) {
      size_t drugs = 0;
      for (const NotebookRp& rp : e.rps) {
        drugs += rp.drugs.size();
        if (rp.drugs.empty()) {
          Warn(rp.usage_line, "usage of RP " + std::to_string(rp.number) + " without drugs");
        } else if (rp.usage_line == 0) {
          Warn(rp.drugs.front().line,
               "RP " + std::to_string(rp.number) + " has no usage record (301)");
        }
      }
      if (drugs == 0) Warn(e.line, "dispensing event without drugs");
    }
    std::stable_sort(nb_.warnings.begin(), nb_.warnings.end(),
                     [](const ParseWarning& a, const ParseWarning& b) { return a.line < b.line; });
    return core::Status::Ok();
  }

 private:
  static std::string At(const std::vector<std::string>& f, size_t i) {
    return i < f.size() ? f[i] : std::string();
  }

  void Warn(int line, std::string message) { nb_.warnings.push_back({line, std::move(message)}); }

  void Note(int line, int number, const std::vector<std::string>& f) {
    NotebookNote n{line, number, Join(f, 1)};
    if (nb_.events.empty()) {
      nb_.notes.push_back(std::move(n));
    } else {
      nb_.events.back().notes.push_back(std::move(n));
    }
  }

  core::Status Header(int line_no, const std::vector<std::string>& f) {
    std::string_view version = f[0];
    if (version.size() != 9 || !AllDigits(version.substr(7))) {
      return LineError(line_no, "unknown header (expected JAHISTC followed by two digits)");
    }
    if (!seen_header_) {
      nb_.version = f[0];
      nb_.output_kind = At(f, 1);
    }
    // Apps export several notebooks one after another, each with its header.
    seen_header_ = true;
    return core::Status::Ok();
  }

  core::Status Patient(int line_no, const std::vector<std::string>& f) {
    NotebookPatient p;
    p.line = line_no;
    p.name = f[1];
    p.sex = f[2];
    if (!p.sex.empty() && p.sex != "1" && p.sex != "2") {
      return LineError(line_no, "sex must be 1 (male) or 2 (female)");
    }
    if (!f[3].empty()) {
      std::optional<std::string> birth = ParseDate(f[3]);
      if (!birth) return LineError(line_no, "the birth date is not a date (YYYYMMDD)");
      p.birth_date = *birth;
    }
    p.postcode = At(f, 4);
    p.address = At(f, 5);
    p.phone = At(f, 6);
    p.emergency_contact = At(f, 7);
    p.blood_type = At(f, 8);
    p.weight = At(f, 9);
    p.kana = At(f, 10);
    if (nb_.patient) {
      const NotebookPatient& first = *nb_.patient;
      bool same = core::FoldKana(first.name) == core::FoldKana(p.name) &&
                  first.birth_date == p.birth_date && first.sex == p.sex;
      if (!same) return LineError(line_no, "the file holds notebooks of more than one person");
      return core::Status::Ok();
    }
    nb_.patient = std::move(p);
    return core::Status::Ok();
  }

  core::Status Event(int line_no, const std::vector<std::string>& f) {
    std::optional<std::string> date = ParseDate(f[1]);
    if (!date) return LineError(line_no, "the dispensing date is not a date (YYYYMMDD)");
    DispensingEvent e;
    e.line = line_no;
    e.date = *date;
    nb_.events.push_back(std::move(e));
    return core::Status::Ok();
  }

  core::Status CheckFacility(int line_no, const NotebookFacility& facility) {
    const bool any =
        !facility.prefecture.empty() || !facility.score_table.empty() || !facility.code.empty();
    if (any && facility.InstitutionCode().empty()) {
      Warn(line_no,
           "the institution code is incomplete (prefecture 2 digits, table 1 digit, code 7 "
           "digits)");
    }
    return core::Status::Ok();
  }

  core::Result<int> RpNumber(int line_no, const std::string& field) {
    std::optional<int> rp = SmallNumber(field);
    if (!rp || *rp < 1 || *rp > 999) {
      return LineError(line_no, "the RP number must be a number from 1 to 999");
    }
    return *rp;
  }

  NotebookRp& RpOf(int number) {
    auto& rps = nb_.events.back().rps;
    for (NotebookRp& rp : rps) {
      if (rp.number == number) return rp;
    }
    NotebookRp rp;
    rp.number = number;
    rps.push_back(std::move(rp));
    return rps.back();
  }

  NotebookRp* FindRp(int number) {
    for (NotebookRp& rp : nb_.events.back().rps) {
      if (rp.number == number) return &rp;
    }
    return nullptr;
  }

  core::Status Drug(int line_no, const std::vector<std::string>& f) {
    TSUNAGU_ASSIGN_OR_RETURN(int rp, RpNumber(line_no, f[1]));
    NotebookDrug d;
    d.line = line_no;
    d.name = f[2];
    if (d.name.empty()) return LineError(line_no, "the drug name is empty");
    d.dose = f[3];
    d.unit = f[4];
    if (!d.dose.empty() && !IsDecimal(d.dose)) {
      return LineError(line_no, "the dose must be a number");
    }
    const std::string type = At(f, 5);
    d.code = At(f, 6);
    if (!type.empty()) {
      std::optional<int> t = SmallNumber(type);
      if (!t || *t < 1 || *t > 99) return LineError(line_no, "the drug code type must be a number");
      d.code_type = *t;
    }
    if (d.code_type > static_cast<int>(DrugCodeType::kNone) && d.code.empty()) {
      Warn(line_no, "a drug code type without a code; the drug is kept by name");
      d.code_type = static_cast<int>(DrugCodeType::kNone);
    }
    if (d.code_type == static_cast<int>(DrugCodeType::kNone)) d.code.clear();
    if (d.code_type == 0 && !d.code.empty()) {
      Warn(line_no, "a drug code without its code type; the drug is kept by name");
      d.code.clear();
    }
    if ((d.code_type == static_cast<int>(DrugCodeType::kYj) ||
         d.code_type == static_cast<int>(DrugCodeType::kMhlw)) &&
        d.code.size() != 12) {
      Warn(line_no, "the YJ / MHLW drug code should have 12 characters");
    }
    const bool known_type = d.code_type == 0 || d.code_type == 1 || d.code_type == 2 ||
                            d.code_type == 3 || d.code_type == 4 || d.code_type == 6;
    if (!known_type) Warn(line_no, "drug code type " + type + " is not known");
    RpOf(rp).drugs.push_back(std::move(d));
    return core::Status::Ok();
  }

  core::Status DrugNote(int line_no, const std::vector<std::string>& f) {
    TSUNAGU_ASSIGN_OR_RETURN(int rp, RpNumber(line_no, f[1]));
    NotebookRp* found = FindRp(rp);
    std::string text = Join(f, 2);
    if (found == nullptr || found->drugs.empty()) {
      Warn(line_no, "record " + f[0] + " refers to RP " + std::to_string(rp) +
                        ", which has no drug before it; kept as a note");
      Note(line_no, *SmallNumber(f[0]), f);
      return core::Status::Ok();
    }
    if (!text.empty()) found->drugs.back().notes.push_back(std::move(text));
    return core::Status::Ok();
  }

  core::Status Usage(int line_no, const std::vector<std::string>& f) {
    TSUNAGU_ASSIGN_OR_RETURN(int rp_number, RpNumber(line_no, f[1]));
    NotebookRp& rp = RpOf(rp_number);
    if (rp.usage_line != 0) {
      Warn(line_no, "a second usage record for RP " + std::to_string(rp_number) + "; ignored");
      return core::Status::Ok();
    }
    if (!f[3].empty() && !IsDecimal(f[3])) {
      return LineError(line_no, "the dispensed quantity must be a number");
    }
    const std::string form = At(f, 5);
    int form_code = 0;
    if (!form.empty()) {
      std::optional<int> code = SmallNumber(form);
      if (!code) return LineError(line_no, "the dosage form code must be a number");
      form_code = *code;
    }
    rp.usage_line = line_no;
    rp.usage = f[2];
    rp.quantity = f[3];
    rp.quantity_unit = f[4];
    rp.dosage_form = form_code;
    rp.usage_code_type = At(f, 6);
    rp.usage_code = At(f, 7);
    return core::Status::Ok();
  }

  core::Status UsageNote(int line_no, const std::vector<std::string>& f) {
    TSUNAGU_ASSIGN_OR_RETURN(int rp, RpNumber(line_no, f[1]));
    NotebookRp* found = FindRp(rp);
    std::string text = Join(f, 2);
    if (found == nullptr) {
      Warn(line_no, "record 311 refers to RP " + std::to_string(rp) +
                        ", which is not in this "
                        "event; kept as a note");
      Note(line_no, 311, f);
      return core::Status::Ok();
    }
    if (!text.empty()) found->usage_notes.push_back(std::move(text));
    return core::Status::Ok();
  }

  Notebook& nb_;
  bool seen_header_ = false;
};

}  // namespace

std::string_view DosageFormName(int code) {
  switch (code) {
    case 1:
      return "内服";
    case 2:
      return "内滴";
    case 3:
      return "頓服";
    case 4:
      return "注射";
    case 5:
      return "外用";
    case 6:
      return "浸煎";
    case 7:
      return "湯";
    case 9:
      return "材料";
    case 10:
      return "その他";
    default:
      return "";
  }
}

std::string NotebookFacility::InstitutionCode() const {
  if (prefecture.size() != 2 || !AllDigits(prefecture)) return {};
  if (score_table.size() != 1 || !AllDigits(score_table)) return {};
  if (code.size() != 7 || !AllDigits(code)) return {};
  return prefecture + score_table + code;
}

std::optional<int> NotebookRp::Days() const {
  if (quantity_unit != "日分") return std::nullopt;
  std::optional<int> n = SmallNumber(quantity);
  if (!n || *n < 1 || *n > 3650) return std::nullopt;
  return n;
}

core::Result<Notebook> ParseNotebook(std::string_view bytes) {
  if (bytes.size() > kMaxNotebookBytes) {
    return core::TooLarge("the file is larger than " +
                          std::to_string(kMaxNotebookBytes / (1024 * 1024)) + " MB");
  }
  Notebook nb;
  std::string text;
  if (bytes.substr(0, kBom.size()) == kBom) {
    bytes.remove_prefix(kBom.size());
    if (!core::IsValidUtf8(bytes)) {
      return core::InvalidInput("the file starts with a UTF-8 mark but is not UTF-8 text");
    }
    text = bytes;
    nb.encoding = "UTF-8";
  } else if (core::IsValidUtf8(bytes)) {
    text = bytes;
    nb.encoding = "UTF-8";
  } else if (auto decoded = core::DecodeShiftJis(bytes)) {
    text = std::move(*decoded);
    nb.encoding = "Shift_JIS";
  } else {
    return core::InvalidInput("the file is neither UTF-8 nor Shift_JIS text");
  }

  Parser parser(nb);
  int line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    TSUNAGU_RETURN_IF_ERROR(parser.Line(line_no, line));
    start = end + 1;
  }
  TSUNAGU_RETURN_IF_ERROR(parser.Finish(line_no));
  return nb;
}

}  // namespace tsunagu::jahis
