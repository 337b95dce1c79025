#pragma once
// Master patient index: finds the regional patients that may be the person in
// front of a facility's clerk, from demographics, with a score 0..100.
//
// Weights (docs/consent.md "Master patient index"):
//   kana (folded)  exact 40, near 20 (same after loosening small kana, long
//                  vowels, ヂ/ヅ/ヲ; or one character typed differently)
//   birth date     exact 30, near 10 (one of year, month, day differs)
//   sex            same 15 (both known), different -20, unknown 0
//   phone          same 10 (normalised digits, both present)
//   postcode       same 10 (7 digits, both present)
// The sum is clamped to 0..100. The weights are chosen so that a score of
// kAutoLinkScore (95) or more is reached only by exact kana + exact birth
// date + same sex + same phone or postcode; 60..94 is proposed to the user;
// below 60 is not shown at all.
// Reads the registry's patients table (merged patients excluded).
// Thread-safe (stateless over the Database).
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "registry/types.hpp"
#include "store/database.hpp"

namespace tsunagu::registry {

// What is known of the person to find. Normalised by the matcher itself
// (kana folded, phone digits only, postcode 7 digits).
struct Demographics {
  std::string kana;
  std::string birth_date;  // YYYY-MM-DD
  Sex sex = Sex::kUnknown;
  std::string phone;
  std::string postcode;
};

// How one field compared.
enum class FieldMatch { kExact, kNear, kDiffers, kMissing };
std::string_view ToString(FieldMatch m);  // "exact", "near", "differs", "missing"

struct MatchScore {
  int score = 0;  // 0..100
  FieldMatch kana = FieldMatch::kMissing;
  FieldMatch birth_date = FieldMatch::kMissing;
  FieldMatch sex = FieldMatch::kMissing;
  FieldMatch phone = FieldMatch::kMissing;
  FieldMatch postcode = FieldMatch::kMissing;
  bool auto_link = false;  // score >= kAutoLinkScore
};

struct MatchCandidate {
  int64_t patient_id = 0;
  std::string regional_id;
  std::string name;
  std::string kana;
  std::string birth_date;
  Sex sex = Sex::kUnknown;
  MatchScore match;
};

class PatientMatcher {
 public:
  static constexpr int kAutoLinkScore = 95;
  static constexpr int kProposeScore = 60;
  static constexpr int kKanaExact = 40, kKanaNear = 20;
  static constexpr int kBirthExact = 30, kBirthNear = 10;
  static constexpr int kSexSame = 15, kSexDiffers = -20;
  static constexpr int kPhoneSame = 10, kPostcodeSame = 10;
  static constexpr int kMaxCandidates = 20;

  explicit PatientMatcher(store::Database& db);

  // Compares two sets of demographics (either side may be unnormalised).
  static MatchScore Score(const Demographics& query, const Demographics& candidate);

  // Candidates scoring kProposeScore or more, best first (ties: regional ID),
  // at most `limit` (1..kMaxCandidates). InvalidInput unless the query has a
  // kana name (in kana) and a valid birth date, or for a malformed phone or
  // postcode; Internal on storage failure.
  core::Result<std::vector<MatchCandidate>> Candidates(const Demographics& query,
                                                       int limit = kMaxCandidates) const;

 private:
  store::Database& db_;
};

}  // namespace tsunagu::registry
