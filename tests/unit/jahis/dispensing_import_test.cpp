// DispensingImport against the real registry, consent, audit and clinical
// services on SQLite and PostgreSQL: import and idempotent re-import, the
// person check, who may upload, the duplicate-medication warning with a
// hospital prescription, and consent-gated visibility for other facilities.
#include "jahis/dispensing_import.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::jahis {
namespace {

using clinical::Category;
using clinical::ReadContext;

std::string Golden(const std::string& name) {
  const char* root = std::getenv("TSUNAGU_SOURCE_DIR");
  std::filesystem::path p =
      std::filesystem::path(root != nullptr ? root : ".") / "tests" / "golden" / "jahis" / name;
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// Facilities: C the clinic where the patient registered, H the hospital,
// P the pharmacy that uploads (patient linked as P-77), Q another pharmacy
// without a link.
class DispensingImportTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    clinic_ = AddFacility("信夫山内科クリニック");
    hospital_ = AddFacility("県北総合病院", registry::FacilityType::kHospital);
    pharmacy_ = AddFacility("県北みどり薬局", registry::FacilityType::kPharmacy);
    other_pharmacy_ = AddFacility("あさか調剤薬局", registry::FacilityType::kPharmacy);
    patient_ = AddPatient(clinic_, "C-001");  // 山田　太郎, 1948-05-03, male
    ASSERT_TRUE(patients_->Link(patient_.regional_id, hospital_, "H-123").ok());
    ASSERT_TRUE(patients_->Link(patient_.regional_id, pharmacy_, "P-77").ok());
    timeline_ = std::make_unique<clinical::TimelineService>(*resources_, *patients_, *facilities_,
                                                            *policy_, *audit_);
    import_ = std::make_unique<DispensingImport>(*resources_, *timeline_, *patients_, *facilities_,
                                                 *audit_);
  }

  static ReadContext As(int64_t facility,
                        auth::Occupation occupation = auth::Occupation::kPharmacist,
                        auth::Role role = auth::Role::kStaff) {
    ReadContext r;
    r.viewer = {31, facility, occupation, role};
    r.event.user_id = 31;
    r.event.user_name = "田中　洋子";
    r.event.facility_id = facility;
    r.event.client_address = "192.0.2.31";
    return r;
  }

  ImportSummary MustImport(const std::string& bytes, bool dry_run = false) {
    ImportOptions options;
    options.dry_run = dry_run;
    auto s = import_->Import(As(pharmacy_), patient_.regional_id, bytes, options);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s.value_or(ImportSummary{});
  }

  // Dispensing records stored for the patient, from any facility.
  int64_t StoredDispensings() {
    clinical::ResourceQuery q;
    q.patients = {{pharmacy_, "P-77"}, {clinic_, "C-001"}, {hospital_, "H-123"}};
    q.categories = {Category::kDispensing};
    q.with_total = true;
    auto page = resources_->Search(q);
    EXPECT_TRUE(page.has_value());
    return page ? page->total.value_or(0) : -1;
  }

  std::vector<audit::AuditEvent> Events(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    auto events = audit_->Search(q);
    std::sort(events.begin(), events.end(),
              [](const auto& a, const auto& b) { return a.seq < b.seq; });
    return events;
  }

  std::vector<clinical::TimelineItem> DispensingsSeenBy(const ReadContext& reader) {
    clinical::TimelineQuery q;
    q.categories = {Category::kDispensing};
    auto t = timeline_->GetTimeline(reader, patient_.regional_id, q);
    if (!t) return {};
    return t->items;
  }

  int64_t clinic_ = 0, hospital_ = 0, pharmacy_ = 0, other_pharmacy_ = 0;
  registry::Patient patient_;
  std::unique_ptr<clinical::TimelineService> timeline_;
  std::unique_ptr<DispensingImport> import_;
};

