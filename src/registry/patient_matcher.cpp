#include "registry/patient_matcher.hpp"

#include <algorithm>
#include <map>

#include "core/text.hpp"
#include "registry/identifiers.hpp"

namespace tsunagu::registry {
namespace {

using store::Value;

// Splits valid UTF-8 into code points (as strings); FoldKana output is valid.
std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// Spelling variants that clerks and patients write either way: small kana,
// the long-vowel mark, ヂ/ヅ (ジ/ズ) and ヲ (オ).
std::vector<std::string> Loosen(const std::vector<std::string>& kana) {
  static const std::map<std::string, std::string> kLoose = {
      {"ァ", "ア"}, {"ィ", "イ"}, {"ゥ", "ウ"}, {"ェ", "エ"}, {"ォ", "オ"},
      {"ッ", "ツ"}, {"ャ", "ヤ"}, {"ュ", "ユ"}, {"ョ", "ヨ"}, {"ヮ", "ワ"},
      {"ヂ", "ジ"}, {"ヅ", "ズ"}, {"ヲ", "オ"}, {"ヵ", "カ"}, {"ヶ", "ケ"}};
  std::vector<std::string> out;
  for (const auto& c : kana) {
    if (c == "ー") continue;
    auto it = kLoose.find(c);
    out.push_back(it == kLoose.end() ? c : it->second);
  }
  return out;
}

// Levenshtein distance, stopping early once it exceeds 1.
bool WithinOneEdit(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = a.size(), m = b.size();
  if (n > m + 1 || m > n + 1) return false;
  size_t i = 0, j = 0;
  int edits = 0;
  while (i < n && j < m) {
    if (a[i] == b[j]) {
      ++i;
      ++j;
      continue;
    }
    if (++edits > 1) return false;
    if (n > m) {
      ++i;
    } else if (m > n) {
      ++j;
    } else {
      ++i;
      ++j;
    }
  }
  return edits + static_cast<int>((n - i) + (m - j)) <= 1;
}

FieldMatch CompareKana(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return FieldMatch::kMissing;
  if (a == b) return FieldMatch::kExact;
  auto ca = CodePoints(a), cb = CodePoints(b);
  auto la = Loosen(ca), lb = Loosen(cb);
  if (la == lb) return FieldMatch::kNear;
  // One typo only counts in names long enough for it to be a typo.
  if (ca.size() >= 4 && cb.size() >= 4 && WithinOneEdit(ca, cb)) return FieldMatch::kNear;
  return FieldMatch::kDiffers;
}

FieldMatch CompareBirth(const std::string& a, const std::string& b) {
  if (!IsValidDate(a) || !IsValidDate(b)) return FieldMatch::kMissing;
  if (a == b) return FieldMatch::kExact;
  int same = (a.substr(0, 4) == b.substr(0, 4)) + (a.substr(5, 2) == b.substr(5, 2)) +
             (a.substr(8, 2) == b.substr(8, 2));
  return same == 2 ? FieldMatch::kNear : FieldMatch::kDiffers;
}

FieldMatch CompareSex(Sex a, Sex b) {
  if (a == Sex::kUnknown || b == Sex::kUnknown) return FieldMatch::kMissing;
  return a == b ? FieldMatch::kExact : FieldMatch::kDiffers;
}

FieldMatch CompareText(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return FieldMatch::kMissing;
  return a == b ? FieldMatch::kExact : FieldMatch::kDiffers;
}

Demographics Normalise(const Demographics& d) {
  Demographics n;
  n.kana = core::FoldKana(d.kana);
  n.birth_date = d.birth_date;
  n.sex = d.sex;
  n.phone = core::NormalizePhone(d.phone);
  n.postcode = core::NormalizePostcode(d.postcode);
  return n;
}

}  // namespace

std::string_view ToString(FieldMatch m) {
  switch (m) {
    case FieldMatch::kExact:
      return "exact";
    case FieldMatch::kNear:
      return "near";
    case FieldMatch::kDiffers:
      return "differs";
    case FieldMatch::kMissing:
      return "missing";
  }
  return "missing";
}

PatientMatcher::PatientMatcher(store::Database& db) : db_(db) {}

MatchScore PatientMatcher::Score(const Demographics& query, const Demographics& candidate) {
  Demographics q = Normalise(query), c = Normalise(candidate);
  MatchScore m;
  m.kana = CompareKana(q.kana, c.kana);
  m.birth_date = CompareBirth(q.birth_date, c.birth_date);
  m.sex = CompareSex(q.sex, c.sex);
  m.phone = CompareText(q.phone, c.phone);
  m.postcode = CompareText(q.postcode, c.postcode);
  int score = 0;
  if (m.kana == FieldMatch::kExact) score += kKanaExact;
  if (m.kana == FieldMatch::kNear) score += kKanaNear;
  if (m.birth_date == FieldMatch::kExact) score += kBirthExact;
  if (m.birth_date == FieldMatch::kNear) score += kBirthNear;
  if (m.sex == FieldMatch::kExact) score += kSexSame;
  if (m.sex == FieldMatch::kDiffers) score += kSexDiffers;
  if (m.phone == FieldMatch::kExact) score += kPhoneSame;
  if (m.postcode == FieldMatch::kExact) score += kPostcodeSame;
  m.score = std::clamp(score, 0, 100);
  m.auto_link = m.score >= kAutoLinkScore;
  return m;
}

core::Result<std::vector<MatchCandidate>> PatientMatcher::Candidates(const Demographics& query,
                                                                     int limit) const {
  Demographics q = Normalise(query);
  if (q.kana.empty() || !core::IsKatakanaOrSpace(q.kana)) {
    return core::InvalidInput("kana is required and must be written in kana");
  }
  if (!IsValidDate(q.birth_date)) {
    return core::InvalidInput("birth_date must be a date (YYYY-MM-DD)");
  }
  if (!query.phone.empty() && (q.phone.empty() || q.phone.size() > 20)) {
    return core::InvalidInput("phone must be a phone number");
  }
  if (!query.postcode.empty() && q.postcode.empty()) {
    return core::InvalidInput("postcode must have 7 digits");
  }
  limit = std::clamp(limit, 1, kMaxCandidates);
  // Every pair scoring kProposeScore or more agrees exactly on the kana, the
  // birth date, or both phone and postcode (see the weights), so this
  // indexed pre-selection loses no candidate.
  std::string sql =
      "SELECT id, regional_id, name, kana, birth_date, sex, phone, postcode FROM patients "
      "WHERE merged_into IS NULL AND (kana_folded = ? OR birth_date = ?";
  std::vector<Value> params{q.kana, q.birth_date};
  if (!q.phone.empty() && !q.postcode.empty()) {
    sql += " OR (phone = ? AND postcode = ?)";
    params.emplace_back(q.phone);
    params.emplace_back(q.postcode);
  }
  sql += ") ORDER BY id LIMIT 5000";
  auto rs = db_.Query(sql, params);
  if (!rs) return rs.error();
  std::vector<MatchCandidate> out;
  for (const auto& r : rs->rows) {
    MatchCandidate c;
    c.patient_id = r.Int(0);
    c.regional_id = r.Text(1);
    c.name = r.Text(2);
    c.kana = r.Text(3);
    c.birth_date = r.Text(4);
    c.sex = ParseSex(r.Text(5)).value_or(Sex::kUnknown);
    c.match = Score(q, {c.kana, c.birth_date, c.sex, r.Text(6), r.Text(7)});
    if (c.match.score >= kProposeScore) out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const MatchCandidate& a, const MatchCandidate& b) {
    if (a.match.score != b.match.score) return a.match.score > b.match.score;
    return a.regional_id < b.regional_id;
  });
  if (out.size() > static_cast<size_t>(limit)) out.resize(limit);
  return out;
}

}  // namespace tsunagu::registry
