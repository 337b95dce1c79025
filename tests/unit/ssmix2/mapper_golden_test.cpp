// Golden files: tests/golden/ssmix2/<case>.hl7 (UTF-8 text, one segment per
// line; re-encoded to ISO-2022-JP here when MSH-18 says so) and <case>.json
// (the expected records: index fields + FHIR resource). Regenerate after an
// intended mapping change with TSUNAGU_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "clinical/fhir_summary.hpp"
#include "core/text.hpp"
#include "hl7v2/message.hpp"
#include "ssmix2/mapper.hpp"

namespace tsunagu::ssmix2 {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path GoldenDir() {
  const char* root = std::getenv("TSUNAGU_SOURCE_DIR");
  return fs::path(root != nullptr ? root : ".") / "tests" / "golden" / "ssmix2";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The wire form of a golden message: CR-terminated segments, ISO-2022-JP when
// MSH-18 names it (as SS-MIX2 storage holds them).
std::string WireForm(std::string text) {
  std::string out;
  for (char c : text) out.push_back(c == '\n' ? '\r' : c);
  std::string header = out.substr(0, out.find('\r'));
  if (header.find("ISO IR87") != std::string::npos) {
    auto encoded = core::EncodeIso2022Jp(out);
    if (!encoded) ADD_FAILURE() << "golden text not representable in ISO-2022-JP";
    return encoded.value_or(out);
  }
  return out;
}

SourceContext GoldenContext() {
  SourceContext c;
  c.facility_id = 7;
  c.facility_code = "1310000017";
  return c;
}

json::value ToJson(const clinical::ResourceRecord& r) {
  json::object o;
  o["resource_type"] = r.resource_type;
  o["category"] = std::string(clinical::ToString(r.category));
  o["source_key"] = r.source_key;
  o["local_patient_id"] = r.local_patient_id;
  o["source_facility_id"] = r.source_facility_id;
  o["code_system"] = r.code_system;
  o["code"] = r.code;
  o["display"] = r.display;
  o["effective"] = r.effective;
  o["effective_end"] = r.effective_end;
  o["source_time"] = r.source_time;
  o["retracted"] = r.retracted;
  o["json"] = json::parse(r.json);
  return o;
}

void Pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& kv : v.get_object()) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::string(kv.key())) + ": ";
      Pretty(out, kv.value(), indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      Pretty(out, e, indent + 1);
    }
    out += "\n" + pad + "]";
  } else if (v.is_double()) {
    std::ostringstream s;
    s << v.get_double();
    out += s.str();
  } else {
    out += json::serialize(v);
  }
}

TEST(MapperGoldenTest, AllCases) {
  const fs::path dir = GoldenDir();
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  const bool update = std::getenv("TSUNAGU_UPDATE_GOLDEN") != nullptr;
  size_t cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".hl7") continue;
    ++cases;
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    auto message = hl7v2::Message::Parse(WireForm(ReadFile(entry.path())));
    ASSERT_TRUE(message.has_value()) << message.error().message();
    auto records = MapMessage(*message, GoldenContext());
    ASSERT_TRUE(records.has_value()) << records.error().message();
    json::array actual;
    for (const auto& r : *records) actual.push_back(ToJson(r));

    // The summarizing form maps the same records, and each summary is the
    // one read back from the record's own JSON.
    auto summarized = MapMessageSummarized(*message, GoldenContext());
    ASSERT_TRUE(summarized.has_value()) << summarized.error().message();
    ASSERT_EQ(summarized->records.size(), records->size());
    ASSERT_EQ(summarized->summaries.size(), records->size());
    for (size_t i = 0; i < records->size(); ++i) {
      const clinical::ResourceRecord& r = summarized->records[i];
      EXPECT_EQ(json::serialize(ToJson(r)), json::serialize(actual[i])) << "record " << i;
      EXPECT_EQ(summarized->summaries[i], clinical::Summarize(r)) << "record " << i;
      EXPECT_EQ(clinical::EncodeStoredSummary(r, summarized->summaries[i]),
                clinical::EncodeStoredSummary(r, clinical::Summarize(r)))
          << "record " << i;
    }

    fs::path expected_path = entry.path();
    expected_path.replace_extension(".json");
    if (update) {
      std::string text;
      Pretty(text, actual, 0);
      std::ofstream(expected_path, std::ios::binary) << text << "\n";
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_path)) << "missing " << expected_path;
    json::value expected = json::parse(ReadFile(expected_path));
    // Numbers compare by value ("5" and 5.0 alike) through a round trip.
    json::value actual_value = json::parse(json::serialize(actual));
    ASSERT_TRUE(expected.is_array());
    ASSERT_EQ(expected.get_array().size(), actual.size());
    for (size_t i = 0; i < actual.size(); ++i) {
      EXPECT_EQ(expected.get_array()[i], actual_value.get_array()[i])
          << "record " << i << "\nexpected: " << json::serialize(expected.get_array()[i])
          << "\nactual:   " << json::serialize(actual_value.get_array()[i]);
    }
  }
  EXPECT_GE(cases, 10u);
}

}  // namespace
}  // namespace tsunagu::ssmix2
