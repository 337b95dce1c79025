// AccessPolicy: every occupation x every category x every consent state, on
// both backends, against the rule documented in docs/consent.md. The expected
// values come from the tables below, written independently of the code.
#include "consent/access_policy.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "unit/consent/consent_fixture.hpp"

namespace tsunagu::consent {
namespace {

using auth::Occupation;
using clinical::Category;

constexpr std::array<Category, 13> kCategories = {
    Category::kPatientInfo,    Category::kAllergy,      Category::kCondition,
    Category::kPrescription,   Category::kInjection,    Category::kDispensing,
    Category::kAdministration, Category::kImmunization, Category::kLabResult,
    Category::kReport,         Category::kEncounter,    Category::kOrder,
    Category::kDocument};
constexpr std::array<const char*, 13> kCategoryNames = {
    "patient_info", "allergy",        "condition",    "prescription", "injection",
    "dispensing",   "administration", "immunization", "lab_result",   "report",
    "encounter",    "order",          "document"};

// docs/consent.md, "Occupation x category". Columns in kCategories order.
// clang-format off
const std::map<Occupation, std::string> kMatrix = {
    //                          pi al co pr in di ad im lr re en or do
    {Occupation::kPhysician,     "1  1  1  1  1  1  1  1  1  1  1  1  1"},
    {Occupation::kDentist,       "1  1  1  1  1  1  1  1  1  1  1  1  1"},
    {Occupation::kNurse,         "1  1  1  1  1  1  1  1  1  1  1  1  1"},
    {Occupation::kVisitingNurse, "1  1  1  1  1  1  1  1  1  1  1  1  1"},
    {Occupation::kPharmacist,    "1  1  1  1  1  1  1  1  1  0  1  0  1"},
    {Occupation::kTherapist,     "1  1  1  1  0  0  0  0  0  1  1  0  1"},
    {Occupation::kCareManager,   "1  1  1  1  0  1  0  0  0  0  1  0  1"},
    {Occupation::kSocialWorker,  "1  0  1  0  0  0  0  0  0  0  1  0  1"},
    {Occupation::kClerk,         "1  0  0  0  0  0  0  0  0  0  0  0  0"},
    {Occupation::kEms,           "0  1  1  1  0  1  0  0  0  0  0  0  0"},
    {Occupation::kHomeHelper,    "0  0  0  0  0  0  0  0  0  0  0  0  0"},
    {Occupation::kFamily,        "0  0  0  0  0  0  0  0  0  0  0  0  0"},
};
// clang-format on
// Whether row `row` of kMatrix allows category number `i`.
bool Cell(const std::string& row, size_t i) { return row.at(i * 3) == '1'; }

const std::map<Occupation, const char*> kOccupationNames = {
    {Occupation::kPhysician, "physician"},
    {Occupation::kDentist, "dentist"},
    {Occupation::kNurse, "nurse"},
    {Occupation::kVisitingNurse, "visiting_nurse"},
    {Occupation::kPharmacist, "pharmacist"},
    {Occupation::kTherapist, "therapist"},
    {Occupation::kCareManager, "care_manager"},
    {Occupation::kSocialWorker, "social_worker"},
    {Occupation::kClerk, "clerk"},
    {Occupation::kEms, "ems"},
    {Occupation::kHomeHelper, "home_helper"},
    {Occupation::kFamily, "family"},
};

// Facilities of the scenario: V the viewer's, S the data source, O another.
// In consents '*' is 0 (any).
struct ConsentSpec {
  Scope scope;
  char source;
  char viewer;
  const char* from;
  const char* to;  // "" = open
  bool withdrawn = false;
};

// Today is 2026-01-01 (Japan). `full`: sources whose every category is
// covered by consent; `medication`: sources whose prescription/dispensing
// only are covered. The viewer's own facility V is added when the patient
// is linked there.
struct StateCase {
  const char* name;
  std::vector<ConsentSpec> consents;
  const char* full;
  const char* medication;
};

const std::vector<StateCase> kStates = {
    {"none", {}, "", ""},
    {"active", {{Scope::kClinicalSharing, 'S', 'V', "2025-06-01", "2026-12-31"}}, "S", ""},
    {"active_open_ended", {{Scope::kClinicalSharing, 'S', 'V', "2025-06-01", ""}}, "S", ""},
    {"active_first_day",
     {{Scope::kClinicalSharing, 'S', 'V', "2026-01-01", "2026-03-31"}},
     "S",
     ""},
    {"active_last_day", {{Scope::kClinicalSharing, 'S', 'V', "2025-01-01", "2026-01-01"}}, "S", ""},
    {"withdrawn", {{Scope::kClinicalSharing, 'S', 'V', "2025-06-01", "", true}}, "", ""},
    {"expired", {{Scope::kClinicalSharing, 'S', 'V', "2025-01-01", "2025-12-31"}}, "", ""},
    {"not_yet_valid", {{Scope::kClinicalSharing, 'S', 'V', "2026-01-02", ""}}, "", ""},
    {"other_viewer_facility", {{Scope::kClinicalSharing, 'S', 'O', "2025-06-01", ""}}, "", ""},
    {"other_source_facility", {{Scope::kClinicalSharing, 'O', 'V', "2025-06-01", ""}}, "O", ""},
    {"any_source_to_viewer", {{Scope::kClinicalSharing, '*', 'V', "2025-06-01", ""}}, "VSO", ""},
    {"source_to_any_viewer", {{Scope::kClinicalSharing, 'S', '*', "2025-06-01", ""}}, "S", ""},
    {"any_any", {{Scope::kClinicalSharing, '*', '*', "2025-06-01", ""}}, "VSO", ""},
    {"any_any_withdrawn", {{Scope::kClinicalSharing, '*', '*', "2025-06-01", "", true}}, "", ""},
    {"any_any_other_viewer_and_expired",
     {{Scope::kClinicalSharing, '*', 'O', "2025-06-01", ""},
      {Scope::kClinicalSharing, '*', '*', "2024-01-01", "2025-01-01"}},
     "",
     ""},
    {"dispensing_active", {{Scope::kDispensing, 'S', 'V', "2025-06-01", ""}}, "", "S"},
    {"dispensing_any_any", {{Scope::kDispensing, '*', '*', "2025-06-01", ""}}, "", "VSO"},
    {"dispensing_withdrawn", {{Scope::kDispensing, '*', '*', "2025-06-01", "", true}}, "", ""},
    {"dispensing_plus_sharing",
     {{Scope::kDispensing, '*', 'V', "2025-06-01", ""},
      {Scope::kClinicalSharing, 'S', 'V', "2025-06-01", ""}},
     "S",
     "VSO"},
    {"other_scopes_only",
     {{Scope::kEmergencySheet, '*', '*', "2025-06-01", ""},
      {Scope::kCareTeam, '*', '*', "2025-06-01", ""},
      {Scope::kFamily, '*', '*', "2025-06-01", ""}},
     "",
     ""},
};

bool IsMedication(Category c) { return c == Category::kPrescription || c == Category::kDispensing; }

class AccessPolicyTest : public ConsentDbTest {
 protected:
  void SetUp() override {
    ConsentDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ids_['V'] = AddFacility("閲覧診療所");
    ids_['S'] = AddFacility("情報提供病院");
    ids_['O'] = AddFacility("別の病院");
    ids_['*'] = 0;
    policy_ = std::make_unique<AccessPolicy>(*consents_);
  }

