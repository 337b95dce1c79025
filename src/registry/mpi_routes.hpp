#pragma once
// HTTP routes of the master patient index (docs/api.md "Consent and MPI"):
// candidate search by demographics, linking and unlinking a facility's local
// patient ID. Merging lives with the consent routes (it moves consents too).
namespace tsunagu::http {
class Router;
}
namespace tsunagu::audit {
class AuditLog;
}

namespace tsunagu::registry {

class FacilityService;
class PatientService;
class PatientMatcher;

// Borrowed references; they must outlive the router.
struct MpiDeps {
  PatientService& patients;
  PatientMatcher& matcher;
  FacilityService& facilities;
  audit::AuditLog& audit;
};

void RegisterMpiRoutes(http::Router& router, MpiDeps& deps);

}  // namespace tsunagu::registry
