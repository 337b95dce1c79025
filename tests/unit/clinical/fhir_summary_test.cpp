// Summaries read from FHIR JSON shapes the mapping and other senders produce.
#include "clinical/fhir_summary.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

namespace tsunagu::clinical {
namespace {

ResourceRecord Of(const std::string& type, const std::string& json) {
  ResourceRecord r;
  r.resource_type = type;
  r.json = json;
  return r;
}

std::string Field(const ResourceSummary& s, const std::string& key) {
  for (const auto& [k, v] : s.fields) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST(FhirSummaryTest, MedicationDispenseWithYjCodingAmongOthers) {
  auto s = Summarize(Of("MedicationDispense", R"({"resourceType":"MedicationDispense",
    "medicationCodeableConcept":{"coding":[
      {"system":"urn:oid:1.2.392.200119.4.403.1","code":"103835401"},
      {"system":"urn:oid:1.2.392.100495.20.1.73","code":"1149019F1560"}],"text":"ロキソニン錠60mg"},
    "quantity":{"value":42,"unit":"錠"},"daysSupply":{"value":14},
    "dosageInstruction":[{"text":"1日3回毎食後","route":{"coding":[{"display":"内服"}]},
      "doseAndRate":[{"doseQuantity":{"value":1.5,"unit":"錠"}}]}]})"));
  ASSERT_TRUE(s.medication.has_value());
  EXPECT_EQ(s.medication->yj_code, "1149019F1560");
  EXPECT_EQ(s.medication->name, "ロキソニン錠60mg");
  EXPECT_EQ(s.medication->dose, "1.5");
  EXPECT_EQ(s.medication->frequency, "1日3回毎食後");
  EXPECT_EQ(s.medication->route, "内服");
  EXPECT_EQ(s.medication->days, "14");
  EXPECT_EQ(s.medication->quantity, "42錠");
  EXPECT_EQ(Field(s, "quantity"), "42錠");
}

TEST(FhirSummaryTest, ObservationValueStringAndComparators) {
  auto numeric_text = Summarize(Of("Observation", R"({"resourceType":"Observation",
    "valueString":"0.8","referenceRange":[{"text":"0.5-1.2"}]})"));
  ASSERT_TRUE(numeric_text.lab.has_value());
  EXPECT_DOUBLE_EQ(*numeric_text.lab->value, 0.8);
  EXPECT_EQ(numeric_text.lab->range_text, "0.5-1.2");
  EXPECT_FALSE(numeric_text.lab->abnormal);

  auto qualitative = Summarize(Of("Observation", R"({"resourceType":"Observation",
    "valueString":"陽性","interpretation":[{"coding":[{"code":"A"}]}]})"));
  ASSERT_TRUE(qualitative.lab.has_value());
  EXPECT_FALSE(qualitative.lab->value.has_value());
  EXPECT_EQ(qualitative.lab->value_text, "陽性");
  EXPECT_TRUE(qualitative.lab->abnormal);

  auto below = Summarize(Of("Observation", R"({"resourceType":"Observation",
    "valueQuantity":{"value":0.5,"comparator":"<","code":"ng/mL"},
    "referenceRange":[{"high":{"value":4}}]})"));
  ASSERT_TRUE(below.lab.has_value());
  EXPECT_EQ(below.lab->value_text, "<0.5");
  EXPECT_EQ(below.lab->unit, "ng/mL");
  EXPECT_EQ(below.lab->range_text, "≤4");
  EXPECT_EQ(below.lab->flag, "");

  auto pending =
      Summarize(Of("Observation", R"({"resourceType":"Observation","status":"registered"})"));
  EXPECT_FALSE(pending.lab.has_value());
  EXPECT_EQ(Field(pending, "status"), "registered");
}

TEST(FhirSummaryTest, OtherTypesAndBadJson) {
  auto condition = Summarize(Of("Condition", R"({"resourceType":"Condition",
    "clinicalStatus":{"coding":[{"code":"resolved"}]},"onsetDateTime":"2020-04-01"})"));
  EXPECT_EQ(Field(condition, "clinical_status"), "resolved");
  EXPECT_EQ(Field(condition, "onset"), "2020-04-01");
  EXPECT_EQ(Field(condition, "abatement"), "<absent>");

  auto document = Summarize(Of("DocumentReference", R"({"resourceType":"DocumentReference",
    "type":{"coding":[{"display":"診療情報提供書"}]},
    "content":[{"attachment":{"contentType":"application/pdf","title":"紹介状"}}]})"));
  EXPECT_EQ(Field(document, "document_type"), "診療情報提供書");
  EXPECT_EQ(Field(document, "content_type"), "application/pdf");
  EXPECT_EQ(Field(document, "title"), "紹介状");

  EXPECT_TRUE(Summarize(Of("Observation", "{not json")).fields.empty());
  EXPECT_TRUE(Summarize(Of("Observation", "[1,2]")).fields.empty());
}

// What a timeline shows of a stored summary is what it would show of the
// resource itself.
TEST(FhirSummaryTest, StoredSummaryReadsBackAsSummarized) {
  const ResourceRecord records[] = {
      Of("MedicationDispense", R"({"resourceType":"MedicationDispense",
        "medicationCodeableConcept":{"coding":[{"system":"urn:oid:1.2.392.100495.20.1.73",
          "code":"1149019F1560"}],"text":"ロキソニン錠60mg"},
        "quantity":{"value":42,"unit":"錠"},"daysSupply":{"value":14},
        "dosageInstruction":[{"text":"1日3回\n毎食後\"","doseAndRate":[{"doseQuantity":{"value":1.5,"unit":"錠"}}]}]})"),
      Of("MedicationRequest", R"({"resourceType":"MedicationRequest","status":"active"})"),
      Of("Observation", R"({"resourceType":"Observation","status":"final",
        "valueQuantity":{"value":7.25,"unit":"%"},"interpretation":[{"coding":[{"code":"H"}]}],
        "referenceRange":[{"low":{"value":4.6},"high":{"value":6.2}}]})"),
      Of("Observation", R"({"resourceType":"Observation","valueString":"陰性"})"),
      Of("Observation", R"({"resourceType":"Observation","status":"registered"})"),
      Of("Condition",
         R"({"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"active"}]},
        "onsetDateTime":"2024-04-01"})"),
      Of("Encounter", "{not json"),
  };
  for (ResourceRecord r : records) {
    r.code_system = "urn:oid:1.2.392.200119.4.504";
    r.code = "3D045000001906202";
    r.display = "HbA1c（NGSP）";
    r.effective_end = r.resource_type == "MedicationDispense" ? "2025-06-14" : "";
    const ResourceSummary summary = Summarize(r);
    const std::string text = EncodeStoredSummary(r, summary);
    ResourceRecord read;
    read.effective_end = "not this";
    ResourceSummary decoded;
    ASSERT_TRUE(DecodeStoredSummary(text, read, decoded)) << text;
    EXPECT_EQ(decoded, summary) << text;
    EXPECT_EQ(read.code_system, r.code_system);
    EXPECT_EQ(read.code, r.code);
    EXPECT_EQ(read.display, r.display);
    EXPECT_EQ(read.effective_end, r.effective_end);

    // The same members spelt another way JSON allows (as an earlier
    // version wrote them: numbers such as 7.25E0; with whitespace) read
    // back the same.
    const std::string reserialized = boost::json::serialize(boost::json::parse(text));
    const std::string spaced = "{ " + text.substr(1);
    for (const std::string& other : {reserialized, spaced}) {
      ResourceRecord again;
      ResourceSummary decoded_again;
      ASSERT_TRUE(DecodeStoredSummary(other, again, decoded_again)) << other;
      EXPECT_EQ(decoded_again, summary) << other;
      EXPECT_EQ(again.display, r.display);
      EXPECT_EQ(again.effective_end, r.effective_end);
    }
  }

  ResourceRecord untouched;
  untouched.display = "kept";
  ResourceSummary none;
  for (std::string_view bad : {"", "[]", "{\"f\":[[1,2]]}", "{\"l\":[1]}", "{not json",
                               "{\"d\":\"a\"", "{\"l\":[1,2,3]}x", "{\"f\":[[\"a\"]]}"}) {
    EXPECT_FALSE(DecodeStoredSummary(bad, untouched, none)) << bad;
  }
  EXPECT_EQ(untouched.display, "kept");
}

