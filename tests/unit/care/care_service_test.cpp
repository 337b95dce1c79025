// CareService on SQLite and PostgreSQL: groups, membership, posts, drafts,
// family sharing, comments, read receipts, search, consent and audit; files
// and photos on posts, pins, timeline filters, the cross-group search and
// time series of template items.
#include "care/care_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>

#include "auth/account_service.hpp"
#include "auth/password_hasher.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::care {
namespace {

class CareServiceTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(
        store::ApplyMigrations(db(), {auth::AccountService::Migrations(), CareMigrations()}).ok());
    hasher_ = std::make_unique<auth::PasswordHasher>(auth::PasswordHasher::MinimumLimits());
    accounts_ = std::make_unique<auth::AccountService>(db(), clock_, *hasher_);
    care_ =
        std::make_unique<CareService>(db(), clock_, *patients_, *consents_, *accounts_, *audit_);
    care_blobs_dir_ = tdb_->dir() + "/care-blobs";
    care_blobs_ = std::make_unique<store::BlobStore>(care_blobs_dir_);
    care_->SetFileStore(care_blobs_.get(), CareService::kDefaultFileMaxBytes);
    clinic_ = AddFacility("信夫山内科クリニック");
    station_ =
        AddFacility("ふくしま訪問看護ステーション", registry::FacilityType::kVisitingNurseStation);
    other_ = AddFacility("吾妻ケアプランセンター", registry::FacilityType::kHomeCareSupportOffice);
    patient_ = AddPatient(clinic_, "C-001");
    doctor_ = AddUser("doctor", clinic_, auth::Occupation::kPhysician);
    nurse_ = AddUser("nurse", station_, auth::Occupation::kVisitingNurse);
    helper_ = AddUser("helper", station_, auth::Occupation::kHomeHelper);
    family_ = AddUser("family", clinic_, auth::Occupation::kFamily);
    outsider_ = AddUser("outsider", other_, auth::Occupation::kCareManager);
    Consent(patient_, 0, station_, consent::Scope::kCareTeam);
    Consent(patient_, 0, 0, consent::Scope::kFamily);
  }

  // The care schema the test starts from (all of it unless a test of a
  // migration says otherwise).
  virtual store::MigrationSet CareMigrations() { return CareService::Migrations(); }

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

  int64_t MakeGroup() {
    auto g = care_->CreateGroup(As(doctor_), {patient_.regional_id, "山田太郎さんの在宅チーム"});
    EXPECT_TRUE(g.has_value()) << g.error().ToString();
    if (!g) return 0;
    int64_t id = g->group.id;
    for (const auto* u : {&nurse_, &helper_, &family_}) {
      auto m = care_->AddMember(As(doctor_), id, u->id);
      EXPECT_TRUE(m.has_value()) << m.error().ToString();
    }
    return id;
  }

  NewPost Status(std::vector<TemplateValue> values, bool to_family = false) {
    NewPost p;
    p.kind = PostKind::kStatus;
    p.title = "今日の様子";
    p.values = std::move(values);
    p.to_family = to_family;
    return p;
  }

  NewPost Message(const std::string& body, bool to_family = false) {
    NewPost p;
    p.kind = PostKind::kMessage;
    p.body = body;
    p.to_family = to_family;
    return p;
  }

  Post MustPost(const auth::User& author, int64_t group, const NewPost& post) {
    auto p = care_->CreatePost(As(author), group, post);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
    return p.value_or(Post{});
  }

  std::vector<int64_t> TimelineIds(const auth::User& viewer, int64_t group, TimelineQuery q = {}) {
    auto t = care_->Timeline(As(viewer), group, q);
    EXPECT_TRUE(t.has_value()) << t.error().ToString();
    std::vector<int64_t> ids;
    if (t) {
      for (const auto& s : *t) ids.push_back(s.post.id);
    }
    return ids;
  }

  // Stored blobs of post files (the store's temporary files excluded).
  int64_t BlobFiles() {
    int64_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(care_blobs_dir_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().filename().string().rfind(".tmp", 0) != 0) ++n;
    }
    return n;
  }

  int64_t Count(const std::string& table) {
    auto rs = db().Query("SELECT COUNT(*) FROM " + table);
    return rs && !rs->empty() ? rs->rows[0].Int(0) : -1;
  }

  std::vector<audit::AuditEvent> Events(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    q.limit = 200;
    auto events = audit_->Search(q);
    std::erase_if(events, [&](const auto& e) { return e.action != action; });
    return events;
  }

  std::unique_ptr<auth::PasswordHasher> hasher_;
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<CareService> care_;
  std::string care_blobs_dir_;
  std::unique_ptr<store::BlobStore> care_blobs_;
  int64_t clinic_ = 0, station_ = 0, other_ = 0;
  registry::Patient patient_;
  auth::User doctor_, nurse_, helper_, family_, outsider_;
};

TEST_P(CareServiceTest, PhysicianCreatesOneGroupPerPatientAndAddsTeam) {
  auto g = care_->CreateGroup(As(doctor_), {patient_.regional_id, " 山田さんチーム "});
  ASSERT_TRUE(g.has_value()) << g.error().ToString();
  EXPECT_EQ(g->group.name, "山田さんチーム");
  EXPECT_EQ(g->group.regional_id, patient_.regional_id);
  ASSERT_EQ(g->members.size(), 1u);
  EXPECT_EQ(g->members[0].role, MemberRole::kOwner);

  auto second = care_->CreateGroup(As(doctor_), {patient_.regional_id, "二つ目"});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), core::Code::kConflict);

  auto m = care_->AddMember(As(doctor_), g->group.id, nurse_.id);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->display_name, "nurseさん");
  auto again = care_->AddMember(As(doctor_), g->group.id, nurse_.id);
  EXPECT_EQ(again.error().code(), core::Code::kConflict);

  auto groups = care_->ListGroups(As(nurse_));
  ASSERT_TRUE(groups.has_value());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->at(0).id, g->group.id);
  EXPECT_EQ(Events("care.group.create").size(), 1u);
  EXPECT_EQ(Events("care.member.add").size(), 1u);
}

TEST_P(CareServiceTest, OnlyPhysiciansAndCareManagersOfALinkedFacilityCreateGroups) {
  auto by_nurse = care_->CreateGroup(As(nurse_), {patient_.regional_id, "x"});
  EXPECT_EQ(by_nurse.error().code(), core::Code::kForbidden);
  // The care manager's facility has no link to the patient.
  auto unlinked = care_->CreateGroup(As(outsider_), {patient_.regional_id, "x"});
  EXPECT_EQ(unlinked.error().code(), core::Code::kNotFound);
  auto unnamed = care_->CreateGroup(As(doctor_), {patient_.regional_id, "　"});
  EXPECT_EQ(unnamed.error().message(), "name is required");
  EXPECT_EQ(Count("care_groups"), 0);
}

