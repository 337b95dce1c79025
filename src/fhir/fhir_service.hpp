#pragma once
// The read side of the FHIR R4 API (JP Core): CapabilityStatement, read by
// id, per-patient search with paging, _sort and _include, Patient read and
// search (IHE PDQm) and identifier cross-reference (IHE PIXm $ihe-pix).
// Answers are FHIR JSON text. No HTTP here: the routes parse and serialise.
//
// Access: every clinical read and search goes through clinical::
// TimelineService (consent x occupation x category, audited). Patient
// demographics follow the registry's rule (a facility sees the patients
// linked to it) and are audited here ("fhir.patient.read",
// "fhir.patient.search", "fhir.pix"). Stored resources name their patient by
// the source facility's local ID; answers add "reference": "Patient/<regional
// ID>" so that clients can follow it.
//
// Errors: NotFound (unknown or invisible resource or patient), Forbidden (no
// consent covers the viewer), InvalidInput (bad parameters), Internal.
// Thread-safety: safe to share between threads. Ownership: borrows every
// collaborator; they must outlive the service.
#include <string>
#include <string_view>
#include <vector>

#include "clinical/timeline_service.hpp"
#include "core/status.hpp"
#include "fhir/search_params.hpp"

namespace tsunagu::registry {
class PatientService;
class FacilityService;
struct Patient;
}  // namespace tsunagu::registry

namespace tsunagu::audit {
class AuditLog;
}

namespace tsunagu::fhir {

class FhirService {
 public:
  // `base_url`: the public URL of the FHIR endpoint, e.g. "https://net.example/fhir".
  FhirService(const clinical::TimelineService& timeline, const registry::PatientService& patients,
              const registry::FacilityService& facilities, const consent::AccessPolicy& policy,
              audit::AuditLog& audit, std::string base_url);

  const std::string& base_url() const { return base_url_; }
  // The CapabilityStatement (JSON), built once.
  const std::string& CapabilityStatement() const { return capability_; }

  // Type/id of a clinical type. NotFound for unknown types too.
  core::Result<std::string> Read(const clinical::ReadContext& reader, std::string_view type,
                                 const std::string& id) const;
  // A searchset Bundle of one patient's resources of `type`.
  core::Result<std::string> Search(const clinical::ReadContext& reader, const ResourceType& type,
                                   const SearchParams& params) const;

  core::Result<std::string> ReadPatient(const clinical::ReadContext& reader,
                                        const std::string& regional_id) const;
  // PDQm: name/family/given (kanji or kana, folded), birthdate, gender,
  // identifier (regional ID, a facility's local ID, or a bare value).
  core::Result<std::string> SearchPatients(const clinical::ReadContext& reader,
                                           const SearchParams& params) const;
  // PIXm: the identifiers the viewer may know of the patient with
  // `source` ("system|value"), optionally only those of `target_systems`.
  // A Parameters resource. NotFound when no visible patient has the identifier.
  core::Result<std::string> CrossReference(const clinical::ReadContext& reader,
                                           std::string_view source,
                                           const std::vector<std::string>& target_systems) const;

  // The regional patient a patient identifier (system|value) names, as the
  // registry sees it: the regional ID system, a facility's JP Core local-ID
  // system, or (no system) a regional ID or the viewer facility's local ID.
  // NotFound when it names nobody.
  core::Result<std::string> ResolvePatientIdentifier(std::string_view system,
                                                     std::string_view value,
                                                     int64_t viewer_facility) const;

 private:
  std::string PatientJson(const registry::Patient& patient, const clinical::ReadContext& reader,
                          bool with_consented_sources) const;
  core::Status Audit(const clinical::ReadContext& reader, const std::string& action,
                     const std::string& patient_id, const std::string& object,
                     const std::string& outcome, const std::string& reason) const;

  const clinical::TimelineService& timeline_;
  const registry::PatientService& patients_;
  const registry::FacilityService& facilities_;
  const consent::AccessPolicy& policy_;
  audit::AuditLog& audit_;
  std::string base_url_;
  std::string capability_;
};

// "Type?name=value&..." with the values percent-encoded (Bundle links).
std::string SearchUrl(std::string_view base, std::string_view type,
                      const std::vector<QueryParam>& params);

}  // namespace tsunagu::fhir
