#pragma once
// Value types of the registry: facilities, participation applications,
// invitations, patients and their facility links.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsunagu::registry {

enum class FacilityType {
  kHospital,
  kClinic,
  kDentalClinic,
  kPharmacy,
  kVisitingNurseStation,
  kHomeCareSupportOffice,
  kCareHome,
  kLtcFacility,
  kEms,
  kMunicipality,
  kLabCenter,
};
std::string_view ToString(FacilityType t);
std::optional<FacilityType> ParseFacilityType(std::string_view s);
// Facility types that carry a medical institution code (医療機関コード).
bool RequiresInstitutionCode(FacilityType t);

struct Area {
  std::string code;
  std::string name;
};

struct Facility {
  int64_t id = 0;
  FacilityType type = FacilityType::kClinic;
  std::string code;  // 10-digit medical institution code or ""
  std::string name;
  std::string kana;
  std::string postcode;
  std::string address;
  std::string phone;
  std::string area;  // Area::code
  std::vector<std::string> departments;
  std::vector<std::string> services;
  bool require_mfa = false;
  std::string status = "active";  // active | suspended
  int64_t created_at = 0;
};

struct FacilityFilter {
  std::string q;  // name or kana (folded), substring
  std::optional<FacilityType> type;
  std::string area;
  int limit = 200;
};

struct FacilityPatch {
  std::optional<std::string> name, kana, postcode, address, phone, area, status;
  std::optional<std::vector<std::string>> departments, services;
  std::optional<bool> require_mfa;
};

struct Application {
  int64_t id = 0;
  std::string status;  // pending | approved | rejected
  Facility facility;   // as applied for (id 0 until approved)
  std::string applicant_name;
  std::string applicant_email;
  std::string applicant_phone;
  std::string reason;  // rejection reason
  int64_t facility_id = 0;
  int64_t created_at = 0;
  int64_t decided_at = 0;
};

struct Invitation {
  int64_t facility_id = 0;
  std::string facility_name;
  std::string email;
  int64_t expires_at = 0;
  bool accepted = false;
};

enum class Sex { kMale, kFemale, kOther, kUnknown };
std::string_view ToString(Sex s);
std::optional<Sex> ParseSex(std::string_view s);

struct PatientLink {
  int64_t facility_id = 0;
  std::string facility_name;
  std::string local_id;
};

struct Patient {
  int64_t id = 0;           // internal key
  std::string regional_id;  // 12 digits, random + Luhn check digit
  std::string name;
  std::string kana;
  std::string birth_date;  // YYYY-MM-DD
  Sex sex = Sex::kUnknown;
  std::string postcode;
  std::string address;
  std::string phone;
  std::vector<PatientLink> links;
  int64_t created_at = 0;
};

struct NewPatient {
  std::string name, kana, birth_date, postcode, address, phone, local_id;
  Sex sex = Sex::kUnknown;
};

struct PatientPatch {
  std::optional<std::string> name, kana, birth_date, postcode, address, phone;
  std::optional<Sex> sex;
};

struct PatientQuery {
  std::string q;  // name or kana, folded, substring
  std::string birth_date;
  std::string local_id;
  std::string regional_id;
  int limit = 50;
  int offset = 0;
};

// Who asks: the registry's visibility rule needs only this much.
struct Viewer {
  int64_t facility_id = 0;
  bool network_admin = false;
};

}  // namespace tsunagu::registry
