#include "care/status_template.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/text.hpp"

namespace tsunagu::care {
namespace {

using Type = TemplateItem::Type;

TemplateItem Number(std::string_view key, std::string_view category, std::string_view label,
                    Type type, double min, double max, std::string_view unit) {
  TemplateItem i;
  i.key = key;
  i.category = category;
  i.label = label;
  i.type = type;
  i.min = min;
  i.max = max;
  i.unit = unit;
  return i;
}

TemplateItem Choice(std::string_view key, std::string_view category, std::string_view label,
                    std::vector<std::string_view> choices) {
  TemplateItem i;
  i.key = key;
  i.category = category;
  i.label = label;
  i.type = Type::kChoice;
  i.choices = std::move(choices);
  return i;
}

TemplateItem Text(std::string_view key, std::string_view category, std::string_view label,
                  size_t max_chars) {
  TemplateItem i;
  i.key = key;
  i.category = category;
  i.label = label;
  i.type = Type::kText;
  i.max_chars = max_chars;
  return i;
}

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

core::Status OutOfRange(const TemplateItem& item) {
  return core::InvalidInput(std::string(item.key) + " must be between " + FormatNumber(item.min) +
                            " and " + FormatNumber(item.max));
}

core::Result<std::string> Canonical(const TemplateItem& item, const std::string& raw) {
  switch (item.type) {
    case Type::kInteger:
    case Type::kDecimal: {
      const std::string& text = raw;
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
        return core::InvalidInput(std::string(item.key) + " must be a number");
      }
      if (item.type == Type::kInteger && v != std::floor(v)) {
        return core::InvalidInput(std::string(item.key) + " must be a whole number");
      }
      if (v < item.min || v > item.max) return OutOfRange(item);
      if (item.type == Type::kInteger) return std::to_string(static_cast<int64_t>(v));
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", v);
      return std::string(buf);
    }
    case Type::kChoice:
      if (std::find(item.choices.begin(), item.choices.end(), raw) == item.choices.end()) {
        std::string allowed;
        for (auto c : item.choices) allowed += (allowed.empty() ? "" : ", ") + std::string(c);
        return core::InvalidInput(std::string(item.key) + " must be one of " + allowed);
      }
      return raw;
    case Type::kText:
      if (!core::IsValidUtf8(raw)) {
        return core::InvalidInput(std::string(item.key) + " must be valid UTF-8");
      }
      if (CodePoints(raw) > item.max_chars) {
        return core::InvalidInput(std::string(item.key) + " must be at most " +
                                  std::to_string(item.max_chars) + " characters");
      }
      return raw;
  }
  return core::Internal("internal error", "unknown template item type");
}

}  // namespace

const std::vector<TemplateItem>& StatusTemplate() {
  static const std::vector<TemplateItem> kItems = {
      Choice("meal.amount", "meal", "食事量", {"all", "most", "half", "little", "none"}),
      Choice("meal.form", "meal", "食事形態", {"normal", "soft", "minced", "paste", "tube"}),
      Number("excretion.urine", "excretion", "排尿回数", Type::kInteger, 0, 30, "回"),
      Choice("excretion.stool", "excretion", "排便",
             {"none", "normal", "soft", "hard", "diarrhea"}),
      Choice("sleep.night", "sleep", "夜間の睡眠", {"good", "fair", "poor"}),
      Choice("sleep.daytime", "sleep", "日中の睡眠", {"yes", "no"}),
      Number("vital.bp_systolic", "vital", "血圧（上）", Type::kInteger, 50, 260, "mmHg"),
      Number("vital.bp_diastolic", "vital", "血圧（下）", Type::kInteger, 20, 160, "mmHg"),
      Number("vital.pulse", "vital", "脈拍", Type::kInteger, 20, 250, "回/分"),
      Number("vital.temperature", "vital", "体温", Type::kDecimal, 30, 43, "℃"),
      Number("vital.spo2", "vital", "SpO2", Type::kInteger, 50, 100, "%"),
      Number("vital.weight", "vital", "体重", Type::kDecimal, 1, 300, "kg"),
      Choice("medication.adherence", "medication", "服薬", {"taken", "partly", "missed"}),
      Text("medication.leftover", "medication", "残薬", 500),
      Choice("adl.level", "adl", "ADL", {"independent", "supervision", "partial", "full"}),
      Choice("mood.level", "mood", "気分", {"good", "fair", "poor"}),
      Text("note.text", "note", "自由記載", 2000),
  };
  return kItems;
}

