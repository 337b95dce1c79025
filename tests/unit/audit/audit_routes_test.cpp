#include "audit/audit_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <string>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "http/router.hpp"
#include "unit/audit/audit_fixture.hpp"

namespace tsunagu::audit {
namespace {

namespace json = boost::json;

auth::Principal Admin(auth::Role role, int64_t facility_id = 10) {
  auth::Principal p;
  p.user_id = role == auth::Role::kNetworkAdmin ? 1 : 2;
  p.facility_id = facility_id;
  p.login_id = "admin";
  p.display_name = "Admin";
  p.occupation = auth::Occupation::kClerk;
  p.role = role;
  return p;
}

class AuditRoutesTest : public AuditDbTest {
 protected:
  void SetUp() override {
    AuditDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    RegisterAuditRoutes(router_, log(), [this](int64_t user_id) {
      ++lookups_;
      return "looked-up " + std::to_string(user_id);
    });
  }

  http::Response Get(const std::string& path, std::map<std::string, std::string> query,
                     const auth::Principal* principal) {
    http::Request request;
    request.method = "GET";
    request.path = path;
    request.target = path;
    request.client_address = "198.51.100.7";
    for (auto& [k, v] : query) request.query.emplace(k, v);
    if (principal != nullptr) auth::SetPrincipal(request, *principal);
    return router_.Dispatch(request);
  }

  static json::object Body(const http::Response& response) {
    return json::parse(response.body).as_object();
  }

