// FacilityService and PatientService on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <memory>

#include "core/clock.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::registry {
namespace {

using testing::Backend;

std::string Code(char table, const std::string& six) {
  return std::string("07") + table + six + InstitutionCheckDigit(six);
}

class RegistryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(
                    tdb_->db(), {FacilityService::Migrations(), PatientService::Migrations()})
                    .ok());
    facilities_ = std::make_unique<FacilityService>(tdb_->db(), clock_);
    patients_ = std::make_unique<PatientService>(tdb_->db(), clock_, *facilities_);
    ASSERT_TRUE(facilities_->PutArea({"kenpoku", "県北"}).ok());
  }

  Facility Clinic(const std::string& six, const std::string& name = "信夫山内科クリニック") {
    Facility f;
    f.type = FacilityType::kClinic;
    f.code = Code('1', six);
    f.name = name;
    f.kana = "しのぶやまないかくりにっく";
    f.area = "kenpoku";
    f.postcode = "960-8201";
    f.departments = {"内科", "消化器内科"};
    return f;
  }

  NewPatient Yamada() {
    NewPatient p;
    p.name = "山田　太郎";
    p.kana = "ヤマダ　タロウ";
    p.birth_date = "1948-05-03";
    p.sex = Sex::kMale;
    p.postcode = "〒９６０－８０３１";
    p.phone = "024-500-0001";
    p.local_id = "00012345";
    return p;
  }

  core::FakeClock clock_;
  std::unique_ptr<testing::TestDatabase> tdb_;
  std::unique_ptr<FacilityService> facilities_;
  std::unique_ptr<PatientService> patients_;
};

TEST_P(RegistryTest, CreatesFacilityAndNormalisesFields) {
  auto f = facilities_->Create(Clinic("000123"));
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_GT(f->id, 0);
  EXPECT_EQ(f->postcode, "9608201");
  EXPECT_EQ(f->departments, (std::vector<std::string>{"内科", "消化器内科"}));
  auto found = facilities_->List({.q = "ｼﾉﾌﾞﾔﾏ"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].name, "信夫山内科クリニック");
  EXPECT_EQ(facilities_->List({.q = "薬局"}).size(), 0u);
}

TEST_P(RegistryTest, RejectsDuplicateCodeBadCheckDigitAndWrongTable) {
  ASSERT_TRUE(facilities_->Create(Clinic("000123")));
  auto dup = facilities_->Create(Clinic("000123", "別の名前"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), core::Code::kConflict);

  Facility bad = Clinic("000124");
  bad.code.back() = bad.code.back() == '9' ? '0' : static_cast<char>(bad.code.back() + 1);
  EXPECT_EQ(facilities_->Create(bad).error().code(), core::Code::kInvalidInput);

  Facility pharmacy = Clinic("000125");
  pharmacy.type = FacilityType::kPharmacy;  // code says medical (table 1)
  EXPECT_EQ(facilities_->Create(pharmacy).error().code(), core::Code::kInvalidInput);

  Facility unknown_area = Clinic("000126");
  unknown_area.area = "nowhere";
  EXPECT_EQ(facilities_->Create(unknown_area).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(facilities_->List({}).size(), 1u);  // nothing else stored
}

TEST_P(RegistryTest, ApplicationApprovalCreatesFacilityAndSingleUseInvitation) {
  auto app = facilities_->Apply({Clinic("000200"), "申請 太郎", "owner@clinic.example.jp", ""});
  ASSERT_TRUE(app) << app.error().ToString();
  EXPECT_EQ(app->status, "pending");
  EXPECT_EQ(facilities_->ListApplications("pending").size(), 1u);

  auto approval = facilities_->Approve(app->id, 1);
  ASSERT_TRUE(approval) << approval.error().ToString();
  EXPECT_EQ(approval->facility.name, "信夫山内科クリニック");
  EXPECT_EQ(facilities_->GetApplication(app->id)->status, "approved");
  EXPECT_EQ(facilities_->Approve(app->id, 1).error().code(), core::Code::kConflict);

  auto inv = facilities_->GetInvitation(approval->invitation_token);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->email, "owner@clinic.example.jp");
  EXPECT_EQ(inv->facility_id, approval->facility.id);
  ASSERT_TRUE(facilities_->ConsumeInvitation(approval->invitation_token, 42).ok());
  EXPECT_EQ(facilities_->GetInvitation(approval->invitation_token).error().code(),
            core::Code::kNotFound);
  EXPECT_EQ(facilities_->ConsumeInvitation(approval->invitation_token, 43).code(),
            core::Code::kConflict);
  EXPECT_EQ(facilities_->GetInvitation("not-a-token").error().code(), core::Code::kNotFound);
}

TEST_P(RegistryTest, InvitationExpiresAfterSevenDays) {
  auto app = facilities_->Apply({Clinic("000201"), "申請 花子", "a@b.example.jp", ""});
  ASSERT_TRUE(app);
  auto approval = facilities_->Approve(app->id, 1);
  ASSERT_TRUE(approval);
  clock_.Advance(7LL * 24 * 3600 * 1000 + 1);
  EXPECT_EQ(facilities_->GetInvitation(approval->invitation_token).error().code(),
            core::Code::kNotFound);
}

TEST_P(RegistryTest, RejectionNeedsReasonAndIsFinal) {
  auto app = facilities_->Apply({Clinic("000202"), "申請 次郎", "c@d.example.jp", ""});
  ASSERT_TRUE(app);
  EXPECT_EQ(facilities_->Reject(app->id, 1, " ").error().code(), core::Code::kInvalidInput);
  auto rejected = facilities_->Reject(app->id, 1, "対象地域外のため");
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, "rejected");
  EXPECT_EQ(facilities_->Approve(app->id, 1).error().code(), core::Code::kConflict);
  EXPECT_TRUE(facilities_->List({}).empty());
}

