#include "http/message.hpp"

#include <gtest/gtest.h>

namespace tsunagu::http {
namespace {

TEST(HeadersTest, NamesAreCaseInsensitiveAndStoredLowerCase) {
  Headers h;
  h.Set("Content-Type", "text/plain");
  EXPECT_EQ(h.Get("content-type").value_or(""), "text/plain");
  EXPECT_EQ(h.Get("CONTENT-TYPE").value_or(""), "text/plain");
  ASSERT_EQ(h.all().size(), 1u);
  EXPECT_EQ(h.all()[0].first, "content-type");
  h.Set("content-TYPE", "application/json");
  ASSERT_EQ(h.all().size(), 1u);
  EXPECT_EQ(*h.Get("Content-Type"), "application/json");
  EXPECT_FALSE(h.Get("x-missing").has_value());
}

TEST(HeadersTest, AddKeepsEarlierValues) {
  Headers h;
  h.Add("Set-Cookie", "a=1");
  h.Add("Set-Cookie", "b=2");
  EXPECT_EQ(h.all().size(), 2u);
  EXPECT_EQ(*h.Get("set-cookie"), "a=1");
}

TEST(RequestTest, CookieQueryAndParam) {
  Request r;
  r.headers.Add("Cookie", "theme=dark; tsunagu_session=abc123; quoted=\"x y\"");
  EXPECT_EQ(r.Cookie("tsunagu_session").value_or(""), "abc123");
  EXPECT_EQ(r.Cookie("quoted").value_or(""), "x y");
  EXPECT_FALSE(r.Cookie("session").has_value());
  r.query["page"] = "2";
  EXPECT_EQ(r.QueryOr("page", "1"), "2");
  EXPECT_EQ(r.QueryOr("size", "20"), "20");
  r.params["id"] = "P-1";
  EXPECT_EQ(r.Param("id"), "P-1");
  EXPECT_EQ(r.Param("other"), "");
}

TEST(ResponseTest, ErrorBodyHasCodeAndExternalMessageOnly) {
  Response r = Response::Error(core::NotFound("patient not found", "id=42 in table patients"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"patient not found"}})");
  EXPECT_EQ(r.headers.Get("content-type").value_or(""), "application/json");
  EXPECT_EQ(r.body.find("id=42"), std::string::npos);
}

TEST(ResponseTest, ErrorMessageIsJsonEscaped) {
  Response r = Response::Error(core::InvalidInput("bad \"name\""));
  EXPECT_EQ(r.body, R"({"error":{"code":"invalid_input","message":"bad \"name\""}})");
}

TEST(ResponseTest, HelpersSetStatusAndType) {
  EXPECT_EQ(Response::NoContent().status, 204);
  EXPECT_TRUE(Response::NoContent().body.empty());
  Response t = Response::Text(200, "hi");
  EXPECT_EQ(*t.headers.Get("content-type"), "text/plain; charset=utf-8");
  Response j = Response::Json(201, "{}");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(*j.headers.Get("content-type"), "application/json");
}

TEST(HttpStatusForTest, TheOneMapping) {
  EXPECT_EQ(HttpStatusFor(core::Code::kInvalidInput), 400);
  EXPECT_EQ(HttpStatusFor(core::Code::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(core::Code::kForbidden), 403);
  EXPECT_EQ(HttpStatusFor(core::Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(core::Code::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(core::Code::kTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(core::Code::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(core::Code::kInternal), 500);
}

}  // namespace
}  // namespace tsunagu::http