TEST_P(CareServiceTest, NewGroupsCanWaitForTheSecretariatsApproval) {
  care_->SetGroupApprovalRequired(true);
  auto g = care_->CreateGroup(As(doctor_), {patient_.regional_id, "山田太郎さんの在宅チーム"});
  ASSERT_TRUE(g.has_value()) << g.error().ToString();
  EXPECT_EQ(g->group.approval, "pending");
  const int64_t id = g->group.id;
  // The owner prepares the team; members do not see the group yet and
  // nobody can post.
  ASSERT_TRUE(care_->AddMember(As(doctor_), id, nurse_.id).has_value());
  EXPECT_EQ(care_->GetGroup(As(nurse_), id).error().code(), core::Code::kForbidden);
  auto nurse_groups = care_->ListGroups(As(nurse_));
  ASSERT_TRUE(nurse_groups.has_value());
  EXPECT_TRUE(nurse_groups->empty());
  EXPECT_EQ(care_->CreatePost(As(doctor_), id, Message("はじめまして")).error().code(),
            core::Code::kConflict);

  // Only network admins decide.
  EXPECT_EQ(care_->PendingGroups(As(doctor_), auth::Role::kFacilityAdmin).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(care_->DecideGroup(As(doctor_), auth::Role::kStaff, id, true, "").error().code(),
            core::Code::kForbidden);
  auto admin = AddUser("secretariat", clinic_, auth::Occupation::kClerk);
  auto pending = care_->PendingGroups(As(admin), auth::Role::kNetworkAdmin);
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, id);
  EXPECT_EQ(care_->DecideGroup(As(admin), auth::Role::kNetworkAdmin, id, false, " ").error().code(),
            core::Code::kInvalidInput);

  auto approved = care_->DecideGroup(As(admin), auth::Role::kNetworkAdmin, id, true, "");
  ASSERT_TRUE(approved.has_value()) << approved.error().ToString();
  EXPECT_TRUE(approved->approved());
  EXPECT_TRUE(care_->GetGroup(As(nurse_), id).has_value());
  EXPECT_TRUE(care_->CreatePost(As(doctor_), id, Message("はじめまして")).has_value());
  EXPECT_EQ(care_->DecideGroup(As(admin), auth::Role::kNetworkAdmin, id, true, "").error().code(),
            core::Code::kConflict);
}

TEST_P(CareServiceTest, ARejectedGroupIsClosedAndThePatientMayGetAnother) {
  care_->SetGroupApprovalRequired(true);
  auto g = care_->CreateGroup(As(doctor_), {patient_.regional_id, "山田太郎さんの在宅チーム"});
  ASSERT_TRUE(g.has_value());
  auto admin = AddUser("secretariat", clinic_, auth::Occupation::kClerk);
  auto rejected = care_->DecideGroup(As(admin), auth::Role::kNetworkAdmin, g->group.id, false,
                                     "同じ患者さんのグループが別にあります");
  ASSERT_TRUE(rejected.has_value()) << rejected.error().ToString();
  EXPECT_EQ(rejected->approval, "rejected");
  EXPECT_TRUE(rejected->archived());
  auto again = care_->CreateGroup(As(doctor_), {patient_.regional_id, "在宅チーム（再申請）"});
  EXPECT_TRUE(again.has_value()) << again.error().ToString();
}

TEST_P(CareServiceTest, MemberPickerListsAFacilitysActiveStaff) {
  int64_t group = MakeGroup();
  auto candidates = care_->Candidates(As(doctor_), group, station_);
  ASSERT_TRUE(candidates.has_value()) << candidates.error().ToString();
  // The station's nurse (already a member) and home helper; no family accounts.
  ASSERT_EQ(candidates->size(), 2u);
  for (const auto& c : *candidates) {
    EXPECT_EQ(c.facility_id, station_);
    EXPECT_TRUE(c.member);
  }
  auto other = care_->Candidates(As(nurse_), group, other_);
  ASSERT_TRUE(other.has_value());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].user_id, outsider_.id);
  EXPECT_FALSE((*other)[0].member);
  // Family members and outsiders may not browse staff lists.
  EXPECT_EQ(care_->Candidates(As(family_), group, station_).error().code(), core::Code::kForbidden);
  EXPECT_EQ(care_->Candidates(As(outsider_), group, station_).error().code(),
            core::Code::kForbidden);
}

TEST_P(CareServiceTest, MembersNeedConsentAndOutsidersSeeNothing) {
  int64_t g = MakeGroup();
  // No care-team consent names the outsider's facility.
  auto add = care_->AddMember(As(doctor_), g, outsider_.id);
  ASSERT_FALSE(add.has_value());
  EXPECT_EQ(add.error().code(), core::Code::kForbidden);
  EXPECT_EQ(add.error().message(), "no active care-team consent covers this facility");

  auto read = care_->GetGroup(As(outsider_), g);
  EXPECT_EQ(read.error().code(), core::Code::kForbidden);
  EXPECT_EQ(read.error().message(), "not a member of this care group");
  EXPECT_EQ(care_->Timeline(As(outsider_), g, {}).error().code(), core::Code::kForbidden);
  EXPECT_EQ(care_->GetGroup(As(doctor_), 9999).error().code(), core::Code::kNotFound);
  auto events = Events("care.group.read");  // newest first
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, "failure");  // the unknown group
  EXPECT_EQ(events[1].outcome, "denied");
  EXPECT_EQ(events[1].user_id, outsider_.id);
  EXPECT_EQ(events[1].patient_id, patient_.regional_id);
}

TEST_P(CareServiceTest, WithdrawnConsentEndsAccessAtOnce) {
  int64_t g = MakeGroup();
  auto list = consents_->ActiveFor(patient_.id, consent::Scope::kCareTeam, consents_->Today());
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  ASSERT_TRUE(consents_->Withdraw(list->at(0).id, doctor_.id).has_value());
  auto t = care_->Timeline(As(nurse_), g, {});
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code(), core::Code::kForbidden);
  // The doctor's facility keeps the patient linked.
  EXPECT_TRUE(care_->Timeline(As(doctor_), g, {}).has_value());
}

