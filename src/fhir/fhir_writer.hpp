#pragma once
// The write side of the FHIR API:
//  - POST /fhir with a "transaction" or "batch" Bundle of clinical resources
//    (Condition, AllergyIntolerance, Observation, MedicationRequest, ...);
//  - POST /fhir with an IHE MHD "provide document bundle" (a transaction with
//    a SubmissionSet List, DocumentReference and Binary entries);
//  - POST /fhir (or /fhir/Bundle) with a JP-CLINS document Bundle (referral
//    letter, discharge summary, patient summary): stored as a document, and
//    its Condition, AllergyIntolerance, Observation, MedicationRequest ...
//    entries join the patient's timeline;
//  - POST /fhir/<Type> with one resource.
//
// The writer's facility is the source of everything written. Resources name
// their patient by that facility's JP Core local-ID identifier, by the
// regional ID (Patient/<regional ID> or the regional identifier; the
// facility must have the patient linked), or by a Patient entry of the Bundle
// carrying one of those identifiers. Stored resources name the local patient,
// as SS-MIX2 data does, so data of a not-yet-linked local ID stays invisible
// outside the facility until the master patient index links it.
//
// Idempotent: a resource's first identifier (system|value), a conditional
// update's identifier, or its content decides its key, so re-posting the same
// Bundle changes nothing. A transaction is all or nothing: any invalid entry
// answers 422 with an OperationOutcome naming each bad element, and nothing is
// stored. A batch stores the valid entries and reports the bad ones.
// Every write is audited ("fhir.write"), without clinical details.
//
// Thread-safety: safe to share between threads. Ownership: borrows every
// collaborator; they must outlive the writer.
#include <functional>
#include <string>
#include <string_view>

#include "clinical/timeline_service.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"

namespace tsunagu::registry {
class PatientService;
class FacilityService;
}  // namespace tsunagu::registry
namespace tsunagu::documents {
class DocumentService;
}
namespace tsunagu::audit {
class AuditLog;
}

namespace tsunagu::fhir {

// An HTTP answer of the FHIR API: status and FHIR JSON body.
struct FhirAnswer {
  int status = 200;
  std::string json;
  std::string location;  // Location header, or ""
};

class FhirWriter {
 public:
  // Bundles hold at most this many entries.
  static constexpr size_t kMaxEntries = 5000;
  // May the writer create or update resources of this type (OAuth scopes of
  // a system client; always true for a logged-in user)?
  using TypePermission = std::function<bool(std::string_view resource_type)>;

  FhirWriter(clinical::ResourceStore& resources, const registry::PatientService& patients,
             const registry::FacilityService& facilities, documents::DocumentService& documents,
             audit::AuditLog& audit, const core::Clock& clock);

  // POST /fhir (and /fhir/Bundle). Errors (as Status): InvalidInput for a
  // body that is not a Bundle (400), Forbidden for a writer without a
  // facility or permission, Internal. Entry-level problems are answered as
  // 422 (transaction) or per entry (batch) inside FhirAnswer.
  core::Result<FhirAnswer> PostBundle(const clinical::ReadContext& writer, std::string_view body,
                                      const TypePermission& may_write) const;
  // POST /fhir/<Type>: one resource; 201 with Location, 200 when unchanged.
  core::Result<FhirAnswer> Create(const clinical::ReadContext& writer, std::string_view type,
                                  std::string_view body, const TypePermission& may_write) const;

 private:
  struct Impl;
  clinical::ResourceStore& resources_;
  const registry::PatientService& patients_;
  const registry::FacilityService& facilities_;
  documents::DocumentService& documents_;
  audit::AuditLog& audit_;
  const core::Clock& clock_;
};

}  // namespace tsunagu::fhir
