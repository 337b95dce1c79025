// TimelineService against the real registry, consent and audit services on
// SQLite and PostgreSQL: ordering, allergies on top, consent scoping and
// withdrawal, unlinked data, lab table and series, duplicate medications.
#include "clinical/timeline_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::clinical {
namespace {

// Facilities: C the viewing clinic (patient registered there), H the
// hospital disclosing data, P a pharmacy, O an unrelated clinic.
class TimelineTest : public ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    clinic_ = AddFacility("信夫山内科クリニック");
    hospital_ = AddFacility("県北総合病院", registry::FacilityType::kHospital);
    pharmacy_ = AddFacility("さくら薬局", registry::FacilityType::kPharmacy);
    other_ = AddFacility("吾妻眼科");
    patient_ = AddPatient(clinic_, "C-001");
    ASSERT_TRUE(patients_->Link(patient_.regional_id, hospital_, "H-123").ok());
    ASSERT_TRUE(patients_->Link(patient_.regional_id, pharmacy_, "P-77").ok());
    timeline_ =
        std::make_unique<TimelineService>(*resources_, *patients_, *facilities_, *policy_, *audit_);
  }

  ReadContext Reader(int64_t facility, auth::Occupation occupation = auth::Occupation::kPhysician) {
    ReadContext r;
    r.viewer = {42, facility, occupation, auth::Role::kStaff};
    r.event.user_id = 42;
    r.event.user_name = "連携　医師";
    r.event.facility_id = facility;
    r.event.client_address = "192.0.2.1";
    return r;
  }

  Timeline MustTimeline(const ReadContext& reader, const TimelineQuery& q = {}) {
    auto t = timeline_->GetTimeline(reader, patient_.regional_id, q);
    EXPECT_TRUE(t.has_value()) << t.error().ToString();
    return t.value_or(Timeline{});
  }

  static std::vector<std::string> Displays(const std::vector<TimelineItem>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(i.display);
    return out;
  }

  std::vector<audit::AuditEvent> Events(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    auto events = audit_->Search(q);
    std::sort(events.begin(), events.end(),
              [](const auto& a, const auto& b) { return a.seq < b.seq; });
    return events;
  }

  static std::string Field(const ResourceSummary& s, const std::string& key) {
    for (const auto& [k, v] : s.fields) {
      if (k == key) return v;
    }
    return {};
  }

  // The standard record set: hospital and clinic data of the patient.
  void WriteHistory() {
    Write({SimpleRecord(hospital_, "H-123", "ALG|1", Category::kAllergy, "AllergyIntolerance",
                        "ペニシリン", "2019-04-01",
                        ",\"criticality\":\"high\",\"reaction\":[{\"manifestation\":[{\"text\":"
                        "\"蕁麻疹\"}]}]"),
           SimpleRecord(hospital_, "H-123", "PPR|1", Category::kCondition, "Condition", "2型糖尿病",
                        "2025-03-01", ",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]}"),
           LabRecord(hospital_, "H-123", "OML|1|1", "3D010", "HbA1c", 7.4, "%", 4.6, 6.2,
                     "2025-06-01T09:30:00+09:00", "H"),
           SimpleRecord(hospital_, "H-123", "ADT|1", Category::kEncounter, "Encounter", "外来受診",
                        "2025-05-01", ",\"class\":{\"code\":\"AMB\"}"),
           PrescriptionRecord(clinic_, "C-001", "OMP|1|1", "3969007F1ZZZ", "メトホルミン錠250mg",
                              "2025-06-10", "2025-07-09", 30)});
  }

  int64_t clinic_ = 0, hospital_ = 0, pharmacy_ = 0, other_ = 0;
  registry::Patient patient_;
  std::unique_ptr<TimelineService> timeline_;
};

