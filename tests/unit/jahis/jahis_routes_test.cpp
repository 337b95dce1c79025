// POST /api/v1/patients/:rid/dispensings through the router: the summary
// JSON of docs/api.md, dry runs, and the error answers.
#include "jahis/jahis_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/principal_context.hpp"
#include "http/router.hpp"
#include "jahis/dispensing_import.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::jahis {
namespace {

namespace json = boost::json;

std::string Golden(const std::string& name) {
  const char* root = std::getenv("TSUNAGU_SOURCE_DIR");
  std::filesystem::path p =
      std::filesystem::path(root != nullptr ? root : ".") / "tests" / "golden" / "jahis" / name;
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class JahisRoutesTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    clinic_ = AddFacility("信夫山内科クリニック");
    pharmacy_ = AddFacility("県北みどり薬局", registry::FacilityType::kPharmacy);
    other_ = AddFacility("あさか調剤薬局", registry::FacilityType::kPharmacy);
    patient_ = AddPatient(clinic_, "C-001");
    ASSERT_TRUE(patients_->Link(patient_.regional_id, pharmacy_, "P-77").ok());
    timeline_ = std::make_unique<clinical::TimelineService>(*resources_, *patients_, *facilities_,
                                                            *policy_, *audit_);
    import_ = std::make_unique<DispensingImport>(*resources_, *timeline_, *patients_, *facilities_,
                                                 *audit_);
    deps_ = std::make_unique<JahisDeps>(JahisDeps{*import_});
    // Stands in for the session middleware: "X-Test-Facility" logs a
    // pharmacist of that facility in.
    router_.Use([](http::Request& req, const http::Handler& next) {
      if (auto f = req.Header("X-Test-Facility")) {
        auth::Principal p;
        p.user_id = 31;
        p.facility_id = std::stoll(std::string(*f));
        p.login_id = "ph.tanaka";
        p.occupation = auth::Occupation::kPharmacist;
        auth::SetPrincipal(req, p);
      }
      return next(req);
    });
    RegisterJahisRoutes(router_, *deps_);
  }

  http::Response Post(const std::string& path, const std::string& body, int64_t facility,
                      const std::string& content_type = "text/csv",
                      const std::string& dry_run = "") {
    http::Request req;
    req.method = "POST";
    req.target = path;
    req.path = path;
    if (!dry_run.empty()) req.query["dry_run"] = dry_run;
    req.body = body;
    req.client_address = "192.0.2.31";
    if (!content_type.empty()) req.headers.Set("Content-Type", content_type);
    if (facility) req.headers.Set("X-Test-Facility", std::to_string(facility));
    return router_.Dispatch(req);
  }

  std::string Path() const { return "/api/v1/patients/" + patient_.regional_id + "/dispensings"; }

  int64_t clinic_ = 0, pharmacy_ = 0, other_ = 0;
  registry::Patient patient_;
  std::unique_ptr<clinical::TimelineService> timeline_;
  std::unique_ptr<DispensingImport> import_;
  std::unique_ptr<JahisDeps> deps_;
  http::Router router_;
};

TEST_P(JahisRoutesTest, UploadAnswersTheSummary) {
  http::Response r = Post(Path(), Golden("notebook_sjis.csv"), pharmacy_);
  ASSERT_EQ(r.status, 201) << r.body;
  json::object o = json::parse(r.body).as_object();
  EXPECT_EQ(o.at("regional_id").as_string(), patient_.regional_id);
  EXPECT_EQ(o.at("dry_run").as_bool(), false);
  EXPECT_EQ(o.at("encoding").as_string(), "Shift_JIS");
  EXPECT_EQ(o.at("medications").as_int64(), 2);
  EXPECT_EQ(o.at("inserted").as_int64(), 2);
  EXPECT_EQ(o.at("unchanged").as_int64(), 0);
  const json::object& event = o.at("events").as_array().at(0).as_object();
  EXPECT_EQ(event.at("date").as_string(), "2025-10-20");
  EXPECT_EQ(event.at("pharmacy").at("name").as_string(), "あさか調剤薬局");
  EXPECT_EQ(event.at("prescriber").at("department").as_string(), "循環器内科");
  const json::object& drug = event.at("medications").as_array().at(0).as_object();
  EXPECT_EQ(drug.at("name").as_string(), "アムロジン錠５ｍｇ");
  EXPECT_EQ(drug.at("yj_code").as_string(), "2171022F1029");
  EXPECT_EQ(drug.at("start").as_string(), "2025-10-20");
  EXPECT_EQ(drug.at("end").as_string(), "2025-10-26");
  const json::array& problems = o.at("problems").as_array();
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems.back().at("line").as_int64(), 12);
  EXPECT_TRUE(o.at("medication_warnings").is_array());

  http::Response again =
      Post(Path(), Golden("notebook_sjis.csv"), pharmacy_, "application/octet-stream");
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(json::parse(again.body).at("unchanged").as_int64(), 2);
}

TEST_P(JahisRoutesTest, DryRunAnswers200AndStoresNothing) {
  http::Response r = Post(Path(), Golden("notebook_utf8.csv"), pharmacy_, "text/csv", "true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("dry_run").as_bool(), true);
  EXPECT_EQ(json::parse(r.body).at("inserted").as_int64(), 0);
  http::Response real = Post(Path(), Golden("notebook_utf8.csv"), pharmacy_);
  EXPECT_EQ(json::parse(real.body).at("inserted").as_int64(), 4);
}

TEST_P(JahisRoutesTest, ErrorAnswers) {
  EXPECT_EQ(Post(Path(), Golden("notebook_utf8.csv"), 0).status, 401);
  EXPECT_EQ(Post(Path(), Golden("notebook_utf8.csv"), pharmacy_, "application/json").status, 400);
  EXPECT_EQ(Post(Path(), Golden("notebook_utf8.csv"), pharmacy_, "text/csv", "maybe").status, 400);
  http::Response bad = Post(Path(), "JAHISTC04,1\n5,2025\n", pharmacy_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body).at("error").at("message").as_string(),
            "line 2: the dispensing date is not a date (YYYYMMDD)");
  EXPECT_EQ(Post("/api/v1/patients/000000000000/dispensings", "x", pharmacy_).status, 404);
  // A pharmacy without a patient ID linked to the patient.
  EXPECT_EQ(Post(Path(), Golden("notebook_utf8.csv"), other_).status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, JahisRoutesTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::jahis
