// CareInvitationService on SQLite and PostgreSQL: inviting a family member
// and a person of a non-participating care business by e-mail, accepting
// (account, facility and membership), revoking, expiry, consent and audit.
#include "care/invitation_service.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "auth/account_service.hpp"
#include "auth/password_hasher.hpp"
#include "care/care_service.hpp"
#include "mail/mailer.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::care {
namespace {

class RecordingMailer final : public mail::Mailer {
 public:
  core::Status Send(const mail::Mail& m) override {
    std::lock_guard lock(mu_);
    sent.push_back(m);
    return core::Status::Ok();
  }
  std::mutex mu_;
  std::vector<mail::Mail> sent;
};

class CareInvitationTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(
        store::ApplyMigrations(db(), {auth::AccountService::Migrations(), CareService::Migrations(),
                                      CareInvitationService::Migrations()})
            .ok());
    hasher_ = std::make_unique<auth::PasswordHasher>(auth::PasswordHasher::MinimumLimits());
    accounts_ = std::make_unique<auth::AccountService>(db(), clock_, *hasher_);
    care_ =
        std::make_unique<CareService>(db(), clock_, *patients_, *consents_, *accounts_, *audit_);
    invitations_ =
        std::make_unique<CareInvitationService>(db(), clock_, *care_, *accounts_, *facilities_,
                                                *consents_, mailer_, "https://tsunagu.example.jp");
    clinic_ = AddFacility("信夫山内科クリニック");
    patient_ = AddPatient(clinic_, "C-001");
    doctor_ = AddUser("doctor", clinic_, auth::Occupation::kPhysician);
    auto g = care_->CreateGroup(As(doctor_), {patient_.regional_id, "山田太郎さんの在宅チーム"});
    ASSERT_TRUE(g.has_value()) << g.error().ToString();
    group_ = g->group.id;
  }

  Actor As(const auth::User& u) {
    Actor a;
    a.user_id = u.id;
    a.facility_id = u.facility_id;
    a.occupation = u.occupation;
    a.event.user_id = u.id;
    a.event.facility_id = u.facility_id;
    return a;
  }

  auth::User AddUser(const std::string& login, int64_t facility, auth::Occupation occupation) {
    auth::NewUser u;
    u.facility_id = facility;
    u.login_id = login;
    u.display_name = login + "さん";
    u.occupation = occupation;
    u.password = "correct horse battery staple";
    auto created = accounts_->Create(u);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.value_or(auth::User{});
  }

  NewInvitation Family() {
    NewInvitation n;
    n.email = "mari@example.jp";
    n.display_name = "山田 真理";
    n.occupation = auth::Occupation::kFamily;
    return n;
  }

  NewInvitation Helper() {
    NewInvitation n;
    n.email = "helper@himawari.example.jp";
    n.display_name = "佐々木 花子";
    n.occupation = auth::Occupation::kHomeHelper;
    n.organization_name = "ひまわり訪問介護";
    n.organization_kana = "ヒマワリホウモンカイゴ";
    n.organization_type = registry::FacilityType::kHomeCareSupportOffice;
    return n;
  }

  bool IsMember(int64_t user_id) {
    auto g = care_->GetGroup(As(doctor_), group_);
    if (!g) return false;
    for (const auto& m : g->members) {
      if (m.user_id == user_id) return true;
    }
    return false;
  }

  int64_t Count(const std::string& table) {
    auto rs = db().Query("SELECT COUNT(*) FROM " + table);
    return rs ? rs->rows[0].Int(0) : -1;
  }

  std::unique_ptr<auth::PasswordHasher> hasher_;
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<CareService> care_;
  RecordingMailer mailer_;
  std::unique_ptr<CareInvitationService> invitations_;
  int64_t clinic_ = 0;
  registry::Patient patient_;
  auth::User doctor_;
  int64_t group_ = 0;
};