TEST_P(CareServiceTest, StatusPostStoresOnlyFilledItemsAndRefusesOutOfRange) {
  int64_t g = MakeGroup();
  Post p = MustPost(nurse_, g,
                    Status({{"vital.bp_systolic", "132"},
                            {"vital.bp_diastolic", "84"},
                            {"meal.amount", "half"},
                            {"sleep.night", ""}}));
  EXPECT_EQ(p.values.size(), 3u);
  EXPECT_EQ(p.values[0], (TemplateValue{"meal.amount", "half"}));
  EXPECT_EQ(p.author_name, "nurseさん");
  EXPECT_EQ(Count("care_post_values"), 3);

  auto bad = care_->CreatePost(
      As(nurse_), g, Status({{"vital.bp_systolic", "400"}, {"vital.bp_diastolic", "10"}}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(bad.error().message(), "vital.bp_systolic must be between 50 and 260");
  auto empty_status = care_->CreatePost(As(nurse_), g, Status({{"mood.level", " "}}));
  EXPECT_EQ(empty_status.error().message(),
            "a status post needs at least one filled template item");
  auto empty_message = care_->CreatePost(As(nurse_), g, Message("  "));
  EXPECT_EQ(empty_message.error().message(), "body is required");
  auto by_outsider = care_->CreatePost(As(outsider_), g, Message("こんにちは"));
  EXPECT_EQ(by_outsider.error().code(), core::Code::kForbidden);
  auto by_family = care_->CreatePost(As(family_), g, Message("ありがとうございます"));
  EXPECT_EQ(by_family.error().code(), core::Code::kForbidden);
  EXPECT_EQ(Count("care_posts"), 1);
  EXPECT_EQ(Count("care_post_values"), 3);
  EXPECT_EQ(Events("care.post.create").back().reason.find("132"), std::string::npos);
}

TEST_P(CareServiceTest, DraftsAreVisibleOnlyToTheirAuthorUntilPublished) {
  int64_t g = MakeGroup();
  NewPost draft = Message("下書きです");
  draft.draft = true;
  Post d = MustPost(nurse_, g, draft);
  EXPECT_TRUE(d.draft);
  EXPECT_EQ(TimelineIds(nurse_, g), std::vector<int64_t>{d.id});
  EXPECT_TRUE(TimelineIds(doctor_, g).empty());
  EXPECT_EQ(care_->OpenPost(As(doctor_), d.id).error().code(), core::Code::kNotFound);
  EXPECT_EQ(care_->PublishDraft(As(doctor_), d.id).error().code(), core::Code::kNotFound);

  auto published = care_->PublishDraft(As(nurse_), d.id);
  ASSERT_TRUE(published.has_value()) << published.error().ToString();
  EXPECT_FALSE(published->draft);
  EXPECT_EQ(TimelineIds(doctor_, g), std::vector<int64_t>{d.id});
  EXPECT_EQ(care_->PublishDraft(As(nurse_), d.id).error().code(), core::Code::kConflict);
}

TEST_P(CareServiceTest, FamilySeesOnlyPostsPublishedToTheFamily) {
  int64_t g = MakeGroup();
  Post team = MustPost(nurse_, g, Message("褥瘡の処置をしました"));
  clock_.Advance(1000);
  Post shared = MustPost(nurse_, g, Status({{"mood.level", "good"}}, /*to_family=*/true));
  EXPECT_EQ(TimelineIds(family_, g), std::vector<int64_t>{shared.id});
  EXPECT_EQ(care_->OpenPost(As(family_), team.id).error().code(), core::Code::kNotFound);
  auto opened = care_->OpenPost(As(family_), shared.id);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  // Audience of the team-only post excludes the family member.
  auto t = care_->Timeline(As(doctor_), g, {});
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(t->at(0).post.id, shared.id);
  EXPECT_EQ(t->at(0).audience_count, 3);  // doctor, helper, family
  EXPECT_EQ(t->at(0).read_count, 1);      // family
  EXPECT_EQ(t->at(1).audience_count, 2);  // doctor, helper
  // Family can comment on what they see.
  EXPECT_TRUE(care_->AddComment(As(family_), shared.id, "安心しました").has_value());
}

TEST_P(CareServiceTest, OpeningMarksReadAndShowsWhoReadIt) {
  int64_t g = MakeGroup();
  Post older = MustPost(doctor_, g, Message("往診は木曜日です"));
  clock_.Advance(1000);
  Post newer = MustPost(doctor_, g, Message("薬が変わりました"));
  EXPECT_EQ(TimelineIds(nurse_, g), (std::vector<int64_t>{newer.id, older.id}));

  auto opened = care_->OpenPost(As(nurse_), newer.id);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_TRUE(opened->summary.read);
  EXPECT_EQ(opened->summary.read_count, 1);
  EXPECT_EQ(opened->summary.audience_count, 2);  // nurse, helper (family: not published to them)
  ASSERT_EQ(opened->readers.size(), 1u);
  EXPECT_EQ(opened->readers[0].display_name, "nurseさん");
  // Opening twice reads once.
  ASSERT_TRUE(care_->OpenPost(As(nurse_), newer.id).has_value());
  EXPECT_EQ(Count("care_reads"), 1);

  TimelineQuery unread_first;
  unread_first.unread_first = true;
  EXPECT_EQ(TimelineIds(nurse_, g, unread_first), (std::vector<int64_t>{older.id, newer.id}));
  auto t = care_->Timeline(As(nurse_), g, unread_first);
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->at(0).read);
  EXPECT_TRUE(t->at(1).read);
  EXPECT_EQ(Events("care.post.read").size(), 2u);
}

TEST_P(CareServiceTest, RemovalAndLeavingRevokeAccessAtOnce) {
  int64_t g = MakeGroup();
  Post p = MustPost(doctor_, g, Message("連絡事項"));
  ASSERT_TRUE(care_->OpenPost(As(helper_), p.id).has_value());
  EXPECT_EQ(care_->RemoveMember(As(nurse_), g, helper_.id).code(), core::Code::kForbidden);
  ASSERT_TRUE(care_->RemoveMember(As(doctor_), g, helper_.id).ok());
  EXPECT_EQ(care_->OpenPost(As(helper_), p.id).error().code(), core::Code::kForbidden);
  EXPECT_EQ(care_->AddComment(As(helper_), p.id, "x").error().code(), core::Code::kForbidden);
  // The helper's earlier read no longer counts.
  auto opened = care_->OpenPost(As(doctor_), p.id);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->summary.read_count, 0);
  EXPECT_TRUE(opened->readers.empty());

  ASSERT_TRUE(care_->RemoveMember(As(nurse_), g, nurse_.id).ok());
  EXPECT_EQ(care_->Timeline(As(nurse_), g, {}).error().code(), core::Code::kForbidden);
  EXPECT_EQ(care_->RemoveMember(As(doctor_), g, doctor_.id).code(), core::Code::kConflict);
}

