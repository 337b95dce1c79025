// Master patient index: PatientMatcher scoring, candidates, link/unlink/merge
// in PatientService, and the MPI routes, on SQLite and PostgreSQL.
#include "registry/patient_matcher.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "audit/audit_signer.hpp"
#include "auth/principal_context.hpp"
#include "core/clock.hpp"
#include "http/router.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/mpi_routes.hpp"
#include "registry/patient_service.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::registry {
namespace {

namespace json = boost::json;
using testing::Backend;

Demographics Yamada() {
  return {"ヤマダ　タロウ", "1948-05-03", Sex::kMale, "024-500-0001", "960-8031"};
}

// ---- scoring (no database) -------------------------------------------------

TEST(PatientMatcherScore, ExactEverythingIsCappedAtHundredAndAutoLinks) {
  Demographics other_spelling{"ﾔﾏﾀﾞ ﾀﾛｳ", "1948-05-03", Sex::kMale, "０２４５０００００１",
                              "〒９６０－８０３１"};
  MatchScore m = PatientMatcher::Score(Yamada(), other_spelling);
  EXPECT_EQ(m.score, 100);
  EXPECT_TRUE(m.auto_link);
  EXPECT_EQ(m.kana, FieldMatch::kExact);
  EXPECT_EQ(m.phone, FieldMatch::kExact);
  EXPECT_EQ(m.postcode, FieldMatch::kExact);
}

TEST(PatientMatcherScore, DocumentedWeights) {
  Demographics q = Yamada();
  Demographics c = Yamada();
  c.postcode = "";
  EXPECT_EQ(PatientMatcher::Score(q, c).score, 95);  // 40 + 30 + 15 + 10
  c.phone = "";
  EXPECT_EQ(PatientMatcher::Score(q, c).score, 85);  // no phone, no postcode
  c.sex = Sex::kUnknown;
  EXPECT_EQ(PatientMatcher::Score(q, c).score, 70);  // kana + birth only: proposed
  c.kana = "ヤマダタロー";                           // long vowel written out: near
  EXPECT_EQ(PatientMatcher::Score(q, c).kana, FieldMatch::kNear);
  EXPECT_EQ(PatientMatcher::Score(q, c).score, 50);  // not shown
  c.kana = "ヤマダ　ジロウ";                         // one character differs: near
  EXPECT_EQ(PatientMatcher::Score(q, c).kana, FieldMatch::kNear);
  c.kana = "スズキ　ハナコ";
  EXPECT_EQ(PatientMatcher::Score(q, c).kana, FieldMatch::kDiffers);
  c.birth_date = "1948-03-05";  // month and day swapped: two parts differ
  EXPECT_EQ(PatientMatcher::Score(q, c).birth_date, FieldMatch::kDiffers);
  c.birth_date = "1948-05-04";
  EXPECT_EQ(PatientMatcher::Score(q, c).birth_date, FieldMatch::kNear);
  c = Yamada();
  c.sex = Sex::kFemale;
  EXPECT_EQ(PatientMatcher::Score(q, c).score, 70);  // 40+30-20+10+10
  EXPECT_FALSE(PatientMatcher::Score(q, c).auto_link);
  EXPECT_EQ(PatientMatcher::Score({}, {}).score, 0);
}

// Every combination of field outcomes: auto-link exactly when kana, birth
// date and sex agree exactly and so does the phone or the postcode.
TEST(PatientMatcherScore, AutoLinkOnlyForExactKanaBirthSexAndPhoneOrPostcode) {
  const std::string kanas[] = {"ヤマダタロウ", "ヤマダタロー", "スズキハナコ", ""};
  const std::string births[] = {"1948-05-03", "1948-05-04", "1960-01-01", ""};
  const Sex sexes[] = {Sex::kMale, Sex::kFemale, Sex::kUnknown};
  const std::string phones[] = {"0245000001", "0245009999", ""};
  const std::string postcodes[] = {"9608031", "9600000", ""};
  int combinations = 0;
  for (const auto& kana : kanas) {
    for (const auto& birth : births) {
      for (Sex sex : sexes) {
        for (const auto& phone : phones) {
          for (const auto& postcode : postcodes) {
            MatchScore m = PatientMatcher::Score(Yamada(), {kana, birth, sex, phone, postcode});
            bool expected = kana == kanas[0] && birth == births[0] && sex == Sex::kMale &&
                            (phone == phones[0] || postcode == postcodes[0]);
            EXPECT_EQ(m.auto_link, expected)
                << kana << " " << birth << " " << phone << " " << postcode << " score " << m.score;
            EXPECT_GE(m.score, 0);
            EXPECT_LE(m.score, 100);
            ++combinations;
          }
        }
      }
    }
  }
  EXPECT_EQ(combinations, 4 * 4 * 3 * 3 * 3);
}

// ---- storage and routes ------------------------------------------------------

class MpiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(
                    tdb_->db(), {audit::AuditLog::Migrations(), FacilityService::Migrations(),
                                 PatientService::Migrations()})
                    .ok());
    auto signer = audit::AuditSigner::FromSeedHex(
        "8a3c1e0f5b7d9a2c4e6f8091a3b5c7d9e1f30517293b4d5f6a7c8e9f0a1b2c3d");
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(signer).value();
    audit_ = std::make_unique<audit::AuditLog>(tdb_->db(), clock_, *signer_);
    facilities_ = std::make_unique<FacilityService>(tdb_->db(), clock_);
    patients_ = std::make_unique<PatientService>(tdb_->db(), clock_, *facilities_);
    matcher_ = std::make_unique<PatientMatcher>(tdb_->db());
    ASSERT_TRUE(facilities_->PutArea({"kenpoku", "県北"}).ok());
    hospital_ = AddFacility("000301", "県立病院");
    clinic_ = AddFacility("000302", "信夫山内科クリニック");
    deps_ = std::make_unique<MpiDeps>(MpiDeps{*patients_, *matcher_, *facilities_, *audit_});
    RegisterMpiRoutes(router_, *deps_);
  }

  int64_t AddFacility(const std::string& six, const std::string& name) {
    Facility f;
    f.type = FacilityType::kClinic;
    f.code = std::string("071") + six + InstitutionCheckDigit(six);
    f.name = name;
    f.kana = "てすと";
    f.area = "kenpoku";
    auto created = facilities_->Create(f);
    EXPECT_TRUE(created.has_value());
    return created.has_value() ? created->id : 0;
  }

  Patient Register(int64_t facility, Demographics d, const std::string& local_id) {
    NewPatient p;
    p.name = "テスト　患者";
    p.kana = d.kana;
    p.birth_date = d.birth_date;
    p.sex = d.sex;
    p.phone = d.phone;
    p.postcode = d.postcode;
    p.local_id = local_id;
    auto created = patients_->Register(p, {facility, false});
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.has_value() ? *created : Patient{};
  }

  static auth::Principal User(int64_t id, int64_t facility, auth::Role role = auth::Role::kStaff,
                              auth::Occupation occupation = auth::Occupation::kClerk) {
    auth::Principal p;
    p.user_id = id;
    p.facility_id = facility;
    p.display_name = "職員" + std::to_string(id);
    p.occupation = occupation;
    p.role = role;
    return p;
  }

  http::Response Call(const std::string& method, const std::string& path,
                      const auth::Principal* who, std::map<std::string, std::string> query = {},
                      std::string body = {}) {
    http::Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.client_address = "192.0.2.9";
    for (auto& [k, v] : query) req.query.emplace(k, v);
    req.body = std::move(body);
    if (who) auth::SetPrincipal(req, *who);
    return router_.Dispatch(req);
  }

  std::vector<audit::AuditEvent> Audits(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    return audit_->Search(q);
  }

  core::FakeClock clock_;
  std::unique_ptr<testing::TestDatabase> tdb_;
  std::unique_ptr<audit::AuditSigner> signer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<FacilityService> facilities_;
  std::unique_ptr<PatientService> patients_;
  std::unique_ptr<PatientMatcher> matcher_;
  std::unique_ptr<MpiDeps> deps_;
  http::Router router_;
  int64_t hospital_ = 0, clinic_ = 0;
};

