// CareNotifier on SQLite and PostgreSQL: live frames to the audience only,
// immediate / digest / off e-mail, no content in frames or mails, retries,
// restarts, and the settings routes.
#include "care/care_notifier.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "auth/account_service.hpp"
#include "auth/password_hasher.hpp"
#include "auth/principal_context.hpp"
#include "care/care_service.hpp"
#include "care/notification_routes.hpp"
#include "care/notification_settings.hpp"
#include "http/router.hpp"
#include "http/websocket_hub.hpp"
#include "mail/mailer.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;

constexpr char kPublicUrl[] = "https://tsunagu.example.jp/";
constexpr int64_t kDigestMs = 60 * 60 * 1000;
// Words of the posts that must never leave the server by mail or frame.
constexpr char kSecret[] = "夜間の咳が増え血圧は168";

class FakeHub final : public http::WebSocketHub {
 public:
  void SetAuthenticator(Authenticator) override {}
  void Publish(int64_t user_id, std::string text) override {
    std::lock_guard lock(mu_);
    frames_[user_id].push_back(std::move(text));
  }
  size_t ConnectionCount() const override { return 0; }
  std::vector<std::string> FramesOf(int64_t user_id) {
    std::lock_guard lock(mu_);
    return frames_[user_id];
  }

 private:
  std::mutex mu_;
  std::map<int64_t, std::vector<std::string>> frames_;
};

class FakeMailer final : public mail::Mailer {
 public:
  core::Status Send(const mail::Mail& m) override {
    std::lock_guard lock(mu_);
    if (failures_ > 0) {
      --failures_;
      return core::Unavailable("mail could not be sent", "connection refused");
    }
    sent_.push_back(m);
    return core::Status::Ok();
  }
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    failures_ = n;
  }
  std::vector<mail::Mail> To(const std::string& address) {
    std::lock_guard lock(mu_);
    std::vector<mail::Mail> out;
    for (const auto& m : sent_) {
      if (m.to == address) out.push_back(m);
    }
    return out;
  }
  size_t Count() {
    std::lock_guard lock(mu_);
    return sent_.size();
  }

 private:
  std::mutex mu_;
  int failures_ = 0;
  std::vector<mail::Mail> sent_;
};

class CareNotifierTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(
        store::ApplyMigrations(db(), {auth::AccountService::Migrations(), CareService::Migrations(),
                                      CareNotifier::Migrations()})
            .ok());
    hasher_ = std::make_unique<auth::PasswordHasher>(auth::PasswordHasher::MinimumLimits());
    accounts_ = std::make_unique<auth::AccountService>(db(), clock_, *hasher_);
    care_ =
        std::make_unique<CareService>(db(), clock_, *patients_, *consents_, *accounts_, *audit_);
    settings_ = std::make_unique<NotificationSettings>(db(), clock_);
    notifier_ = MakeNotifier();
    care_->SetListener(notifier_.get());
    clinic_ = AddFacility("信夫山内科クリニック");
    station_ =
        AddFacility("ふくしま訪問看護ステーション", registry::FacilityType::kVisitingNurseStation);
    patient_ = AddPatient(clinic_, "C-001");
    doctor_ = AddUser("doctor", clinic_, auth::Occupation::kPhysician, "doctor@clinic.example.jp");
    nurse_ = AddUser("nurse", station_, auth::Occupation::kVisitingNurse, "nurse@st.example.jp");
    helper_ = AddUser("helper", station_, auth::Occupation::kHomeHelper, "helper@st.example.jp");
    family_ = AddUser("family", clinic_, auth::Occupation::kFamily, "family@home.example.jp");
    Consent(patient_, 0, station_, consent::Scope::kCareTeam);
    Consent(patient_, 0, 0, consent::Scope::kFamily);
    group_ = MakeGroup();
  }

  void TearDown() override {
    if (care_) care_->SetListener(nullptr);
    notifier_.reset();
    ClinicalDbTest::TearDown();
  }

  std::unique_ptr<CareNotifier> MakeNotifier() {
    NotifierOptions o;
    o.public_url = kPublicUrl;
    o.digest_interval_ms = kDigestMs;
    o.max_attempts = 3;
    o.retry_delay_ms = 1000;
    return std::make_unique<CareNotifier>(db(), clock_, *accounts_, *settings_, hub_, &mailer_, o);
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

  auth::User AddUser(const std::string& login, int64_t facility, auth::Occupation occupation,
                     const std::string& email) {
    auth::NewUser u;
    u.facility_id = facility;
    u.login_id = login;
    u.display_name = login + "さん";
    u.email = email;
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
    for (const auto* u : {&nurse_, &helper_, &family_}) {
      auto m = care_->AddMember(As(doctor_), g->group.id, u->id);
      EXPECT_TRUE(m.has_value()) << m.error().ToString();
    }
    return g->group.id;
  }

  Post PostMessage(const auth::User& author, bool to_family = false) {
    NewPost p;
    p.kind = PostKind::kMessage;
    p.title = "訪問報告";
    p.body = kSecret;
    p.to_family = to_family;
    auto created = care_->CreatePost(As(author), group_, p);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.value_or(Post{});
  }

  void ClearEmail(const auth::User& u) {
    auth::UserPatch patch;
    patch.email = std::string();
    ASSERT_TRUE(accounts_->Update(u.id, patch).has_value());
  }

  void SetMode(const auth::User& u, EmailMode mode) {
    ASSERT_TRUE(settings_->Set(u.id, mode).ok());
  }

  int64_t OutboxRows() {
    auto rs = db().Query("SELECT COUNT(*) FROM care_notify_outbox");
    return rs && !rs->empty() ? rs->rows[0].Int(0) : -1;
  }

  std::string Link() const {
    return "https://tsunagu.example.jp/care/groups/" + std::to_string(group_);
  }

  void ExpectNoContent(const mail::Mail& m) {
    EXPECT_EQ(m.subject.find("咳"), std::string::npos);
    EXPECT_EQ(m.body.find("咳"), std::string::npos);
    EXPECT_EQ(m.body.find("168"), std::string::npos);
    EXPECT_EQ(m.body.find("訪問報告"), std::string::npos) << "no post title";
    EXPECT_EQ(m.body.find("doctorさん"), std::string::npos) << "no actor";
  }

  std::unique_ptr<auth::PasswordHasher> hasher_;
  std::unique_ptr<auth::AccountService> accounts_;
  std::unique_ptr<CareService> care_;
  std::unique_ptr<NotificationSettings> settings_;
  FakeHub hub_;
  FakeMailer mailer_;
  std::unique_ptr<CareNotifier> notifier_;
  int64_t clinic_ = 0, station_ = 0, group_ = 0;
  registry::Patient patient_;
  auth::User doctor_, nurse_, helper_, family_;
};

TEST_P(CareNotifierTest, LiveFrameReachesTheAudienceWithIdsAndNamesOnly) {
  Post post = PostMessage(doctor_);
  ASSERT_EQ(hub_.FramesOf(nurse_.id).size(), 1u);
  EXPECT_EQ(hub_.FramesOf(helper_.id).size(), 1u);
  EXPECT_TRUE(hub_.FramesOf(doctor_.id).empty()) << "the author is not told";
  EXPECT_TRUE(hub_.FramesOf(family_.id).empty()) << "not published to the family";

  std::string frame = hub_.FramesOf(nurse_.id)[0];
  EXPECT_EQ(frame.find("咳"), std::string::npos);
  EXPECT_EQ(frame.find("訪問報告"), std::string::npos);
  json::object o = json::parse(frame).as_object();
  EXPECT_EQ(o.at("type").as_string(), "care.post");
  EXPECT_EQ(o.at("group_id").as_int64(), group_);
  EXPECT_EQ(o.at("group_name").as_string(), "山田太郎さんの在宅チーム");
  EXPECT_EQ(o.at("post_id").as_int64(), post.id);
  EXPECT_EQ(o.at("actor_name").as_string(), "doctorさん");
  EXPECT_EQ(o.at("at").as_string(), core::FormatIsoUtc(clock_.NowMillis()));
  EXPECT_EQ(o.size(), 6u);

  // A post to the family reaches the family; the family's comment on it
  // reaches the author and the rest of the team.
  Post shared = PostMessage(doctor_, /*to_family=*/true);
  ASSERT_EQ(hub_.FramesOf(family_.id).size(), 1u);
  auto comment = care_->AddComment(As(family_), shared.id, "ありがとうございます");
  ASSERT_TRUE(comment.has_value()) << comment.error().ToString();
  ASSERT_EQ(hub_.FramesOf(doctor_.id).size(), 1u);
  json::object c = json::parse(hub_.FramesOf(doctor_.id)[0]).as_object();
  EXPECT_EQ(c.at("type").as_string(), "care.comment");
  EXPECT_EQ(c.at("post_id").as_int64(), shared.id);
  EXPECT_EQ(c.at("comment_id").as_int64(), comment->id);
  EXPECT_EQ(c.at("actor_name").as_string(), "familyさん");
  EXPECT_EQ(hub_.FramesOf(family_.id).size(), 1u) << "the commenter is not told";
}

