#pragma once
// HTTP routes of the jahis module (docs/api.md "Dispensing records (JAHIS
// medication notebook)"):
//   POST /api/v1/patients/:rid/dispensings[?dry_run=true]
//        body: the notebook file as is (text/csv, text/plain or
//        application/octet-stream; UTF-8 or Shift_JIS), at most 2 MB.
// The handler only parses the request, calls DispensingImport (which checks
// who uploads and audits) and serialises the summary.

namespace tsunagu::http {
class Router;
}

namespace tsunagu::jahis {

class DispensingImport;

struct JahisDeps {
  const DispensingImport& import;
};

// `deps` must outlive the router.
void RegisterJahisRoutes(http::Router& router, JahisDeps& deps);

}  // namespace tsunagu::jahis