TEST_P(TimelineTest, NewestFirstWithAllergiesOnTopAndSummaries) {
  WriteHistory();
  Consent(patient_, 0, clinic_);
  Timeline t = MustTimeline(Reader(clinic_));
  EXPECT_EQ(t.regional_id, patient_.regional_id);
  ASSERT_EQ(t.allergies.size(), 1u);
  EXPECT_EQ(t.allergies[0].display, "ペニシリン");
  EXPECT_EQ(Field(t.allergies[0].summary, "criticality"), "high");
  EXPECT_EQ(Field(t.allergies[0].summary, "reaction"), "蕁麻疹");
  EXPECT_EQ(Displays(t.items),
            (std::vector<std::string>{"メトホルミン錠250mg", "HbA1c", "外来受診", "2型糖尿病"}));
  EXPECT_EQ(t.total, 4);
  EXPECT_TRUE(t.next_cursor.empty());

  const TimelineItem& rx = t.items[0];
  EXPECT_EQ(rx.category, Category::kPrescription);
  EXPECT_EQ(rx.source_facility_name, "信夫山内科クリニック");
  EXPECT_EQ(rx.effective_end, "2025-07-09");
  ASSERT_TRUE(rx.summary.medication.has_value());
  EXPECT_EQ(rx.summary.medication->dose, "1");
  EXPECT_EQ(rx.summary.medication->unit, "錠");
  EXPECT_EQ(rx.summary.medication->frequency, "1日3回毎食後");
  EXPECT_EQ(rx.summary.medication->days, "30");
  EXPECT_EQ(rx.summary.medication->route, "内服");
  EXPECT_EQ(rx.summary.medication->yj_code, "3969007F1ZZZ");

  const TimelineItem& lab = t.items[1];
  EXPECT_EQ(lab.source_facility_name, "県北総合病院");
  ASSERT_TRUE(lab.summary.lab.has_value());
  EXPECT_DOUBLE_EQ(*lab.summary.lab->value, 7.4);
  EXPECT_EQ(lab.summary.lab->unit, "%");
  EXPECT_EQ(lab.summary.lab->range_text, "4.6-6.2");
  EXPECT_EQ(lab.summary.lab->flag, "H");
  EXPECT_TRUE(lab.summary.lab->abnormal);
  EXPECT_EQ(Field(t.items[3].summary, "clinical_status"), "active");

  // Audited with the patient and the outcome, and no clinical content.
  auto events = Events("clinical.timeline");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].patient_id, patient_.regional_id);
  EXPECT_EQ(events[0].outcome, "success");
  EXPECT_EQ(events[0].user_name, "連携　医師");
  EXPECT_EQ(events[0].reason.find("HbA1c"), std::string::npos);
  EXPECT_EQ(events[0].reason.find("メトホルミン"), std::string::npos);
}

TEST_P(TimelineTest, FiltersAndCursorPaging) {
  WriteHistory();
  Consent(patient_, 0, clinic_);
  TimelineQuery q;
  q.categories = {Category::kLabResult};
  EXPECT_EQ(Displays(MustTimeline(Reader(clinic_), q).items), (std::vector<std::string>{"HbA1c"}));

  q = {};
  q.source_facilities = {clinic_};
  EXPECT_EQ(Displays(MustTimeline(Reader(clinic_), q).items),
            (std::vector<std::string>{"メトホルミン錠250mg"}));

  q = {};
  q.from = "2025-04-01";
  q.to = "2025-06-01";
  EXPECT_EQ(Displays(MustTimeline(Reader(clinic_), q).items),
            (std::vector<std::string>{"HbA1c", "外来受診"}));

  q = {};
  q.categories = {Category::kAllergy};
  Timeline allergies = MustTimeline(Reader(clinic_), q);
  EXPECT_EQ(Displays(allergies.items), (std::vector<std::string>{"ペニシリン"}));

  q = {};
  q.limit = 3;
  Timeline first = MustTimeline(Reader(clinic_), q);
  EXPECT_EQ(first.items.size(), 3u);
  ASSERT_FALSE(first.next_cursor.empty());
  q.cursor = first.next_cursor;
  Timeline second = MustTimeline(Reader(clinic_), q);
  EXPECT_EQ(Displays(second.items), (std::vector<std::string>{"2型糖尿病"}));
  EXPECT_TRUE(second.next_cursor.empty());
  EXPECT_EQ(second.allergies.size(), 1u);  // on every page

  q = {};
  q.limit = 0;
  EXPECT_EQ(timeline_->GetTimeline(Reader(clinic_), patient_.regional_id, q).error().code(),
            core::Code::kInvalidInput);
  q.limit = 10;
  q.from = "2025/01/01";
  EXPECT_EQ(timeline_->GetTimeline(Reader(clinic_), patient_.regional_id, q).error().code(),
            core::Code::kInvalidInput);
}