TEST_P(CareInvitationTest, FamilyMemberAcceptsAndJoinsTheGroup) {
  Consent(patient_, 0, 0, consent::Scope::kFamily);
  std::string token;
  auto inv = invitations_->Invite(As(doctor_), group_, Family(), &token);
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  EXPECT_EQ(inv->status, "pending");
  EXPECT_EQ(inv->group_name, "山田太郎さんの在宅チーム");

  // The mail names the inviter and carries the link; not the group, which
  // names the patient.
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].to, "mari@example.jp");
  EXPECT_NE(mailer_.sent[0].body.find("doctorさん"), std::string::npos);
  EXPECT_EQ(mailer_.sent[0].body.find("太郎"), std::string::npos);
  EXPECT_NE(mailer_.sent[0].body.find("https://tsunagu.example.jp/care/invitations/" + token),
            std::string::npos);

  auto seen = invitations_->Lookup(token);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->display_name, "山田 真理");

  auto accepted = invitations_->Accept(token, {"mari.yamada", "a long family passphrase", ""}, {});
  ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
  auto user = accounts_->FindByLogin("mari.yamada");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->occupation, auth::Occupation::kFamily);
  EXPECT_EQ(user->facility_id, clinic_);
  EXPECT_TRUE(IsMember(user->id));

  // The link works once.
  EXPECT_EQ(invitations_->Lookup(token).error().code(), core::Code::kNotFound);
  EXPECT_EQ(
      invitations_->Accept(token, {"mari2", "a long family passphrase", ""}, {}).error().code(),
      core::Code::kNotFound);
  EXPECT_FALSE(accounts_->FindByLogin("mari2").has_value());
}

TEST_P(CareInvitationTest, CareBusinessStaffGetAFacilityRecordOfTheirOwn) {
  Consent(patient_, 0, 0, consent::Scope::kCareTeam);
  std::string token;
  auto inv = invitations_->Invite(As(doctor_), group_, Helper(), &token);
  ASSERT_TRUE(inv.has_value()) << inv.error().ToString();
  const int64_t facilities_before = Count("facilities");
  auto accepted = invitations_->Accept(token, {"sasaki.h", "himawari helper 2026", ""}, {});
  ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
  EXPECT_EQ(Count("facilities"), facilities_before + 1);
  auto user = accounts_->FindByLogin("sasaki.h");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->occupation, auth::Occupation::kHomeHelper);
  auto facility = facilities_->Get(user->facility_id);
  ASSERT_TRUE(facility.has_value());
  EXPECT_EQ(facility->name, "ひまわり訪問介護");
  EXPECT_EQ(facility->type, registry::FacilityType::kHomeCareSupportOffice);
  EXPECT_TRUE(IsMember(user->id));
  // The new member can post.
  NewPost post;
  post.kind = PostKind::kMessage;
  post.body = "本日の訪問介護、入浴介助を行いました。";
  EXPECT_TRUE(care_->CreatePost(As(*user), group_, post).has_value());
}

TEST_P(CareInvitationTest, NoConsentNoInvitation) {
  // Neither a family nor a care-team consent for any facility.
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_, Family()).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_, Helper()).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(Count("care_invitations"), 0);
  EXPECT_TRUE(mailer_.sent.empty());
}

