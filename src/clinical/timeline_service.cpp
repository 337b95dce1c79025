#include "clinical/timeline_service.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "registry/facility_service.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::clinical {

namespace {

// Lab tables and warnings read at most this many resources of a patient.
constexpr int kMaxScan = 5000;

// The registry's own visibility rule is not the clinical one: the clinical
// rule is the AccessPolicy, so the patient is resolved without it.
constexpr registry::Viewer kResolver{0, true};

std::string DatePart(const std::string& effective) { return effective.substr(0, 10); }

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// date + n days (date is YYYY-MM-DD).
std::string AddDays(const std::string& date, int64_t n) {
  int64_t y = std::stoll(date.substr(0, 4));
  auto m = static_cast<unsigned>(std::stoi(date.substr(5, 2)));
  auto d = static_cast<unsigned>(std::stoi(date.substr(8, 2)));
  return core::DateFromDays(core::DaysFromCivil(y, m, d) + n);
}

// The last day of a medication record: effective_end, else effective plus
// the supply days, else the day itself.
std::string CourseEnd(const std::string& start, const std::string& effective_end,
                      const std::string& days) {
  if (IsDate(DatePart(effective_end))) return std::max(start, DatePart(effective_end));
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(days.data(), days.data() + days.size(), n);
  if (ec == std::errc() && ptr == days.data() + days.size() && n > 0 && n < 3650) {
    return AddDays(start, n - 1);
  }
  return start;
}

std::string Ingredient(const std::string& yj_code) {
  return yj_code.size() >= 7 ? yj_code.substr(0, 7) : std::string();
}

std::string Period(const MedicationCourse& c) {
  return c.start == c.end ? c.start : c.start + "〜" + c.end;
}

}  // namespace

// Facility names, looked up once per request.
class TimelineService::FacilityNames {
 public:
  explicit FacilityNames(const registry::FacilityService& facilities) : facilities_(facilities) {}
  const std::string& operator()(int64_t id) {
    auto it = names_.find(id);
    if (it == names_.end()) it = names_.emplace(id, facilities_.NameOf(id)).first;
    return it->second;
  }

 private:
  const registry::FacilityService& facilities_;
  std::map<int64_t, std::string> names_;
};

struct TimelineService::Access {
  registry::Patient patient;
  std::vector<LocalPatient> locals;
  AccessScope scope;
};

TimelineService::TimelineService(const ResourceStore& resources,
                                 const registry::PatientService& patients,
                                 const registry::FacilityService& facilities,
                                 const consent::AccessPolicy& policy, audit::AuditLog& audit)
    : resources_(resources),
      patients_(patients),
      facilities_(facilities),
      policy_(policy),
      audit_(audit) {}

core::Status RecordAccess(audit::AuditLog& log, const ReadContext& reader,
                          const std::string& action, const std::string& patient_id,
                          const std::string& object, const std::string& outcome,
                          const std::string& reason) {
  audit::AuditEvent e = reader.event;
  if (e.user_id == 0) e.user_id = reader.viewer.user_id;
  if (e.facility_id == 0) e.facility_id = reader.viewer.facility_id;
  if (e.occupation.empty()) e.occupation = std::string(auth::ToString(reader.viewer.occupation));
  e.action = action;
  e.patient_id = patient_id;
  e.object = object;
  e.outcome = outcome;
  e.reason = reason;
  auto appended = log.Append(std::move(e));
  if (!appended) {
    // Clinical data is never shown without its audit entry.
    return core::Internal("the access could not be recorded", appended.error().ToString());
  }
  return core::Status::Ok();
}

core::Status TimelineService::Record(const ReadContext& reader, const std::string& action,
                                     const std::string& patient_id, const std::string& object,
                                     const std::string& outcome, const std::string& reason) const {
  return RecordAccess(audit_, reader, action, patient_id, object, outcome, reason);
}

core::Result<TimelineService::Access> TimelineService::Authorize(const ReadContext& reader,
                                                                 const std::string& regional_id,
                                                                 const std::string& action) const {
  auto patient = patients_.Get(regional_id, kResolver);
  if (!patient) {
    if (patient.error().code() != core::Code::kNotFound) return patient.error();
    TSUNAGU_RETURN_IF_ERROR(Record(reader, action, "", "patient", "failure", "unknown patient"));
    return core::NotFound("patient not found");
  }
  auto grant = policy_.Evaluate(reader.viewer, patient->id);
  if (!grant) {
    TSUNAGU_RETURN_IF_ERROR(
        Record(reader, action, regional_id, "patient", "denied", grant.error().message()));
    if (grant.error().code() == core::Code::kForbidden) return grant.error();
    return core::Forbidden("no consent covers this patient for you");
  }
  Access access;
  access.patient = std::move(*patient);
  for (const auto& link : access.patient.links) {
    access.locals.push_back({link.facility_id, link.local_id});
  }
  access.scope = AccessScope::FromGrant(*grant);
  return access;
}