  // A fresh patient registered at S (and linked at V if asked) with the
  // consents of `state`.
  int64_t Scenario(const StateCase& state, bool linked_at_viewer) {
    registry::Patient p = AddPatient(ids_['S']);
    if (linked_at_viewer) {
      EXPECT_TRUE(patients_->LinkLocalId(p.regional_id, ids_['V'], "V-" + p.regional_id, 1).ok());
    }
    for (const ConsentSpec& spec : state.consents) {
      NewConsent nc{p.id, spec.scope, ids_[spec.source], ids_[spec.viewer], spec.from, spec.to, ""};
      auto created = consents_->Create(nc, 1);
      EXPECT_TRUE(created.has_value()) << created.error().ToString();
      if (created.has_value() && spec.withdrawn) {
        EXPECT_TRUE(consents_->Withdraw(created->id, 1).has_value());
      }
    }
    return p.id;
  }

  std::map<char, int64_t> ids_;
  std::unique_ptr<AccessPolicy> policy_;
};

TEST_P(AccessPolicyTest, OccupationMatrixIsExactlyTheDocumentedOne) {
  for (const auto& [occupation, row] : kMatrix) {
    for (size_t i = 0; i < kCategories.size(); ++i) {
      EXPECT_EQ(AccessPolicy::OccupationMay(occupation, kCategories[i]), Cell(row, i))
          << kOccupationNames.at(occupation) << " x " << kCategoryNames[i];
    }
  }
  EXPECT_EQ(kMatrix.size(), 12u);  // every occupation of auth::Occupation
}

TEST_P(AccessPolicyTest, EveryOccupationCategoryAndConsentStateLeaksNothing) {
  const std::string sources = "VSO";
  for (bool linked : {true, false}) {
    for (const StateCase& state : kStates) {
      int64_t patient_id = Scenario(state, linked);
      std::string full = state.full;
      if (linked) full += 'V';
      const std::string medication = state.medication;
      for (const auto& [occupation, row] : kMatrix) {
        SCOPED_TRACE(std::string(state.name) + (linked ? " linked" : " unlinked") + " " +
                     kOccupationNames.at(occupation));
        Viewer viewer{7, ids_['V'], occupation, auth::Role::kStaff};
        auto grant = policy_->Evaluate(viewer, patient_id);
        bool any_visible = false;
        for (size_t i = 0; i < kCategories.size(); ++i) {
          for (char s : sources) {
            bool expected =
                Cell(row, i) &&
                (full.find(s) != std::string::npos ||
                 (IsMedication(kCategories[i]) && medication.find(s) != std::string::npos));
            any_visible = any_visible || expected;
            bool actual = grant.has_value() && grant->Allows(ids_[s], kCategories[i]);
            EXPECT_EQ(actual, expected) << kCategoryNames[i] << " from " << s;
          }
        }
        // Forbidden exactly when nothing at all is visible.
        EXPECT_EQ(grant.has_value(), any_visible);
        if (!grant.has_value()) {
          EXPECT_EQ(grant.error().code(), core::Code::kForbidden);
        }
        // A facility admin follows the same rule as staff of its occupation.
        Viewer admin = viewer;
        admin.role = auth::Role::kFacilityAdmin;
        EXPECT_EQ(policy_->Evaluate(admin, patient_id).has_value(), any_visible);
        // The secretariat manages the network; it never sees clinical data.
        Viewer secretariat = viewer;
        secretariat.role = auth::Role::kNetworkAdmin;
        auto denied = policy_->Evaluate(secretariat, patient_id);
        ASSERT_FALSE(denied.has_value());
        EXPECT_EQ(denied.error().code(), core::Code::kForbidden);
      }
    }
  }
}

TEST_P(AccessPolicyTest, WithdrawalTakesEffectImmediately) {
  registry::Patient p = AddPatient(ids_['S']);
  auto c = consents_->Create(
      {p.id, Scope::kClinicalSharing, ids_['S'], ids_['V'], "2025-01-01", "", ""}, 1);
  ASSERT_TRUE(c.has_value());
  Viewer doctor{7, ids_['V'], Occupation::kPhysician, auth::Role::kStaff};
  auto before = policy_->Evaluate(doctor, p.id);
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(before->Allows(ids_['S'], Category::kLabResult));
  ASSERT_TRUE(consents_->Withdraw(c->id, 1).has_value());
  auto after = policy_->Evaluate(doctor, p.id);  // same clock instant
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), core::Code::kForbidden);
}

