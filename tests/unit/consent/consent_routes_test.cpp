// Consent routes through the router, as a browser would call them.
#include "consent/consent_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "auth/principal_context.hpp"
#include "http/router.hpp"
#include "unit/consent/consent_fixture.hpp"

namespace tsunagu::consent {
namespace {

namespace json = boost::json;

const std::string kPdf = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
const std::string kExe = std::string("MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0", 16);

class ConsentRoutesTest : public ConsentDbTest {
 protected:
  void SetUp() override {
    ConsentDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    hospital_ = AddFacility("県立病院");
    clinic_ = AddFacility("信夫山内科クリニック");
    stranger_ = AddFacility("無関係クリニック");
    patient_ = AddPatient(hospital_);
    deps_ =
        std::make_unique<ConsentDeps>(ConsentDeps{*consents_, *patients_, *facilities_, *audit_});
    RegisterConsentRoutes(router_, *deps_);
  }

  static auth::Principal User(int64_t id, int64_t facility_id,
                              auth::Occupation occupation = auth::Occupation::kClerk,
                              auth::Role role = auth::Role::kStaff) {
    auth::Principal p;
    p.user_id = id;
    p.facility_id = facility_id;
    p.login_id = "u" + std::to_string(id);
    p.display_name = "利用者" + std::to_string(id);
    p.occupation = occupation;
    p.role = role;
    return p;
  }

  http::Response Call(const std::string& method, const std::string& path,
                      const auth::Principal* principal, std::string body = {},
                      std::string content_type = "application/json") {
    http::Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.client_address = "192.0.2.1";
    req.body = std::move(body);
    if (!content_type.empty()) req.headers.Set("content-type", content_type);
    if (principal) auth::SetPrincipal(req, *principal);
    return router_.Dispatch(req);
  }

  std::string Base() { return "/api/v1/patients/" + patient_.regional_id + "/consents"; }

  static json::object Body(const http::Response& r) { return json::parse(r.body).as_object(); }

  std::string CreateBody() {
    return json::serialize(json::object{{"scope", "clinical_sharing"},
                                        {"source_facility_id", hospital_},
                                        {"viewer_facility_id", clinic_},
                                        {"valid_from", "2025-12-01"},
                                        {"note", "外来"}});
  }

  int64_t CountAudit(const std::string& action, const std::string& outcome = "success") {
    audit::AuditQuery q;
    q.action = action;
    int64_t n = 0;
    for (const auto& e : audit_->Search(q)) n += e.action == action && e.outcome == outcome;
    return n;
  }

  int64_t hospital_ = 0, clinic_ = 0, stranger_ = 0;
  registry::Patient patient_;
  std::unique_ptr<ConsentDeps> deps_;
  http::Router router_;
};

TEST_P(ConsentRoutesTest, CreateListAndWithdraw) {
  auth::Principal clerk = User(5, hospital_);
  auto created = Call("POST", Base(), &clerk, CreateBody());
  ASSERT_EQ(created.status, 201) << created.body;
  json::object c = Body(created);
  EXPECT_EQ(c["regional_id"].as_string(), patient_.regional_id);
  EXPECT_EQ(c["scope"].as_string(), "clinical_sharing");
  EXPECT_EQ(c["source_facility_name"].as_string(), "県立病院");
  EXPECT_EQ(c["viewer_facility_name"].as_string(), "信夫山内科クリニック");
  EXPECT_TRUE(c["valid_to"].is_null());
  EXPECT_EQ(c["status"].as_string(), "active");
  EXPECT_TRUE(c["form"].is_null());
  EXPECT_EQ(c["created_by"].as_int64(), 5);
  int64_t id = c["id"].as_int64();

  auto list = Call("GET", Base(), &clerk);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(Body(list)["items"].as_array().size(), 1u);

  auto withdrawn = Call("POST", Base() + "/" + std::to_string(id) + "/withdraw", &clerk);
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_EQ(Body(withdrawn)["status"].as_string(), "withdrawn");
  EXPECT_EQ(Body(withdrawn)["withdrawn_by"].as_int64(), 5);
  EXPECT_EQ(Call("POST", Base() + "/" + std::to_string(id) + "/withdraw", &clerk).status, 409);

  EXPECT_EQ(CountAudit("consent.create"), 1);
  EXPECT_EQ(CountAudit("consent.withdraw"), 1);
  audit::AuditQuery q;
  q.patient_id = patient_.regional_id;
  q.action = "consent.create";
  auto events = audit_->Search(q);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].user_id, 5);
  EXPECT_EQ(events[0].object, "consent:" + std::to_string(id));
}

TEST_P(ConsentRoutesTest, BadBodiesGetClearErrorsAndStoreNothing) {
  auth::Principal clerk = User(5, hospital_);
  struct Case {
    json::object body;
    int status;
    const char* message_part;
  };
  const Case cases[] = {
      {{{"scope", "everything"}, {"valid_from", "2026-01-01"}}, 400, "scope"},
      {{{"scope", "clinical_sharing"}}, 400, "valid_from"},
      {{{"scope", "clinical_sharing"}, {"valid_from", "2026/01/01"}}, 400, "valid_from"},
      {{{"scope", "clinical_sharing"}, {"valid_from", "2026-02-01"}, {"valid_to", "2026-01-31"}},
       400,
       "valid_to"},
      {{{"scope", "clinical_sharing"}, {"valid_from", "2026-01-01"}, {"source_facility_id", "1"}},
       400,
       "source_facility_id"},
      {{{"scope", "clinical_sharing"}, {"valid_from", "2026-01-01"}, {"viewer_facility_id", 4242}},
       400,
       "viewer_facility_id"},
  };
  for (const Case& tc : cases) {
    auto r = Call("POST", Base(), &clerk, json::serialize(tc.body));
    EXPECT_EQ(r.status, tc.status) << r.body;
    EXPECT_NE(r.body.find(tc.message_part), std::string::npos) << r.body;
  }
  EXPECT_EQ(Call("POST", Base(), &clerk, "{not json").status, 400);
  EXPECT_EQ(CountRows("consents"), 0);
}