TimelineItem TimelineService::ToItem(StoredResource&& resource, FacilityNames& names) {
  ResourceRecord& r = resource.record;
  TimelineItem item;
  item.summary = resource.summary ? std::move(*resource.summary) : Summarize(r);
  item.id = std::move(r.id);
  item.resource_type = std::move(r.resource_type);
  item.category = r.category;
  item.effective = std::move(r.effective);
  item.effective_end = std::move(r.effective_end);
  item.display = std::move(r.display);
  item.code_system = std::move(r.code_system);
  item.code = std::move(r.code);
  item.source_facility_id = r.source_facility_id;
  item.source_facility_name = names(r.source_facility_id);
  return item;
}

core::Result<Timeline> TimelineService::GetTimeline(const ReadContext& reader,
                                                    const std::string& regional_id,
                                                    const TimelineQuery& query) const {
  constexpr const char* kAction = "clinical.timeline";
  if (query.limit < 1 || query.limit > kMaxPage) {
    return core::InvalidInput("limit must be between 1 and " + std::to_string(kMaxPage));
  }
  TSUNAGU_ASSIGN_OR_RETURN(Access access, Authorize(reader, regional_id, kAction));
  FacilityNames names(facilities_);
  Timeline timeline;
  timeline.regional_id = access.patient.regional_id;

  ResourceQuery allergies;
  allergies.patients = access.locals;
  allergies.scope = access.scope;
  allergies.categories = {Category::kAllergy};
  allergies.limit = ResourceStore::kMaxLimit;
  allergies.summaries = true;

  ResourceQuery page;
  page.patients = access.locals;
  page.scope = access.scope;
  page.categories = query.categories;
  if (page.categories.empty()) {
    // Allergies are on top already; source demographics are not events.
    for (Category c : access.scope.Categories()) {
      if (c != Category::kAllergy && c != Category::kPatientInfo) page.categories.push_back(c);
    }
  }
  page.source_facilities = query.source_facilities;
  page.from = query.from;
  page.to = query.to;
  page.limit = query.limit;
  page.cursor = query.cursor;
  page.with_total = true;
  page.summaries = true;
  // Both read together; no category left (an empty list would mean all)
  // leaves the page empty.
  const bool with_page = !page.categories.empty();
  const ResourceQuery queries[] = {std::move(allergies), std::move(page)};
  TSUNAGU_ASSIGN_OR_RETURN(auto found, resources_.SearchAll({queries, with_page ? 2u : 1u}));
  for (auto& r : found[0].items) timeline.allergies.push_back(ToItem(std::move(r), names));
  if (with_page) {
    timeline.items.reserve(found[1].items.size());
    for (auto& r : found[1].items) timeline.items.push_back(ToItem(std::move(r), names));
    timeline.next_cursor = found[1].next_cursor;
    timeline.total = found[1].total.value_or(0);
  }
  TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, regional_id, "patient", "success",
                                 "items=" + std::to_string(timeline.items.size())));
  return timeline;
}

core::Result<LabResults> TimelineService::GetLabs(const ReadContext& reader,
                                                  const std::string& regional_id,
                                                  const LabQuery& query) const {
  constexpr const char* kAction = "clinical.labs";
  TSUNAGU_ASSIGN_OR_RETURN(Access access, Authorize(reader, regional_id, kAction));
  FacilityNames names(facilities_);

  ResourceQuery q;
  q.patients = access.locals;
  q.scope = access.scope;
  q.categories = {Category::kLabResult};
  q.resource_types = {"Observation"};
  q.code = query.code;
  q.from = query.from;
  q.to = query.to;
  q.limit = ResourceStore::kMaxLimit;
  q.summaries = true;

  // Grouped by test; rows arrive newest first.
  std::map<std::pair<std::string, std::string>, LabTest> tests;
  std::set<std::string, std::greater<>> dates;
  int scanned = 0;
  while (scanned < kMaxScan) {
    TSUNAGU_ASSIGN_OR_RETURN(ResourcePage page, resources_.Search(q));
    scanned += static_cast<int>(page.items.size());
    for (auto& stored : page.items) {
      const ResourceRecord& r = stored.record;
      ResourceSummary s = stored.summary ? std::move(*stored.summary) : Summarize(r);
      if (!s.lab) continue;
      std::pair<std::string, std::string> key{r.code_system, r.code.empty() ? r.display : r.code};
      LabTest& test = tests[key];
      if (test.series.empty()) {  // the newest result names the test
        test.code_system = r.code_system;
        test.code = r.code;
        test.display = r.display;
        test.unit = s.lab->unit;
        test.range_text = s.lab->range_text;
        test.low = s.lab->low;
        test.high = s.lab->high;
      }
      test.series.push_back({r.id, r.effective, std::move(*s.lab), r.source_facility_id,
                             names(r.source_facility_id)});
      dates.insert(DatePart(r.effective));
    }
    if (page.next_cursor.empty()) break;
    q.cursor = page.next_cursor;
  }

  LabResults out;
  out.dates.assign(dates.begin(), dates.end());
  for (auto& [key, test] : tests) {
    test.cells.assign(out.dates.size(), std::nullopt);
    for (const LabPoint& p : test.series) {  // newest first: keep the day's last result
      auto at = std::find(out.dates.begin(), out.dates.end(), DatePart(p.effective));
      auto& cell = test.cells[static_cast<size_t>(at - out.dates.begin())];
      if (!cell) cell = p;
    }
    std::reverse(test.series.begin(), test.series.end());
    out.tests.push_back(std::move(test));
  }
  TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, regional_id, "patient", "success",
                                 "tests=" + std::to_string(out.tests.size())));
  return out;
}