TEST_P(MpiTest, CandidatesAreScoredSortedAndThresholded) {
  Patient same = Register(hospital_, Yamada(), "H1");
  Demographics near = Yamada();
  near.kana = "ヤマダ　タロー";
  near.phone = "";
  Patient similar = Register(hospital_, near, "H2");  // 20+30+15+10 = 75
  Demographics other = Yamada();
  other.kana = "スズキ　ハナコ";
  other.sex = Sex::kFemale;
  other.phone = "";
  other.postcode = "";
  Register(hospital_, other, "H3");  // same birth date only: 30-20 -> hidden

  auto found = matcher_->Candidates(Yamada());
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].regional_id, same.regional_id);
  EXPECT_EQ((*found)[0].match.score, 100);
  EXPECT_TRUE((*found)[0].match.auto_link);
  EXPECT_EQ((*found)[1].regional_id, similar.regional_id);
  EXPECT_EQ((*found)[1].match.score, 75);
  EXPECT_FALSE((*found)[1].match.auto_link);

  // A woman renamed at marriage is still proposed by birth, sex, phone, postcode.
  Demographics renamed = Yamada();
  renamed.kana = "サトウ　タロウ";
  auto by_contact = matcher_->Candidates(renamed);
  ASSERT_TRUE(by_contact.has_value());
  ASSERT_GE(by_contact->size(), 1u);
  EXPECT_EQ((*by_contact)[0].regional_id, same.regional_id);
  EXPECT_EQ((*by_contact)[0].match.score, 65);
}