std::vector<std::string_view> TemplateCategoriesFor(auth::Occupation occupation) {
  using auth::Occupation;
  switch (occupation) {
    case Occupation::kPhysician:
    case Occupation::kDentist:
      return {"vital", "medication", "meal", "note"};
    case Occupation::kNurse:
    case Occupation::kVisitingNurse:
      return {"vital", "meal", "excretion", "sleep", "medication", "adl", "mood", "note"};
    case Occupation::kPharmacist:
      return {"medication", "vital", "note"};
    case Occupation::kCareManager:
    case Occupation::kSocialWorker:
      return {"adl", "mood", "meal", "sleep", "note"};
    case Occupation::kHomeHelper:
      return {"meal", "excretion", "sleep", "mood", "note"};
    case Occupation::kTherapist:
      return {"adl", "vital", "mood", "note"};
    case Occupation::kFamily:
      return {};
    default:
      return {"vital", "note"};
  }
}

const TemplateItem* FindTemplateItem(std::string_view key) {
  for (const auto& item : StatusTemplate()) {
    if (item.key == key) return &item;
  }
  return nullptr;
}

core::Result<std::vector<TemplateValue>> ValidateTemplateValues(
    const std::vector<TemplateValue>& values) {
  std::map<std::string, std::string> filled;
  for (const auto& v : values) {
    const TemplateItem* item = FindTemplateItem(v.item);
    if (!item) return core::InvalidInput("unknown template item: " + v.item.substr(0, 64));
    std::string trimmed = core::Trim(v.value);
    if (trimmed.empty()) continue;
    if (filled.count(v.item)) return core::InvalidInput(v.item + " is given twice");
    TSUNAGU_ASSIGN_OR_RETURN(std::string canonical, Canonical(*item, trimmed));
    filled[v.item] = std::move(canonical);
  }
  bool has_sys = filled.count("vital.bp_systolic") > 0;
  bool has_dia = filled.count("vital.bp_diastolic") > 0;
  if (has_sys != has_dia) {
    return core::InvalidInput("blood pressure needs both vital.bp_systolic and vital.bp_diastolic");
  }
  if (has_sys &&
      std::stoll(filled["vital.bp_diastolic"]) >= std::stoll(filled["vital.bp_systolic"])) {
    return core::InvalidInput("vital.bp_diastolic must be lower than vital.bp_systolic");
  }
  std::vector<TemplateValue> out;
  for (const auto& item : StatusTemplate()) {
    auto it = filled.find(std::string(item.key));
    if (it != filled.end()) out.push_back({it->first, it->second});
  }
  return out;
}

std::string EncodeTemplateValues(const std::vector<TemplateValue>& values) {
  if (values.empty()) return "";
  boost::json::array out;
  out.reserve(values.size());
  for (const auto& v : values) out.push_back(boost::json::array{v.item, v.value});
  return boost::json::serialize(out);
}

std::vector<TemplateValue> DecodeTemplateValues(std::string_view text) {
  std::vector<TemplateValue> out;
  if (text.empty()) return out;
  unsigned char buffer[2048];
  boost::json::monotonic_resource arena(buffer, sizeof buffer);
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec, &arena);
  const boost::json::array* pairs = ec ? nullptr : parsed.if_array();
  if (pairs == nullptr) return out;
  out.reserve(pairs->size());
  for (const auto& pair : *pairs) {
    const boost::json::array* kv = pair.if_array();
    if (kv == nullptr || kv->size() != 2 || !(*kv)[0].is_string() || !(*kv)[1].is_string()) {
      continue;
    }
    out.push_back({std::string((*kv)[0].get_string()), std::string((*kv)[1].get_string())});
  }
  return out;
}

}  // namespace tsunagu::care
