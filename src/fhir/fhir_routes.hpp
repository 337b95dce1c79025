#pragma once
// HTTP routes of the FHIR R4 API under /fhir (docs/fhir.md):
//   GET  /fhir/metadata                      CapabilityStatement
//   GET  /fhir/Patient?...                   PDQm
//   GET  /fhir/Patient/$ihe-pix?...          PIXm
//   GET  /fhir/Patient/:id
//   GET  /fhir/Binary/:id                    MHD document retrieval
//   GET  /fhir/:type?patient=...             search (paging, _sort, _include)
//   GET  /fhir/:type/:id                     read
//   POST /fhir, /fhir/Bundle                 transaction, batch, MHD, JP-CLINS document
//   POST /fhir/:type                         create
// Clients are system clients with an OAuth bearer token
// (oauth::MakeBearerMiddleware puts their principal into the request); the
// token's scopes also limit the types it may read and write.
// Every error is an OperationOutcome.

namespace tsunagu::http {
class Router;
}
namespace tsunagu::documents {
class DocumentService;
}

namespace tsunagu::fhir {

class FhirService;
class FhirWriter;

struct FhirDeps {
  const FhirService& service;
  const FhirWriter& writer;
  const documents::DocumentService& documents;
};

// `deps` must outlive the router.
void RegisterFhirRoutes(http::Router& router, FhirDeps& deps);

}  // namespace tsunagu::fhir
