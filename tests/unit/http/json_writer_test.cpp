#include "http/json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace tsunagu::http {
namespace {

TEST(JsonWriterTest, WritesNestedValuesWithCommasWhereTheyBelong) {
  JsonWriter w;
  w.BeginObject()
      .Key("id")
      .Int(3)
      .Key("name")
      .String("県北中央病院")
      .Key("tags")
      .BeginArray()
      .String("a")
      .BeginObject()
      .EndObject()
      .Null()
      .Bool(true)
      .EndArray()
      .Key("empty")
      .BeginArray()
      .EndArray()
      .EndObject();
  EXPECT_EQ(w.Take(), R"({"id":3,"name":"県北中央病院","tags":["a",{},null,true],"empty":[]})");
}

TEST(JsonWriterTest, EscapesWhatJsonRequiresAndReadsBack) {
  const std::string text = "say \"hi\"\\\n\t\x01 end — 終";
  JsonWriter w;
  w.BeginObject().Key("k\"ey").String(text).EndObject();
  const std::string body = w.Take();
  EXPECT_EQ(body, "{\"k\\\"ey\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001 end — 終\"}");
  const auto parsed = boost::json::parse(body).as_object();
  EXPECT_EQ(parsed.at("k\"ey").as_string(), text);
}

// A writer that starts small grows as it goes: a long document, with texts
// that need escapes among those that do not, reads back whole.
TEST(JsonWriterTest, GrowsPastItsFirstRoomAndKeepsEveryValue) {
  JsonWriter w(1);
  w.BeginArray();
  boost::json::array expected;
  for (int i = 0; i < 2000; ++i) {
    const std::string text = i % 7 == 0 ? "引用 \"" + std::to_string(i) + "\"\\\n"
                                        : "値" + std::string(static_cast<size_t>(i % 40), 'x');
    w.BeginObject().Key(i % 5 == 0 ? "k\"" : "k").String(text).Key("n").Int(-i).EndObject();
    expected.push_back(boost::json::object{{i % 5 == 0 ? "k\"" : "k", text}, {"n", -i}});
  }
  w.EndArray();
  EXPECT_EQ(boost::json::parse(w.Take()), boost::json::value(expected));
}

// Members from pairs read as a JSON object assigned pair by pair would: a
// repeated key keeps its first place and takes its last value.
TEST(JsonWriterTest, StringMembersKeepFirstPlaceAndLastValue) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"bp", "120"}, {"pulse", "72"}, {"bp", "128"}, {"memo", "\"様子見\""}, {"pulse", "80"}};
  JsonWriter w;
  w.BeginObject()
      .StringMembers(
          pairs, [](const auto& p) -> std::string_view { return p.first; },
          [](const auto& p) -> std::string_view { return p.second; })
      .EndObject();
  EXPECT_EQ(w.Take(), R"({"bp":"128","pulse":"80","memo":"\"様子見\""})");
  JsonWriter empty;
  empty.BeginObject()
      .StringMembers(
          std::vector<std::pair<std::string, std::string>>{},
          [](const auto& p) -> std::string_view { return p.first; },
          [](const auto& p) -> std::string_view { return p.second; })
      .EndObject();
  EXPECT_EQ(empty.Take(), "{}");
}

TEST(JsonWriterTest, IntegersAtTheirLimits) {
  JsonWriter w;
  w.BeginArray()
      .Int(std::numeric_limits<int64_t>::min())
      .Int(0)
      .Int(std::numeric_limits<int64_t>::max())
      .EndArray();
  EXPECT_EQ(w.Take(), "[-9223372036854775808,0,9223372036854775807]");
}

TEST(JsonWriterTest, NumbersInTheirShortestFormAndNullWhereJsonHasNone) {
  JsonWriter w;
  w.BeginArray()
      .Number(5.6)
      .Number(140)
      .Number(-0.25)
      .Number(0.1 + 0.2)
      .Number(1e21)
      .Number(std::numeric_limits<double>::infinity())
      .Number(std::numeric_limits<double>::quiet_NaN())
      .EndArray();
  const std::string body = w.Take();
  EXPECT_EQ(body, "[5.6,140,-0.25,0.30000000000000004,1e+21,null,null]");
  const auto parsed = boost::json::parse(body).as_array();
  EXPECT_EQ(parsed[3].to_number<double>(), 0.1 + 0.2);  // reads back exactly
  EXPECT_EQ(parsed[4].to_number<double>(), 1e21);
}

}  // namespace
}  // namespace tsunagu::http