TEST_P(CareNotifierTest, MessageFrameNamesTheConversation) {
  CareEvent e;
  e.kind = CareEvent::Kind::kMessage;
  e.group.id = group_;
  e.group.name = "山田太郎さんの在宅チーム";
  e.actor_name = "nurseさん";
  e.conversation_id = 7;
  e.message_id = 42;
  e.recipients = {doctor_.id};
  notifier_->OnCareEvent(e);
  ASSERT_EQ(hub_.FramesOf(doctor_.id).size(), 1u);
  json::object o = json::parse(hub_.FramesOf(doctor_.id)[0]).as_object();
  EXPECT_EQ(o.at("type").as_string(), "care.message");
  EXPECT_EQ(o.at("conversation_id").as_int64(), 7);
  EXPECT_EQ(o.at("message_id").as_int64(), 42);
  EXPECT_FALSE(o.contains("post_id"));

  notifier_->RunOnce();
  auto mails = mailer_.To("doctor@clinic.example.jp");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].subject.find("新しいメッセージ"), std::string::npos) << mails[0].subject;
  EXPECT_NE(mails[0].body.find(Link()), std::string::npos);
}

TEST_P(CareNotifierTest, AFirstReadIsToldToTheAuthorLiveAndNeverMailed) {
  Post post = PostMessage(doctor_);
  notifier_->RunOnce();
  const size_t mails_before = mailer_.Count();
  const size_t frames_before = hub_.FramesOf(doctor_.id).size();
  ASSERT_TRUE(care_->OpenPost(As(nurse_), post.id).has_value());
  ASSERT_EQ(hub_.FramesOf(doctor_.id).size(), frames_before + 1);
  json::object o = json::parse(hub_.FramesOf(doctor_.id).back()).as_object();
  EXPECT_EQ(o.at("type").as_string(), "care.read");
  EXPECT_EQ(o.at("post_id").as_int64(), post.id);
  EXPECT_EQ(notifier_->QueuedEvents(), 0u);
  notifier_->RunOnce();
  EXPECT_EQ(mailer_.Count(), mails_before);
}

TEST_P(CareNotifierTest, StaffGetOneImmediateMailPerPostWithoutContent) {
  PostMessage(doctor_);
  EXPECT_EQ(mailer_.Count(), 0u) << "nothing is sent on the request thread";
  EXPECT_EQ(notifier_->QueuedEvents(), 1u);
  notifier_->RunOnce();
  auto nurse = mailer_.To("nurse@st.example.jp");
  ASSERT_EQ(nurse.size(), 1u);
  EXPECT_EQ(mailer_.To("helper@st.example.jp").size(), 1u);
  EXPECT_TRUE(mailer_.To("doctor@clinic.example.jp").empty());
  EXPECT_TRUE(mailer_.To("family@home.example.jp").empty()) << "not published to the family";
  EXPECT_EQ(nurse[0].subject, "【つなぐ】山田太郎さんの在宅チームに新しい投稿があります");
  EXPECT_NE(nurse[0].body.find("山田太郎さんの在宅チーム"), std::string::npos);
  EXPECT_NE(nurse[0].body.find(Link()), std::string::npos) << nurse[0].body;
  ExpectNoContent(nurse[0]);
  EXPECT_EQ(OutboxRows(), 0);

  // Comments are live only for immediate mail users.
  Post post = PostMessage(doctor_);
  notifier_->RunOnce();
  ASSERT_TRUE(care_->AddComment(As(nurse_), post.id, kSecret).has_value());
  notifier_->RunOnce();
  EXPECT_EQ(mailer_.To("doctor@clinic.example.jp").size(), 0u);
  EXPECT_EQ(mailer_.To("nurse@st.example.jp").size(), 2u);
}

