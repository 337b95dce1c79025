#include "jahis/dispensing_mapper.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "clinical/fhir_summary.hpp"
#include "core/clock.hpp"

namespace tsunagu::jahis {
namespace {

namespace json = boost::json;

constexpr std::string_view kJpCore = "http://jpfhir.jp/fhir/core/StructureDefinition/";
constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kInstitutionNo =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
constexpr int64_t kDayMillis = 86'400'000;
constexpr int64_t kJstOffsetMillis = 9 * 3'600'000;

std::optional<double> Number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Whole numbers as JSON integers ("3", not "3E0").
json::value NumberValue(double v) {
  if (std::fabs(v) < 1e15 && v == std::trunc(v)) return json::value(static_cast<int64_t>(v));
  return json::value(v);
}

json::object Quantity(double value, const std::string& unit) {
  json::object q;
  q["value"] = NumberValue(value);
  if (!unit.empty()) q["unit"] = unit;
  return q;
}

// "2025-06-01" + n days.
std::string AddDays(const std::string& date, int n) {
  int y = std::stoi(date.substr(0, 4));
  int m = std::stoi(date.substr(5, 2));
  int d = std::stoi(date.substr(8, 2));
  return core::DateFromDays(core::DaysFromCivil(y, m, d) + n);
}

// Midnight of the dispensing day, Japan time, in ms UTC: a deterministic
// source time, so that the same file stored twice is "unchanged".
int64_t SourceTime(const std::string& date) {
  int y = std::stoi(date.substr(0, 4));
  int m = std::stoi(date.substr(5, 2));
  int d = std::stoi(date.substr(8, 2));
  return core::DaysFromCivil(y, m, d) * kDayMillis - kJstOffsetMillis;
}

std::string Compact(const std::string& date) {
  std::string out;
  for (char c : date) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

std::string FacilityLabel(const NotebookFacility& f) { return f.name; }

json::object Organization(const NotebookFacility& f) {
  json::object actor;
  if (!f.name.empty()) actor["display"] = f.name;
  if (std::string code = f.InstitutionCode(); !code.empty()) {
    actor["identifier"] = json::object{{"system", kInstitutionNo}, {"value", code}};
  }
  return actor;
}

json::object Medication(const NotebookDrug& d) {
  json::object concept_json;
  const std::string system = DrugCodeSystem(d.code_type, d.code);
  if (!d.code.empty() && !system.empty()) {
    concept_json["coding"] =
        json::array{json::object{{"system", system}, {"code", d.code}, {"display", d.name}}};
  }
  concept_json["text"] = d.name;
  return concept_json;
}

json::object Dosage(const NotebookRp& rp, const NotebookDrug& d) {
  json::object dosage;
  std::string text = rp.usage;
  for (const std::string& note : rp.usage_notes) {
    if (!text.empty()) text += "　";
    text += note;
  }
  if (!text.empty()) dosage["text"] = text;
  if (!rp.usage.empty()) {
    json::object code;
    if (!rp.usage_code.empty()) {
      std::string system = "urn:tsunagu:codesystem:jahis-usage";
      if (!rp.usage_code_type.empty()) system += "-" + rp.usage_code_type;
      code["coding"] = json::array{
          json::object{{"system", system}, {"code", rp.usage_code}, {"display", rp.usage}}};
    }
    code["text"] = rp.usage;
    dosage["timing"] = json::object{{"code", std::move(code)}};
  }
  if (std::string_view form = DosageFormName(rp.dosage_form); !form.empty()) {
    dosage["route"] =
        json::object{{"coding", json::array{json::object{{"system", kDosageFormSystem},
                                                         {"code", std::to_string(rp.dosage_form)},
                                                         {"display", form}}}},
                     {"text", form}};
  }
  if (std::optional<double> dose = Number(d.dose)) {
    json::object dose_and_rate;
    // The notebook's 用量 of an oral medicine (内服, 内滴) is the daily dose;
    // of any other form, the dose per use.
    if (rp.dosage_form == 1 || rp.dosage_form == 2) {
      dose_and_rate["rateRatio"] = json::object{
          {"numerator", Quantity(*dose, d.unit)},
          {"denominator",
           json::object{{"value", 1}, {"unit", "日"}, {"system", kUcum}, {"code", "d"}}}};
    } else {
      dose_and_rate["doseQuantity"] = Quantity(*dose, d.unit);
    }
    dosage["doseAndRate"] = json::array{std::move(dose_and_rate)};
  }
  return dosage;
}

clinical::ResourceRecord Record(const DispensingEvent& e, const NotebookRp& rp,
                                const NotebookDrug& d, const std::string& key,
                                const MappingTarget& target) {
  clinical::ResourceRecord r;
  r.resource_type = "MedicationDispense";
  r.source_facility_id = target.facility_id;
  r.local_patient_id = target.local_patient_id;
  r.source_key = key;
  r.category = clinical::Category::kDispensing;
  r.code_system = d.code.empty() ? "" : DrugCodeSystem(d.code_type, d.code);
  r.code = r.code_system.empty() ? "" : d.code;
  r.display = d.name;
  r.effective = e.date;
  std::optional<int> days = rp.Days();
  if (days) r.effective_end = AddDays(e.date, *days - 1);
  r.source_time = SourceTime(e.date);

  const std::string source = "urn:tsunagu:facility:" + std::to_string(target.facility_id);
  json::object m;
  m["resourceType"] = "MedicationDispense";
  m["meta"] = json::object{
      {"profile", json::array{json::string(std::string(kJpCore) + "JP_MedicationDispense")}},
      {"source", source}};
  m["identifier"] =
      json::array{json::object{{"system", source + ":MedicationDispense"}, {"value", key}}};
  m["status"] = "completed";
  m["category"] = json::object{
      {"coding",
       json::array{json::object{
           {"system", "http://terminology.hl7.org/fhir/CodeSystem/medicationdispense-category"},
           {"code", "community"}}}}};
  m["medicationCodeableConcept"] = Medication(d);
  const std::string id_system = target.facility_code.empty()
                                    ? source + ":patient-id"
                                    : "urn:oid:1.2.392.100495.20.3.51.1" + target.facility_code;
  m["subject"] = json::object{
      {"identifier", json::object{{"system", id_system}, {"value", target.local_patient_id}}}};

  json::array performers;
  if (!e.pharmacist.empty()) {
    performers.push_back(json::object{
        {"function",
         json::object{{"coding", json::array{json::object{{"system",
                                                           "http://terminology.hl7.org/CodeSystem/"
                                                           "medicationdispense-performer-function"},
                                                          {"code", "finalchecker"}}}}}},
        {"actor", json::object{{"display", e.pharmacist}}}});
  }
  if (json::object pharmacy = Organization(e.pharmacy); !pharmacy.empty()) {
    performers.push_back(json::object{{"actor", std::move(pharmacy)}});
  }
  if (!performers.empty()) m["performer"] = std::move(performers);

  // The prescription is not a resource of the network: a display of who
  // wrote it, with the prescribing institution's code when the file has it.
  std::string prescription = FacilityLabel(e.prescriber);
  if (!e.department.empty()) prescription += (prescription.empty() ? "" : " ") + e.department;
  if (!e.doctor.empty()) prescription += (prescription.empty() ? "" : " ") + e.doctor;
  if (!prescription.empty()) {
    json::object ref{{"display", "処方: " + prescription}};
    if (std::string code = e.prescriber.InstitutionCode(); !code.empty()) {
      ref["identifier"] = json::object{{"system", kInstitutionNo}, {"value", code}};
    }
    m["authorizingPrescription"] = json::array{std::move(ref)};
  }

  std::optional<double> dose = Number(d.dose);
  std::optional<double> amount = Number(rp.quantity);
  if (dose && amount) {
    // Total handed over: daily dose x days, or dose per use x uses.
    if ((days && (rp.dosage_form == 1 || rp.dosage_form == 2)) || rp.quantity_unit == "回分") {
      m["quantity"] = Quantity(*dose * *amount, d.unit);
    }
  }
  if (days) {
    m["daysSupply"] =
        json::object{{"value", *days}, {"unit", "日"}, {"system", kUcum}, {"code", "d"}};
  }
  m["whenHandedOver"] = e.date;
  json::object dosage = Dosage(rp, d);
  if (!dosage.empty()) m["dosageInstruction"] = json::array{std::move(dosage)};
  json::array notes;
  for (const std::string& n : d.notes) notes.push_back(json::object{{"text", n}});
  if (amount && !days && !rp.quantity_unit.empty()) {
    notes.push_back(json::object{{"text", "調剤数量: " + rp.quantity + rp.quantity_unit}});
  }
  if (!notes.empty()) m["note"] = std::move(notes);
  r.json = json::serialize(m);
  return r;
}

}  // namespace

std::string DrugCodeSystem(int code_type, std::string_view code) {
  switch (code_type) {
    case static_cast<int>(DrugCodeType::kReceipt):
      return std::string(kReceiptDrugCodeSystem);
    case static_cast<int>(DrugCodeType::kMhlw):
      return std::string(kMhlwDrugCodeSystem);
    case static_cast<int>(DrugCodeType::kYj):
      return std::string(clinical::kYjCodeSystem);
    case static_cast<int>(DrugCodeType::kHot):
      if (code.size() == 7) return "urn:oid:1.2.392.200119.4.403.2";
      if (code.size() == 13) return "urn:oid:1.2.392.200119.4.402.1";
      return "urn:oid:1.2.392.200119.4.403.1";
    case 0:
    case static_cast<int>(DrugCodeType::kNone):
      return {};
    default:
      return "urn:tsunagu:codesystem:jahis-drug-code-" + std::to_string(code_type);
  }
}

std::vector<MappedDispense> MapDispenses(const Notebook& notebook, const MappingTarget& target) {
  std::vector<MappedDispense> out;
  std::map<std::string, int> seen;  // date|pharmacy -> events so far
  for (size_t ei = 0; ei < notebook.events.size(); ++ei) {
    const DispensingEvent& e = notebook.events[ei];
    std::string pharmacy = e.pharmacy.InstitutionCode();
    if (pharmacy.empty()) pharmacy = "-";
    const std::string date = Compact(e.date);
    int n = ++seen[date + "|" + pharmacy];
    if (n > 1) pharmacy += "/" + std::to_string(n);
    for (size_t ri = 0; ri < e.rps.size(); ++ri) {
      const NotebookRp& rp = e.rps[ri];
      for (size_t di = 0; di < rp.drugs.size(); ++di) {
        const std::string key = "JAHIS|" + date + "|" + pharmacy + "|" + std::to_string(rp.number) +
                                "|" + std::to_string(di + 1);
        out.push_back({Record(e, rp, rp.drugs[di], key, target), ei, ri, di});
      }
    }
  }
  return out;
}

}  // namespace tsunagu::jahis