std::vector<DuplicateMedicationWarning> TimelineService::FindDuplicateMedications(
    const std::vector<MedicationCourse>& courses) {
  // A dispensing that falls within a prescription of the same ingredient is
  // that prescription being filled (at a pharmacy or in-house), not a course
  // of its own: only prescriptions, and dispensings no prescription explains,
  // are compared.
  std::vector<const MedicationCourse*> compared;
  for (const auto& c : courses) {
    if (Ingredient(c.yj_code).empty()) continue;
    if (c.resource_type == "MedicationDispense") {
      bool explained = std::any_of(courses.begin(), courses.end(), [&](const MedicationCourse& p) {
        return p.resource_type != "MedicationDispense" &&
               Ingredient(p.yj_code) == Ingredient(c.yj_code) && p.start <= c.start &&
               c.start <= p.end;
      });
      if (explained) continue;
    }
    compared.push_back(&c);
  }
  std::stable_sort(compared.begin(), compared.end(),
                   [](const MedicationCourse* a, const MedicationCourse* b) {
                     return std::tie(a->start, a->facility_id, a->resource_id) <
                            std::tie(b->start, b->facility_id, b->resource_id);
                   });
  std::vector<DuplicateMedicationWarning> warnings;
  for (size_t i = 0; i < compared.size(); ++i) {
    for (size_t j = i + 1; j < compared.size(); ++j) {
      const MedicationCourse& a = *compared[i];
      const MedicationCourse& b = *compared[j];
      if (a.facility_id == b.facility_id) continue;
      if (Ingredient(a.yj_code) != Ingredient(b.yj_code)) continue;
      if (b.start > a.end || a.start > b.end) continue;
      DuplicateMedicationWarning w;
      w.ingredient = Ingredient(a.yj_code);
      w.first = a;
      w.second = b;
      w.overlap_start = std::max(a.start, b.start);
      w.overlap_end = std::min(a.end, b.end);
      w.message = "同一成分の薬が複数の施設から重複しています: " + a.facility_name + "「" +
                  a.medication + "」(" + Period(a) + ") と " + b.facility_name + "「" +
                  b.medication + "」(" + Period(b) + ")";
      warnings.push_back(std::move(w));
    }
  }
  // Most recent overlaps first.
  std::stable_sort(warnings.begin(), warnings.end(),
                   [](const DuplicateMedicationWarning& x, const DuplicateMedicationWarning& y) {
                     return x.overlap_start > y.overlap_start;
                   });
  return warnings;
}

