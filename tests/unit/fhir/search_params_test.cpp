#include "fhir/search_params.hpp"

#include <gtest/gtest.h>

namespace tsunagu::fhir {
namespace {

std::vector<QueryParam> Q(std::string_view target) { return ParseQueryString(target); }

TEST(QueryString, DecodesAndKeepsRepeatedParameters) {
  auto params =
      Q("/fhir/"
        "Observation?patient=Patient%2F123&date=ge2024-01&date=le2024-03-31&name=%E5%B1%B1+%E7%94%"
        "B0");
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0], (QueryParam{"patient", "Patient/123"}));
  EXPECT_EQ(params[1], (QueryParam{"date", "ge2024-01"}));
  EXPECT_EQ(params[2], (QueryParam{"date", "le2024-03-31"}));
  EXPECT_EQ(params[3].value, "山 田");
  EXPECT_TRUE(Q("/fhir/Observation").empty());
  // A broken escape stays as written.
  EXPECT_EQ(Q("/x?a=%zz%4")[0].value, "%zz%4");
}

TEST(DateParam, PrefixesNarrowAnInclusiveDayRange) {
  std::string from, to;
  ASSERT_TRUE(ApplyDateParam("2024", from, to).ok());
  EXPECT_EQ(from, "2024-01-01");
  EXPECT_EQ(to, "2024-12-31");
  from.clear(), to.clear();
  ASSERT_TRUE(ApplyDateParam("2024-02", from, to).ok());
  EXPECT_EQ(from, "2024-02-01");
  EXPECT_EQ(to, "2024-02-29");
  from.clear(), to.clear();
  ASSERT_TRUE(ApplyDateParam("ge2024-04-06", from, to).ok());
  ASSERT_TRUE(ApplyDateParam("lt2024-05-01", from, to).ok());
  EXPECT_EQ(from, "2024-04-06");
  EXPECT_EQ(to, "2024-04-30");
  // A second lower bound only narrows.
  ASSERT_TRUE(ApplyDateParam("gt2024-04-01", from, to).ok());
  EXPECT_EQ(from, "2024-04-06");
  ASSERT_TRUE(ApplyDateParam("gt2024-04-10T10:00:00+09:00", from, to).ok());
  EXPECT_EQ(from, "2024-04-11");
  for (const char* bad : {"2024-13", "2024-02-30", "ne2024-01-01", "yesterday", "20240101"}) {
    std::string f, t;
    EXPECT_EQ(ApplyDateParam(bad, f, t).code(), core::Code::kInvalidInput) << bad;
  }
}

TEST(ClinicalSearch, ParsesTheCommonParameters) {
  const ResourceType* obs = FindClinicalType("Observation");
  ASSERT_NE(obs, nullptr);
  auto p = ParseClinicalSearch(
      *obs,
      Q("/fhir/Observation?patient=Patient/123456789012&code=urn:oid:1.2.392.200119.4.504|"
        "3B035000002327201&date=ge2024-01-01&_count=5&_sort=date&category=laboratory&_total="
        "accurate&_format=json"),
      true);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->patient, "123456789012");
  EXPECT_EQ(p->code_system, "urn:oid:1.2.392.200119.4.504");
  EXPECT_EQ(p->code, "3B035000002327201");
  EXPECT_EQ(p->from, "2024-01-01");
  EXPECT_EQ(p->count, 5);
  EXPECT_EQ(p->order, clinical::SortOrder::kOldestFirst);
  EXPECT_TRUE(p->total);
  ASSERT_EQ(p->categories.size(), 1u);
  EXPECT_EQ(p->categories[0], clinical::Category::kLabResult);
  // _count is capped, not refused.
  auto big = ParseClinicalSearch(*obs, Q("/?patient=1&_count=999999"), false);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->count, kMaxCount);
}

TEST(ClinicalSearch, MedicationRequestCategoriesAndAliases) {
  const ResourceType* mr = FindClinicalType("MedicationRequest");
  auto p = ParseClinicalSearch(
      *mr, Q("/?subject=1&category=injection,prescription&authoredon=2025"), false);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->categories.size(), 2u);
  EXPECT_EQ(p->to, "2025-12-31");
}

TEST(ClinicalSearch, BadParametersAreRefusedWithTheirName) {
  const ResourceType* obs = FindClinicalType("Observation");
  auto expect_error = [&](std::string_view target, bool strict, std::string_view words) {
    auto p = ParseClinicalSearch(*obs, Q(target), strict);
    ASSERT_FALSE(p.has_value()) << target;
    EXPECT_EQ(p.error().code(), core::Code::kInvalidInput);
    EXPECT_NE(p.error().message().find(words), std::string::npos) << p.error().message();
  };
  expect_error("/?code=x", false, "patient is required");
  expect_error("/?patient=1&_count=0", false, "_count");
  expect_error("/?patient=1&_count=abc", false, "_count");
  expect_error("/?patient=1&_sort=value", false, "_sort");
  expect_error("/?patient=1&category=injection", false, "category injection");
  expect_error("/?patient=1&date=tomorrow", false, "date");
  expect_error("/?patient=1&patient=2", false, "one patient");
  expect_error("/?patient=1&colour=red", true, "colour");
  // Lenient by default: an unknown parameter is ignored and not in "applied".
  auto lenient = ParseClinicalSearch(*obs, Q("/?patient=1&colour=red"), false);
  ASSERT_TRUE(lenient.has_value());
  for (const auto& a : lenient->applied) EXPECT_NE(a.name, "colour");
}

TEST(PatientSearch, PdqmParameters) {
  auto p = ParsePatientSearch(
      Q("/fhir/Patient?family=%E3%83%A4%E3%83%9E%E3%83%80&birthdate=1970-04-15&gender=male&"
        "identifier=urn:tsunagu:regional-id|123456789012"),
      true);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->family, "ヤマダ");
  EXPECT_EQ(p->birthdate, "1970-04-15");
  EXPECT_EQ(p->gender, "male");
  EXPECT_EQ(p->identifier_system, "urn:tsunagu:regional-id");
  EXPECT_EQ(p->identifier_value, "123456789012");
  EXPECT_FALSE(ParsePatientSearch(Q("/?gender=yes"), false).has_value());
  EXPECT_FALSE(ParsePatientSearch(Q("/?birthdate=1970"), false).has_value());
  EXPECT_FALSE(ParsePatientSearch(Q("/?identifier=urn:x|"), false).has_value());
}

TEST(ResourceTypes, LocalIdentifierSystems) {
  EXPECT_EQ(LocalIdSystem("1310000017"), "urn:oid:1.2.392.100495.20.3.51.11310000017");
  EXPECT_EQ(InstitutionCodeOf("urn:oid:1.2.392.100495.20.3.51.11310000017"), "1310000017");
  EXPECT_EQ(InstitutionCodeOf("urn:oid:1.2.392.100495.20.3.51.1131"), "");
  EXPECT_EQ(InstitutionCodeOf("urn:tsunagu:regional-id"), "");
  EXPECT_EQ(LocalIdSystem(""), "");
}

}  // namespace
}  // namespace tsunagu::fhir
