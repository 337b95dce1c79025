#pragma once
// Value types of the consent module.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tsunagu::consent {

// What a consent lets others see (docs/consent.md).
enum class Scope {
  kClinicalSharing,  // "clinical_sharing" 診療情報共有: every clinical category
  kDispensing,       // "dispensing"       調剤情報閲覧: prescription and dispensing data
  kEmergencySheet,   // "emergency_sheet"  the emergency information sheet
  kCareTeam,         // "care_team"        the care team's posts (care SNS)
  kFamily,           // "family"           what the team publishes to the family
};
std::string_view ToString(Scope s);
std::optional<Scope> ParseScope(std::string_view s);

struct Consent {
  int64_t id = 0;
  int64_t patient_id = 0;  // registry patients.id (internal key)
  Scope scope = Scope::kClinicalSharing;
  int64_t source_facility_id = 0;  // 0 = any source facility
  int64_t viewer_facility_id = 0;  // 0 = any participating facility
  std::string valid_from;          // YYYY-MM-DD, inclusive
  std::string valid_to;            // YYYY-MM-DD, inclusive; "" = open-ended
  int64_t withdrawn_at = 0;        // ms UTC; 0 = not withdrawn
  int64_t withdrawn_by = 0;        // user id
  std::string form_sha256;         // scanned signed form in the blob store, or ""
  std::string form_content_type;  // detected from the bytes: application/pdf, image/jpeg, image/png
  int64_t form_size = 0;
  int64_t created_by = 0;
  int64_t created_at = 0;  // ms UTC
  std::string note;

  bool withdrawn() const { return withdrawn_at != 0; }
  // Active on `date` (YYYY-MM-DD, Japan time): within [valid_from, valid_to]
  // and not withdrawn. A withdrawal takes effect at once and for good: a
  // withdrawn consent is active on no date at all.
  bool ActiveOn(std::string_view date) const;
  // "active", "withdrawn", "expired" or "pending" (valid_from in the future).
  std::string_view StatusOn(std::string_view date) const;
};

struct NewConsent {
  int64_t patient_id = 0;
  Scope scope = Scope::kClinicalSharing;
  int64_t source_facility_id = 0;
  int64_t viewer_facility_id = 0;
  std::string valid_from;
  std::string valid_to;  // "" = open-ended
  std::string note;
};

// A stored signed form, as served for download.
struct ConsentForm {
  std::string bytes;
  std::string content_type;
  std::string file_name;  // "consent-12.pdf"
};

}  // namespace tsunagu::consent