core::Result<std::vector<DuplicateMedicationWarning>> TimelineService::GetMedicationWarnings(
    const ReadContext& reader, const std::string& regional_id) const {
  constexpr const char* kAction = "clinical.medication_warnings";
  TSUNAGU_ASSIGN_OR_RETURN(Access access, Authorize(reader, regional_id, kAction));
  FacilityNames names(facilities_);
  ResourceQuery q;
  q.patients = access.locals;
  q.scope = access.scope;
  q.categories = {Category::kPrescription, Category::kDispensing};
  q.resource_types = {"MedicationRequest", "MedicationDispense"};
  q.limit = ResourceStore::kMaxLimit;
  q.summaries = true;
  std::vector<MedicationCourse> courses;
  int scanned = 0;
  while (scanned < kMaxScan) {
    TSUNAGU_ASSIGN_OR_RETURN(ResourcePage page, resources_.Search(q));
    scanned += static_cast<int>(page.items.size());
    for (auto& stored : page.items) {
      const ResourceRecord& r = stored.record;
      std::string start = DatePart(r.effective);
      if (!IsDate(start)) continue;
      ResourceSummary s = stored.summary ? std::move(*stored.summary) : Summarize(r);
      if (!s.medication || Ingredient(s.medication->yj_code).empty()) continue;
      MedicationCourse c;
      c.resource_id = r.id;
      c.resource_type = r.resource_type;
      c.facility_id = r.source_facility_id;
      c.facility_name = names(r.source_facility_id);
      c.medication = s.medication->name.empty() ? r.display : s.medication->name;
      c.yj_code = s.medication->yj_code;
      c.start = start;
      c.end = CourseEnd(start, r.effective_end, s.medication->days);
      courses.push_back(std::move(c));
    }
    if (page.next_cursor.empty()) break;
    q.cursor = page.next_cursor;
  }
  auto warnings = FindDuplicateMedications(courses);
  TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, regional_id, "patient", "success",
                                 "warnings=" + std::to_string(warnings.size())));
  return warnings;
}

core::Result<StoredResource> TimelineService::GetResource(const ReadContext& reader,
                                                          const std::string& resource_type,
                                                          const std::string& id,
                                                          std::string* owner_regional_id) const {
  constexpr const char* kAction = "clinical.resource";
  const std::string object = "resource:" + resource_type + "/" + id;
  auto stored = resources_.Get(resource_type, id);
  if (!stored) {
    if (stored.error().code() != core::Code::kNotFound) return stored.error();
    TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, "", object, "failure", "unknown resource"));
    return stored.error();
  }
  const ResourceRecord& r = stored->record;

  // The regional patient this resource belongs to, through the link of its
  // source facility's local ID.
  auto owner = patients_.FindByLink(r.source_facility_id, r.local_patient_id);
  if (!owner && owner.error().code() != core::Code::kNotFound) return owner.error();
  if (!owner) {
    // Unlinked data: its own facility only.
    if (reader.viewer.facility_id == r.source_facility_id &&
        consent::AccessPolicy::OccupationMay(reader.viewer.occupation, r.category)) {
      TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, "", object, "success", "unlinked"));
      return stored;
    }
    TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, "", object, "denied", "not linked"));
    return core::NotFound("resource not found");
  }
  auto grant = policy_.Evaluate(reader.viewer, owner->patient_id);
  if (!grant || !grant->Allows(r.source_facility_id, r.category)) {
    TSUNAGU_RETURN_IF_ERROR(
        Record(reader, kAction, owner->regional_id, object, "denied", "not covered by consent"));
    return core::Forbidden("no consent covers this resource for you");
  }
  TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, owner->regional_id, object, "success", ""));
  if (owner_regional_id) *owner_regional_id = owner->regional_id;
  return stored;
}

core::Result<TimelineService::SearchResult> TimelineService::SearchResources(
    const ReadContext& reader, const std::string& regional_id, ResourceQuery query,
    const std::string& action, const ReferenceFn& references) const {
  TSUNAGU_ASSIGN_OR_RETURN(Access access, Authorize(reader, regional_id, action));
  query.patients = access.locals;
  query.all_patients = false;
  query.scope = access.scope;
  SearchResult result;
  TSUNAGU_ASSIGN_OR_RETURN(result.page, resources_.Search(query));
  if (references) {
    std::map<std::string, std::vector<ResourceStore::SourceRef>> wanted;
    for (const auto& match : result.page.items) {
      for (auto& ref : references(match)) {
        wanted[ref.resource_type].push_back(std::move(ref.ref));
      }
    }
    std::set<std::string> seen;
    for (const auto& [type, refs] : wanted) {
      TSUNAGU_ASSIGN_OR_RETURN(auto found, resources_.FindBySourceKeys(type, refs));
      for (auto& f : found) {
        const ResourceRecord& r = f.record;
        const bool same_patient =
            std::any_of(access.locals.begin(), access.locals.end(), [&](const LocalPatient& l) {
              return l.facility_id == r.source_facility_id && l.local_id == r.local_patient_id;
            });
        if (!same_patient || !access.scope.Allows(r.source_facility_id, r.category)) continue;
        if (!seen.insert(r.resource_type + "/" + r.id).second) continue;
        result.included.push_back(std::move(f));
      }
    }
  }
  TSUNAGU_RETURN_IF_ERROR(Record(reader, action, regional_id, "patient", "success",
                                 "matches=" + std::to_string(result.page.items.size())));
  return result;
}

}  // namespace tsunagu::clinical
