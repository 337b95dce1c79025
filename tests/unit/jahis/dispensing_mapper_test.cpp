// Notebook -> MedicationDispense records. Golden files:
// tests/golden/jahis/<case>.csv (the notebook) and <case>.json (the expected
// records: index fields + FHIR resource). Regenerate after an intended
// mapping change with TSUNAGU_UPDATE_GOLDEN=1 and review the diff.
#include "jahis/dispensing_mapper.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "clinical/fhir_summary.hpp"

namespace tsunagu::jahis {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path GoldenDir() {
  const char* root = std::getenv("TSUNAGU_SOURCE_DIR");
  return fs::path(root != nullptr ? root : ".") / "tests" / "golden" / "jahis";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MappingTarget Target() {
  MappingTarget t;
  t.facility_id = 7;
  t.facility_code = "0741234567";
  t.local_patient_id = "P-77";
  return t;
}

std::vector<MappedDispense> MapGolden(const std::string& name) {
  auto nb = ParseNotebook(ReadFile(GoldenDir() / name));
  EXPECT_TRUE(nb.has_value()) << nb.error().ToString();
  if (!nb) return {};
  return MapDispenses(*nb, Target());
}

json::value ToJson(const clinical::ResourceRecord& r) {
  json::object o;
  o["resource_type"] = r.resource_type;
  o["category"] = std::string(clinical::ToString(r.category));
  o["source_key"] = r.source_key;
  o["local_patient_id"] = r.local_patient_id;
  o["code_system"] = r.code_system;
  o["code"] = r.code;
  o["display"] = r.display;
  o["effective"] = r.effective;
  o["effective_end"] = r.effective_end;
  o["source_time"] = r.source_time;
  o["resource"] = json::parse(r.json);
  return o;
}

// Indented JSON for readable golden files and diffs.
void Pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& kv : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::value(kv.key())) + ": ";
      Pretty(out, kv.value(), indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& e : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      Pretty(out, e, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(v);
  }
}

TEST(DispensingMapperTest, GoldenUtf8Notebook) {
  std::vector<MappedDispense> mapped = MapGolden("notebook_utf8.csv");
  json::array actual;
  for (const auto& m : mapped) actual.push_back(ToJson(m.record));
  const fs::path expected_path = GoldenDir() / "notebook_utf8.json";
  std::string text;
  Pretty(text, actual, 0);
  text += "\n";
  if (std::getenv("TSUNAGU_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected_path, std::ios::binary) << text;
  }
  json::value expected = json::parse(ReadFile(expected_path));
  EXPECT_EQ(json::value(actual), expected) << "actual:\n" << text;
}

TEST(DispensingMapperTest, OneRecordPerDrugWithIndexFieldsForTheTimeline) {
  std::vector<MappedDispense> mapped = MapGolden("notebook_utf8.csv");
  ASSERT_EQ(mapped.size(), 4u);
  const clinical::ResourceRecord& amlodipine = mapped[0].record;
  EXPECT_EQ(amlodipine.resource_type, "MedicationDispense");
  EXPECT_EQ(amlodipine.category, clinical::Category::kDispensing);
  EXPECT_EQ(amlodipine.source_facility_id, 7);
  EXPECT_EQ(amlodipine.local_patient_id, "P-77");
  EXPECT_EQ(amlodipine.source_key, "JAHIS|20250601|0741234567|1|1");
  EXPECT_EQ(amlodipine.code_system, clinical::kYjCodeSystem);
  EXPECT_EQ(amlodipine.code, "2171022F1193");
  EXPECT_EQ(amlodipine.effective, "2025-06-01");
  EXPECT_EQ(amlodipine.effective_end, "2025-06-28");  // 28 日分
  // 2025-06-01 00:00 Japan time.
  EXPECT_EQ(amlodipine.source_time, 1748703600000);

  // What the timeline and the duplicate check read from it.
  clinical::ResourceSummary s = clinical::Summarize(amlodipine);
  ASSERT_TRUE(s.medication.has_value());
  EXPECT_EQ(s.medication->name, "アムロジピン錠５ｍｇ「サワイ」");
  EXPECT_EQ(s.medication->yj_code, "2171022F1193");
  EXPECT_EQ(s.medication->days, "28");
  EXPECT_EQ(s.medication->frequency, "１日１回朝食後");
  EXPECT_EQ(s.medication->route, "内服");
  EXPECT_EQ(s.medication->quantity, "28錠");

  EXPECT_EQ(mapped[1].record.code_system, kReceiptDrugCodeSystem);
  EXPECT_EQ(mapped[1].record.source_key, "JAHIS|20250601|0741234567|1|2");
  // 頓服 in 回分: no supply days, the day itself.
  const clinical::ResourceRecord& prn = mapped[2].record;
  EXPECT_EQ(prn.source_key, "JAHIS|20250601|0741234567|2|1");
  EXPECT_EQ(prn.code_system, "urn:oid:1.2.392.200119.4.403.1");  // HOT9
  EXPECT_EQ(prn.effective_end, "");
  EXPECT_EQ(clinical::Summarize(prn).medication->dose, "1");
  EXPECT_EQ(clinical::Summarize(prn).medication->quantity, "10錠");
  // No code: kept by name.
  const clinical::ResourceRecord& tape = mapped[3].record;
  EXPECT_EQ(tape.code_system, "");
  EXPECT_EQ(tape.code, "");
  EXPECT_EQ(tape.display, "モーラステープ２０ｍｇ");
  EXPECT_EQ(tape.effective, "2025-07-15");
}

TEST(DispensingMapperTest, SameFileMapsToTheSameRecords) {
  auto a = MapGolden("notebook_utf8.csv");
  auto b = MapGolden("notebook_utf8.csv");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].record.source_key, b[i].record.source_key);
    EXPECT_EQ(a[i].record.json, b[i].record.json);
  }
}

TEST(DispensingMapperTest, TwoEventsOfOneDayAndPharmacyGetDistinctKeys) {
  const std::string event =
      "5,20250601\n11,薬局,07,4,1234567\n201,1,薬A,1,錠,4,2171022F1193\n301,1,朝,7,日分,1\n";
  auto nb = ParseNotebook("JAHISTC04,1\n" + event + event);
  ASSERT_TRUE(nb.has_value()) << nb.error().ToString();
  auto mapped = MapDispenses(*nb, Target());
  ASSERT_EQ(mapped.size(), 2u);
  EXPECT_EQ(mapped[0].record.source_key, "JAHIS|20250601|0741234567|1|1");
  EXPECT_EQ(mapped[1].record.source_key, "JAHIS|20250601|0741234567/2|1|1");
}

TEST(DispensingMapperTest, CodeSystemsOfTheDrugCodeTypes) {
  EXPECT_EQ(DrugCodeSystem(4, "2171022F1193"), clinical::kYjCodeSystem);
  EXPECT_TRUE(clinical::IsYjCodeSystem(DrugCodeSystem(3, "2171022F1193")));
  EXPECT_EQ(DrugCodeSystem(2, "620002023"), kReceiptDrugCodeSystem);
  EXPECT_EQ(DrugCodeSystem(6, "1038354"), "urn:oid:1.2.392.200119.4.403.2");
  EXPECT_EQ(DrugCodeSystem(6, "1038354010101"), "urn:oid:1.2.392.200119.4.402.1");
  EXPECT_EQ(DrugCodeSystem(1, ""), "");
  EXPECT_EQ(DrugCodeSystem(7, "X"), "urn:tsunagu:codesystem:jahis-drug-code-7");
}

}  // namespace
}  // namespace tsunagu::jahis