  void Seed() {
    auto add = [this](AuditEvent e) {
      clock_.Advance(60'000);
      ASSERT_TRUE(log().Append(std::move(e)).has_value());
    };
    add(Event("patient.read", 5, "P1", 10));
    add(Event("patient.read", 6, "P2", 20));
    AuditEvent nameless = Event("user.create", 7, "", 10);
    nameless.user_name.clear();
    add(nameless);
  }

  http::Router router_;
  int lookups_ = 0;
};

TEST_P(AuditRoutesTest, RequiresLogin) {
  auto response = Get("/api/v1/audit", {}, nullptr);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(Get("/api/v1/audit/verify", {}, nullptr).status, 401);
}

TEST_P(AuditRoutesTest, StaffAreForbiddenAndTheAttemptIsRecorded) {
  auth::Principal staff = Admin(auth::Role::kStaff);
  staff.occupation = auth::Occupation::kNurse;
  auto response = Get("/api/v1/audit", {}, &staff);
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(Body(response)["error"].as_object()["code"].as_string(), "forbidden");
  auto page = log().Find({});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->items[0].action, "audit.search");
  EXPECT_EQ(page->items[0].outcome, "denied");
  EXPECT_EQ(page->items[0].occupation, "nurse");
  EXPECT_EQ(page->items[0].client_address, "198.51.100.7");
}

TEST_P(AuditRoutesTest, NetworkAdminSeesEverythingAndTheSearchIsAudited) {
  Seed();
  auth::Principal admin = Admin(auth::Role::kNetworkAdmin);
  auto response = Get("/api/v1/audit", {}, &admin);
  ASSERT_EQ(response.status, 200) << response.body;
  json::object body = Body(response);
  EXPECT_EQ(body["total"].as_int64(), 3);
  json::array& items = body["items"].as_array();
  ASSERT_EQ(items.size(), 3u);
  json::object& newest = items[0].as_object();
  EXPECT_EQ(newest["seq"].as_int64(), 3);
  EXPECT_EQ(newest["action"].as_string(), "user.create");
  EXPECT_EQ(newest["user_name"].as_string(), "looked-up 7");  // filled by the lookup
  EXPECT_EQ(newest["time"].as_string(), "2026-01-01T00:03:00.000Z");
  for (const char* key :
       {"seq", "time", "user_id", "user_name", "facility_id", "occupation", "action", "patient_id",
        "object", "outcome", "client_address", "reason"}) {
    EXPECT_TRUE(newest.contains(key)) << key;
  }
  EXPECT_EQ(items[1].as_object()["user_name"].as_string(), "user 6");
  EXPECT_EQ(lookups_, 1);

  // The search itself is now the newest entry.
  auto page = log().Find({});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->total, 4);
  const AuditEvent& self = page->items[0];
  EXPECT_EQ(self.action, "audit.search");
  EXPECT_EQ(self.user_id, 1);
  EXPECT_EQ(self.user_name, "Admin");
  EXPECT_EQ(self.occupation, "clerk");
  EXPECT_EQ(self.outcome, "success");
}

TEST_P(AuditRoutesTest, FiltersFromQueryParameters) {
  Seed();
  auth::Principal admin = Admin(auth::Role::kNetworkAdmin);
  auto by_patient = Body(Get("/api/v1/audit", {{"patient_id", "P2"}}, &admin));
  EXPECT_EQ(by_patient["total"].as_int64(), 1);
  EXPECT_EQ(by_patient["items"].as_array()[0].as_object()["user_id"].as_int64(), 6);

  auto by_action = Body(Get("/api/v1/audit", {{"action", "patient."}, {"limit", "1"}}, &admin));
  EXPECT_EQ(by_action["total"].as_int64(), 2);
  EXPECT_EQ(by_action["items"].as_array().size(), 1u);

  // 2026-01-01T09:02 Japan time = 00:02Z: only the second and third entries.
  auto by_time =
      Body(Get("/api/v1/audit",
               {{"from", "2026-01-01T09:02"}, {"to", "2026-01-01"}, {"user_id", "6"}}, &admin));
  EXPECT_EQ(by_time["total"].as_int64(), 1);

  auto by_facility = Body(Get("/api/v1/audit", {{"facility_id", "20"}}, &admin));
  EXPECT_EQ(by_facility["total"].as_int64(), 1);
}

TEST_P(AuditRoutesTest, FacilityAdminIsConfinedToOwnFacility) {
  Seed();
  auth::Principal fadmin = Admin(auth::Role::kFacilityAdmin, 20);
  auto response = Get("/api/v1/audit", {{"facility_id", "10"}}, &fadmin);
  ASSERT_EQ(response.status, 200);
  json::object body = Body(response);
  EXPECT_EQ(body["total"].as_int64(), 1);
  for (auto& item : body["items"].as_array()) {
    EXPECT_EQ(item.as_object()["facility_id"].as_int64(), 20);
  }
  // And may not verify the chain.
  EXPECT_EQ(Get("/api/v1/audit/verify", {}, &fadmin).status, 403);
}

TEST_P(AuditRoutesTest, BadParametersAre400AndChangeNothing) {
  auth::Principal admin = Admin(auth::Role::kNetworkAdmin);
  for (auto query : std::vector<std::map<std::string, std::string>>{
           {{"limit", "0"}},
           {{"limit", "201"}},
           {{"limit", "ten"}},
           {{"offset", "-1"}},
           {{"user_id", "12abc"}},
           {{"from", "2026-02-30"}},
           {{"from", "2026-01-02"}, {"to", "2026-01-01"}}}) {
    auto response = Get("/api/v1/audit", query, &admin);
    EXPECT_EQ(response.status, 400) << query.begin()->first << "=" << query.begin()->second;
    EXPECT_EQ(Body(response)["error"].as_object()["code"].as_string(), "invalid_input");
  }
  int64_t total = -1;
  log().Search({}, &total);
  EXPECT_EQ(total, 0);
}

TEST_P(AuditRoutesTest, VerifyReportsIntactAndTampered) {
  Seed();
  auth::Principal admin = Admin(auth::Role::kNetworkAdmin);
  auto ok = Get("/api/v1/audit/verify", {}, &admin);
  ASSERT_EQ(ok.status, 200);
  json::object body = Body(ok);
  EXPECT_TRUE(body["ok"].as_bool());
  EXPECT_EQ(body["checked"].as_int64(), 3);
  EXPECT_FALSE(body.contains("first_bad_seq"));

  ASSERT_TRUE(db().Execute("UPDATE audit_events SET reason = 'edited' WHERE seq = 2").has_value());
  body = Body(Get("/api/v1/audit/verify", {}, &admin));
  EXPECT_FALSE(body["ok"].as_bool());
  EXPECT_EQ(body["first_bad_seq"].as_int64(), 2);
  EXPECT_FALSE(body["problem"].as_string().empty());
}

TEST(EventFromRequest, AnonymousRequestHasNoUser) {
  http::Request request;
  request.client_address = "203.0.113.5";
  AuditEvent e = EventFromRequest(request, "auth.login", "failure");
  EXPECT_EQ(e.user_id, 0);
  EXPECT_EQ(e.action, "auth.login");
  EXPECT_EQ(e.outcome, "failure");
  EXPECT_EQ(e.client_address, "203.0.113.5");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditRoutesTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::audit
