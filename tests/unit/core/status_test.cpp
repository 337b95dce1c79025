#include "core/status.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tsunagu::core {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, FactoriesCarryCodeMessageAndDetail) {
  Status s = NotFound("patient not found", "regional id 123");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "patient not found");
  EXPECT_EQ(s.detail(), "regional id 123");
  EXPECT_EQ(s.ToString(), "not_found: patient not found (regional id 123)");
  EXPECT_EQ(InvalidInput("bad").ToString(), "invalid_input: bad");
  EXPECT_EQ(Conflict("x").code(), Code::kConflict);
  EXPECT_EQ(Unauthenticated("x").code(), Code::kUnauthenticated);
  EXPECT_EQ(Forbidden("x").code(), Code::kForbidden);
  EXPECT_EQ(Unavailable("x").code(), Code::kUnavailable);
  EXPECT_EQ(TooLarge("x").code(), Code::kTooLarge);
  EXPECT_EQ(Internal("x").code(), Code::kInternal);
}

TEST(StatusTest, CodeNames) {
  EXPECT_STREQ(CodeName(Code::kOk), "ok");
  EXPECT_STREQ(CodeName(Code::kForbidden), "forbidden");
  EXPECT_STREQ(CodeName(Code::kTooLarge), "too_large");
  EXPECT_STREQ(CodeName(static_cast<Code>(99)), "internal");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> r = 42;
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value_or(7), 42);

  Result<int> e = Forbidden("no consent");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), Code::kForbidden);
  EXPECT_EQ(e.status().message(), "no consent");
  EXPECT_EQ(e.value_or(7), 7);
}

TEST(ResultTest, MoveOnlyValueAndArrow) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("abc");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->size(), 3u);
  std::unique_ptr<std::string> owned = std::move(r).value();
  EXPECT_EQ(*owned, "abc");

  Result<std::string> s = std::string("hello");
  EXPECT_EQ(s->size(), 5u);
}

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidInput("not positive");
  return v;
}

Result<int> Doubled(int v) {
  TSUNAGU_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return x * 2;
}

Result<std::string> Twice(int v) {
  std::string out;
  TSUNAGU_ASSIGN_OR_RETURN(int a, Doubled(v));
  TSUNAGU_ASSIGN_OR_RETURN(out, Result<std::string>(std::to_string(a)));
  return out + out;
}

Status CheckBoth(int a, int b) {
  TSUNAGU_RETURN_IF_ERROR(ParsePositive(a).status());
  TSUNAGU_RETURN_IF_ERROR(b > 10 ? TooLarge("b") : Status::Ok());
  return Status::Ok();
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Doubled(4), 8);
  Result<int> bad = Doubled(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kInvalidInput);
  EXPECT_EQ(bad.error().message(), "not positive");
  EXPECT_EQ(*Twice(3), "66");
  EXPECT_EQ(Twice(0).error().code(), Code::kInvalidInput);
}

TEST(ResultTest, ReturnIfErrorPropagates) {
  EXPECT_TRUE(CheckBoth(1, 1).ok());
  EXPECT_EQ(CheckBoth(0, 1).code(), Code::kInvalidInput);
  EXPECT_EQ(CheckBoth(1, 11).code(), Code::kTooLarge);
}

}  // namespace
}  // namespace tsunagu::core