TEST_P(TimelineTest, UnknownPatientIsNotFoundAndNoConsentIsForbiddenBothAudited) {
  WriteHistory();
  auto unknown = timeline_->GetTimeline(Reader(clinic_), "123456789012", {});
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);

  auto denied = timeline_->GetTimeline(Reader(other_), patient_.regional_id, {});
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code(), core::Code::kForbidden);

  auto events = Events("clinical.timeline");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, "failure");
  EXPECT_EQ(events[0].patient_id, "");
  EXPECT_EQ(events[1].outcome, "denied");
  EXPECT_EQ(events[1].patient_id, patient_.regional_id);
  EXPECT_EQ(events[1].facility_id, other_);
}

TEST_P(TimelineTest, WithoutConsentOnlyTheOwnFacilitysDataAndWithdrawalActsAtOnce) {
  WriteHistory();
  // Linked at the clinic: its own data only.
  Timeline own = MustTimeline(Reader(clinic_));
  EXPECT_EQ(Displays(own.items), (std::vector<std::string>{"メトホルミン錠250mg"}));
  EXPECT_TRUE(own.allergies.empty());

  int64_t consent_id = Consent(patient_, hospital_, clinic_);
  EXPECT_EQ(MustTimeline(Reader(clinic_)).items.size(), 4u);
  EXPECT_EQ(MustTimeline(Reader(clinic_)).allergies.size(), 1u);

  ASSERT_TRUE(consents_->Withdraw(consent_id, 1).has_value());
  Timeline after = MustTimeline(Reader(clinic_));
  EXPECT_EQ(Displays(after.items), (std::vector<std::string>{"メトホルミン錠250mg"}));
  EXPECT_TRUE(after.allergies.empty());
  EXPECT_EQ(after.total, 1);
}

TEST_P(TimelineTest, OccupationLimitsTheCategoriesInTheQuery) {
  WriteHistory();
  Consent(patient_, 0, clinic_);
  // A care manager sees conditions, prescriptions, encounters; not labs.
  Timeline t = MustTimeline(Reader(clinic_, auth::Occupation::kCareManager));
  EXPECT_EQ(Displays(t.items),
            (std::vector<std::string>{"メトホルミン錠250mg", "外来受診", "2型糖尿病"}));
  TimelineQuery q;
  q.categories = {Category::kLabResult};
  EXPECT_TRUE(MustTimeline(Reader(clinic_, auth::Occupation::kCareManager), q).items.empty());
  // A home helper sees no clinical data at all.
  EXPECT_EQ(
      timeline_
          ->GetTimeline(Reader(clinic_, auth::Occupation::kHomeHelper), patient_.regional_id, {})
          .error()
          .code(),
      core::Code::kForbidden);
}

