#pragma once
// HTTP routes of the clinical module (docs/api.md "Clinical timeline"):
//   GET /api/v1/patients/:rid/timeline
//   GET /api/v1/patients/:rid/labs
//   GET /api/v1/patients/:rid/medication-warnings
//   GET /api/v1/resources/:type/:id
// Handlers only parse, call TimelineService (which checks consent and
// audits) and serialise.

namespace tsunagu::http {
class Router;
}

namespace tsunagu::clinical {

class TimelineService;

struct ClinicalDeps {
  const TimelineService& timeline;
};

// `deps` must outlive the router.
void RegisterClinicalRoutes(http::Router& router, ClinicalDeps& deps);

}  // namespace tsunagu::clinical
