#include "http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace tsunagu::http {
namespace {

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

Response Echo(std::string text) { return Response::Text(200, std::move(text)); }

TEST(RouterTest, PathParameters) {
  Router router;
  router.Get("/api/v1/patients/:id/documents/:doc",
             [](Request& r) { return Echo(r.Param("id") + "|" + r.Param("doc")); });
  Request r = Make("GET", "/api/v1/patients/P-12/documents/7");
  Response res = router.Dispatch(r);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "P-12|7");
}

TEST(RouterTest, LiteralBeatsParameter) {
  Router router;
  router.Get("/api/v1/patients/:id", [](Request& r) { return Echo("id:" + r.Param("id")); });
  router.Get("/api/v1/patients/search", [](Request&) { return Echo("search"); });
  Request a = Make("GET", "/api/v1/patients/search");
  EXPECT_EQ(router.Dispatch(a).body, "search");
  Request b = Make("GET", "/api/v1/patients/42");
  EXPECT_EQ(router.Dispatch(b).body, "id:42");
}

TEST(RouterTest, ManyResourcesAndParametersAtEveryPosition) {
  // Routes differ at the third segment (/api/v1/<resource>), some have a
  // parameter there, and the shortest have none: each path finds its own.
  Router router;
  for (std::string resource : {"care", "facilities", "patients", "fhir", "users"}) {
    router.Get("/api/v1/" + resource + "/:id",
               [resource](Request& r) { return Echo(resource + ":" + r.Param("id")); });
  }
  router.Get("/api/v1/:kind/:id", [](Request& r) { return Echo("any " + r.Param("kind")); });
  router.Post("/api/v1/:kind/:id", [](Request&) { return Echo("post"); });
  router.Get("/api/v1/patients/search", [](Request&) { return Echo("search"); });
  router.Get("/api/v1", [](Request&) { return Echo("root"); });
  router.Get("/x/:a", [](Request& r) { return Echo("x " + r.Param("a")); });
  struct Case {
    std::string method, path, body;
    int status;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"GET", "/api/v1/facilities/2", "facilities:2", 200},
           {"GET", "/api/v1/users/9", "users:9", 200},
           {"GET", "/api/v1/patients/search", "search", 200},
           {"GET", "/api/v1/patients/P1", "patients:P1", 200},
           {"GET", "/api/v1/audit/5", "any audit", 200},
           {"POST", "/api/v1/care/5", "post", 200},
           {"GET", "/api/v1", "root", 200},
           {"GET", "/x/y", "x y", 200},
           {"GET", "/api/v1/care/5/posts", "", 404},
       }) {
    Request r = Make(c.method, c.path);
    Response res = router.Dispatch(r);
    EXPECT_EQ(res.status, c.status) << c.method << " " << c.path;
    if (c.status == 200) {
      EXPECT_EQ(res.body, c.body) << c.path;
    }
  }
  Request del = Make("DELETE", "/api/v1/patients/search");
  Response res = router.Dispatch(del);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.Get("allow").value_or(""), "GET, POST");
}

TEST(RouterTest, WildcardTakesTheRest) {
  Router router;
  router.Get("/fhir/*rest", [](Request& r) { return Echo(r.Param("rest")); });
  Request a = Make("GET", "/fhir/Patient/123/_history/2");
  EXPECT_EQ(router.Dispatch(a).body, "Patient/123/_history/2");
  Request b = Make("GET", "/fhir");
  Response rb = router.Dispatch(b);
  EXPECT_EQ(rb.status, 200);
  EXPECT_EQ(rb.body, "");
}

TEST(RouterTest, UnknownPathIs404Json) {
  Router router;
  router.Get("/api/v1/a", [](Request&) { return Echo("a"); });
  Request r = Make("GET", "/api/v1/b");
  Response res = router.Dispatch(r);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":{"code":"not_found","message":"not found"}})");
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router;
  router.Get("/api/v1/a", [](Request&) { return Echo("a"); });
  router.Delete("/api/v1/a", [](Request&) { return Echo("a"); });
  Request r = Make("POST", "/api/v1/a");
  Response res = router.Dispatch(r);
  EXPECT_EQ(res.status, 405);
  EXPECT_NE(res.body.find("\"error\""), std::string::npos);
  EXPECT_EQ(res.headers.Get("allow").value_or(""), "GET, DELETE");
  Router::Match m = router.Find(r);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.method_not_allowed);
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  router.Get("/api/v1/a", [](Request&) { return Echo("a"); });
  Request r = Make("HEAD", "/api/v1/a");
  EXPECT_EQ(router.Dispatch(r).status, 200);
}

TEST(RouterTest, MiddlewaresRunInOrderAroundHandler) {
  Router router;
  std::vector<std::string> trace;
  router.Use([&](Request& r, const Handler& next) {
    trace.push_back("outer-in");
    Response res = next(r);
    trace.push_back("outer-out");
    return res;
  });
  router.Use([&](Request& r, const Handler& next) {
    trace.push_back("inner-in");
    r.context["user"] = 7;
    return next(r);
  });
  router.Get("/x", [&](Request& r) {
    trace.push_back("handler");
    return Echo(std::to_string(std::any_cast<int>(r.context["user"])));
  });
  Request r = Make("GET", "/x");
  EXPECT_EQ(router.Dispatch(r).body, "7");
  EXPECT_EQ(trace, (std::vector<std::string>{"outer-in", "inner-in", "handler", "outer-out"}));
}

TEST(RouterTest, MiddlewareCanShortCircuit) {
  Router router;
  bool handler_ran = false;
  router.Use([](Request&, const Handler&) {
    return Response::Error(core::Unauthenticated("login required"));
  });
  router.Get("/x", [&](Request&) {
    handler_ran = true;
    return Echo("x");
  });
  Request r = Make("GET", "/x");
  EXPECT_EQ(router.Dispatch(r).status, 401);
  EXPECT_FALSE(handler_ran);
}

TEST(RouterTest, MiddlewareDoesNotRunForUnmatched) {
  Router router;
  int calls = 0;
  router.Use([&](Request& r, const Handler& next) {
    ++calls;
    return next(r);
  });
  Request r = Make("GET", "/nothing");
  EXPECT_EQ(router.Dispatch(r).status, 404);
  EXPECT_EQ(calls, 0);
}

TEST(RouterTest, ExceptionBecomes500WithoutDetail) {
  Router router;
  router.Get("/boom", [](Request&) -> Response {
    throw std::runtime_error("secret table name: patients_2024");
  });
  Request r = Make("GET", "/boom");
  Response res = router.Dispatch(r);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body, R"({"error":{"code":"internal","message":"internal error"}})");
}

TEST(RouterTest, BodyLimitPerRoute) {
  Router router;
  router.Post(
      "/api/v1/upload", [](Request&) { return Echo("ok"); }, RouteOptions{.body_limit = 50 << 20});
  router.Post("/api/v1/small", [](Request&) { return Echo("ok"); });
  EXPECT_EQ(router.BodyLimitFor("POST", "/api/v1/upload"), size_t{50} << 20);
  EXPECT_EQ(router.BodyLimitFor("POST", "/api/v1/small"), size_t{1} << 20);
  EXPECT_EQ(router.BodyLimitFor("POST", "/unknown"), RouteOptions{}.body_limit);
}

TEST(RouterTest, TrailingSlashMatchesSameRoute) {
  Router router;
  router.Get("/api/v1/facilities", [](Request&) { return Echo("list"); });
  Request r = Make("GET", "/api/v1/facilities/");
  EXPECT_EQ(router.Dispatch(r).body, "list");
}

}  // namespace
}  // namespace tsunagu::http