TEST_P(TimelineTest, UnlinkedLocalIdBecomesVisibleTheMomentItIsLinked) {
  Consent(patient_, 0, clinic_);
  Write({SimpleRecord(hospital_, "H-999", "PPR|9", Category::kCondition, "Condition", "心房細動",
                      "2025-02-01")});
  EXPECT_TRUE(MustTimeline(Reader(clinic_)).items.empty());
  // Reachable by id only within the hospital while unlinked.
  ResourceQuery all;
  all.all_patients = true;
  std::string id = resources_->Search(all)->items.at(0).record.id;
  EXPECT_EQ(timeline_->GetResource(Reader(clinic_), "Condition", id).error().code(),
            core::Code::kNotFound);
  EXPECT_TRUE(timeline_->GetResource(Reader(hospital_), "Condition", id).has_value());

  ASSERT_TRUE(patients_->Link(patient_.regional_id, hospital_, "H-999").ok());
  EXPECT_EQ(Displays(MustTimeline(Reader(clinic_)).items), (std::vector<std::string>{"心房細動"}));
  EXPECT_TRUE(timeline_->GetResource(Reader(clinic_), "Condition", id).has_value());

  // The link's owner was just remembered for reads by id; unlinking hides
  // the resource from the clinic again at once.
  ASSERT_TRUE(patients_->Unlink(patient_.regional_id, hospital_, "H-999").ok());
  EXPECT_EQ(timeline_->GetResource(Reader(clinic_), "Condition", id).error().code(),
            core::Code::kNotFound);
  EXPECT_TRUE(timeline_->GetResource(Reader(hospital_), "Condition", id).has_value());
}

TEST_P(TimelineTest, ResourceReadIsConsentChecked) {
  WriteHistory();
  int64_t consent_id = Consent(patient_, hospital_, clinic_);
  ResourceQuery q;
  q.patients = {{hospital_, "H-123"}};
  q.categories = {Category::kLabResult};
  std::string id = resources_->Search(q)->items.at(0).record.id;
  auto read = timeline_->GetResource(Reader(clinic_), "Observation", id);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_NE(read->record.json.find("\"id\":\"" + id + "\""), std::string::npos);

  ASSERT_TRUE(consents_->Withdraw(consent_id, 1).has_value());
  EXPECT_EQ(timeline_->GetResource(Reader(clinic_), "Observation", id).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(timeline_->GetResource(Reader(clinic_), "Observation", "feedbeef").error().code(),
            core::Code::kNotFound);
  auto events = Events("clinical.resource");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].outcome, "success");
  EXPECT_EQ(events[0].patient_id, patient_.regional_id);
  EXPECT_EQ(events[1].outcome, "denied");
}