TEST_P(DispensingImportTest, ImportStoresDispensesAndTheSameFileAgainChangesNothing) {
  ImportSummary first = MustImport(Golden("notebook_utf8.csv"));
  EXPECT_EQ(first.regional_id, patient_.regional_id);
  EXPECT_FALSE(first.dry_run);
  EXPECT_EQ(first.encoding, "UTF-8");
  ASSERT_EQ(first.events.size(), 2u);
  EXPECT_EQ(first.events[0].date, "2025-06-01");
  EXPECT_EQ(first.events[0].pharmacy_name, "県北みどり薬局");
  EXPECT_EQ(first.events[0].prescriber_name, "信夫山内科クリニック");
  ASSERT_EQ(first.events[0].medications.size(), 3u);
  const ImportedMedication& amlodipine = first.events[0].medications[0];
  EXPECT_EQ(amlodipine.name, "アムロジピン錠５ｍｇ「サワイ」");
  EXPECT_EQ(amlodipine.yj_code, "2171022F1193");
  EXPECT_EQ(amlodipine.start, "2025-06-01");
  EXPECT_EQ(amlodipine.end, "2025-06-28");
  EXPECT_EQ(amlodipine.dosage_form, "内服");
  EXPECT_EQ(first.medications, 4);
  EXPECT_EQ(first.stats.inserted, 4);
  EXPECT_EQ(StoredDispensings(), 4);

  // The pharmacist sees them on the timeline, with the pharmacy as source.
  auto items = DispensingsSeenBy(As(pharmacy_));
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].effective, "2025-07-15");
  EXPECT_EQ(items[0].display, "モーラステープ２０ｍｇ");
  EXPECT_EQ(items[0].source_facility_name, "県北みどり薬局");
  EXPECT_EQ(items[0].resource_type, "MedicationDispense");

  ImportSummary again = MustImport(Golden("notebook_utf8.csv"));
  EXPECT_EQ(again.stats.inserted, 0);
  EXPECT_EQ(again.stats.updated, 0);
  EXPECT_EQ(again.stats.unchanged, 4);
  EXPECT_EQ(StoredDispensings(), 4);

  auto events = Events("dispensing.import");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, "success");
  EXPECT_EQ(events[0].patient_id, patient_.regional_id);
  EXPECT_EQ(events[0].facility_id, pharmacy_);
  EXPECT_EQ(events[0].reason, "events=2 medications=4 inserted=4 updated=0 unchanged=0");
  EXPECT_EQ(events[1].reason, "events=2 medications=4 inserted=0 updated=0 unchanged=4");
}

TEST_P(DispensingImportTest, ShiftJisFileWithHalfWidthKanaImports) {
  ImportSummary s = MustImport(Golden("notebook_sjis.csv"));
  EXPECT_EQ(s.encoding, "Shift_JIS");
  EXPECT_EQ(s.stats.inserted, 2);
  // The file names another pharmacy than the uploader's: said, not refused.
  bool told = std::any_of(s.warnings.begin(), s.warnings.end(), [](const ParseWarning& w) {
    return w.line == 3 && w.message.find("another institution") != std::string::npos;
  });
  EXPECT_TRUE(told);
  EXPECT_TRUE(std::any_of(s.warnings.begin(), s.warnings.end(),
                          [](const ParseWarning& w) { return w.line == 12; }));
}

TEST_P(DispensingImportTest, DryRunShowsThePreviewAndStoresNothing) {
  ImportSummary s = MustImport(Golden("notebook_utf8.csv"), /*dry_run=*/true);
  EXPECT_TRUE(s.dry_run);
  EXPECT_EQ(s.medications, 4);
  EXPECT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.stats, clinical::WriteStats{});
  EXPECT_EQ(StoredDispensings(), 0);
  EXPECT_EQ(Events("dispensing.preview").size(), 1u);
  EXPECT_TRUE(Events("dispensing.import").empty());
}

TEST_P(DispensingImportTest, NotebookOfAnotherPersonIsRefusedAndNothingIsStored) {
  const std::string file = Golden("notebook_utf8.csv");
  struct Case {
    std::string bytes;
    std::string audit_reason;
  };
  const Case cases[] = {
      {Replace(file, "19480503", "19480504"), "different person (birth date)"},
      {Replace(Replace(file, "山田　太郎", "山田　花子"), "ヤマダ　タロウ", "ヤマダ　ハナコ"),
       "different person (name)"},
      {Replace(file, "1,山田　太郎,1,", "1,山田　太郎,2,"), "different person (sex)"},
  };
  for (const Case& c : cases) {
    auto s = import_->Import(As(pharmacy_), patient_.regional_id, c.bytes);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code(), core::Code::kInvalidInput);
    EXPECT_EQ(s.error().message(), "the notebook is for a different person");
  }
  EXPECT_EQ(StoredDispensings(), 0);
  auto events = Events("dispensing.import");
  ASSERT_EQ(events.size(), 3u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].outcome, "denied");
    EXPECT_EQ(events[i].reason, cases[i].audit_reason);
  }
  // The same name written without the space is the same person.
  MustImport(Replace(file, "1,山田　太郎,", "1,山田太郎,"));
  EXPECT_EQ(StoredDispensings(), 4);
}

TEST_P(DispensingImportTest, FacilityWithoutALinkedPatientIdIsRefused) {
  auto s = import_->Import(As(other_pharmacy_), patient_.regional_id, Golden("notebook_utf8.csv"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::Code::kForbidden);
  EXPECT_EQ(StoredDispensings(), 0);
  auto events = Events("dispensing.import");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "denied");
  EXPECT_EQ(events[0].facility_id, other_pharmacy_);
}

TEST_P(DispensingImportTest, OnlyPharmacistsAndPrescribersMayUpload) {
  const std::string file = Golden("notebook_utf8.csv");
  for (auto who : {As(pharmacy_, auth::Occupation::kNurse), As(pharmacy_, auth::Occupation::kClerk),
                   As(pharmacy_, auth::Occupation::kPharmacist, auth::Role::kNetworkAdmin)}) {
    auto s = import_->Import(who, patient_.regional_id, file);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code(), core::Code::kForbidden);
  }
  EXPECT_EQ(StoredDispensings(), 0);
  EXPECT_EQ(Events("dispensing.import").size(), 3u);
  // A physician of a clinic that dispenses in-house may.
  auto s = import_->Import(As(clinic_, auth::Occupation::kPhysician), patient_.regional_id, file);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->stats.inserted, 4);
}

