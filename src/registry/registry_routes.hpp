#pragma once
// HTTP routes of the registry (docs/api.md "Registry").
#include <string>

namespace tsunagu::http {
class Router;
}
namespace tsunagu::auth {
class AccountService;
}
namespace tsunagu::audit {
class AuditLog;
}
namespace tsunagu::mail {
class Mailer;
}

namespace tsunagu::registry {

class FacilityService;
class PatientService;

struct RegistryDeps {
  FacilityService& facilities;
  PatientService& patients;
  auth::AccountService& accounts;
  audit::AuditLog& audit;
  mail::Mailer& mailer;
  std::string public_url;  // "https://tsunagu.example.jp" (for invitation links)
};

void RegisterRegistryRoutes(http::Router& router, RegistryDeps& deps);

}  // namespace tsunagu::registry