TEST_P(MpiTest, CandidateQueriesNeedKanaAndBirthDate) {
  auto make = [](std::string kana, std::string birth, std::string phone = "",
                 std::string postcode = "") {
    return Demographics{std::move(kana), std::move(birth), Sex::kMale, std::move(phone),
                        std::move(postcode)};
  };
  for (const Demographics& bad :
       {make("", "1948-05-03"), make("山田太郎", "1948-05-03"), make("ヤマダ", ""),
        make("ヤマダ", "1948-02-30"), make("ヤマダ", "1948-05-03", "abc"),
        make("ヤマダ", "1948-05-03", "", "12-34")}) {
    auto r = matcher_->Candidates(bad);
    ASSERT_FALSE(r.has_value()) << bad.kana << " " << bad.birth_date;
    EXPECT_EQ(r.error().code(), core::Code::kInvalidInput);
  }
}

TEST_P(MpiTest, LinkUnlinkAndMergeInTheService) {
  Patient p = Register(hospital_, Yamada(), "H1");
  ASSERT_TRUE(patients_->LinkLocalId(p.regional_id, clinic_, " C-77 ", 5).ok());
  EXPECT_TRUE(patients_->IsLinkedTo(p.id, clinic_));
  ASSERT_EQ(patients_->LinksAt(p.id, clinic_).size(), 1u);
  EXPECT_EQ(patients_->LinksAt(p.id, clinic_)[0].local_id, "C-77");
  EXPECT_EQ(patients_->LinkLocalId(p.regional_id, clinic_, "C-77", 5).code(),
            core::Code::kConflict);
  EXPECT_EQ(patients_->LinkLocalId(p.regional_id, clinic_, "", 5).code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(patients_->LinkLocalId(p.regional_id, 9999, "X", 5).code(), core::Code::kNotFound);
  EXPECT_EQ(patients_->LinkLocalId("123456789012", clinic_, "X", 5).code(), core::Code::kNotFound);
  EXPECT_EQ(patients_->Unlink(p.regional_id, clinic_, "nope").code(), core::Code::kNotFound);
  ASSERT_TRUE(patients_->Unlink(p.regional_id, clinic_, "C-77").ok());
  EXPECT_FALSE(patients_->IsLinkedTo(p.id, clinic_));

  Patient dup = Register(clinic_, Yamada(), "C-1");
  ASSERT_EQ(patients_->RegionalIdOf(dup.id).value_or(""), dup.regional_id);  // now cached
  auto tx = tdb_->db().Begin();
  ASSERT_TRUE(tx.has_value());
  auto merged = patients_->Merge(**tx, p.regional_id, dup.regional_id, 1);
  ASSERT_TRUE(merged.has_value()) << merged.error().ToString();
  ASSERT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ(merged->links_moved, 1);
  EXPECT_TRUE(patients_->IsLinkedTo(p.id, clinic_));
  EXPECT_FALSE(patients_->Exists(dup.id));
  EXPECT_EQ(patients_->RegionalIdOf(dup.id).status().code(), core::Code::kNotFound);
  EXPECT_EQ(patients_->RegionalIdOf(p.id).value_or(""), p.regional_id);
  // The duplicate is gone from search and from candidates.
  PatientQuery by_kana;
  by_kana.q = "ヤマダ";
  EXPECT_EQ(patients_->Search(by_kana, {0, true}).size(), 1u);
  auto found = matcher_->Candidates(Yamada());
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].regional_id, p.regional_id);
}

