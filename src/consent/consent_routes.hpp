#pragma once
// HTTP routes of the consent module (docs/api.md "Consent and MPI"): a
// patient's consents, the signed form upload/download, withdrawal, and the
// master patient index merge (which moves consents as well as links).
namespace tsunagu::http {
class Router;
}
namespace tsunagu::audit {
class AuditLog;
}
namespace tsunagu::registry {
class FacilityService;
class PatientService;
}  // namespace tsunagu::registry

namespace tsunagu::consent {

class ConsentService;

// Borrowed references; they must outlive the router.
struct ConsentDeps {
  ConsentService& consents;
  registry::PatientService& patients;
  registry::FacilityService& facilities;
  audit::AuditLog& audit;
};

void RegisterConsentRoutes(http::Router& router, ConsentDeps& deps);

}  // namespace tsunagu::consent
