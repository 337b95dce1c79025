#include "clinical/json_members.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "clinical/resource_store.hpp"

namespace tsunagu::clinical {
namespace {

namespace json = boost::json;

TEST(JsonMembers, FindsTopLevelMembersOnly) {
  const std::string text =
      R"({"resourceType":"Observation","code":{"id":"inner","text":"a \"quoted\" {x}"},)"
      R"("subject" : {"identifier":{"value":"1"}},"valueQuantity":{"value":1.5},"n":[1,{"id":2}]})";
  EXPECT_EQ(FindMemberValue(text, 0, "id"), kNoMember) << "nested ids are not top-level";
  const size_t subject = FindMemberValue(text, 0, "subject");
  ASSERT_NE(subject, kNoMember);
  EXPECT_EQ(text[subject], '{');
  EXPECT_EQ(FindMemberValue(text, subject, "reference"), kNoMember);
  EXPECT_NE(FindMemberValue(text, 0, "n"), kNoMember);
  EXPECT_EQ(SkipValue(text, 0), text.size());
  EXPECT_EQ(FindMemberValue("{}", 0, "a"), kNoMember);
  EXPECT_EQ(FindMemberValue("{\"a\":", 0, "b"), kNoMember) << "truncated text is not trusted";
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  // A quote after an even number of backslashes ends the string; after an
  // odd number it is part of it.
  const std::string ends = R"({"k":"x\\","id":1})";
  EXPECT_EQ(FindMemberValue(ends, 0, "id"), ends.size() - 2);
  const std::string inside = R"({"k":"x\\\",\"id\":1","n":2})";
  EXPECT_EQ(FindMemberValue(inside, 0, "id"), kNoMember);
  EXPECT_EQ(FindMemberValue(inside, 0, "n"), inside.size() - 2);
  EXPECT_EQ(FindMemberValue(R"({"k":"x\"})", 0, "z"), kNoMember) << "unterminated string";
}

// The spliced result must be the same JSON as the parsed one, for each shape.
TEST(JsonMembers, WithResourceIdSplicesLikeTheParser) {
  const int64_t stored_at = 1767225600000;  // 2026-01-01T00:00:00Z
  for (const std::string text : {
           std::string(R"({"resourceType":"Condition","code":{"text":"x"}})"),
           std::string(R"({"resourceType":"Condition","meta":{"source":"urn:a"},"code":{}})"),
           std::string(R"({"resourceType":"Condition","meta":{},"code":{}})"),
           std::string(R"({ "resourceType" : "Condition" , "meta" : { "profile":["p"] } })"),
           // Shapes the splice leaves to the parser:
           std::string(R"({"meta":{"source":"a"},"resourceType":"Condition"})"),
           std::string(R"({"resourceType":"Condition","id":"old"})"),
           std::string(R"({"resourceType":"Condition","meta":{"lastUpdated":"2000-01-01"}})"),
       }) {
    const std::string out = WithResourceId(text, "abc\"1", stored_at);
    json::value v = json::parse(out);
    const json::object& o = v.as_object();
    EXPECT_EQ(o.begin()->key(), "resourceType") << out;
    EXPECT_EQ(o.at("id").as_string(), "abc\"1") << out;
    EXPECT_EQ(o.at("meta").at("lastUpdated").as_string(), "2026-01-01T00:00:00.000Z") << out;
    json::object original = json::parse(text).as_object();
    for (const auto& kv : original) {
      if (kv.key() == "id" || kv.key() == "meta") continue;
      EXPECT_EQ(o.at(kv.key()), kv.value()) << out;
    }
    if (auto* meta = original.if_contains("meta")) {
      for (const auto& kv : meta->as_object()) {
        if (kv.key() != "lastUpdated") EXPECT_EQ(o.at("meta").at(kv.key()), kv.value()) << out;
      }
    }
  }
  // Without a stored time only the id is added.
  EXPECT_EQ(WithResourceId(R"({"resourceType":"X","a":1})", "i", 0),
            R"({"resourceType":"X","id":"i","a":1})");
}

}  // namespace
}  // namespace tsunagu::clinical
