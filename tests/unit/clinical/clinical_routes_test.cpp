// The clinical routes through the router: JSON shapes of docs/api.md
// "Clinical timeline" and the error answers (401 / 403 / 404 / 400).
#include "clinical/clinical_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/principal_context.hpp"
#include "clinical/timeline_service.hpp"
#include "http/router.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::clinical {
namespace {

namespace json = boost::json;

class ClinicalRoutesTest : public ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    clinic_ = AddFacility("信夫山内科クリニック");
    hospital_ = AddFacility("県北総合病院", registry::FacilityType::kHospital);
    other_ = AddFacility("吾妻眼科");
    patient_ = AddPatient(clinic_, "C-001");
    ASSERT_TRUE(patients_->Link(patient_.regional_id, hospital_, "H-123").ok());
    Consent(patient_, 0, clinic_);
    timeline_ =
        std::make_unique<TimelineService>(*resources_, *patients_, *facilities_, *policy_, *audit_);
    deps_ = std::make_unique<ClinicalDeps>(ClinicalDeps{*timeline_});
    // Stands in for the session middleware: "X-Test-Facility" logs a
    // physician of that facility in.
    router_.Use([](http::Request& req, const http::Handler& next) {
      if (auto f = req.Header("X-Test-Facility")) {
        auth::Principal p;
        p.user_id = 7;
        p.facility_id = std::stoll(std::string(*f));
        p.login_id = "doctor";
        p.display_name = "連携　医師";
        p.occupation = auth::Occupation::kPhysician;
        auth::SetPrincipal(req, p);
      }
      return next(req);
    });
    RegisterClinicalRoutes(router_, *deps_);

    Write({SimpleRecord(hospital_, "H-123", "ALG|1", Category::kAllergy, "AllergyIntolerance",
                        "ペニシリン", "2019-04-01", ",\"criticality\":\"high\""),
           LabRecord(hospital_, "H-123", "L1", "3D010", "HbA1c", 7.4, "%", 4.6, 6.2,
                     "2025-06-01T09:30:00+09:00", "H"),
           LabRecord(hospital_, "H-123", "L2", "3D010", "HbA1c", 6.0, "%", 4.6, 6.2,
                     "2025-03-01T09:30:00+09:00", "N"),
           PrescriptionRecord(clinic_, "C-001", "RX|1", "1149019F1560", "ロキソニン錠60mg",
                              "2025-06-01", "2025-06-14", 14),
           PrescriptionRecord(hospital_, "H-123", "RX|2", "1149019F1020",
                              "ロキソプロフェンNa錠60mg", "2025-06-10", "2025-06-23", 14)});
  }

  http::Response Get(const std::string& target, int64_t facility) {
    http::Request req;
    req.method = "GET";
    req.target = target;
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      size_t start = 0;
      while (start < rest.size()) {
        size_t amp = rest.find('&', start);
        if (amp == std::string::npos) amp = rest.size();
        std::string pair = rest.substr(start, amp - start);
        auto eq = pair.find('=');
        req.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
        start = amp + 1;
      }
    }
    req.client_address = "192.0.2.7";
    if (facility) req.headers.Set("X-Test-Facility", std::to_string(facility));
    return router_.Dispatch(req);
  }

  static json::object Body(const http::Response& r) { return json::parse(r.body).as_object(); }
  static std::string ErrorCode(const http::Response& r) {
    return std::string(Body(r).at("error").at("code").as_string());
  }

  std::string Base() { return "/api/v1/patients/" + patient_.regional_id; }

  int64_t clinic_ = 0, hospital_ = 0, other_ = 0;
  registry::Patient patient_;
  std::unique_ptr<TimelineService> timeline_;
  std::unique_ptr<ClinicalDeps> deps_;
  http::Router router_;
};