TEST_P(CareServiceTest, AuthorsDeleteOwnPostsAndDeletedPostsTakeNoComments) {
  int64_t g = MakeGroup();
  Post p = MustPost(nurse_, g, Message("明日は訪問なし"));
  EXPECT_TRUE(care_->AddComment(As(doctor_), p.id, "了解です").has_value());
  EXPECT_EQ(care_->DeletePost(As(doctor_), p.id).code(), core::Code::kForbidden);
  ASSERT_TRUE(care_->DeletePost(As(nurse_), p.id).ok());
  EXPECT_TRUE(TimelineIds(doctor_, g).empty());
  EXPECT_EQ(care_->OpenPost(As(doctor_), p.id).error().code(), core::Code::kNotFound);
  auto comment = care_->AddComment(As(doctor_), p.id, "追記");
  ASSERT_FALSE(comment.has_value());
  EXPECT_EQ(comment.error().code(), core::Code::kConflict);
  EXPECT_EQ(comment.error().message(), "the post was deleted");
  EXPECT_EQ(Count("care_comments"), 1);
  EXPECT_EQ(Count("care_posts"), 1);  // soft delete
  auto deleted = Events("care.post.delete");
  ASSERT_EQ(deleted.size(), 2u);  // one denied, one success
  EXPECT_EQ(deleted[0].outcome, "success");
  EXPECT_EQ(deleted[0].object, "care_post:" + std::to_string(p.id));
}

TEST_P(CareServiceTest, CommentsAreShownOldestFirst) {
  int64_t g = MakeGroup();
  Post p = MustPost(nurse_, g, Message("食欲が落ちています"));
  ASSERT_TRUE(care_->AddComment(As(doctor_), p.id, "様子を見ましょう").has_value());
  ASSERT_TRUE(care_->AddComment(As(helper_), p.id, "おかゆにします").has_value());
  EXPECT_EQ(care_->AddComment(As(doctor_), p.id, "   ").error().message(), "body is required");
  auto opened = care_->OpenPost(As(nurse_), p.id);
  ASSERT_TRUE(opened.has_value());
  ASSERT_EQ(opened->comments.size(), 2u);
  EXPECT_EQ(opened->comments[0].body, "様子を見ましょう");
  EXPECT_EQ(opened->comments[1].author_name, "helperさん");
  EXPECT_EQ(opened->summary.post.comment_count, 2);
  auto page = care_->Timeline(As(doctor_), g, {});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->at(0).post.comment_count, 2);
}

TEST_P(CareServiceTest, SearchNeedsEveryWordAndFoldsKana) {
  int64_t g = MakeGroup();
  Post swelling = MustPost(nurse_, g, Message("右足のムクミが強くなっています。"));
  Post meal = MustPost(nurse_, g, Status({{"note.text", "昼食は半分、むくみなし"}}));
  MustPost(nurse_, g, Message("入浴介助を実施"));
  auto search = [&](const std::string& words) {
    TimelineQuery q;
    q.words = words;
    auto ids = TimelineIds(doctor_, g, q);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(search("むくみ"), (std::vector<int64_t>{swelling.id, meal.id}));
  EXPECT_EQ(search("足　むくみ"), std::vector<int64_t>{swelling.id});
  EXPECT_EQ(search("昼食 ﾑｸﾐ"), std::vector<int64_t>{meal.id});
  EXPECT_TRUE(search("むくみ 発熱").empty());
  EXPECT_TRUE(search("100%").empty());
  EXPECT_EQ(Events("care.post.search").size(), 5u);
}

TEST_P(CareServiceTest, ArchivedGroupIsReadOnly) {
  int64_t g = MakeGroup();
  Post p = MustPost(nurse_, g, Message("最終訪問でした"));
  EXPECT_EQ(care_->ArchiveGroup(As(nurse_), g).error().code(), core::Code::kForbidden);
  auto archived = care_->ArchiveGroup(As(doctor_), g);
  ASSERT_TRUE(archived.has_value()) << archived.error().ToString();
  EXPECT_TRUE(archived->archived());
  EXPECT_EQ(care_->CreatePost(As(nurse_), g, Message("追加")).error().code(),
            core::Code::kConflict);
  EXPECT_EQ(care_->AddComment(As(doctor_), p.id, "x").error().code(), core::Code::kConflict);
  EXPECT_EQ(TimelineIds(nurse_, g), std::vector<int64_t>{p.id});
  // The patient may get a new group after archiving.
  EXPECT_TRUE(care_->CreateGroup(As(doctor_), {patient_.regional_id, "新チーム"}).has_value());
}

// --- files, pins, filters, search, series -----------------------------------

std::string Jpeg(const std::string& tag) { return std::string("\xFF\xD8\xFF\xE0", 4) + tag; }
std::string Png(const std::string& tag) { return std::string("\x89PNG\r\n\x1A\n", 8) + tag; }
std::string Pdf(const std::string& tag) { return "%PDF-1.4\n" + tag; }
std::string Exe() { return std::string("MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF", 14); }

NewAttachment File(const std::string& name, const std::string& type, const std::string& bytes) {
  return NewAttachment{name, type, bytes};
}

NewPost WithFiles(PostKind kind, std::vector<NewAttachment> files, const std::string& body = "",
                  bool to_family = false) {
  NewPost p;
  p.kind = kind;
  p.body = body;
  p.files = std::move(files);
  p.to_family = to_family;
  return p;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PostEventRecorder : public CareListener {
 public:
  void OnCareEvent(const CareEvent& e) override { events.push_back(e); }
  std::vector<CareEvent> events;
};

TEST_P(CareServiceTest, TheAuthorHearsOfTheFirstReadOfEachReader) {
  int64_t g = MakeGroup();
  Post p = MustPost(nurse_, g, Message("明日の訪問時間を変更します"));
  PostEventRecorder listener;
  care_->SetListener(&listener);
  ASSERT_TRUE(care_->OpenPost(As(doctor_), p.id).has_value());
  ASSERT_TRUE(care_->OpenPost(As(doctor_), p.id).has_value());  // read again: no news
  ASSERT_TRUE(care_->OpenPost(As(nurse_), p.id).has_value());   // the author's own read
  care_->SetListener(nullptr);
  ASSERT_EQ(listener.events.size(), 1u);
  EXPECT_EQ(listener.events[0].kind, CareEvent::Kind::kRead);
  EXPECT_EQ(listener.events[0].post_id, p.id);
  EXPECT_EQ(listener.events[0].actor_id, doctor_.id);
  EXPECT_EQ(listener.events[0].recipients, std::vector<int64_t>{nurse_.id});
}

TEST_P(CareServiceTest, PhotoPostCarriesFilesThatOnlyItsAudienceMayOpen) {
  int64_t g = MakeGroup();
  PostEventRecorder listener;
  care_->SetListener(&listener);
  Post p = MustPost(nurse_, g,
                    WithFiles(PostKind::kPhoto,
                              {File("残薬.jpg", "image/jpeg", Jpeg("leftover")),
                               File("薬剤情報.pdf", "application/pdf", Pdf("drug info"))},
                              "残薬の写真です"));
  care_->SetListener(nullptr);
  EXPECT_EQ(p.kind, PostKind::kPhoto);
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_EQ(p.attachments[0].file_name, "残薬.jpg");
  EXPECT_EQ(p.attachments[0].content_type, "image/jpeg");
  EXPECT_EQ(p.attachments[0].kind, AttachmentKind::kImage);
  EXPECT_EQ(p.attachments[0].size, 12);
  EXPECT_EQ(p.attachments[1].content_type, "application/pdf");
  EXPECT_EQ(p.attachments[1].kind, AttachmentKind::kPdf);
  EXPECT_EQ(Count("care_files"), 2);
  EXPECT_EQ(BlobFiles(), 2);
  ASSERT_EQ(listener.events.size(), 1u);
  EXPECT_EQ(listener.events[0].post_id, p.id);

  auto opened = care_->OpenFile(As(doctor_), p.attachments[0].id);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(ReadAll(opened->path), Jpeg("leftover"));
  EXPECT_EQ(opened->attachment.file_name, "残薬.jpg");
  auto reads = Events("care.file.read");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].object, "care_file:" + std::to_string(p.attachments[0].id));
  EXPECT_EQ(reads[0].patient_id, patient_.regional_id);

  // The timeline and the post screen list the files.
  auto t = care_->Timeline(As(doctor_), g, {});
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ(t->at(0).post.attachments.size(), 2u);
  EXPECT_EQ(t->at(0).post.author_name, "nurseさん");
  auto detail = care_->OpenPost(As(doctor_), p.id);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->summary.post.attachments.at(1).file_name, "薬剤情報.pdf");

  // Not published to the family; outsiders are not members; unknown ids.
  EXPECT_EQ(care_->OpenFile(As(family_), p.attachments[0].id).error().code(),
            core::Code::kNotFound);
  EXPECT_EQ(care_->OpenFile(As(outsider_), p.attachments[0].id).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(care_->OpenFile(As(doctor_), 99999).error().code(), core::Code::kNotFound);
  // Deleted posts' files are gone for everyone.
  ASSERT_TRUE(care_->DeletePost(As(nurse_), p.id).ok());
  auto gone = care_->OpenFile(As(doctor_), p.attachments[0].id);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), core::Code::kNotFound);
  EXPECT_EQ(care_->OpenFile(As(nurse_), p.attachments[1].id).error().code(), core::Code::kNotFound);
  reads = Events("care.file.read");
  EXPECT_EQ(std::count_if(reads.begin(), reads.end(),
                          [](const auto& e) { return e.outcome == "success"; }),
            1);
  EXPECT_EQ(reads.size(), 6u);  // every refusal is recorded too
}