TEST_P(TimelineTest, LabTableAndSeriesWithAbnormalFlags) {
  Consent(patient_, 0, clinic_);
  Write({
      LabRecord(hospital_, "H-123", "L1", "3B035", "AST", 25, "U/L", 13, 30,
                "2025-04-01T09:00:00+09:00", "N"),
      LabRecord(hospital_, "H-123", "L2", "3B035", "AST", 48, "U/L", 13, 30,
                "2025-05-01T09:00:00+09:00"),  // no flag sent: derived from the range
      LabRecord(clinic_, "C-001", "L3", "3B035", "AST", 12, "U/L", 13, 30,
                "2025-06-01T09:00:00+09:00"),
      LabRecord(hospital_, "H-123", "L4", "3B045", "ALT", 50, "U/L", 10, 42,
                "2025-05-01T10:00:00+09:00", "H"),
      LabRecord(hospital_, "H-123", "L5", "3B045", "ALT", 30, "U/L", 10, 42,
                "2025-06-01T10:00:00+09:00", "N"),
  });
  auto labs = timeline_->GetLabs(Reader(clinic_), patient_.regional_id, {});
  ASSERT_TRUE(labs.has_value()) << labs.error().ToString();
  EXPECT_EQ(labs->dates, (std::vector<std::string>{"2025-06-01", "2025-05-01", "2025-04-01"}));
  ASSERT_EQ(labs->tests.size(), 2u);
  const LabTest& ast = labs->tests[0];
  EXPECT_EQ(ast.code, "3B035");
  EXPECT_EQ(ast.display, "AST");
  EXPECT_EQ(ast.unit, "U/L");
  EXPECT_EQ(ast.low, 13);
  EXPECT_EQ(ast.high, 30);
  ASSERT_EQ(ast.series.size(), 3u);  // oldest first
  EXPECT_DOUBLE_EQ(*ast.series[0].value.value, 25);
  EXPECT_FALSE(ast.series[0].value.abnormal);
  EXPECT_DOUBLE_EQ(*ast.series[1].value.value, 48);
  EXPECT_EQ(ast.series[1].value.flag, "H");
  EXPECT_TRUE(ast.series[1].value.abnormal);
  EXPECT_EQ(ast.series[2].value.flag, "L");
  EXPECT_EQ(ast.series[2].source_facility_name, "信夫山内科クリニック");
  ASSERT_EQ(ast.cells.size(), 3u);
  EXPECT_DOUBLE_EQ(*ast.cells[0]->value.value, 12);
  EXPECT_DOUBLE_EQ(*ast.cells[2]->value.value, 25);

  const LabTest& alt = labs->tests[1];
  EXPECT_EQ(alt.display, "ALT");
  ASSERT_EQ(alt.cells.size(), 3u);
  EXPECT_TRUE(alt.cells[0].has_value());
  EXPECT_TRUE(alt.cells[1]->value.abnormal);
  EXPECT_FALSE(alt.cells[2].has_value());  // no ALT on 2025-04-01

  auto one = timeline_->GetLabs(Reader(clinic_), patient_.regional_id, {"3B045", "", ""});
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->tests.size(), 1u);
  EXPECT_EQ(one->tests[0].series.size(), 2u);
  EXPECT_EQ(one->dates, (std::vector<std::string>{"2025-06-01", "2025-05-01"}));
  EXPECT_EQ(Events("clinical.labs").size(), 2u);
}

TEST_P(TimelineTest, DuplicateIngredientFromTwoFacilitiesInOverlappingPeriodsIsWarned) {
  Consent(patient_, 0, clinic_);
  Write({
      // Loxoprofen: clinic 06-01..06-14 and hospital 06-10..06-23 (another
      // product of the same ingredient) -> duplicate.
      PrescriptionRecord(clinic_, "C-001", "RX|1", "1149019F1560", "ロキソニン錠60mg", "2025-06-01",
                         "2025-06-14", 14),
      PrescriptionRecord(hospital_, "H-123", "RX|2", "1149019F1020", "ロキソプロフェンNa錠60mg",
                         "2025-06-10", "2025-06-23", 14),
      // The pharmacy filling the clinic's prescription is not a duplicate.
      PrescriptionRecord(pharmacy_, "P-77", "DS|1", "1149019F1560", "ロキソニン錠60mg",
                         "2025-06-01", "2025-06-14", 14, "MedicationDispense"),
      // Amlodipine twice at the same hospital: not a cross-facility duplicate.
      PrescriptionRecord(hospital_, "H-123", "RX|3", "2171022F1025", "アムロジピン錠5mg",
                         "2025-06-01", "2025-06-30", 30),
      PrescriptionRecord(hospital_, "H-123", "RX|4", "2171022F2021", "アムロジピンOD錠5mg",
                         "2025-06-15", "2025-07-14", 30),
      // Famotidine at two facilities, one after the other: no overlap.
      PrescriptionRecord(clinic_, "C-001", "RX|5", "2325003F1026", "ガスター錠20mg", "2025-03-01",
                         "2025-03-28", 28),
      PrescriptionRecord(hospital_, "H-123", "RX|6", "2325003F2022", "ファモチジン錠20mg",
                         "2025-03-29", "2025-04-25", 28),
  });
  auto warnings = timeline_->GetMedicationWarnings(Reader(clinic_), patient_.regional_id);
  ASSERT_TRUE(warnings.has_value()) << warnings.error().ToString();
  ASSERT_EQ(warnings->size(), 1u);
  const auto& w = (*warnings)[0];
  EXPECT_EQ(w.ingredient, "1149019");
  EXPECT_EQ(w.first.facility_name, "信夫山内科クリニック");
  EXPECT_EQ(w.first.medication, "ロキソニン錠60mg");
  EXPECT_EQ(w.first.start, "2025-06-01");
  EXPECT_EQ(w.first.end, "2025-06-14");
  EXPECT_EQ(w.second.facility_name, "県北総合病院");
  EXPECT_EQ(w.second.medication, "ロキソプロフェンNa錠60mg");
  EXPECT_EQ(w.overlap_start, "2025-06-10");
  EXPECT_EQ(w.overlap_end, "2025-06-14");
  EXPECT_NE(w.message.find("県北総合病院"), std::string::npos);
  EXPECT_NE(w.message.find("信夫山内科クリニック"), std::string::npos);

  auto events = Events("clinical.medication_warnings");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "success");
}