TEST_P(MpiTest, CandidatesRouteMasksPatientsTheViewerCannotSee) {
  Patient p = Register(hospital_, Yamada(), "H1");
  auth::Principal clinic_clerk = User(5, clinic_);
  auth::Principal hospital_clerk = User(6, hospital_);
  std::map<std::string, std::string> q{{"kana", "ﾔﾏﾀﾞ ﾀﾛｳ"},
                                       {"birth_date", "1948-05-03"},
                                       {"sex", "male"},
                                       {"phone", "024-500-0001"}};
  auto masked = Call("GET", "/api/v1/patients/candidates", &clinic_clerk, q);
  ASSERT_EQ(masked.status, 200) << masked.body;
  json::object item = json::parse(masked.body).at("items").at(0).as_object();
  EXPECT_EQ(item["regional_id"].as_string(), p.regional_id);
  EXPECT_EQ(item["score"].as_int64(), 95);  // no postcode given
  EXPECT_TRUE(item["auto_link"].as_bool());
  EXPECT_FALSE(item["linked_here"].as_bool());
  EXPECT_EQ(item["kana_masked"].as_string(), "ヤ＊＊＊＊＊");
  EXPECT_FALSE(item.contains("name"));
  EXPECT_FALSE(item.contains("birth_date"));
  EXPECT_EQ(masked.body.find("テスト"), std::string::npos);  // no name

  auto full = Call("GET", "/api/v1/patients/candidates", &hospital_clerk, q);
  item = json::parse(full.body).at("items").at(0).as_object();
  EXPECT_TRUE(item["linked_here"].as_bool());
  EXPECT_EQ(item["birth_date"].as_string(), "1948-05-03");

  EXPECT_EQ(Call("GET", "/api/v1/patients/candidates", nullptr, q).status, 401);
  auth::Principal family = User(7, clinic_, auth::Role::kStaff, auth::Occupation::kFamily);
  EXPECT_EQ(Call("GET", "/api/v1/patients/candidates", &family, q).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/patients/candidates", &clinic_clerk, {{"kana", "ヤマダ"}}).status,
            400);
  EXPECT_EQ(Audits("patient.candidates").size(), 2u);
}

TEST_P(MpiTest, LinkRouteConfirmsTheBirthDateAndIsAudited) {
  Patient p = Register(hospital_, Yamada(), "H1");
  auth::Principal clerk = User(5, clinic_);
  std::string path = "/api/v1/patients/" + p.regional_id + "/links";
  auto wrong = Call("POST", path, &clerk, {}, R"({"local_id": "C-9", "birth_date": "1948-05-04"})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_FALSE(patients_->IsLinkedTo(p.id, clinic_));
  auto other_facility = Call("POST", path, &clerk, {},
                             R"({"local_id": "C-9", "birth_date": "1948-05-03", "facility_id": )" +
                                 std::to_string(hospital_) + "}");
  EXPECT_EQ(other_facility.status, 403);

  auto linked =
      Call("POST", path, &clerk, {}, R"({"local_id": "C-9", "birth_date": "1948-05-03"})");
  ASSERT_EQ(linked.status, 201) << linked.body;
  EXPECT_EQ(json::parse(linked.body).at("facility_id").as_int64(), clinic_);
  EXPECT_TRUE(patients_->IsLinkedTo(p.id, clinic_));
  EXPECT_EQ(
      Call("POST", path, &clerk, {}, R"({"local_id": "C-9", "birth_date": "1948-05-03"})").status,
      409);

  auto events = Audits("patient.link");
  ASSERT_EQ(events.size(), 3u);  // newest first: conflict, success, mismatch
  EXPECT_EQ(events[1].outcome, "success");
  EXPECT_EQ(events[1].user_id, 5);
  EXPECT_EQ(events[1].patient_id, p.regional_id);
  EXPECT_EQ(events[2].outcome, "denied");

  // Unlink: only the facility itself (or the secretariat).
  auth::Principal hospital_clerk = User(6, hospital_);
  std::string link_path = path + "/" + std::to_string(clinic_) + "/C-9";
  EXPECT_EQ(Call("DELETE", link_path, &hospital_clerk).status, 403);
  EXPECT_EQ(Call("DELETE", link_path, &clerk).status, 204);
  EXPECT_EQ(Call("DELETE", link_path, &clerk).status, 404);
  EXPECT_FALSE(patients_->IsLinkedTo(p.id, clinic_));
  ASSERT_EQ(Audits("patient.unlink").size(), 1u);
  EXPECT_EQ(Audits("patient.unlink")[0].user_id, 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, MpiTest, testing::AllBackends(), testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::registry
