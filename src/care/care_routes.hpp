#pragma once
// HTTP routes of the care SNS under /api/v1/care (docs/care.md). Thin
// handlers: parse, build the Actor from the session's principal, call
// CareService (which checks membership and consent and writes the audit
// trail), serialise.
namespace tsunagu::http {
class Router;
}

namespace tsunagu::care {

class CareService;

// Borrowed references; they must outlive the router.
struct CareDeps {
  CareService& care;
};

void RegisterCareRoutes(http::Router& router, CareDeps& deps);

}  // namespace tsunagu::care
