#include "care/status_template.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tsunagu::care {
namespace {

TEST(StatusTemplateTest, KeepsOnlyFilledItemsInCatalogueOrder) {
  auto v = ValidateTemplateValues({{"note.text", " 足のむくみあり "},
                                   {"meal.amount", "half"},
                                   {"vital.pulse", ""},
                                   {"vital.bp_diastolic", "78"},
                                   {"vital.bp_systolic", "128"},
                                   {"vital.temperature", "36.75"}});
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  std::vector<TemplateValue> expected = {{"meal.amount", "half"},
                                         {"vital.bp_systolic", "128"},
                                         {"vital.bp_diastolic", "78"},
                                         {"vital.temperature", "36.8"},
                                         {"note.text", "足のむくみあり"}};
  EXPECT_EQ(*v, expected);
}

TEST(StatusTemplateTest, RefusesImplausibleBloodPressureWithClearMessage) {
  auto v = ValidateTemplateValues({{"vital.bp_systolic", "400"}, {"vital.bp_diastolic", "10"}});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(v.error().message(), "vital.bp_systolic must be between 50 and 260");
}

TEST(StatusTemplateTest, RefusesBadValues) {
  auto msg = [](std::vector<TemplateValue> values) {
    auto v = ValidateTemplateValues(values);
    return v.has_value() ? std::string("ok") : v.error().message();
  };
  EXPECT_EQ(msg({{"vital.bp_systolic", "120"}, {"vital.bp_diastolic", "130"}}),
            "vital.bp_diastolic must be lower than vital.bp_systolic");
  EXPECT_EQ(msg({{"vital.bp_systolic", "120"}}),
            "blood pressure needs both vital.bp_systolic and vital.bp_diastolic");
  EXPECT_EQ(msg({{"vital.spo2", "abc"}}), "vital.spo2 must be a number");
  EXPECT_EQ(msg({{"vital.pulse", "72.5"}}), "vital.pulse must be a whole number");
  EXPECT_EQ(msg({{"vital.temperature", "45"}}), "vital.temperature must be between 30 and 43");
  EXPECT_EQ(msg({{"meal.amount", "lots"}}),
            "meal.amount must be one of all, most, half, little, none");
  EXPECT_EQ(msg({{"vital.mood", "x"}}), "unknown template item: vital.mood");
  EXPECT_EQ(msg({{"mood.level", "good"}, {"mood.level", "poor"}}), "mood.level is given twice");
  EXPECT_EQ(msg({{"medication.leftover", std::string(501, 'a')}}),
            "medication.leftover must be at most 500 characters");
}

TEST(StatusTemplateTest, EachOccupationHasItsOwnTemplateOfKnownCategories) {
  std::set<std::string_view> known;
  for (const auto& item : StatusTemplate()) known.insert(item.category);
  // A pharmacist starts with medication, a home helper with meals, a nurse
  // with vital signs; family members write no status posts.
  EXPECT_EQ(TemplateCategoriesFor(auth::Occupation::kPharmacist).front(), "medication");
  EXPECT_EQ(TemplateCategoriesFor(auth::Occupation::kHomeHelper).front(), "meal");
  EXPECT_EQ(TemplateCategoriesFor(auth::Occupation::kVisitingNurse).front(), "vital");
  EXPECT_TRUE(TemplateCategoriesFor(auth::Occupation::kFamily).empty());
  for (auto o :
       {auth::Occupation::kPhysician, auth::Occupation::kNurse, auth::Occupation::kPharmacist,
        auth::Occupation::kCareManager, auth::Occupation::kHomeHelper, auth::Occupation::kTherapist,
        auth::Occupation::kClerk}) {
    auto categories = TemplateCategoriesFor(o);
    EXPECT_FALSE(categories.empty());
    std::set<std::string_view> seen;
    for (auto c : categories) {
      EXPECT_TRUE(known.count(c)) << c;
      EXPECT_TRUE(seen.insert(c).second) << "twice: " << c;
    }
    EXPECT_EQ(categories.back(), "note") << "free text comes last";
  }
}

TEST(StatusTemplateTest, StoredValuesReadBackAsWritten) {
  const std::vector<TemplateValue> values = {{"vital.bp_systolic", "128"},
                                             {"note.text", "足の \"むくみ\"\nあり \\ 様子見"}};
  const std::string stored = EncodeTemplateValues(values);
  EXPECT_EQ(DecodeTemplateValues(stored), values);
  EXPECT_EQ(EncodeTemplateValues({}), "");
  EXPECT_TRUE(DecodeTemplateValues("").empty());
  EXPECT_TRUE(DecodeTemplateValues("[]").empty());
  // Unreadable or foreign text gives no values rather than an error.
  EXPECT_TRUE(DecodeTemplateValues("not json").empty());
  EXPECT_TRUE(DecodeTemplateValues("{\"a\":1}").empty());
  const std::vector<TemplateValue> kept = {{"mood.level", "good"}};
  EXPECT_EQ(DecodeTemplateValues(R"([["mood.level","good"],[1,2],["only one"]])"), kept);
}

}  // namespace
}  // namespace tsunagu::care
