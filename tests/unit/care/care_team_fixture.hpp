#pragma once
// Shared fixture of the messages, board and schedule tests: a care group for
// one patient on a fresh database of each backend, with a physician (owner),
// a visiting nurse, a home helper and a family member, plus an outsider of a
// facility no consent covers. The services under test are built on it.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "auth/account_service.hpp"
#include "auth/password_hasher.hpp"
#include "care/board_service.hpp"
#include "care/care_service.hpp"
#include "care/conversation_service.hpp"
#include "care/schedule_service.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::care {

// Keeps every event it is told of.
class RecordingListener : public CareListener {
 public:
  void OnCareEvent(const CareEvent& event) override { events.push_back(event); }
  std::vector<CareEvent> events;
};

class CareTeamTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(
        store::ApplyMigrations(db(), {auth::AccountService::Migrations(), CareService::Migrations(),
                                      ConversationService::Migrations(), BoardService::Migrations(),
                                      ScheduleService::Migrations()})
            .ok());
    hasher_ = std::make_unique<auth::PasswordHasher>(auth::PasswordHasher::MinimumLimits());
    accounts_ = std::make_unique<auth::AccountService>(db(), clock_, *hasher_);
    care_ =
        std::make_unique<CareService>(db(), clock_, *patients_, *consents_, *accounts_, *audit_);
    care_->SetListener(&listener_);
    conversations_ = std::make_unique<ConversationService>(db(), clock_, *care_, *accounts_);
    board_ = std::make_unique<BoardService>(db(), clock_, *care_, *accounts_);
    schedule_ = std::make_unique<ScheduleService>(db(), clock_, *care_, *accounts_);
    clinic_ = AddFacility("信夫山内科クリニック");
    station_ =
        AddFacility("ふくしま訪問看護ステーション", registry::FacilityType::kVisitingNurseStation);
    other_ = AddFacility("吾妻ケアプランセンター", registry::FacilityType::kHomeCareSupportOffice);
    patient_ = AddPatient(clinic_, "C-001");
    doctor_ = AddUser("doctor", clinic_, auth::Occupation::kPhysician);
    nurse_ = AddUser("nurse", station_, auth::Occupation::kVisitingNurse);
    helper_ = AddUser("helper", station_, auth::Occupation::kHomeHelper);
    family_ = AddUser("family", clinic_, auth::Occupation::kFamily);
    family2_ = AddUser("family2", clinic_, auth::Occupation::kFamily);
    outsider_ = AddUser("outsider", other_, auth::Occupation::kCareManager);
    Consent(patient_, 0, station_, consent::Scope::kCareTeam);
    Consent(patient_, 0, 0, consent::Scope::kFamily);
    group_ = MakeGroup();
  }

  Actor As(const auth::User& u) {
    Actor a;
    a.user_id = u.id;
    a.facility_id = u.facility_id;
    a.occupation = u.occupation;
    a.event.user_id = u.id;
    a.event.user_name = u.display_name;
    a.event.facility_id = u.facility_id;
    a.event.client_address = "192.0.2.1";
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

  // The doctor's group with the nurse, the helper and both family members.
  int64_t MakeGroup() {
    auto g = care_->CreateGroup(As(doctor_), {patient_.regional_id, "山田太郎さんの在宅チーム"});
    EXPECT_TRUE(g.has_value()) << g.error().ToString();
    if (!g) return 0;
    for (const auto* u : {&nurse_, &helper_, &family_, &family2_}) {
      auto m = care_->AddMember(As(doctor_), g->group.id, u->id);
      EXPECT_TRUE(m.has_value()) << m.error().ToString();
    }
    return g->group.id;
  }

  void Archive() { ASSERT_TRUE(care_->ArchiveGroup(As(doctor_), group_).has_value()); }
  void Leave(const auth::User& u) { ASSERT_TRUE(care_->RemoveMember(As(u), group_, u.id).ok()); }

  int64_t Count(const std::string& table) {
    auto rs = db().Query("SELECT COUNT(*) FROM " + table);
    return rs && !rs->empty() ? rs->rows[0].Int(0) : -1;
  }

  // Audit entries of one action, newest first.
  std::vector<audit::AuditEvent> Events(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    q.limit = 500;
    auto events = audit_->Search(q);
    std::erase_if(events, [&](const auto& e) { return e.action != action; });
    return events;
  }

  // True when no audit entry of the actions starting with `prefix` carries `text`.
  bool AuditNeverMentions(const std::string& prefix, const std::string& text) {
    audit::AuditQuery q;
    q.action = prefix;
    q.limit = 1000;
    for (const auto& e : audit_->Search(q)) {
      if (e.reason.find(text) != std::string::npos || e.object.find(text) != std::string::npos) {
        return false;
      }
    }
    return true;
  }

  RecordingListener listener_;
  std::unique_ptr<auth::PasswordHasher> hasher_;
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<CareService> care_;
  std::unique_ptr<ConversationService> conversations_;
  std::unique_ptr<BoardService> board_;
  std::unique_ptr<ScheduleService> schedule_;
  int64_t clinic_ = 0, station_ = 0, other_ = 0;
  registry::Patient patient_;
  auth::User doctor_, nurse_, helper_, family_, family2_, outsider_;
  int64_t group_ = 0;
};

}  // namespace tsunagu::care
