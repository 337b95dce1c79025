// MedicationRequest (OMP-01 oral/external, OMP-02 injection) and the
// execution records of RAS^O17: MedicationDispense (OMP-11),
// MedicationAdministration (OMP-12) and Immunization (vaccines).
#include "core/text.hpp"
#include "ssmix2/internal/fhir_json.hpp"
#include "ssmix2/internal/mapping.hpp"

namespace tsunagu::ssmix2::internal {
namespace {

namespace json = boost::json;
using clinical::Category;
using clinical::ResourceRecord;
using Records = std::vector<ResourceRecord>;

constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kExt = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/";

std::string Profile(std::string_view name) { return std::string(kJpCore) + std::string(name); }

// One ordered/administered item with the segments that qualify it.
struct Item {
  const hl7v2::Segment* orc = nullptr;
  const hl7v2::Segment* main = nullptr;  // RXE or RXA
  const hl7v2::Segment* tq1 = nullptr;
  const hl7v2::Segment* rxr = nullptr;
  std::vector<const hl7v2::Segment*> rxcs;
  std::vector<std::string> notes;
};

std::vector<Item> GroupItems(const hl7v2::Message& m, std::string_view main_name) {
  std::vector<Item> items;
  const hl7v2::Segment* orc = nullptr;
  const hl7v2::Segment* pending_tq1 = nullptr;
  bool in_item = false;
  for (const hl7v2::Segment& s : m.segments()) {
    const std::string_view n = s.Name();
    if (n == "ORC") {
      orc = &s;
      pending_tq1 = nullptr;
      in_item = false;
    } else if (n == main_name) {
      Item it;
      it.orc = orc;
      it.main = &s;
      it.tq1 = pending_tq1;
      pending_tq1 = nullptr;
      items.push_back(std::move(it));
      in_item = true;
    } else if (n == "TQ1") {
      if (in_item && items.back().tq1 == nullptr) {
        items.back().tq1 = &s;
      } else if (!in_item) {
        pending_tq1 = &s;
      }
    } else if (n == "RXR" && in_item) {
      if (items.back().rxr == nullptr) items.back().rxr = &s;
    } else if (n == "RXC" && in_item) {
      items.back().rxcs.push_back(&s);
    } else if (n == "NTE" && in_item) {
      std::string text = core::Trim(s.Get(3));
      if (!text.empty()) items.back().notes.push_back(text);
    }
  }
  return items;
}

// value + CWE units (code^text^system) -> SimpleQuantity; nullopt without value.
std::optional<json::object> Quantity(std::string_view value, const std::vector<Code>& units) {
  std::optional<json::value> v = Decimal(value);
  if (!v) return std::nullopt;
  json::object q;
  q["value"] = *v;
  if (!units.empty()) {
    const Code& u = units.front();
    q["unit"] = u.display.empty() ? u.code : u.display;
    if (!u.system.empty()) q["system"] = u.system;
    if (!u.code.empty()) q["code"] = u.code;
  }
  return q;
}

json::object Days(int64_t days) {
  json::object d(kBodyMembers);
  d["value"] = days;
  d["unit"] = "日";
  d["system"] = kUcum;
  d["code"] = "d";
  return d;
}

struct Timing {
  std::vector<Code> usage;                // TQ1-3.1 (JAMI usage code)
  std::optional<int64_t> days;            // TQ1-6 in days
  std::optional<hl7v2::Timestamp> start;  // TQ1-7
  std::optional<hl7v2::Timestamp> end;    // TQ1-8
  std::string text;                       // TQ1-11 / usage text
  std::optional<int64_t> occurrences;     // TQ1-14
};

core::Result<Timing> ReadTiming(const hl7v2::Segment* tq1, int64_t facility_id,
                                const std::string& where) {
  Timing t;
  if (tq1 == nullptr) return t;
  t.usage = CodesOf(*tq1, 3, 0, facility_id, 1);
  if (t.usage.empty()) t.usage = CodesOf(*tq1, 3, 0, facility_id);
  const std::string amount = core::Trim(tq1->Get(6, 1));
  if (!amount.empty()) {
    std::optional<json::value> n = Decimal(amount);
    if (!n || !n->is_int64() || n->get_int64() < 0 || n->get_int64() > 3650)
      return core::InvalidInput(where + ": TQ1-6 duration must be a whole number of days");
    const std::string unit = tq1->Get(6, 2);
    int64_t factor = 1;
    if (unit == "W" || unit == "wk") factor = 7;
    if (!(unit.empty() || unit == "D" || unit == "d" || unit == "日" || factor == 7))
      return core::InvalidInput(where + ": TQ1-6 duration unit must be days or weeks");
    t.days = n->get_int64() * factor;
  }
  TSUNAGU_ASSIGN_OR_RETURN(t.start, OptionalTime(tq1->Get(7), where + " TQ1-7"));
  TSUNAGU_ASSIGN_OR_RETURN(t.end, OptionalTime(tq1->Get(8), where + " TQ1-8"));
  t.text = core::Trim(tq1->Get(11));
  if (t.text.empty() && !t.usage.empty()) t.text = t.usage.front().display;
  const std::string occ = core::Trim(tq1->Get(14));
  if (!occ.empty()) {
    std::optional<json::value> n = Decimal(occ);
    if (n && n->is_int64()) t.occurrences = n->get_int64();
  }
  return t;
}

// The last day of intake: start day + days - 1 (7 days from 04-01 end 04-07).
std::string EndDate(const hl7v2::Timestamp& start, int64_t days) {
  return hl7v2::CivilDate(hl7v2::DaysFromCivil(start.year, start.month, start.day) + days - 1);
}

std::string OrderStatus(const MappingContext& ctx, const hl7v2::Segment* orc) {
  if (ctx.source->cancelled) return "cancelled";
  const std::string control = orc != nullptr ? orc->Get(1) : "";
  if (control == "CA" || control == "OC" || control == "DC" || control == "CR") return "cancelled";
  if (control == "HD") return "on-hold";
  return "active";
}

std::optional<json::object> Practitioner(const hl7v2::Segment* s, size_t field) {
  if (s == nullptr) return std::nullopt;
  std::string name = core::Trim(s->Get(field, 2) + " " + s->Get(field, 3));
  if (name.empty()) return std::nullopt;
  json::object ref;
  ref["display"] = name;
  return ref;
}

bool IsVaccine(const std::vector<Code>& codes) {
  for (const Code& c : codes) {
    if (c.system == "http://hl7.org/fhir/sid/cvx") return true;
    // YJ therapeutic category 631: vaccines.
    if (c.system == "urn:oid:1.2.392.100495.20.1.73" && c.code.rfind("631", 0) == 0) return true;
    if (c.display.find("ワクチン") != std::string::npos ||
        c.display.find("トキソイド") != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

core::Result<Records> MapMedicationOrders(const MappingContext& ctx) {
  const std::vector<Item> items = GroupItems(*ctx.message, "RXE");
  if (items.empty()) return core::InvalidInput("RDE^O11 message has no RXE segment");
  const bool injection = ctx.data_type == "OMP-02";
  Records out;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    const hl7v2::Segment& rxe = *it.main;
    const std::string where = "RXE[" + std::to_string(i + 1) + "]";
    const std::string order = ctx.OrderNumber(it.orc);
    TSUNAGU_ASSIGN_OR_RETURN(Timing timing, ReadTiming(it.tq1, ctx.facility_id(), where));
    std::optional<hl7v2::Timestamp> authored;
    if (it.orc != nullptr) {
      TSUNAGU_ASSIGN_OR_RETURN(authored, OptionalTime(it.orc->Get(9), where + " ORC-9"));
    }

    // Drugs of this item: the RXE give code, or each RXC of an injection mix.
    struct Drug {
      std::vector<Code> codes;
      std::string amount;
      std::vector<Code> units;
      std::string item;
    };
    std::vector<Drug> drugs;
    std::vector<Code> give = CodesOf(rxe, 2, 0, ctx.facility_id());
    if (injection && !it.rxcs.empty()) {
      for (size_t k = 0; k < it.rxcs.size(); ++k) {
        const hl7v2::Segment& rxc = *it.rxcs[k];
        drugs.push_back({CodesOf(rxc, 2, 0, ctx.facility_id()), rxc.Get(3),
                         CodesOf(rxc, 4, 0, ctx.facility_id()),
                         std::to_string(i + 1) + "." + std::to_string(k + 1)});
      }
    } else {
      drugs.push_back(
          {give, rxe.Get(3), CodesOf(rxe, 5, 0, ctx.facility_id()), std::to_string(i + 1)});
    }

    for (const Drug& drug : drugs) {
      if (drug.codes.empty())
        return core::InvalidInput(where + ": the drug code (RXE-2/RXC-2) is empty");
      ResourceRecord r =
          NewRecord(ctx, "MedicationRequest",
                    injection ? Category::kInjection : Category::kPrescription, order, drug.item);
      SetPrimaryCode(r, drug.codes);
      json::object m(kBodyMembers);
      m["status"] = OrderStatus(ctx, it.orc);
      m["intent"] = "order";
      json::array category;
      const std::string order_type = it.orc != nullptr ? it.orc->Get(29) : "";
      if (order_type == "I" || order_type == "O")
        category.push_back(
            SystemCodeConcept("http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                              order_type == "I" ? "inpatient" : "outpatient"));
      if (auto kind = CodeableConcept(CodesOf(rxe, 27, 0, ctx.facility_id())))
        category.push_back(std::move(*kind));
      if (!category.empty()) m["category"] = std::move(category);
      m["medicationCodeableConcept"] = *CodeableConcept(drug.codes);
      m["subject"] = ctx.SubjectRef();
      const std::string authored_on = authored ? authored->fhir : ctx.message_time;
      m["authoredOn"] = authored_on;
      if (auto req = Practitioner(it.orc, 12)) m["requester"] = std::move(*req);

      json::object dosage;
      if (!timing.text.empty()) dosage["text"] = timing.text;
      if (timing.start) {
        json::object period;
        period["start"] = timing.start->fhir.substr(0, 10);
        json::object ext;
        ext["url"] = std::string(kExt) + "JP_MedicationRequest_DosageInstruction_PeriodOfUse";
        ext["valuePeriod"] = std::move(period);
        dosage["extension"] = json::array{std::move(ext)};
      }
      json::object tm;
      if (auto code = CodeableConcept(timing.usage)) tm["code"] = std::move(*code);
      if (timing.days) {
        json::object repeat;
        repeat["boundsDuration"] = Days(*timing.days);
        tm["repeat"] = std::move(repeat);
      }
      if (!tm.empty()) dosage["timing"] = std::move(tm);
      if (it.rxr != nullptr) {
        if (auto route = CodeableConcept(CodesOf(*it.rxr, 1, 0, ctx.facility_id())))
          dosage["route"] = std::move(*route);
        if (auto site = CodeableConcept(CodesOf(*it.rxr, 2, 0, ctx.facility_id())))
          dosage["site"] = std::move(*site);
      }
      json::object dose_and_rate;
      if (auto dose = Quantity(drug.amount, drug.units)) dose_and_rate["doseQuantity"] = *dose;
      if (!injection) {
        std::vector<Code> daily_units = CodesOf(rxe, 19, 0, ctx.facility_id(), 2);
        if (auto daily = Quantity(rxe.Get(19, 1), daily_units)) {
          json::object denominator = Days(1);
          json::object ratio;
          ratio["numerator"] = *daily;
          ratio["denominator"] = std::move(denominator);
          dose_and_rate["rateRatio"] = std::move(ratio);
        }
      } else if (auto rate = Quantity(rxe.Get(23), CodesOf(rxe, 24, 0, ctx.facility_id()))) {
        dose_and_rate["rateQuantity"] = *rate;
      }
      if (!dose_and_rate.empty()) dosage["doseAndRate"] = json::array{std::move(dose_and_rate)};
      if (!dosage.empty()) m["dosageInstruction"] = json::array{std::move(dosage)};

      json::object dispense;
      if (timing.occurrences) {
        json::object ext;
        ext["url"] = std::string(kExt) + "JP_MedicationRequest_DispenseRequest_ExpectedRepeatCount";
        ext["valueInteger"] = *timing.occurrences;
        dispense["extension"] = json::array{std::move(ext)};
      }
      if (it.rxcs.empty() || !injection) {
        if (auto q = Quantity(rxe.Get(10), CodesOf(rxe, 11, 0, ctx.facility_id())))
          dispense["quantity"] = *q;
      }
      if (timing.days) dispense["expectedSupplyDuration"] = Days(*timing.days);
      if (!dispense.empty()) m["dispenseRequest"] = std::move(dispense);
      if (!it.notes.empty()) {
        json::array notes;
        for (const std::string& n : it.notes) notes.push_back(json::object{{"text", n}});
        m["note"] = std::move(notes);
      }

      r.effective = timing.start ? timing.start->fhir : authored_on;
      if (timing.start && timing.days && *timing.days > 0) {
        r.effective_end = EndDate(*timing.start, *timing.days);
      } else if (timing.end) {
        r.effective_end = timing.end->fhir;
      }
      Finish(ctx, r, Profile(injection ? "JP_MedicationRequest_Injection" : "JP_MedicationRequest"),
             std::move(m));
      out.push_back(std::move(r));
    }
  }
  return out;
}

core::Result<Records> MapMedicationRecords(const MappingContext& ctx) {
  const std::vector<Item> items = GroupItems(*ctx.message, "RXA");
  if (items.empty()) return core::InvalidInput("RAS^O17 message has no RXA segment");
  const bool injection = ctx.data_type == "OMP-12";
  Records out;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    const hl7v2::Segment& rxa = *it.main;
    const std::string where = "RXA[" + std::to_string(i + 1) + "]";
    const std::string order = ctx.OrderNumber(it.orc);
    std::vector<Code> codes = CodesOf(rxa, 5, 0, ctx.facility_id());
    if (codes.empty()) return core::InvalidInput(where + ": RXA-5 administered code is empty");
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> start,
                             OptionalTime(rxa.Get(3), where + " RXA-3"));
    if (!start) return core::InvalidInput(where + ": RXA-3 administration date/time is empty");
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> end,
                             OptionalTime(rxa.Get(4), where + " RXA-4"));
    TSUNAGU_ASSIGN_OR_RETURN(Timing timing, ReadTiming(it.tq1, ctx.facility_id(), where));
    const std::string completion = rxa.Get(20);
    const bool done = completion.empty() || completion == "CP" || completion == "PA";
    std::optional<json::object> amount =
        Quantity(rxa.Get(6), CodesOf(rxa, 7, 0, ctx.facility_id()));
    std::optional<json::object> route, site;
    if (it.rxr != nullptr) {
      route = CodeableConcept(CodesOf(*it.rxr, 1, 0, ctx.facility_id()));
      site = CodeableConcept(CodesOf(*it.rxr, 2, 0, ctx.facility_id()));
    }
    const std::string item = std::to_string(i + 1);
    json::object body(kBodyMembers);
    ResourceRecord r;
    std::string profile;
    if (IsVaccine(codes)) {
      r = NewRecord(ctx, "Immunization", Category::kImmunization, order, item);
      body["status"] = done ? "completed" : "not-done";
      body["vaccineCode"] = *CodeableConcept(codes);
      body["patient"] = ctx.SubjectRef();
      body["occurrenceDateTime"] = start->fhir;
      body["recorded"] = ctx.message_time;
      const std::string lot = core::Trim(rxa.Get(15));
      if (!lot.empty()) body["lotNumber"] = lot;
      TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> expiry,
                               OptionalTime(rxa.Get(16), where + " RXA-16"));
      if (expiry) body["expirationDate"] = expiry->fhir.substr(0, 10);
      if (site) body["site"] = std::move(*site);
      if (route) body["route"] = std::move(*route);
      if (amount) body["doseQuantity"] = *amount;
      if (auto who = Practitioner(&rxa, 10)) {
        json::object performer;
        performer["function"] = SystemCodeConcept("http://terminology.hl7.org/CodeSystem/v2-0443",
                                                  "AP", "Administering Provider");
        performer["actor"] = std::move(*who);
        body["performer"] = json::array{std::move(performer)};
      }
      profile = Profile("JP_Immunization");
    } else if (injection) {
      r = NewRecord(ctx, "MedicationAdministration", Category::kAdministration, order, item);
      body["status"] = done ? (completion == "PA" ? "stopped" : "completed") : "not-done";
      body["medicationCodeableConcept"] = *CodeableConcept(codes);
      body["subject"] = ctx.SubjectRef();
      if (end) {
        json::object period;
        period["start"] = start->fhir;
        period["end"] = end->fhir;
        body["effectivePeriod"] = std::move(period);
      } else {
        body["effectiveDateTime"] = start->fhir;
      }
      if (auto who = Practitioner(&rxa, 10)) {
        json::object performer;
        performer["actor"] = std::move(*who);
        body["performer"] = json::array{std::move(performer)};
      }
      json::object dosage;
      if (!timing.text.empty()) dosage["text"] = timing.text;
      if (site) dosage["site"] = std::move(*site);
      if (route) dosage["route"] = std::move(*route);
      if (amount) dosage["dose"] = *amount;
      if (!dosage.empty()) body["dosage"] = std::move(dosage);
      profile = Profile("JP_MedicationAdministration_Injection");
    } else {
      r = NewRecord(ctx, "MedicationDispense", Category::kDispensing, order, item);
      body["status"] = done ? "completed" : "declined";
      body["medicationCodeableConcept"] = *CodeableConcept(codes);
      body["subject"] = ctx.SubjectRef();
      if (amount) body["quantity"] = *amount;
      if (timing.days) body["daysSupply"] = Days(*timing.days);
      body["whenHandedOver"] = start->fhir;
      json::object dosage;
      if (!timing.text.empty()) dosage["text"] = timing.text;
      if (auto code = CodeableConcept(timing.usage)) {
        json::object tm;
        tm["code"] = std::move(*code);
        dosage["timing"] = std::move(tm);
      }
      if (route) dosage["route"] = std::move(*route);
      if (!dosage.empty()) body["dosageInstruction"] = json::array{std::move(dosage)};
      profile = Profile("JP_MedicationDispense");
    }
    if (!it.notes.empty()) {
      json::array notes;
      for (const std::string& n : it.notes) notes.push_back(json::object{{"text", n}});
      body["note"] = std::move(notes);
    }
    SetPrimaryCode(r, codes);
    r.effective = start->fhir;
    if (end) {
      r.effective_end = end->fhir;
    } else if (timing.days && *timing.days > 0 && r.resource_type == "MedicationDispense") {
      r.effective_end = EndDate(*start, *timing.days);
    }
    Finish(ctx, r, profile, std::move(body));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tsunagu::ssmix2::internal