TEST_P(ConsentRoutesTest, OnlyThoseWhoSeeThePatientManageItsConsents) {
  auth::Principal outsider = User(6, stranger_, auth::Occupation::kPhysician);
  auth::Principal family = User(7, hospital_, auth::Occupation::kFamily);
  auth::Principal secretariat = User(1, 0, auth::Occupation::kClerk, auth::Role::kNetworkAdmin);
  EXPECT_EQ(Call("GET", Base(), nullptr).status, 401);
  EXPECT_EQ(Call("GET", Base(), &outsider).status, 404);
  EXPECT_EQ(Call("POST", Base(), &outsider, CreateBody()).status, 404);
  EXPECT_EQ(Call("GET", Base(), &family).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/patients/123456789012/consents", &secretariat).status, 404);
  EXPECT_EQ(CountRows("consents"), 0);
  auto by_secretariat = Call("POST", Base(), &secretariat, CreateBody());
  EXPECT_EQ(by_secretariat.status, 201) << by_secretariat.body;

  // A consent is reachable only under its own patient.
  registry::Patient other = AddPatient(stranger_, "スズキ　ハナコ", "1950-02-03");
  int64_t id = Body(by_secretariat)["id"].as_int64();
  std::string wrong =
      "/api/v1/patients/" + other.regional_id + "/consents/" + std::to_string(id) + "/withdraw";
  EXPECT_EQ(Call("POST", wrong, &outsider).status, 404);
  EXPECT_FALSE(consents_->Get(id)->withdrawn());
}

TEST_P(ConsentRoutesTest, FormUploadAndDownload) {
  auth::Principal clerk = User(5, hospital_);
  int64_t id = Body(Call("POST", Base(), &clerk, CreateBody()))["id"].as_int64();
  std::string form_path = Base() + "/" + std::to_string(id) + "/form";

  EXPECT_EQ(Call("GET", form_path, &clerk).status, 404);  // none yet
  auto disguised = Call("POST", form_path, &clerk, kExe, "image/png");
  EXPECT_EQ(disguised.status, 400);
  EXPECT_NE(disguised.body.find("PDF, JPEG or PNG"), std::string::npos) << disguised.body;
  auto untyped = Call("POST", form_path, &clerk, kPdf, "");
  EXPECT_EQ(untyped.status, 400);
  auto oversize =
      Call("POST", form_path, &clerk, kPdf + std::string(10 * 1024 * 1024, ' '), "application/pdf");
  EXPECT_EQ(oversize.status, 413);
  EXPECT_TRUE(consents_->Get(id)->form_sha256.empty());
  EXPECT_EQ(CountAudit("consent.form.upload", "failure"), 3);

  auto uploaded = Call("POST", form_path, &clerk, kPdf, "application/pdf");
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  json::object form = Body(uploaded)["form"].as_object();
  EXPECT_EQ(form["content_type"].as_string(), "application/pdf");
  EXPECT_EQ(form["size"].as_int64(), static_cast<int64_t>(kPdf.size()));

  auto download = Call("GET", form_path, &clerk);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.body, kPdf);
  EXPECT_EQ(download.headers.Get("content-type").value_or(""), "application/pdf");
  EXPECT_EQ(download.headers.Get("content-disposition").value_or(""),
            "attachment; filename=\"consent-" + std::to_string(id) + ".pdf\"");
  EXPECT_EQ(download.headers.Get("x-content-type-options").value_or(""), "nosniff");
  EXPECT_EQ(CountAudit("consent.form.read"), 1);
  EXPECT_EQ(Call("POST", form_path, &clerk, kPdf, "application/pdf").status, 409);
}

TEST_P(ConsentRoutesTest, MergeIsForTheSecretariatOnly) {
  auth::Principal clerk = User(5, hospital_);
  auth::Principal secretariat = User(1, 0, auth::Occupation::kClerk, auth::Role::kNetworkAdmin);
  registry::Patient duplicate = AddPatient(clinic_);
  NewConsent nc{duplicate.id, Scope::kDispensing, 0, 0, "2025-01-01", "", ""};
  ASSERT_TRUE(consents_->Create(nc, 1).has_value());
  std::string path = "/api/v1/patients/" + patient_.regional_id + "/merge";
  std::string body =
      json::serialize(json::object{{"duplicate_regional_id", duplicate.regional_id}});

  EXPECT_EQ(Call("POST", path, nullptr, body).status, 401);
  EXPECT_EQ(Call("POST", path, &clerk, body).status, 403);
  EXPECT_EQ(Call("POST", path, &secretariat, "{}").status, 400);
  auto merged = Call("POST", path, &secretariat, body);
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(Body(merged)["links_moved"].as_int64(), 1);
  EXPECT_EQ(Body(merged)["consents_moved"].as_int64(), 1);
  EXPECT_EQ(Call("POST", path, &secretariat, body).status, 404);

  audit::AuditQuery q;
  q.action = "patient.merge";
  q.patient_id = duplicate.regional_id;
  auto events = audit_->Search(q);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "success");
  EXPECT_EQ(events[0].user_id, 1);
  q.patient_id = patient_.regional_id;
  auto survivor_events = audit_->Search(q);  // newest first: the failed repeat, then success
  ASSERT_EQ(survivor_events.size(), 2u);
  EXPECT_EQ(survivor_events[0].outcome, "failure");
  EXPECT_EQ(survivor_events[1].outcome, "success");
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsentRoutesTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::consent