TEST_P(RegistryTest, ApplicationWithBadEmailOrExistingCodeIsRefused) {
  EXPECT_EQ(facilities_->Apply({Clinic("000203"), "x", "not-an-email", ""}).error().code(),
            core::Code::kInvalidInput);
  ASSERT_TRUE(facilities_->Create(Clinic("000204")));
  EXPECT_EQ(facilities_->Apply({Clinic("000204"), "x", "x@y.example.jp", ""}).error().code(),
            core::Code::kConflict);
  EXPECT_TRUE(facilities_->ListApplications("").empty());
}

TEST_P(RegistryTest, RegistersPatientWithRegionalIdAndLink) {
  auto clinic = facilities_->Create(Clinic("000300"));
  ASSERT_TRUE(clinic);
  auto p = patients_->Register(Yamada(), {clinic->id, false});
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_TRUE(IsValidRegionalId(p->regional_id));
  EXPECT_EQ(p->postcode, "9608031");
  EXPECT_EQ(p->phone, "0245000001");
  ASSERT_EQ(p->links.size(), 1u);
  EXPECT_EQ(p->links[0].local_id, "00012345");
  EXPECT_EQ(p->links[0].facility_name, "信夫山内科クリニック");
}

TEST_P(RegistryTest, SearchFoldsKanaWidthAndScript) {
  auto clinic = facilities_->Create(Clinic("000301"));
  ASSERT_TRUE(clinic);
  Viewer viewer{clinic->id, false};
  ASSERT_TRUE(patients_->Register(Yamada(), viewer));
  for (const char* q : {"やまだ", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ", "山田", "たろう"}) {
    int64_t total = 0;
    auto found = patients_->Search({.q = q}, viewer, &total);
    EXPECT_EQ(found.size(), 1u) << q;
    EXPECT_EQ(total, 1) << q;
  }
  EXPECT_TRUE(patients_->Search({.q = "すずき"}, viewer).empty());
  EXPECT_EQ(patients_->Search({.birth_date = "1948-05-03"}, viewer).size(), 1u);
  EXPECT_EQ(patients_->Search({.local_id = "00012345"}, viewer).size(), 1u);
  EXPECT_TRUE(patients_->Search({.q = "%"}, viewer).empty());  // LIKE wildcards are literal
}

TEST_P(RegistryTest, OtherFacilitiesCannotSeeUnlinkedPatients) {
  auto a = facilities_->Create(Clinic("000302", "Aクリニック"));
  auto b = facilities_->Create(Clinic("000303", "Bクリニック"));
  ASSERT_TRUE(a && b);
  auto p = patients_->Register(Yamada(), {a->id, false});
  ASSERT_TRUE(p);
  Viewer other{b->id, false};
  EXPECT_TRUE(patients_->Search({.q = "やまだ"}, other).empty());
  EXPECT_EQ(patients_->Get(p->regional_id, other).error().code(), core::Code::kNotFound);
  EXPECT_EQ(patients_->Search({.q = "やまだ"}, {0, true}).size(), 1u);  // secretariat
  ASSERT_TRUE(patients_->Link(p->regional_id, b->id, "B-77").ok());
  EXPECT_TRUE(patients_->Get(p->regional_id, other));
  EXPECT_EQ(patients_->Link(p->regional_id, b->id, "B-77").code(), core::Code::kConflict);
}

TEST_P(RegistryTest, RejectsBadPatientInputAndStoresNothing) {
  auto clinic = facilities_->Create(Clinic("000304"));
  ASSERT_TRUE(clinic);
  Viewer viewer{clinic->id, false};
  NewPatient bad_date = Yamada();
  bad_date.birth_date = "1948-02-30";
  EXPECT_EQ(patients_->Register(bad_date, viewer).error().code(), core::Code::kInvalidInput);
  NewPatient bad_kana = Yamada();
  bad_kana.kana = "山田";
  EXPECT_EQ(patients_->Register(bad_kana, viewer).error().code(), core::Code::kInvalidInput);
  NewPatient no_name = Yamada();
  no_name.name = "  ";
  EXPECT_EQ(patients_->Register(no_name, viewer).error().code(), core::Code::kInvalidInput);
  NewPatient bad_post = Yamada();
  bad_post.postcode = "12-34";
  EXPECT_EQ(patients_->Register(bad_post, viewer).error().code(), core::Code::kInvalidInput);
  EXPECT_TRUE(patients_->Search({}, {0, true}).empty());

  ASSERT_TRUE(patients_->Register(Yamada(), viewer));
  auto dup = patients_->Register(Yamada(), viewer);  // same local ID at the same facility
  EXPECT_EQ(dup.error().code(), core::Code::kConflict);
  EXPECT_EQ(patients_->Search({}, {0, true}).size(), 1u);  // the failed one left no row
}

TEST_P(RegistryTest, UpdatesDemographicsAndKeepsSearchInStep) {
  auto clinic = facilities_->Create(Clinic("000305"));
  ASSERT_TRUE(clinic);
  Viewer viewer{clinic->id, false};
  auto p = patients_->Register(Yamada(), viewer);
  ASSERT_TRUE(p);
  auto up = patients_->Update(p->regional_id, {.kana = "やまだ　じろう"}, viewer);
  ASSERT_TRUE(up) << up.error().ToString();
  EXPECT_EQ(patients_->Search({.q = "ジロウ"}, viewer).size(), 1u);
  EXPECT_TRUE(patients_->Search({.q = "タロウ"}, viewer).empty());
  EXPECT_EQ(patients_->Update(p->regional_id, {.birth_date = "x"}, viewer).error().code(),
            core::Code::kInvalidInput);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, testing::AllBackends(), testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::registry