TEST_P(CareNotifierTest, DigestCollectsOneMailPerIntervalWithCounts) {
  SetMode(nurse_, EmailMode::kDigest);
  Post first = PostMessage(doctor_);
  PostMessage(doctor_);
  clock_.Advance(10 * 60 * 1000);
  PostMessage(helper_);
  ASSERT_TRUE(care_->AddComment(As(helper_), first.id, kSecret).has_value());
  notifier_->RunOnce();
  EXPECT_TRUE(mailer_.To("nurse@st.example.jp").empty()) << "not before the interval";
  EXPECT_EQ(mailer_.To("helper@st.example.jp").size(), 2u) << "immediate users are mailed";

  clock_.Advance(kDigestMs - 10 * 60 * 1000);
  notifier_->RunOnce();
  auto nurse = mailer_.To("nurse@st.example.jp");
  ASSERT_EQ(nurse.size(), 1u);
  EXPECT_EQ(nurse[0].subject, "【つなぐ】山田太郎さんの在宅チームの新着のお知らせ");
  EXPECT_NE(nurse[0].body.find("新しい投稿 3件、コメント 1件"), std::string::npos) << nurse[0].body;
  EXPECT_NE(nurse[0].body.find(Link()), std::string::npos);
  ExpectNoContent(nurse[0]);

  // Sent once: nothing more until something new happens.
  clock_.Advance(kDigestMs);
  notifier_->RunOnce();
  EXPECT_EQ(mailer_.To("nurse@st.example.jp").size(), 1u);
  EXPECT_EQ(OutboxRows(), 0);
}

TEST_P(CareNotifierTest, FamilyDefaultsToDigestOfFamilyPostsOnly) {
  EXPECT_EQ(*settings_->Get(family_.id, family_.occupation), EmailMode::kDigest);
  EXPECT_EQ(*settings_->Get(nurse_.id, nurse_.occupation), EmailMode::kImmediate);
  PostMessage(doctor_);
  PostMessage(doctor_, /*to_family=*/true);
  notifier_->RunOnce();
  clock_.Advance(kDigestMs);
  notifier_->RunOnce();
  auto family = mailer_.To("family@home.example.jp");
  ASSERT_EQ(family.size(), 1u);
  EXPECT_NE(family[0].body.find("新しい投稿 1件"), std::string::npos) << family[0].body;
  ExpectNoContent(family[0]);
}

TEST_P(CareNotifierTest, OffAndMissingAddressesGetNoMail) {
  SetMode(nurse_, EmailMode::kOff);
  ClearEmail(helper_);
  PostMessage(doctor_);
  notifier_->RunOnce();
  clock_.Advance(kDigestMs);
  notifier_->RunOnce();
  EXPECT_EQ(mailer_.Count(), 0u);
  EXPECT_EQ(OutboxRows(), 0);
  EXPECT_EQ(hub_.FramesOf(nurse_.id).size(), 1u) << "live frames do not depend on mail";

  // Turning mail off drops a pending digest.
  SetMode(nurse_, EmailMode::kDigest);
  PostMessage(doctor_);
  notifier_->RunOnce();
  SetMode(nurse_, EmailMode::kOff);
  clock_.Advance(kDigestMs);
  notifier_->RunOnce();
  EXPECT_EQ(mailer_.Count(), 0u);
  EXPECT_EQ(OutboxRows(), 0);
}

TEST_P(CareNotifierTest, MembersWhoLeftAreNotMailed) {
  SetMode(nurse_, EmailMode::kDigest);
  PostMessage(doctor_);
  notifier_->RunOnce();
  ASSERT_TRUE(care_->RemoveMember(As(doctor_), group_, nurse_.id).ok());
  clock_.Advance(kDigestMs);
  notifier_->RunOnce();
  EXPECT_TRUE(mailer_.To("nurse@st.example.jp").empty());
  EXPECT_EQ(OutboxRows(), 0);
}

