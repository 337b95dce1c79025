#include "http/json.hpp"

#include <gtest/gtest.h>

namespace tsunagu::http {
namespace {

TEST(JsonTest, MalformedBody) {
  auto r = ParseJsonObject("{\"a\": ");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(r.error().message(), "malformed JSON");
}

TEST(JsonTest, NotAnObject) {
  auto r = ParseJsonObject("[1,2]");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "expected a JSON object");
}

TEST(JsonTest, ReadsTypedFields) {
  auto obj = ParseJsonObject(
      R"({"name":"x","admin":true,"age":42,"big":3.0,"tags":["a","b"],"gone":null})");
  ASSERT_TRUE(obj.has_value());
  EXPECT_EQ(OptString(*obj, "name")->value_or(""), "x");
  EXPECT_EQ(OptBool(*obj, "admin")->value_or(false), true);
  EXPECT_EQ(OptInt64(*obj, "age")->value_or(0), 42);
  EXPECT_EQ(OptInt64(*obj, "big")->value_or(0), 3);
  EXPECT_EQ(OptStringArray(*obj, "tags")->value_or(std::vector<std::string>{}),
            (std::vector<std::string>{"a", "b"}));
  // Absent and null read as absent.
  EXPECT_FALSE(OptString(*obj, "missing")->has_value());
  EXPECT_FALSE(OptString(*obj, "gone")->has_value());
  EXPECT_FALSE(OptInt64(*obj, "gone")->has_value());
  EXPECT_EQ(*RequireString(*obj, "name"), "x");
}

TEST(JsonTest, WrongTypeNamesTheField) {
  auto obj = ParseJsonObject(R"({"name":5,"admin":"yes","age":"42","frac":1.5,"tags":["a",1]})");
  ASSERT_TRUE(obj.has_value());
  auto s = OptString(*obj, "name");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(s.error().message(), "name must be a string");
  EXPECT_EQ(OptBool(*obj, "admin").error().message(), "admin must be a boolean");
  EXPECT_EQ(OptInt64(*obj, "age").error().message(), "age must be an integer");
  EXPECT_EQ(OptInt64(*obj, "frac").error().message(), "frac must be an integer");
  EXPECT_EQ(OptStringArray(*obj, "tags").error().message(), "tags must be an array of strings");
  EXPECT_EQ(RequireString(*obj, "name").error().message(), "name must be a string");
}

TEST(JsonTest, RequireStringMissingOrEmpty) {
  auto obj = ParseJsonObject(R"({"empty":"","null":null})");
  ASSERT_TRUE(obj.has_value());
  EXPECT_EQ(RequireString(*obj, "login_id").error().message(), "login_id is required");
  EXPECT_EQ(RequireString(*obj, "empty").error().message(), "empty is required");
  EXPECT_EQ(RequireString(*obj, "null").error().message(), "null is required");
}

TEST(JsonTest, Int64Range) {
  auto obj = ParseJsonObject(R"({"max":9223372036854775807,"over":9223372036854775808})");
  ASSERT_TRUE(obj.has_value());
  EXPECT_EQ(OptInt64(*obj, "max")->value_or(0), INT64_MAX);
  EXPECT_FALSE(OptInt64(*obj, "over").has_value());
}

TEST(JsonTest, ResponseAndSerialisation) {
  boost::json::object o;
  o["status"] = "ok";
  o["n"] = 1;
  EXPECT_EQ(ToJson(o), R"({"status":"ok","n":1})");
  Response r = JsonResponse(201, o);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"status":"ok","n":1})");
  EXPECT_EQ(*r.headers.Get("content-type"), "application/json");
}

}  // namespace
}  // namespace tsunagu::http
