#pragma once
// The patient timeline: what a viewer may see of one regional patient's
// clinical data, as a page of items (newest first) with the allergies on top,
// lab results as a table and per-test series, and duplicate-medication
// warnings. Every read is checked by consent::AccessPolicy (applied in SQL
// through the ResourceStore) and recorded in the audit log, allowed or not.
// Audit entries name the patient and the outcome, never clinical details.
//
// Errors (all methods): NotFound for an unknown regional patient (or a
// resource the viewer cannot know of); Forbidden when no consent covers the
// viewer; InvalidInput for bad filters; Internal when storage or the audit log
// fails (nothing is returned unaudited).
// Thread-safety: safe to share between threads. Ownership: borrows every
// collaborator; they must outlive the service.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit_log.hpp"
#include "clinical/fhir_summary.hpp"
#include "clinical/resource.hpp"
#include "clinical/resource_store.hpp"
#include "consent/access_policy.hpp"
#include "core/status.hpp"

namespace tsunagu::registry {
class PatientService;
class FacilityService;
}  // namespace tsunagu::registry

namespace tsunagu::clinical {

// Who reads: the viewer for the access check, and the audit event prepared
// for the request (audit::EventFromRequest); the service fills in action,
// patient_id, object, outcome and reason.
struct ReadContext {
  consent::Viewer viewer;
  audit::AuditEvent event;
};

// Appends the reader's audit event (reader.event, completed from the viewer)
// with these fields. Internal when the log fails: clinical data is never
// shown without its audit entry. Used by every service that reads or writes
// clinical data for a ReadContext.
core::Status RecordAccess(audit::AuditLog& log, const ReadContext& reader,
                          const std::string& action, const std::string& patient_id,
                          const std::string& object, const std::string& outcome,
                          const std::string& reason);

struct TimelineQuery {
  std::vector<Category> categories;        // any of; empty = all visible
  std::vector<int64_t> source_facilities;  // any of; empty = all visible
  std::string from, to;                    // YYYY-MM-DD, inclusive; "" = open
  int limit = 50;                          // 1..200
  std::string cursor;                      // Timeline::next_cursor
};

struct TimelineItem {
  std::string id;
  std::string resource_type;
  Category category = Category::kPatientInfo;
  std::string effective, effective_end;
  std::string display;
  std::string code_system, code;
  int64_t source_facility_id = 0;
  std::string source_facility_name;
  ResourceSummary summary;
};

struct Timeline {
  std::string regional_id;
  std::vector<TimelineItem> allergies;  // every visible allergy, newest first
  std::vector<TimelineItem> items;      // the page, newest first (allergies only if asked for)
  std::string next_cursor;              // "" on the last page
  int64_t total = 0;                    // items matching the filters
};

struct LabQuery {
  std::string code;  // one test ("" = all)
  std::string from, to;
};

struct LabPoint {
  std::string id;  // Observation id
  std::string effective;
  LabValue value;
  int64_t source_facility_id = 0;
  std::string source_facility_name;
};

struct LabTest {
  std::string code_system, code, display, unit;
  std::string range_text;           // the latest result's reference range
  std::optional<double> low, high;  // likewise
  std::vector<LabPoint> series;     // oldest first (the trend chart)
  // One cell per LabResults::dates entry: the last result of that day.
  std::vector<std::optional<LabPoint>> cells;
};

struct LabResults {
  std::vector<std::string> dates;  // YYYY-MM-DD, newest first
  std::vector<LabTest> tests;      // by code
};

struct MedicationCourse {
  std::string resource_id, resource_type;  // MedicationRequest / MedicationDispense
  int64_t facility_id = 0;
  std::string facility_name;
  std::string medication;  // name as recorded
  std::string yj_code;
  std::string start, end;  // YYYY-MM-DD, inclusive
};

// The same ingredient from two facilities in overlapping periods.
struct DuplicateMedicationWarning {
  std::string ingredient;  // first 7 characters of the YJ code
  MedicationCourse first, second;
  std::string overlap_start, overlap_end;
  std::string message;  // one line, Japanese, for display
};

class TimelineService {
 public:
  static constexpr int kMaxPage = 200;

  TimelineService(const ResourceStore& resources, const registry::PatientService& patients,
                  const registry::FacilityService& facilities, const consent::AccessPolicy& policy,
                  audit::AuditLog& audit);

  // Audit action "clinical.timeline".
  core::Result<Timeline> GetTimeline(const ReadContext& reader, const std::string& regional_id,
                                     const TimelineQuery& query) const;
  // Audit action "clinical.labs".
  core::Result<LabResults> GetLabs(const ReadContext& reader, const std::string& regional_id,
                                   const LabQuery& query) const;
  // Audit action "clinical.medication_warnings".
  core::Result<std::vector<DuplicateMedicationWarning>> GetMedicationWarnings(
      const ReadContext& reader, const std::string& regional_id) const;
  // One resource by FHIR type and id, with the same access check (audit
  // action "clinical.resource"). Data of a local patient ID that no regional
  // patient links to is visible only within its own facility.
  // `owner_regional_id`, when given, receives the regional ID of the patient
  // the resource belongs to ("" for unlinked data).
  core::Result<StoredResource> GetResource(const ReadContext& reader,
                                           const std::string& resource_type, const std::string& id,
                                           std::string* owner_regional_id = nullptr) const;

  // A search within one patient's visible data (the FHIR API): the query's
  // patients and scope are set here from the access check; its other filters
  // apply as given. `references`, when set, names for each match the
  // resources it refers to (FHIR _include); those that exist, belong to the
  // same patient and are visible are returned in `included`. Audited under
  // `action` with the number of matches.
  struct SearchResult {
    ResourcePage page;
    std::vector<StoredResource> included;
  };
  struct Reference {
    std::string resource_type;
    ResourceStore::SourceRef ref;
  };
  using ReferenceFn = std::function<std::vector<Reference>(const StoredResource&)>;
  core::Result<SearchResult> SearchResources(const ReadContext& reader,
                                             const std::string& regional_id, ResourceQuery query,
                                             const std::string& action,
                                             const ReferenceFn& references = nullptr) const;

  // Pure: the warnings among these medication records (any order). Exposed
  // for tests and batch checks.
  static std::vector<DuplicateMedicationWarning> FindDuplicateMedications(
      const std::vector<MedicationCourse>& courses);

 private:
  struct Access;
  class FacilityNames;
  core::Result<Access> Authorize(const ReadContext& reader, const std::string& regional_id,
                                 const std::string& action) const;
  core::Status Record(const ReadContext& reader, const std::string& action,
                      const std::string& patient_id, const std::string& object,
                      const std::string& outcome, const std::string& reason) const;
  static TimelineItem ToItem(StoredResource&& resource, FacilityNames& names);

  const ResourceStore& resources_;
  const registry::PatientService& patients_;
  const registry::FacilityService& facilities_;
  const consent::AccessPolicy& policy_;
  audit::AuditLog& audit_;
};

}  // namespace tsunagu::clinical