// A long text never makes the stored summary longer than its limit; it is
// cut at a character boundary.
TEST(FhirSummaryTest, LongStoredSummaryIsCutAtCharacters) {
  std::string note;
  for (int i = 0; i < 400; ++i) note += "長い病名";
  ResourceRecord r = Of("DiagnosticReport", R"({"resourceType":"DiagnosticReport","conclusion":")" +
                                                note + R"(","status":"final"})");
  r.display = note;
  const ResourceSummary summary = Summarize(r);
  const std::string text = EncodeStoredSummary(r, summary);
  EXPECT_LE(text.size(), kMaxStoredSummary);
  ResourceRecord read;
  ResourceSummary decoded;
  ASSERT_TRUE(DecodeStoredSummary(text, read, decoded));
  EXPECT_EQ(Field(decoded, "status"), "final");
  const std::string conclusion = Field(decoded, "conclusion");
  ASSERT_GT(conclusion.size(), 3u);
  EXPECT_EQ(conclusion.substr(conclusion.size() - 3), "…");
  EXPECT_EQ(note.rfind(conclusion.substr(0, conclusion.size() - 3), 0), 0u);
  EXPECT_EQ(read.display.substr(read.display.size() - 3), "…");

  // Control characters take six bytes each once escaped: still cut to fit.
  ResourceRecord control = r;
  control.display = std::string(1500, '\x01');
  EXPECT_LE(EncodeStoredSummary(control, Summarize(control)).size(), kMaxStoredSummary);
}