TEST_P(CareServiceTest, DraftFilesAreTheAuthorsAndFamilyOpensFamilyPostsFiles) {
  int64_t g = MakeGroup();
  NewPost draft = WithFiles(PostKind::kFile, {File("計画書.pdf", "", Pdf("plan"))});
  draft.draft = true;
  Post d = MustPost(nurse_, g, draft);
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(care_->OpenFile(As(doctor_), d.attachments.at(0).id).error().code(),
            core::Code::kNotFound);
  EXPECT_TRUE(care_->OpenFile(As(nurse_), d.attachments.at(0).id).has_value());

  // A status post may carry a photo (残薬) and be published to the family.
  NewPost status = Status({{"medication.leftover", "3錠"}}, /*to_family=*/true);
  status.files = {File("IMG_0001.HEIC", "image/heic",
                       std::string("\0\0\0\x18"
                                   "ftypheic\0\0\0\0mif1",
                                   24))};
  Post shared = MustPost(nurse_, g, status);
  ASSERT_EQ(shared.attachments.size(), 1u);
  EXPECT_EQ(shared.attachments[0].content_type, "image/heic");
  auto by_family = care_->OpenFile(As(family_), shared.attachments[0].id);
  ASSERT_TRUE(by_family.has_value()) << by_family.error().ToString();
}

TEST_P(CareServiceTest, FilesAreCheckedByTheirBytesAndRefusedPostsStoreNothing) {
  int64_t g = MakeGroup();
  auto refused = [&](NewPost post) {
    auto r = care_->CreatePost(As(nurse_), g, post);
    EXPECT_FALSE(r.has_value());
    return r ? core::Status::Ok() : r.error();
  };
  core::Status exe = refused(WithFiles(PostKind::kPhoto, {File("photo.jpg", "image/jpeg", Exe())}));
  EXPECT_EQ(exe.code(), core::Code::kInvalidInput);
  EXPECT_EQ(exe.message(), "file type not allowed");
  core::Status not_image =
      refused(WithFiles(PostKind::kFile, {File("scan.jpg", "image/jpeg", Pdf("x"))}));
  EXPECT_EQ(not_image.message(), "file type not allowed: file 1 is not an image");
  EXPECT_EQ(
      refused(WithFiles(PostKind::kPhoto, {File("a.pdf", "application/pdf", Pdf("x"))})).message(),
      "a photo post needs at least one image");
  EXPECT_EQ(refused(WithFiles(PostKind::kFile, {})).message(),
            "a file post needs at least one file");
  EXPECT_EQ(refused(WithFiles(PostKind::kFile, {File("a.pdf", "", "")})).message(),
            "file 1 is empty");
  EXPECT_EQ(refused(WithFiles(PostKind::kFile, {File("a\x01.pdf", "", Pdf("x"))})).message(),
            "file 1: name must not contain control characters");
  std::vector<NewAttachment> eleven(11, File("a.png", "image/png", Png("x")));
  EXPECT_EQ(refused(WithFiles(PostKind::kPhoto, eleven)).message(), "at most 10 files per post");
  NewPost with_values = WithFiles(PostKind::kPhoto, {File("a.png", "", Png("x"))});
  with_values.values = {{"mood.level", "good"}};
  EXPECT_EQ(refused(with_values).message(), "only status posts carry template values");
  // The second file is over the limit: the first one is not written either.
  care_->SetFileStore(care_blobs_.get(), 16);
  core::Status big = refused(WithFiles(
      PostKind::kPhoto, {File("a.png", "", Png("ok")), File("b.png", "", Png("0123456789"))}));
  EXPECT_EQ(big.code(), core::Code::kTooLarge);
  EXPECT_EQ(Count("care_posts"), 0);
  EXPECT_EQ(Count("care_files"), 0);
  EXPECT_EQ(BlobFiles(), 0);

  // Only the last segment of a path-like name is kept.
  Post p = MustPost(nurse_, g,
                    WithFiles(PostKind::kPhoto, {File("C:\\Users\\me\\写真.png", "", Png("ok"))}));
  EXPECT_EQ(p.attachments.at(0).file_name, "写真.png");
}