TEST_P(AccessPolicyTest, DatesAreJudgedInJapanTime) {
  registry::Patient p = AddPatient(ids_['S']);
  ASSERT_TRUE(consents_
                  ->Create({p.id, Scope::kClinicalSharing, ids_['S'], ids_['V'], "2026-01-02",
                            "2026-01-02", ""},
                           1)
                  .has_value());
  Viewer doctor{7, ids_['V'], Occupation::kPhysician, auth::Role::kStaff};
  clock_.Set(1'767'279'599'000);  // 2026-01-01T14:59:59Z = 23:59:59 JST on the 1st
  EXPECT_FALSE(policy_->Evaluate(doctor, p.id).has_value());
  clock_.Set(1'767'279'600'000);  // 15:00Z = midnight JST: the 2nd has begun
  EXPECT_TRUE(policy_->Evaluate(doctor, p.id).has_value());
  clock_.Set(1'767'279'600'000 + 86'400'000);  // the 3rd in Japan: expired
  EXPECT_FALSE(policy_->Evaluate(doctor, p.id).has_value());
}

TEST_P(AccessPolicyTest, UnknownPatientAndViewerWithoutFacility) {
  Viewer doctor{7, ids_['V'], Occupation::kPhysician, auth::Role::kStaff};
  auto unknown = policy_->Evaluate(doctor, 999999);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);

  registry::Patient p = AddPatient(ids_['S']);
  ASSERT_TRUE(consents_->Create({p.id, Scope::kClinicalSharing, 0, 0, "2025-01-01", "", ""}, 1)
                  .has_value());
  Viewer homeless{7, 0, Occupation::kPhysician, auth::Role::kStaff};
  auto none = policy_->Evaluate(homeless, p.id);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), core::Code::kForbidden);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessPolicyTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::consent