TEST_P(CareNotifierTest, FailedSendsAreRetriedThenDropped) {
  SetMode(helper_, EmailMode::kOff);
  mailer_.FailNext(1);
  PostMessage(doctor_);
  notifier_->RunOnce();
  EXPECT_TRUE(mailer_.To("nurse@st.example.jp").empty());
  EXPECT_EQ(OutboxRows(), 1);
  notifier_->RunOnce();  // not due yet
  EXPECT_TRUE(mailer_.To("nurse@st.example.jp").empty());
  clock_.Advance(1000);
  notifier_->RunOnce();
  EXPECT_EQ(mailer_.To("nurse@st.example.jp").size(), 1u);
  EXPECT_EQ(OutboxRows(), 0);

  // Three failures (max_attempts) drop the mail.
  mailer_.FailNext(3);
  PostMessage(doctor_);
  for (int i = 0; i < 4; ++i) {
    notifier_->RunOnce();
    clock_.Advance(10'000);
  }
  EXPECT_EQ(mailer_.To("nurse@st.example.jp").size(), 1u);
  EXPECT_EQ(OutboxRows(), 0);
}

TEST_P(CareNotifierTest, PendingDigestSurvivesARestart) {
  SetMode(nurse_, EmailMode::kDigest);
  PostMessage(doctor_);
  notifier_->RunOnce();
  care_->SetListener(nullptr);
  notifier_ = MakeNotifier();
  care_->SetListener(notifier_.get());
  clock_.Advance(kDigestMs);
  notifier_->RunOnce();
  auto nurse = mailer_.To("nurse@st.example.jp");
  ASSERT_EQ(nurse.size(), 1u);
  EXPECT_NE(nurse[0].body.find("新しい投稿 1件"), std::string::npos);
}

TEST_P(CareNotifierTest, WorkerThreadSendsAndStopKeepsTheQueue) {
  notifier_->Start();
  PostMessage(doctor_);
  for (int i = 0; i < 500 && mailer_.To("nurse@st.example.jp").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(mailer_.To("nurse@st.example.jp").size(), 1u);
  notifier_->Stop();
  EXPECT_EQ(notifier_->QueuedEvents(), 0u);
}

TEST_P(CareNotifierTest, SettingsRoutesValidateAndReportTheAddress) {
  http::Router router;
  NotificationDeps deps{*settings_, *accounts_};
  RegisterNotificationRoutes(router, deps);
  auto call = [&](const std::string& method, const auth::User& u, const std::string& body) {
    http::Request req;
    req.method = method;
    req.path = req.target = "/api/v1/care/notification-settings";
    req.body = body;
    auth::Principal p;
    p.user_id = u.id;
    p.facility_id = u.facility_id;
    p.occupation = u.occupation;
    auth::SetPrincipal(req, p);
    return router.Dispatch(req);
  };
  auto got = call("GET", nurse_, "");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body), json::parse(R"({"email":"immediate","address_known":true})"));

  for (const char* bad : {R"({"email":"weekly"})", R"({"email":"IMMEDIATE"})", R"({"email":1})",
                          R"({})", "not json"}) {
    auto r = call("PUT", nurse_, bad);
    EXPECT_EQ(r.status, 400) << bad;
  }
  EXPECT_EQ(*settings_->Get(nurse_.id, nurse_.occupation), EmailMode::kImmediate)
      << "a refused change stores nothing";

  auto put = call("PUT", nurse_, R"({"email":"off"})");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(json::parse(put.body), json::parse(R"({"email":"off","address_known":true})"));
  EXPECT_EQ(*settings_->Get(nurse_.id, nurse_.occupation), EmailMode::kOff);

  ClearEmail(family_);
  auto family = call("GET", family_, "");
  EXPECT_EQ(json::parse(family.body), json::parse(R"({"email":"digest","address_known":false})"));

  http::Request anonymous;
  anonymous.method = "GET";
  anonymous.path = anonymous.target = "/api/v1/care/notification-settings";
  EXPECT_EQ(router.Dispatch(anonymous).status, 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, CareNotifierTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