TEST_P(CareServiceTest, AFailedCommitRemovesOnlyTheBlobsNoPostUses) {
  int64_t g = MakeGroup();
  Post first = MustPost(nurse_, g, WithFiles(PostKind::kPhoto, {File("a.jpg", "", Jpeg("same"))}));
  ASSERT_EQ(BlobFiles(), 1);
  // Make the next insert of a file row fail inside the transaction.
  if (GetParam() == tsunagu::testing::Backend::kSqlite) {
    ASSERT_TRUE(db().Execute("CREATE TRIGGER care_files_fail BEFORE INSERT ON care_files "
                             "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
                    .has_value());
  } else {
    ASSERT_TRUE(db().Execute("CREATE FUNCTION care_files_fail() RETURNS trigger AS $$ BEGIN "
                             "RAISE EXCEPTION 'disk trouble'; END $$ LANGUAGE plpgsql")
                    .has_value());
    ASSERT_TRUE(db().Execute("CREATE TRIGGER care_files_fail BEFORE INSERT ON care_files FOR "
                             "EACH ROW EXECUTE FUNCTION care_files_fail()")
                    .has_value());
  }
  auto failed = care_->CreatePost(As(nurse_), g,
                                  WithFiles(PostKind::kPhoto, {File("b.jpg", "", Jpeg("same")),
                                                               File("c.png", "", Png("new"))}));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(Count("care_posts"), 1);
  EXPECT_EQ(Count("care_files"), 1);
  // The shared bytes stay for the first post; the new ones are gone.
  EXPECT_EQ(BlobFiles(), 1);
  auto still = care_->OpenFile(As(doctor_), first.attachments.at(0).id);
  ASSERT_TRUE(still.has_value()) << still.error().ToString();
  EXPECT_EQ(ReadAll(still->path), Jpeg("same"));
}

TEST_P(CareServiceTest, PinsArePrivateColourLabels) {
  int64_t g = MakeGroup();
  Post older = MustPost(doctor_, g, Message("往診の予定", /*to_family=*/true));
  clock_.Advance(1000);
  Post newer = MustPost(doctor_, g, Message("処方変更"));
  auto set = care_->SetPins(As(nurse_), older.id, {"blue", "red", "blue"});
  ASSERT_TRUE(set.has_value()) << set.error().ToString();
  EXPECT_EQ(*set, (std::vector<std::string>{"red", "blue"}));
  auto nurse_view = care_->Timeline(As(nurse_), g, {});
  ASSERT_TRUE(nurse_view.has_value());
  EXPECT_TRUE(nurse_view->at(0).pins.empty());
  EXPECT_EQ(nurse_view->at(1).pins, (std::vector<std::string>{"red", "blue"}));
  auto doctor_view = care_->Timeline(As(doctor_), g, {});
  ASSERT_TRUE(doctor_view.has_value());
  EXPECT_TRUE(doctor_view->at(1).pins.empty());  // pins are the viewer's own

  TimelineQuery red;
  red.pin = "red";
  EXPECT_EQ(TimelineIds(nurse_, g, red), std::vector<int64_t>{older.id});
  EXPECT_TRUE(TimelineIds(doctor_, g, red).empty());
  ASSERT_TRUE(care_->SetPins(As(doctor_), newer.id, {"red"}).has_value());
  EXPECT_EQ(TimelineIds(doctor_, g, red), std::vector<int64_t>{newer.id});
  auto detail = care_->OpenPost(As(nurse_), older.id);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->summary.pins, (std::vector<std::string>{"red", "blue"}));

  auto bad = care_->SetPins(As(nurse_), older.id, {"pink"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(Count("care_pins"), 3);
  ASSERT_TRUE(care_->SetPins(As(nurse_), older.id, {}).has_value());
  EXPECT_TRUE(TimelineIds(nurse_, g, red).empty());
  EXPECT_EQ(Count("care_pins"), 1);

  // The family pins what they see, nothing else.
  EXPECT_TRUE(care_->SetPins(As(family_), older.id, {"green"}).has_value());
  EXPECT_EQ(care_->SetPins(As(family_), newer.id, {"green"}).error().code(), core::Code::kNotFound);
  ASSERT_TRUE(care_->DeletePost(As(doctor_), newer.id).ok());
  EXPECT_EQ(care_->SetPins(As(doctor_), newer.id, {"red"}).error().code(), core::Code::kConflict);
  EXPECT_EQ(Events("care.post.pin").size(), 6u);  // a bad colour is refused before any read
}

TEST_P(CareServiceTest, TimelineFiltersCombine) {
  int64_t g = MakeGroup();
  // The clock starts at 2026-01-01 09:00 Japan time.
  Post a = MustPost(doctor_, g, Message("血圧の薬を変更"));
  clock_.Advance(86'400'000);  // 2026-01-02 09:00
  Post b = MustPost(nurse_, g, Message("血圧は安定"));
  clock_.Advance(39 * 3'600'000);  // 2026-01-04 00:00, the first moment of the day
  Post c = MustPost(nurse_, g, Status({{"vital.pulse", "72"}}));
  auto ids = [&](auto fill) {
    TimelineQuery q;
    fill(q);
    return TimelineIds(helper_, g, q);
  };
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(ids([&](TimelineQuery& q) { q.author_id = nurse_.id; }), (Ids{c.id, b.id}));
  EXPECT_EQ(ids([](TimelineQuery& q) { q.occupation = "physician"; }), (Ids{a.id}));
  EXPECT_EQ(ids([](TimelineQuery& q) { q.occupation = "visiting_nurse"; }), (Ids{c.id, b.id}));
  EXPECT_TRUE(ids([](TimelineQuery& q) { q.occupation = "pharmacist"; }).empty());
  EXPECT_EQ(ids([](TimelineQuery& q) {
              q.from = "2026-01-02";
              q.to = "2026-01-03";
            }),
            (Ids{b.id}));
  EXPECT_EQ(ids([](TimelineQuery& q) { q.from = "2026-01-04"; }), (Ids{c.id}));
  EXPECT_EQ(ids([](TimelineQuery& q) { q.to = "2026-01-03"; }), (Ids{b.id, a.id}));
  EXPECT_EQ(ids([&](TimelineQuery& q) {
              q.author_id = nurse_.id;
              q.words = "血圧";
            }),
            (Ids{b.id}));
  EXPECT_EQ(ids([&](TimelineQuery& q) {
              q.occupation = "visiting_nurse";
              q.from = "2026-01-04";
              q.to = "2026-01-04";
            }),
            (Ids{c.id}));

  auto refused = [&](auto fill) {
    TimelineQuery q;
    fill(q);
    auto t = care_->Timeline(As(helper_), g, q);
    EXPECT_FALSE(t.has_value());
    return t ? std::string() : t.error().message();
  };
  EXPECT_EQ(refused([](TimelineQuery& q) { q.from = "2026-02-30"; }),
            "from must be a date YYYY-MM-DD");
  EXPECT_EQ(refused([](TimelineQuery& q) { q.to = "2026/01/01"; }), "to must be a date YYYY-MM-DD");
  EXPECT_EQ(refused([](TimelineQuery& q) {
              q.from = "2026-01-05";
              q.to = "2026-01-04";
            }),
            "from must not be after to");
  EXPECT_EQ(refused([](TimelineQuery& q) { q.occupation = "wizard"; }),
            "occupation must be an occupation code");
  EXPECT_EQ(refused([](TimelineQuery& q) { q.pin = "pink"; }),
            "pin must be one of red, orange, yellow, green, blue, purple");
  EXPECT_EQ(refused([](TimelineQuery& q) { q.author_id = -1; }), "author must be a user id");
}

TEST_P(CareServiceTest, SearchFindsPostsInAllOfTheUsersGroups) {
  int64_t g1 = MakeGroup();
  registry::Patient other_patient = AddPatient(clinic_, "C-002");
  int64_t consent = Consent(other_patient, 0, station_, consent::Scope::kCareTeam);
  auto g2 = care_->CreateGroup(As(doctor_), {other_patient.regional_id, "佐藤さんの在宅チーム"});
  ASSERT_TRUE(g2.has_value()) << g2.error().ToString();
  ASSERT_TRUE(care_->AddMember(As(doctor_), g2->group.id, nurse_.id).has_value());

  Post p1 = MustPost(doctor_, g1, Message("右足のむくみ"));
  clock_.Advance(1000);
  Post p2 = MustPost(doctor_, g2->group.id, Message("ムクミが改善しました"));
  clock_.Advance(1000);
  MustPost(doctor_, g2->group.id, Message("発熱なし"));
  clock_.Advance(1000);
  NewPost draft = Message("むくみの下書き");
  draft.draft = true;
  Post d = MustPost(doctor_, g1, draft);
  clock_.Advance(1000);
  Post fam = MustPost(doctor_, g1, Message("むくみは軽くなりました", /*to_family=*/true));
  ASSERT_TRUE(care_->OpenPost(As(nurse_), p2.id).has_value());

  auto search = [&](const auth::User& u, TimelineQuery q) {
    auto found = care_->Search(As(u), q);
    EXPECT_TRUE(found.has_value()) << found.error().ToString();
    std::vector<int64_t> ids;
    if (found) {
      for (const auto& f : *found) ids.push_back(f.summary.post.id);
    }
    return ids;
  };
  TimelineQuery q;
  q.words = "むくみ";
  using Ids = std::vector<int64_t>;
  auto found = care_->Search(As(nurse_), q);
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ(found->at(0).summary.post.id, fam.id);
  EXPECT_EQ(found->at(0).group_name, "山田太郎さんの在宅チーム");
  EXPECT_EQ(found->at(1).summary.post.id, p2.id);
  EXPECT_EQ(found->at(1).group_name, "佐藤さんの在宅チーム");
  EXPECT_TRUE(found->at(1).summary.read);
  EXPECT_EQ(found->at(1).summary.read_count, 1);
  EXPECT_EQ(found->at(1).summary.audience_count, 1);  // the nurse
  EXPECT_EQ(found->at(2).summary.post.author_name, "doctorさん");
  EXPECT_EQ(search(helper_, q), (Ids{fam.id, p1.id}));  // not a member of the second group
  EXPECT_EQ(search(family_, q), (Ids{fam.id}));
  EXPECT_EQ(search(doctor_, q), (Ids{fam.id, d.id, p2.id, p1.id}));  // own draft
  EXPECT_TRUE(search(outsider_, q).empty());
  TimelineQuery page = q;
  page.limit = 1;
  page.offset = 1;
  EXPECT_EQ(search(nurse_, page), (Ids{p2.id}));
  TimelineQuery by_group_filter;
  by_group_filter.author_id = doctor_.id;
  by_group_filter.from = "2026-01-01";
  EXPECT_EQ(search(nurse_, by_group_filter).size(), 4u);

  auto events = Events("care.post.search");
  ASSERT_EQ(events.size(), 7u);  // once per call
  EXPECT_EQ(events.back().object, "care_search");
  EXPECT_EQ(events.back().reason.find("むくみ"), std::string::npos);

  auto empty = care_->Search(As(nurse_), {});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), core::Code::kInvalidInput);

  // Consent withdrawn for the second patient: that group drops out at once.
  ASSERT_TRUE(consents_->Withdraw(consent, doctor_.id).has_value());
  EXPECT_EQ(search(nurse_, q), (Ids{fam.id, p1.id}));
}