// Quotes, backslashes and control characters in the texts, and a lab value
// without a range, read back as they were.
TEST(FhirSummaryTest, StoredSummaryKeepsEscapedTextAndMissingNumbers) {
  ResourceRecord r;
  r.resource_type = "Observation";
  r.code_system = "urn:oid:1.2.392.200119.4.504";
  r.code = "3D045";
  r.display = "血糖 \"空腹時\"\\ 再検\n\t(至急)\x01";
  r.json = R"({"resourceType":"Observation","valueQuantity":{"value":0.000125,"unit":"mg/dL"},)"
           R"("note":[{"text":"a"}],"status":"final"})";
  const ResourceSummary summary = Summarize(r);
  ASSERT_TRUE(summary.lab.has_value());
  EXPECT_EQ(summary.lab->value, 0.000125);
  EXPECT_FALSE(summary.lab->low.has_value());
  const std::string text = EncodeStoredSummary(r, summary);
  ResourceRecord read;
  ResourceSummary decoded;
  ASSERT_TRUE(DecodeStoredSummary(text, read, decoded)) << text;
  EXPECT_EQ(decoded, summary) << text;
  EXPECT_EQ(read.display, r.display);
  EXPECT_EQ(read.code, "3D045");
  EXPECT_TRUE(read.effective_end.empty());
}

TEST(FhirSummaryTest, YjSystemsAndNumbers) {
  EXPECT_TRUE(IsYjCodeSystem(kYjCodeSystem));
  EXPECT_TRUE(IsYjCodeSystem("YJ"));
  EXPECT_TRUE(IsYjCodeSystem("99YJ"));
  EXPECT_TRUE(IsYjCodeSystem("http://example.jp/codes/yj"));
  EXPECT_FALSE(IsYjCodeSystem("HOT9"));
  EXPECT_FALSE(IsYjCodeSystem("urn:oid:1.2.392.200119.4.403.1"));
  EXPECT_FALSE(IsYjCodeSystem(""));
  EXPECT_EQ(FormatNumber(5), "5");
  EXPECT_EQ(FormatNumber(5.25), "5.25");
  EXPECT_EQ(FormatNumber(-0.3), "-0.3");
  // Ten significant digits, as printf's "%.10g" writes them.
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatNumber(1234567.891), "1234567.891");
  EXPECT_EQ(FormatNumber(0.000012345), "1.2345e-05");
  EXPECT_EQ(FormatNumber(2.0 / 3.0), "0.6666666667");
  EXPECT_EQ(FormatNumber(1e15 + 0.5), "1e+15");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "");
}

}  // namespace
}  // namespace tsunagu::clinical