TEST_P(DispensingImportTest, BadInputGetsAClearErrorAndChangesNothing) {
  auto unknown = import_->Import(As(pharmacy_), "000000000000", Golden("notebook_utf8.csv"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);

  auto bad = import_->Import(As(pharmacy_), patient_.regional_id,
                             Replace(Golden("notebook_utf8.csv"), "5,20250715", "5,20251315"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(bad.error().message(), "line 18: the dispensing date is not a date (YYYYMMDD)");

  auto no_patient = import_->Import(As(pharmacy_), patient_.regional_id,
                                    "JAHISTC04,1\n5,20250601\n201,1,薬A,1,錠,1,,1\n");
  ASSERT_FALSE(no_patient.has_value());
  EXPECT_EQ(no_patient.error().message(), "the file has no patient record (record 1)");

  auto no_drugs =
      import_->Import(As(pharmacy_), patient_.regional_id,
                      "JAHISTC04,1\n1,山田　太郎,1,19480503,,,,,,,ヤマダ　タロウ\n5,20250601\n");
  ASSERT_FALSE(no_drugs.has_value());
  EXPECT_EQ(no_drugs.error().message(), "the file holds no dispensed drugs (record 201)");

  auto big =
      import_->Import(As(pharmacy_), patient_.regional_id, std::string(kMaxNotebookBytes + 1, ' '));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), core::Code::kTooLarge);

  EXPECT_EQ(StoredDispensings(), 0);
  auto events = Events("dispensing.import");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1].outcome, "failure");
  EXPECT_EQ(events[1].reason, "line 18: the dispensing date is not a date (YYYYMMDD)");
}

TEST_P(DispensingImportTest, SameIngredientPrescribedAtTheHospitalIsWarned) {
  // The hospital prescribed アムロジン (ingredient 2171022) from 06-10; the
  // pharmacy handed out a generic of the same ingredient on 06-01 for 28
  // days on the clinic's prescription: the periods overlap.
  Write({clinical::PrescriptionRecord(hospital_, "H-123", "RX|1", "2171022F1029",
                                      "アムロジン錠５ｍｇ", "2025-06-10", "2025-07-09", 30)});
  // Without a consent the pharmacy sees only its own data: no warning yet.
  ImportSummary s = MustImport(Golden("notebook_utf8.csv"));
  EXPECT_TRUE(s.medication_warnings.empty());
  // Under a dispensing consent it sees the hospital's prescription too.
  Consent(patient_, hospital_, pharmacy_, consent::Scope::kDispensing);
  s = MustImport(Golden("notebook_utf8.csv"));
  ASSERT_EQ(s.medication_warnings.size(), 1u);
  EXPECT_EQ(s.medication_warnings[0].ingredient, "2171022");
  auto warnings = timeline_->GetMedicationWarnings(As(pharmacy_), patient_.regional_id);
  ASSERT_TRUE(warnings.has_value()) << warnings.error().ToString();
  ASSERT_EQ(warnings->size(), 1u);
  const clinical::DuplicateMedicationWarning& w = (*warnings)[0];
  EXPECT_EQ(w.ingredient, "2171022");
  EXPECT_EQ(w.overlap_start, "2025-06-10");
  EXPECT_EQ(w.overlap_end, "2025-06-28");
  EXPECT_NE(w.message.find("県北みどり薬局"), std::string::npos);
  EXPECT_NE(w.message.find("県北総合病院"), std::string::npos);
}

TEST_P(DispensingImportTest, OtherFacilitiesSeeTheDispensingsOnlyUnderConsent) {
  MustImport(Golden("notebook_utf8.csv"));
  const ReadContext doctor = As(clinic_, auth::Occupation::kPhysician);
  EXPECT_TRUE(DispensingsSeenBy(doctor).empty());
  Consent(patient_, pharmacy_, clinic_, consent::Scope::kDispensing);
  auto items = DispensingsSeenBy(doctor);
  ASSERT_EQ(items.size(), 4u);
  for (const auto& item : items) EXPECT_EQ(item.source_facility_id, pharmacy_);
  EXPECT_TRUE(std::any_of(items.begin(), items.end(), [](const clinical::TimelineItem& i) {
    return i.display == "アムロジピン錠５ｍｇ「サワイ」" && i.effective == "2025-06-01";
  }));
  // A facility that is neither linked nor named by a consent sees nothing.
  auto refused = timeline_->GetTimeline(As(other_pharmacy_), patient_.regional_id, {});
  EXPECT_FALSE(refused.has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, DispensingImportTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::jahis