TEST_P(CareServiceTest, SeriesListsNumericItemsOldestFirst) {
  int64_t g = MakeGroup();
  Post s1 = MustPost(nurse_, g,
                     Status({{"vital.bp_systolic", "130"},
                             {"vital.bp_diastolic", "80"},
                             {"vital.temperature", "36.5"}}));
  clock_.Advance(86'400'000);
  Post s2 = MustPost(nurse_, g,
                     Status({{"vital.bp_systolic", "142"}, {"vital.bp_diastolic", "90"}}, true));
  clock_.Advance(86'400'000);
  NewPost draft = Status({{"vital.bp_systolic", "150"}, {"vital.bp_diastolic", "95"}});
  draft.draft = true;
  MustPost(nurse_, g, draft);
  Post s3 =
      MustPost(nurse_, g, Status({{"vital.bp_systolic", "120"}, {"vital.bp_diastolic", "70"}}));
  ASSERT_TRUE(care_->DeletePost(As(nurse_), s3.id).ok());
  clock_.Advance(86'400'000);
  Post s4 = MustPost(nurse_, g, Status({{"vital.temperature", "37.2"}}));

  SeriesQuery q;
  q.items = {"vital.bp_systolic", "vital.temperature"};
  auto series = care_->Series(As(doctor_), g, q);
  ASSERT_TRUE(series.has_value()) << series.error().ToString();
  ASSERT_EQ(series->size(), 2u);
  EXPECT_EQ(series->at(0).item, "vital.bp_systolic");
  ASSERT_EQ(series->at(0).points.size(), 2u);
  EXPECT_EQ(series->at(0).points[0].post_id, s1.id);
  EXPECT_EQ(series->at(0).points[0].value, 130);
  EXPECT_EQ(series->at(0).points[0].at, s1.published_at);
  EXPECT_EQ(series->at(0).points[1].value, 142);
  ASSERT_EQ(series->at(1).points.size(), 2u);
  EXPECT_DOUBLE_EQ(series->at(1).points[0].value, 36.5);
  EXPECT_EQ(series->at(1).points[1].post_id, s4.id);

  auto family = care_->Series(As(family_), g, q);
  ASSERT_TRUE(family.has_value()) << family.error().ToString();
  ASSERT_EQ(family->at(0).points.size(), 1u);
  EXPECT_EQ(family->at(0).points[0].post_id, s2.id);
  EXPECT_TRUE(family->at(1).points.empty());

  SeriesQuery ranged = q;
  ranged.from = "2026-01-02";
  ranged.to = "2026-01-03";
  auto in_range = care_->Series(As(doctor_), g, ranged);
  ASSERT_TRUE(in_range.has_value());
  ASSERT_EQ(in_range->at(0).points.size(), 1u);
  EXPECT_EQ(in_range->at(0).points[0].post_id, s2.id);
  EXPECT_TRUE(in_range->at(1).points.empty());

  auto refused = [&](std::vector<std::string> items, std::string from = "") {
    SeriesQuery bad;
    bad.items = std::move(items);
    bad.from = std::move(from);
    auto r = care_->Series(As(doctor_), g, bad);
    EXPECT_FALSE(r.has_value());
    return r ? std::string() : r.error().message();
  };
  EXPECT_EQ(refused({}), "items is required");
  EXPECT_EQ(refused({"note.text"}), "note.text is not a numeric item");
  EXPECT_EQ(refused({"meal.amount"}), "meal.amount is not a numeric item");
  EXPECT_EQ(refused({"vital.nothing"}), "unknown template item vital.nothing");
  EXPECT_EQ(refused({"vital.pulse", "vital.pulse"}), "duplicate item vital.pulse");
  EXPECT_EQ(refused({"vital.pulse"}, "yesterday"), "from must be a date YYYY-MM-DD");
  EXPECT_EQ(care_->Series(As(outsider_), g, q).error().code(), core::Code::kForbidden);
  auto events = Events("care.series.read");
  ASSERT_EQ(events.size(), 4u);  // three reads, one refusal
  EXPECT_EQ(events[0].outcome, "denied");
  EXPECT_EQ(events[1].reason, "vital.bp_systolic,vital.temperature");
}

