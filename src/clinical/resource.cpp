#include "clinical/resource.hpp"

#include <array>
#include <utility>

namespace tsunagu::clinical {
namespace {

constexpr std::array<std::pair<Category, std::string_view>, 13> kCategoryNames{{
    {Category::kPatientInfo, "patient_info"},
    {Category::kAllergy, "allergy"},
    {Category::kCondition, "condition"},
    {Category::kPrescription, "prescription"},
    {Category::kInjection, "injection"},
    {Category::kDispensing, "dispensing"},
    {Category::kAdministration, "administration"},
    {Category::kImmunization, "immunization"},
    {Category::kLabResult, "lab_result"},
    {Category::kReport, "report"},
    {Category::kEncounter, "encounter"},
    {Category::kOrder, "order"},
    {Category::kDocument, "document"},
}};

constexpr std::array<Category, kCategoryNames.size()> kAllCategories = [] {
  std::array<Category, kCategoryNames.size()> all{};
  for (size_t i = 0; i < all.size(); ++i) all[i] = kCategoryNames[i].first;
  return all;
}();

}  // namespace

std::span<const Category> AllCategories() { return kAllCategories; }

std::string_view ToString(Category c) {
  for (const auto& [category, name] : kCategoryNames) {
    if (category == c) return name;
  }
  return "patient_info";
}

std::optional<Category> ParseCategory(std::string_view s) {
  for (const auto& [category, name] : kCategoryNames) {
    if (name == s) return category;
  }
  return std::nullopt;
}

}  // namespace tsunagu::clinical