TEST_P(TimelineTest, DispensingConsentShowsOnlyMedicationOfItsSources) {
  WriteHistory();
  Write({PrescriptionRecord(hospital_, "H-123", "RX|7", "2171022F1025", "アムロジピン錠5mg",
                            "2025-06-01", "2025-06-30", 30)});
  Consent(patient_, hospital_, clinic_, consent::Scope::kDispensing);
  Timeline t = MustTimeline(Reader(clinic_));
  EXPECT_EQ(Displays(t.items),
            (std::vector<std::string>{"メトホルミン錠250mg", "アムロジピン錠5mg"}));
  EXPECT_TRUE(t.allergies.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, TimelineTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

// The pure rule, without storage.
MedicationCourse Course(int64_t facility, const std::string& type, const std::string& yj,
                        const std::string& start, const std::string& end) {
  MedicationCourse c;
  c.resource_id = yj + start;
  c.resource_type = type;
  c.facility_id = facility;
  c.facility_name = "F" + std::to_string(facility);
  c.medication = yj;
  c.yj_code = yj;
  c.start = start;
  c.end = end;
  return c;
}

TEST(DuplicateMedicationTest, RulesOfTheCheck) {
  using V = std::vector<MedicationCourse>;
  const std::string rx = "MedicationRequest", ds = "MedicationDispense";
  // Overlap on a single shared day counts.
  EXPECT_EQ(TimelineService::FindDuplicateMedications(
                V{Course(1, rx, "1149019F1560", "2025-01-01", "2025-01-10"),
                  Course(2, rx, "1149019C1000", "2025-01-10", "2025-01-20")})
                .size(),
            1u);
  // Different ingredient (differs within the first 7 characters).
  EXPECT_TRUE(TimelineService::FindDuplicateMedications(
                  V{Course(1, rx, "1149019F1560", "2025-01-01", "2025-01-10"),
                    Course(2, rx, "1149018F1560", "2025-01-01", "2025-01-10")})
                  .empty());
  // Same facility.
  EXPECT_TRUE(TimelineService::FindDuplicateMedications(
                  V{Course(1, rx, "1149019F1560", "2025-01-01", "2025-01-10"),
                    Course(1, rx, "1149019F1560", "2025-01-05", "2025-01-15")})
                  .empty());
  // Two pharmacies dispensing the same ingredient with no prescription seen.
  EXPECT_EQ(TimelineService::FindDuplicateMedications(
                V{Course(3, ds, "1149019F1560", "2025-01-01", "2025-01-10"),
                  Course(4, ds, "1149019F1560", "2025-01-05", "2025-01-15")})
                .size(),
            1u);
  // No YJ code (HOT only): not compared.
  EXPECT_TRUE(
      TimelineService::FindDuplicateMedications(V{Course(1, rx, "", "2025-01-01", "2025-01-10"),
                                                  Course(2, rx, "", "2025-01-01", "2025-01-10")})
          .empty());
}

}  // namespace
}  // namespace tsunagu::clinical