TEST_P(CareInvitationTest, BadInputIsRefusedAndStoresNothing) {
  Consent(patient_, 0, 0, consent::Scope::kCareTeam);
  NewInvitation bad_mail = Helper();
  bad_mail.email = "not-an-address";
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_, bad_mail).error().code(),
            core::Code::kInvalidInput);
  NewInvitation no_org = Helper();
  no_org.organization_name.clear();
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_, no_org).error().code(),
            core::Code::kInvalidInput);
  NewInvitation clinic = Helper();
  clinic.organization_type = registry::FacilityType::kClinic;
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_, clinic).error().code(),
            core::Code::kInvalidInput);
  NewInvitation ems = Helper();
  ems.occupation = auth::Occupation::kEms;
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_, ems).error().code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(invitations_->Invite(As(doctor_), group_ + 99, Helper()).error().code(),
            core::Code::kNotFound);
  EXPECT_EQ(Count("care_invitations"), 0);

  // A weak password at acceptance: nothing is created, the link still works.
  std::string token;
  ASSERT_TRUE(invitations_->Invite(As(doctor_), group_, Helper(), &token).has_value());
  const int64_t users_before = Count("users");
  const int64_t facilities_before = Count("facilities");
  EXPECT_EQ(invitations_->Accept(token, {"sasaki.h", "short", ""}, {}).error().code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(Count("users"), users_before);
  EXPECT_EQ(Count("facilities"), facilities_before);
  EXPECT_TRUE(invitations_->Lookup(token).has_value());
}

TEST_P(CareInvitationTest, NonMembersAndFamilyCannotInvite) {
  Consent(patient_, 0, 0, consent::Scope::kCareTeam);
  Consent(patient_, 0, 0, consent::Scope::kFamily);
  auth::User stranger = AddUser("stranger", clinic_, auth::Occupation::kNurse);
  EXPECT_EQ(invitations_->Invite(As(stranger), group_, Helper()).error().code(),
            core::Code::kForbidden);
  auth::User family = AddUser("family", clinic_, auth::Occupation::kFamily);
  ASSERT_TRUE(care_->AddMember(As(doctor_), group_, family.id).has_value());
  EXPECT_EQ(invitations_->Invite(As(family), group_, Helper()).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(invitations_->List(As(family), group_).error().code(), core::Code::kForbidden);
  EXPECT_EQ(Count("care_invitations"), 0);
}

TEST_P(CareInvitationTest, RevokedAndExpiredLinksAreDead) {
  Consent(patient_, 0, 0, consent::Scope::kFamily);
  std::string revoked, expired;
  auto first = invitations_->Invite(As(doctor_), group_, Family(), &revoked);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(invitations_->Revoke(As(doctor_), first->id).ok());
  EXPECT_EQ(invitations_->Lookup(revoked).error().code(), core::Code::kNotFound);
  EXPECT_EQ(invitations_->Revoke(As(doctor_), first->id).code(), core::Code::kConflict);

  ASSERT_TRUE(invitations_->Invite(As(doctor_), group_, Family(), &expired).has_value());
  clock_.Advance(CareInvitationService::kValidMillis + 1);
  EXPECT_EQ(invitations_->Lookup(expired).error().code(), core::Code::kNotFound);
  EXPECT_EQ(invitations_->Accept(expired, {"mari.yamada", "a long family passphrase", ""}, {})
                .error()
                .code(),
            core::Code::kNotFound);
  EXPECT_FALSE(accounts_->FindByLogin("mari.yamada").has_value());

  auto list = invitations_->List(As(doctor_), group_);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].status, "expired");
  EXPECT_EQ((*list)[1].status, "revoked");
}

TEST_P(CareInvitationTest, InvitationsAreAudited) {
  Consent(patient_, 0, 0, consent::Scope::kFamily);
  std::string token;
  auto inv = invitations_->Invite(As(doctor_), group_, Family(), &token);
  ASSERT_TRUE(inv.has_value());
  ASSERT_TRUE(
      invitations_->Accept(token, {"mari.yamada", "a long family passphrase", ""}, {}).has_value());
  audit::AuditQuery q;
  q.patient_id = patient_.regional_id;
  std::vector<std::string> actions;
  for (const auto& e : audit_->Search(q)) actions.push_back(e.action);
  EXPECT_NE(std::find(actions.begin(), actions.end(), "care.invitation.create"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "care.invitation.accept"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "care.member.add"), actions.end());
}

INSTANTIATE_TEST_SUITE_P(Backends, CareInvitationTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
