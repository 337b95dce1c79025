#pragma once
// The catalogue of "today's status" (今日の様子) template items: categories
// (meal, excretion, sleep, vital signs, medication, ADL, mood, free text) and
// their sub-items, each with its type and allowed range. Only the items a
// writer fills in are stored. Thread-safety: immutable, pure functions.
#include <string>
#include <string_view>
#include <vector>

#include "auth/types.hpp"
#include "care/types.hpp"
#include "core/status.hpp"

namespace tsunagu::care {

struct TemplateItem {
  enum class Type { kInteger, kDecimal, kChoice, kText };
  std::string_view key;       // "vital.bp_systolic"
  std::string_view category;  // "vital"
  std::string_view label;     // Japanese label shown in the UI
  Type type = Type::kText;
  double min = 0, max = 0;                // kInteger / kDecimal
  std::string_view unit;                  // "mmHg", "℃", ...
  std::vector<std::string_view> choices;  // kChoice
  size_t max_chars = 0;                   // kText
};

// Every item in display order.
const std::vector<TemplateItem>& StatusTemplate();

// The template of an occupation: the categories its writers fill in, in the
// order the form shows them (a pharmacist starts with medication, a home
// helper with meals and excretion). Every item stays allowed for everyone;
// the form offers the other categories on request. Family members write no
// status posts (empty).
std::vector<std::string_view> TemplateCategoriesFor(auth::Occupation occupation);
// nullptr for an unknown key.
const TemplateItem* FindTemplateItem(std::string_view key);

// Checks and canonicalises filled items: trims values, drops empty ones,
// orders them as the catalogue. InvalidInput names the item and the rule
// ("vital.bp_systolic must be between 50 and 260"), for unknown items,
// duplicates, a diastolic pressure not below the systolic one, or a blood
// pressure given half.
core::Result<std::vector<TemplateValue>> ValidateTemplateValues(
    const std::vector<TemplateValue>& values);

// A post's filled items as stored with the post (care_posts.value_text), so
// that a page of posts needs no read per post: a JSON array of [item, value]
// pairs, in the order given ("" for none). The rows of care_post_values stay
// the source of the per-item time series.
std::string EncodeTemplateValues(const std::vector<TemplateValue>& values);
// Tolerant: text that is not such an array gives no values.
std::vector<TemplateValue> DecodeTemplateValues(std::string_view text);

}  // namespace tsunagu::care
