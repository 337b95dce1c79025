// CareService on SQLite and PostgreSQL: groups, membership, posts, drafts,
// family sharing, comments, read receipts, search, consent and audit.
#include "care/care_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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
    ASSERT_TRUE(store::ApplyMigrations(
                    db(), {auth::AccountService::Migrations(), CareService::Migrations()})
                    .ok());
    hasher_ = std::make_unique<auth::PasswordHasher>(auth::PasswordHasher::MinimumLimits());
    accounts_ = std::make_unique<auth::AccountService>(db(), clock_, *hasher_);
    care_ =
        std::make_unique<CareService>(db(), clock_, *patients_, *consents_, *accounts_, *audit_);
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
  EXPECT_EQ(opened->summary.comment_count, 2);
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

INSTANTIATE_TEST_SUITE_P(Backends, CareServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
