#pragma once
// HTTP routes of the documents module (docs/api.md "Clinical documents"):
//   POST /api/v1/patients/:rid/documents        upload (raw body, metadata in the query)
//   GET  /api/v1/patients/:rid/documents        the documents the caller may see
//   GET  /api/v1/documents/:binary_id/content   the bytes, for viewing in the browser
// Handlers only parse, call DocumentService (which checks consent and
// audits) and serialise.

namespace tsunagu::http {
class Router;
}
namespace tsunagu::registry {
class FacilityService;
}

namespace tsunagu::documents {

class DocumentService;

struct DocumentDeps {
  DocumentService& documents;
  const registry::FacilityService& facilities;
};

// `deps` must outlive the router.
void RegisterDocumentRoutes(http::Router& router, DocumentDeps& deps);

}  // namespace tsunagu::documents