INSTANTIATE_TEST_SUITE_P(Backends, CareServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

// A database whose posts were written before the posts' rows carried their
// template values and comment count: the migration fills both in.
class CareValuesMigrationTest : public CareServiceTest {
 protected:
  store::MigrationSet CareMigrations() override {
    store::MigrationSet before = CareService::Migrations();
    before.steps.pop_back();
    return before;
  }
};

TEST_P(CareValuesMigrationTest, PostsWrittenBeforeShowTheirValuesAndCommentCounts) {
  int64_t g = MakeGroup();  // groups and members are unchanged by the step
  auto insert_post = [&](int64_t id, const std::string& kind, int64_t at) {
    ASSERT_TRUE(db().Execute("INSERT INTO care_posts (id, group_id, patient_id, author_id, "
                             "author_occupation, kind, title, body, search_text, to_family, "
                             "draft, created_at, published_at, sort_at) VALUES "
                             "(?, ?, ?, ?, 'visiting_nurse', ?, '今日の様子', '', '', 0, 0, ?, "
                             "?, ?)",
                             {store::Value{id}, store::Value{g}, store::Value{patient_.id},
                              store::Value{nurse_.id}, store::Value{kind}, store::Value{at},
                              store::Value{at}, store::Value{at}})
                    .has_value());
  };
  insert_post(101, "status", 1000);
  insert_post(102, "message", 2000);
  // Written out of catalogue order; a text value with a quote and a line break.
  const std::vector<std::tuple<int64_t, std::string, std::string>> values = {
      {9, "vital.temperature", "36.8"},
      {6, "vital.bp_systolic", "128"},
      {30, "note.text", "足の \"むくみ\"\nあり"},
      {7, "vital.bp_diastolic", "78"}};
  for (const auto& [position, item, value] : values) {
    ASSERT_TRUE(db().Execute("INSERT INTO care_post_values (post_id, patient_id, position, item, "
                             "value) VALUES (101, ?, ?, ?, ?)",
                             {store::Value{patient_.id}, store::Value{position}, store::Value{item},
                              store::Value{value}})
                    .has_value());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(db().Execute("INSERT INTO care_comments (post_id, author_id, body, created_at) "
                             "VALUES (102, ?, '了解です', 3000)",
                             {store::Value{doctor_.id}})
                    .has_value());
  }

  ASSERT_TRUE(store::ApplyMigrations(db(), {CareService::Migrations()}).ok());
  auto page = care_->Timeline(As(doctor_), g, {});
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->size(), 2u);
  const Post& message = page->at(0).post;
  const Post& status = page->at(1).post;
  EXPECT_EQ(message.id, 102);
  EXPECT_EQ(message.comment_count, 3);
  EXPECT_TRUE(message.values.empty());
  EXPECT_EQ(status.comment_count, 0);
  const std::vector<TemplateValue> in_order = {{"vital.bp_systolic", "128"},
                                               {"vital.bp_diastolic", "78"},
                                               {"vital.temperature", "36.8"},
                                               {"note.text", "足の \"むくみ\"\nあり"}};
  ASSERT_EQ(status.values.size(), in_order.size());
  EXPECT_EQ(status.values[0], in_order[0]);
  EXPECT_EQ(status.values[3], in_order[3]);
  auto opened = care_->OpenPost(As(doctor_), 101);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->summary.post.values, in_order);
  // Posts written afterwards keep both up to date.
  ASSERT_TRUE(care_->AddComment(As(nurse_), 101, "ありがとうございます").has_value());
  auto again = care_->Timeline(As(doctor_), g, {});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->at(1).post.comment_count, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, CareValuesMigrationTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
