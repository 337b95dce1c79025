#pragma once
// Value types of the oauth module: registered system clients and the
// facility facts their registration needs.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/types.hpp"

namespace tsunagu::oauth {

// A system (machine) client: a hospital EHR, a pharmacy system. It acts for
// one facility with the clinical permissions of one occupation.
struct SystemClient {
  int64_t id = 0;
  std::string client_id;  // random, URL-safe; "iss" and "sub" of its assertions
  std::string name;
  int64_t facility_id = 0;
  auth::Occupation occupation = auth::Occupation::kPhysician;
  std::vector<std::string> scopes;  // allowed scopes, "system/*.read", ...
  std::string jwks;                 // {"keys":[public JWKs]}
  std::vector<std::string> kids;    // kid of each key, in jwks order
  int64_t created_at = 0;           // ms UTC
  int64_t created_by = 0;           // user id, 0 = command line
  bool disabled = false;
  int64_t disabled_at = 0;  // ms UTC, 0 while enabled
};

struct NewSystemClient {
  std::string name;
  int64_t facility_id = 0;
  // Unset: physician for hospitals and clinics, dentist for dental clinics,
  // pharmacist for pharmacies, visiting_nurse for visiting-nurse stations;
  // required for other facility types.
  std::optional<auth::Occupation> occupation;
  std::string scopes;      // space-separated; empty = "system/*.read"
  std::string public_key;  // JWK, JWK Set or PEM
  int64_t created_by = 0;
};

// What the registry needs to know of a facility (the registry module's
// FacilityService answers it; this module does not read its tables).
struct FacilityInfo {
  int64_t id = 0;
  std::string name;
  std::string type;  // registry::ToString(FacilityType): "hospital", "pharmacy", ...
  bool active = true;
};
// nullopt for an unknown facility id.
using FacilityLookup = std::function<std::optional<FacilityInfo>(int64_t facility_id)>;

}  // namespace tsunagu::oauth