TEST_P(ClinicalRoutesTest, TimelineJson) {
  auto r = Get(Base() + "/timeline?limit=2", clinic_);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object body = Body(r);
  EXPECT_EQ(body.at("regional_id").as_string(), patient_.regional_id);
  ASSERT_EQ(body.at("allergies").as_array().size(), 1u);
  const auto& allergy = body.at("allergies").as_array()[0].as_object();
  EXPECT_EQ(allergy.at("category").as_string(), "allergy");
  EXPECT_EQ(allergy.at("summary").at("criticality").as_string(), "high");

  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(body.at("total").as_int64(), 4);
  ASSERT_TRUE(body.at("next_cursor").is_string());
  const auto& rx = items[0].as_object();
  EXPECT_EQ(rx.at("resource_type").as_string(), "MedicationRequest");
  EXPECT_EQ(rx.at("display").as_string(), "ロキソプロフェンNa錠60mg");
  EXPECT_EQ(rx.at("source_facility_name").as_string(), "県北総合病院");
  EXPECT_EQ(rx.at("effective_end").as_string(), "2025-06-23");
  EXPECT_EQ(rx.at("medication").at("days").as_string(), "14");
  EXPECT_EQ(rx.at("medication").at("frequency").as_string(), "1日3回毎食後");
  EXPECT_EQ(rx.at("summary").at("route").as_string(), "内服");
  // A date-time sorts after a plain date of the same day.
  const auto& lab = items[1].as_object();
  EXPECT_EQ(lab.at("category").as_string(), "lab_result");
  EXPECT_EQ(lab.at("lab").at("value").to_number<double>(), 7.4);
  EXPECT_EQ(lab.at("lab").at("flag").as_string(), "H");
  EXPECT_EQ(lab.at("lab").at("abnormal").as_bool(), true);
  EXPECT_EQ(lab.at("lab").at("high").to_number<double>(), 6.2);

  auto next =
      Get(Base() + "/timeline?limit=2&cursor=" + std::string(body.at("next_cursor").as_string()),
          clinic_);
  ASSERT_EQ(next.status, 200) << next.body;
  json::object page2 = Body(next);
  ASSERT_EQ(page2.at("items").as_array().size(), 2u);
  EXPECT_EQ(page2.at("items").as_array()[0].at("display").as_string(), "ロキソニン錠60mg");
  EXPECT_EQ(page2.at("items").as_array()[1].at("lab").at("abnormal").as_bool(), false);
  EXPECT_TRUE(page2.at("next_cursor").is_null());

  auto filtered =
      Get(Base() + "/timeline?category=lab_result&facility_id=" + std::to_string(hospital_) +
              "&from=2025-05-01&to=2025-12-31",
          clinic_);
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(Body(filtered).at("items").as_array().size(), 1u);
}

TEST_P(ClinicalRoutesTest, ErrorsAreJson) {
  auto bad_category = Get(Base() + "/timeline?category=gossip", clinic_);
  EXPECT_EQ(bad_category.status, 400);
  EXPECT_EQ(ErrorCode(bad_category), "invalid_input");
  EXPECT_EQ(Get(Base() + "/timeline?facility_id=abc", clinic_).status, 400);
  EXPECT_EQ(Get(Base() + "/timeline?limit=ten", clinic_).status, 400);
  EXPECT_EQ(Get(Base() + "/timeline?to=2025-02-30x", clinic_).status, 400);

  auto unknown = Get("/api/v1/patients/000000000000/timeline", clinic_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorCode(unknown), "not_found");

  for (const char* path : {"/timeline", "/labs", "/medication-warnings"}) {
    auto denied = Get(Base() + path, other_);
    EXPECT_EQ(denied.status, 403) << path;
    EXPECT_EQ(ErrorCode(denied), "forbidden") << path;
    auto anonymous = Get(Base() + path, 0);
    EXPECT_EQ(anonymous.status, 401) << path;
  }
  EXPECT_EQ(Get("/api/v1/resources/Observation/abc", clinic_).status, 404);
  EXPECT_EQ(Get("/api/v1/resources/Observation/abc", 0).status, 401);
}

TEST_P(ClinicalRoutesTest, LabsWarningsAndResourceJson) {
  auto labs = Get(Base() + "/labs", clinic_);
  ASSERT_EQ(labs.status, 200) << labs.body;
  json::object body = Body(labs);
  EXPECT_EQ(body.at("dates").as_array().size(), 2u);
  const auto& test = body.at("tests").as_array().at(0).as_object();
  EXPECT_EQ(test.at("code").as_string(), "3D010");
  EXPECT_EQ(test.at("reference_range").at("high").to_number<double>(), 6.2);
  EXPECT_EQ(test.at("cells").as_array().size(), 2u);
  const auto& series = test.at("series").as_array();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].at("value").to_number<double>(), 6.0);
  EXPECT_EQ(series[1].at("abnormal").as_bool(), true);
  EXPECT_EQ(series[1].at("source_facility_name").as_string(), "県北総合病院");

  auto warnings = Get(Base() + "/medication-warnings", clinic_);
  ASSERT_EQ(warnings.status, 200) << warnings.body;
  json::object warning_body = Body(warnings);
  const auto& items = warning_body.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("ingredient").as_string(), "1149019");
  EXPECT_EQ(items[0].at("first").at("facility_name").as_string(), "信夫山内科クリニック");
  EXPECT_EQ(items[0].at("second").at("end").as_string(), "2025-06-23");
  EXPECT_EQ(items[0].at("overlap_start").as_string(), "2025-06-10");

  std::string id = std::string(series[0].at("id").as_string());
  auto resource = Get("/api/v1/resources/Observation/" + id, clinic_);
  ASSERT_EQ(resource.status, 200) << resource.body;
  EXPECT_EQ(Body(resource).at("id").as_string(), id);
  EXPECT_EQ(Body(resource).at("resourceType").as_string(), "Observation");
  EXPECT_EQ(Get("/api/v1/resources/Observation/" + id, other_).status, 403);

  // The audit trail carries the request's client address and the user.
  audit::AuditQuery q;
  q.action = "clinical.labs";
  auto events = audit_->Search(q);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].client_address, "192.0.2.7");
  EXPECT_EQ(events[0].user_id, 7);
  EXPECT_EQ(events[0].patient_id, patient_.regional_id);
}

INSTANTIATE_TEST_SUITE_P(Backends, ClinicalRoutesTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::clinical
