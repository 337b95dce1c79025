// Lab results (OML-11: Observation per OBX + DiagnosticReport per OBR),
// orders (OML-01, OMG-01..03 and their execution notices: ServiceRequest)
// and reports (ORU^R01: DiagnosticReport with the conclusion text).
#include <charconv>
#include <set>

#include "core/text.hpp"
#include "ssmix2/internal/fhir_json.hpp"
#include "ssmix2/internal/mapping.hpp"

namespace tsunagu::ssmix2::internal {
namespace {

namespace json = boost::json;
using clinical::Category;
using clinical::ResourceRecord;
using Records = std::vector<ResourceRecord>;

constexpr std::string_view kV20074 = "http://terminology.hl7.org/CodeSystem/v2-0074";
constexpr std::string_view kInterpretation =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

std::string Profile(std::string_view name) { return std::string(kJpCore) + std::string(name); }

struct ObxEntry {
  const hl7v2::Segment* obx = nullptr;
  std::vector<std::string> notes;
};

struct Group {
  const hl7v2::Segment* orc = nullptr;
  const hl7v2::Segment* obr = nullptr;
  const hl7v2::Segment* tq1 = nullptr;
  const hl7v2::Segment* spm = nullptr;
  std::vector<ObxEntry> obxs;
  std::vector<std::string> notes;  // NTE of the order itself
};

// Splits a message into OBR groups. ORC may come before (orders) or after
// (OUL results) its OBR; SPM applies to the OBRs that follow it.
std::vector<Group> GroupOrders(const hl7v2::Message& m) {
  std::vector<Group> groups;
  const hl7v2::Segment* spm = nullptr;
  const hl7v2::Segment* pending_orc = nullptr;
  const hl7v2::Segment* pending_tq1 = nullptr;  // TQ1 between ORC and its OBR
  for (const hl7v2::Segment& s : m.segments()) {
    const std::string_view n = s.Name();
    if (n == "SPM") {
      spm = &s;
    } else if (n == "ORC") {
      if (!groups.empty() && groups.back().orc == nullptr && groups.back().obr != nullptr &&
          groups.back().obxs.empty()) {
        groups.back().orc = &s;
      } else {
        pending_orc = &s;
        pending_tq1 = nullptr;
      }
    } else if (n == "OBR") {
      Group g;
      g.obr = &s;
      g.orc = pending_orc;
      g.tq1 = pending_tq1;
      g.spm = spm;
      pending_orc = nullptr;
      pending_tq1 = nullptr;
      groups.push_back(std::move(g));
    } else if (n == "TQ1" && pending_orc != nullptr) {
      pending_tq1 = &s;
    } else if (groups.empty()) {
      continue;
    } else if (n == "TQ1") {
      if (groups.back().tq1 == nullptr) groups.back().tq1 = &s;
    } else if (n == "OBX") {
      groups.back().obxs.push_back({&s, {}});
    } else if (n == "NTE") {
      std::string text = core::Trim(s.Get(3));
      if (text.empty()) continue;
      if (groups.back().obxs.empty()) {
        groups.back().notes.push_back(text);
      } else {
        groups.back().obxs.back().notes.push_back(text);
      }
    }
  }
  return groups;
}

std::string ObservationStatus(std::string_view s) {
  if (s == "C") return "corrected";
  if (s == "P") return "preliminary";
  if (s == "R" || s == "I") return "registered";
  if (s == "X") return "cancelled";
  if (s == "D" || s == "W") return "entered-in-error";
  return "final";
}

std::string ReportStatus(std::string_view s) {
  if (s == "C") return "corrected";
  if (s == "P" || s == "R") return "preliminary";
  if (s == "I" || s == "O" || s == "S") return "registered";
  if (s == "X") return "cancelled";
  return "final";
}

// A lab result is written directly (no JSON document built first), with
// the summary a timeline shows of it gathered on the way: it is what
// clinical::Summarize reads back from the written resource.

// The members OBX-6 gives a quantity: "unit" (the code, else the text) and,
// for a coded unit, "system" and "code"; "" when OBX-6 is empty.
struct UnitMembers {
  std::string json;  // `,"unit":...[,"system":...,"code":...]`
  std::string unit;  // the text of "unit"
};

UnitMembers UnitOf(const std::vector<Code>& units) {
  UnitMembers m;
  if (units.empty()) return m;
  const Code& u = units.front();
  m.unit = u.code.empty() ? u.display : u.code;
  m.json = ",\"unit\":";
  AppendJsonString(m.json, m.unit);
  if (!u.system.empty()) {
    m.json += ",\"system\":";
    AppendJsonString(m.json, u.system);
    m.json += ",\"code\":";
    AppendJsonString(m.json, u.code);
  }
  return m;
}

double NumberOf(const json::value& v) {
  return v.is_int64() ? static_cast<double>(v.get_int64()) : v.get_double();
}

// {"value":n[,"comparator":c]<unit>} when `text` is a decimal; else false,
// nothing written.
bool AppendQuantity(std::string& out, std::string_view text, std::string_view comparator,
                    const UnitMembers& unit, std::optional<double>* number = nullptr) {
  std::optional<json::value> v = Decimal(text);
  if (!v) return false;
  out += "{\"value\":";
  AppendJson(out, *v);
  if (!comparator.empty()) {
    out += ",\"comparator\":";
    AppendJsonString(out, comparator);
  }
  out += unit.json;
  out += '}';
  if (number != nullptr) *number = NumberOf(*v);
  return true;
}

// OBX-7 as the referenceRange member: "3.5-5.0", "<=5", "<5", ">3",
// "-0.5-0.5"; other text as is.
void AppendReferenceRange(std::string& out, std::string_view text, const UnitMembers& unit,
                          clinical::LabValue& lab) {
  const std::string t = core::Trim(text);
  out += ",\"referenceRange\":[{";
  auto strip = [](std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix ? s.substr(prefix.size()) : std::string_view{};
  };
  auto bound = [&](std::string_view rest, const char* member, std::optional<double>& number) {
    std::string q;
    if (!AppendQuantity(q, rest, "", unit, &number)) return false;
    out += member;
    out += q;
    return true;
  };
  bool done = false;
  for (std::string_view op : {"<=", "<"}) {
    std::string_view rest = strip(t, op);
    if (!done && !rest.empty()) done = bound(rest, "\"high\":", lab.high);
  }
  for (std::string_view op : {">=", ">"}) {
    std::string_view rest = strip(t, op);
    if (!done && !rest.empty()) done = bound(rest, "\"low\":", lab.low);
  }
  const size_t dash = t.find('-', 1);
  if (!done && dash != std::string::npos) {
    std::string low, high;
    if (AppendQuantity(low, std::string_view(t).substr(0, dash), "", unit, &lab.low)) {
      out += "\"low\":";
      out += low;
      done = true;
    }
    if (AppendQuantity(high, std::string_view(t).substr(dash + 1), "", unit, &lab.high)) {
      if (done) out += ',';
      out += "\"high\":";
      out += high;
      done = true;
    }
  }
  if (!done) {
    out += "\"text\":";
    AppendJsonString(out, t);
    lab.range_text = t;
  }
  out += "}]";
}

// OBX-8 as the interpretation member; the flag's code, "" for a flag that
// is not in HL7 table 0078 (written as text).
std::string AppendInterpretation(std::string& out, std::string_view flag) {
  struct Entry {
    std::string_view code, display;
  };
  static constexpr Entry kFlags[] = {
      {"H", "High"},          {"L", "Low"},           {"HH", "Critical high"},
      {"LL", "Critical low"}, {"A", "Abnormal"},      {"AA", "Critical abnormal"},
      {"N", "Normal"},        {"<", "Off scale low"}, {">", "Off scale high"},
  };
  if (flag.empty()) return {};
  out += ",\"interpretation\":[";
  for (const Entry& e : kFlags) {
    if (e.code == flag) {
      AppendSystemCodeConcept(out, kInterpretation, e.code, e.display);
      out += ']';
      return std::string(e.code);
    }
  }
  out += "{\"text\":";
  AppendJsonString(out, flag);
  out += "}]";
  return {};
}

// OBX-5 as text (repetitions joined by newlines).
std::string ValueText(const hl7v2::Segment& obx) {
  std::string out;
  for (size_t r = 0; r < obx.Repetitions(5); ++r) {
    if (!out.empty()) out += '\n';
    out += hl7v2::Unescape(obx.RawPart(5, r), obx.delimiters());
  }
  return out;
}

void AppendValueString(std::string& out, std::string text, clinical::LabValue& lab) {
  out += ",\"valueString\":";
  AppendJsonString(out, text);
  double d = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, d);
  if (ec == std::errc() && ptr == end) lab.value = d;
  lab.value_text = std::move(text);
}

// Writes value[x] for OBX-2/5/6. Numbers that are not numbers (a "<0.5" in
// an NM field) stay text rather than fail the message.
void AppendValue(const MappingContext& ctx, const hl7v2::Segment& obx, const UnitMembers& unit,
                 std::string& out, clinical::LabValue& lab) {
  if (obx.Raw(5).empty()) return;
  const std::string type = obx.Get(2);
  auto quantity = [&](std::string_view number, const std::string& comparator) {
    std::string q;
    if (!AppendQuantity(q, number, comparator, unit, &lab.value)) return false;
    out += ",\"valueQuantity\":";
    out += q;
    lab.unit = unit.unit;
    lab.value_text = comparator + clinical::FormatNumber(*lab.value);
    return true;
  };
  if (type == "NM") {
    if (quantity(obx.Get(5), "")) return;
  } else if (type == "SN") {
    const std::string comparator = obx.Get(5, 1);
    const std::string number = obx.Get(5, 2);
    const std::string separator = obx.Get(5, 3);
    if (separator.empty() && (comparator.empty() || comparator == "<" || comparator == "<=" ||
                              comparator == ">" || comparator == ">=")) {
      if (quantity(number, comparator)) return;
    }
    AppendValueString(out, comparator + number + separator + obx.Get(5, 4), lab);
    return;
  } else if (type == "CE" || type == "CWE") {
    const std::vector<Code> codes = CodesOf(obx, 5, 0, ctx.facility_id());
    std::string cc;
    if (AppendCodeableConcept(cc, codes)) {
      out += ",\"valueCodeableConcept\":";
      out += cc;
      lab.value_text = ConceptTextOf(codes);
      return;
    }
  }
  AppendValueString(out, ValueText(obx), lab);
}

// effectiveDateTime, and issued when the report time (OBR-22) is given to
// the minute at least.
void AppendTimes(std::string& out, const std::string& effective,
                 const std::optional<hl7v2::Timestamp>& reported) {
  out += ",\"effectiveDateTime\":";
  AppendJsonString(out, effective);
  if (reported && reported->precision >= hl7v2::Timestamp::Precision::kMinute) {
    out += ",\"issued\":";
    AppendJsonString(out, reported->fhir);
  }
}

void AppendSubject(const MappingContext& ctx, std::string& out) {
  out += ",\"subject\":{\"identifier\":{\"system\":";
  AppendJsonString(out, ctx.id_system);
  out += ",\"value\":";
  AppendJsonString(out, ctx.patient_id);
  out += "}}";
}

core::Result<std::optional<hl7v2::Timestamp>> GroupTime(const Group& g, const std::string& where) {
  std::optional<hl7v2::Timestamp> t;
  if (g.tq1 != nullptr) {
    TSUNAGU_ASSIGN_OR_RETURN(t, OptionalTime(g.tq1->Get(7), where + " TQ1-7"));
  }
  if (!t) {
    TSUNAGU_ASSIGN_OR_RETURN(t, OptionalTime(g.obr->Get(7), where + " OBR-7"));
  }
  if (!t && g.spm != nullptr) {
    TSUNAGU_ASSIGN_OR_RETURN(t, OptionalTime(g.spm->Get(17, 1), where + " SPM-17"));
  }
  return t;
}

std::optional<json::object> Display(std::string text) {
  text = core::Trim(text);
  if (text.empty()) return std::nullopt;
  json::object o(kBodyMembers);
  o["display"] = text;
  return o;
}

struct SectionInfo {
  const char* code;  // HL7 table 0074 ("" = text only)
  const char* text;
  const char* profile;  // JP Core DiagnosticReport profile
};

SectionInfo Section(std::string_view data_type) {
  if (data_type.rfind("OML", 0) == 0) return {"LAB", "Laboratory", "JP_DiagnosticReport_LabResult"};
  if (data_type == "OMG-01" || data_type == "OMG-11")
    return {"RAD", "Radiology", "JP_DiagnosticReport_Radiology"};
  if (data_type == "OMG-02" || data_type == "OMG-12")
    return {"", "内視鏡検査", "JP_DiagnosticReport_Endoscopy"};
  return {"", "生理検査", "JP_DiagnosticReport_Common"};
}

json::object SectionConcept(const SectionInfo& s) {
  if (*s.code == '\0') return TextConcept(s.text);
  return SystemCodeConcept(kV20074, s.code, s.text);
}

// A DiagnosticReport.result entry for an Observation of the same message.
void AppendObservationRef(const MappingContext& ctx, std::string& out, const std::string& key,
                          const std::string& display) {
  out += "{\"type\":\"Observation\",\"identifier\":{\"system\":\"urn:tsunagu:facility:";
  out += std::to_string(ctx.facility_id());
  out += ":Observation\",\"value\":";
  AppendJsonString(out, key);
  out += '}';
  if (!display.empty()) {
    out += ",\"display\":";
    AppendJsonString(out, display);
  }
  out += '}';
}

}  // namespace

core::Result<Records> MapLabResults(const MappingContext& ctx) {
  std::vector<Group> groups = GroupOrders(*ctx.message);
  size_t obx_count = 0;
  std::set<std::string> set_ids;
  for (const Group& g : groups) {
    obx_count += g.obxs.size();
    for (const ObxEntry& e : g.obxs) set_ids.insert(core::Trim(e.obx->Get(1)));
  }
  if (groups.empty() || obx_count == 0)
    return core::InvalidInput("lab result message has no OBR with OBX segments");
  // Item keys: OBX-1 when unique in the message, else "<OBR no>.<OBX-1>".
  const bool unique_ids = set_ids.size() == obx_count && set_ids.count("") == 0;
  static const SectionInfo kLab = Section("OML-11");
  static const std::string kObservationProfile = Profile("JP_Observation_LabResult");
  static const std::string kReportProfile = Profile(kLab.profile);
  Records out;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    if (g.obxs.empty()) continue;
    const std::string where = "OBR[" + std::to_string(gi + 1) + "]";
    const std::string order = ctx.OrderNumber(g.orc, g.obr);
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> when, GroupTime(g, where));
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> reported,
                             OptionalTime(g.obr->Get(22), where + " OBR-22"));
    // The specimen as a Reference ({"display": SPM-4}), "" when none.
    std::string specimen;
    if (g.spm != nullptr) {
      const std::string text =
          core::Trim(g.spm->Get(4, 2).empty() ? g.spm->Get(4, 1) : g.spm->Get(4, 2));
      if (!text.empty()) {
        specimen = "{\"display\":";
        AppendJsonString(specimen, text);
        specimen += '}';
      }
    }
    std::string results = "[";
    for (size_t oi = 0; oi < g.obxs.size(); ++oi) {
      const hl7v2::Segment& obx = *g.obxs[oi].obx;
      const std::string owhere = where + " OBX[" + std::to_string(oi + 1) + "]";
      std::vector<Code> codes = CodesOf(obx, 3, 0, ctx.facility_id());
      if (codes.empty()) return core::InvalidInput(owhere + ": OBX-3 observation code is empty");
      std::string set_id = core::Trim(obx.Get(1));
      std::string item = unique_ids ? set_id
                                    : std::to_string(gi + 1) + "." +
                                          (set_id.empty() ? std::to_string(oi + 1) : set_id);
      ResourceRecord r = NewRecord(ctx, "Observation", Category::kLabResult, order, item);
      SetPrimaryCode(r, codes);
      TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> observed,
                               OptionalTime(obx.Get(14), owhere + " OBX-14"));
      if (!observed) observed = when;
      const std::string result_status = obx.Get(11);
      const std::string status = ObservationStatus(result_status);
      const UnitMembers unit = UnitOf(CodesOf(obx, 6, 0, ctx.facility_id()));
      clinical::LabValue lab;
      std::string& o = BeginResource(ctx, r, kObservationProfile);
      o += ",\"status\":";
      AppendJsonString(o, status);
      o += ",\"category\":[";
      AppendSystemCodeConcept(o, "http://terminology.hl7.org/CodeSystem/observation-category",
                              "laboratory", "Laboratory");
      o += "],\"code\":";
      AppendCodeableConcept(o, codes);  // not empty: CodesOf gave a code or a text
      AppendSubject(ctx, o);
      r.effective = observed ? observed->fhir : ctx.message_time;
      AppendTimes(o, r.effective, reported);
      AppendValue(ctx, obx, unit, o, lab);
      lab.flag = AppendInterpretation(o, obx.Get(8));
      if (!core::Trim(obx.Get(7)).empty()) AppendReferenceRange(o, obx.Get(7), unit, lab);
      if (!specimen.empty()) {
        o += ",\"specimen\":";
        o += specimen;
      }
      if (!g.obxs[oi].notes.empty()) {
        o += ",\"note\":[";
        for (size_t n = 0; n < g.obxs[oi].notes.size(); ++n) {
          o += n == 0 ? "{\"text\":" : ",{\"text\":";
          AppendJsonString(o, g.obxs[oi].notes[n]);
          o += '}';
        }
        o += ']';
      }
      if (result_status == "D" || result_status == "X") r.retracted = true;
      EndResource(ctx, r, clinical::SummarizeLab(std::move(lab), status));
      if (results.size() > 1) results += ',';
      AppendObservationRef(ctx, results, r.source_key, r.display);
      out.push_back(std::move(r));
    }
    results += ']';

    const std::string item = groups.size() == 1 ? "report" : "report-" + std::to_string(gi + 1);
    ResourceRecord dr = NewRecord(ctx, "DiagnosticReport", Category::kLabResult, order, item);
    const std::string status = ReportStatus(g.obr->Get(25));
    std::vector<Code> codes = CodesOf(*g.obr, 4, 0, ctx.facility_id());
    std::string code;
    if (AppendCodeableConcept(code, codes)) {
      SetPrimaryCode(dr, codes);
    } else {
      AppendSystemCodeConcept(code, "http://loinc.org", "11502-2", "Laboratory report");
      dr.code_system = "http://loinc.org";
      dr.code = "11502-2";
      dr.display = "Laboratory report";
    }
    std::string& d = BeginResource(ctx, dr, kReportProfile);
    d += ",\"status\":";
    AppendJsonString(d, status);
    d += ",\"category\":[";
    AppendSystemCodeConcept(d, kV20074, kLab.code, kLab.text);
    d += "],\"code\":";
    d += code;
    AppendSubject(ctx, d);
    dr.effective = when ? when->fhir : ctx.message_time;
    AppendTimes(d, dr.effective, reported);
    if (!specimen.empty()) {
      d += ",\"specimen\":[";
      d += specimen;
      d += ']';
    }
    d += ",\"result\":";
    d += results;
    clinical::ResourceSummary summary;
    summary.fields.emplace_back("status", status);  // what Summarize reads of a lab report
    EndResource(ctx, dr, std::move(summary));
    out.push_back(std::move(dr));
  }
  return out;
}

core::Result<Records> MapServiceRequests(const MappingContext& ctx) {
  std::vector<Group> groups = GroupOrders(*ctx.message);
  if (groups.empty()) return core::InvalidInput("order message has no OBR segment");
  const bool executed = ctx.message->Event() == "Z23";
  const SectionInfo section = Section(ctx.data_type);
  Records out;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    const std::string where = "OBR[" + std::to_string(gi + 1) + "]";
    std::vector<Code> codes = CodesOf(*g.obr, 4, 0, ctx.facility_id());
    if (codes.empty()) return core::InvalidInput(where + ": OBR-4 service is empty");
    std::string item = core::Trim(g.obr->Get(1));
    if (item.empty()) item = std::to_string(gi + 1);
    ResourceRecord r =
        NewRecord(ctx, "ServiceRequest", Category::kOrder, ctx.OrderNumber(g.orc, g.obr), item);
    SetPrimaryCode(r, codes);
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> when, GroupTime(g, where));
    std::optional<hl7v2::Timestamp> authored;
    if (g.orc != nullptr) {
      TSUNAGU_ASSIGN_OR_RETURN(authored, OptionalTime(g.orc->Get(9), where + " ORC-9"));
    }
    const std::string control = g.orc != nullptr ? g.orc->Get(1) : "";
    json::object s(kBodyMembers);
    std::string status = "active";
    if (executed) status = "completed";
    if (control == "CA" || control == "OC" || control == "DC" || ctx.source->cancelled)
      status = "revoked";
    s["status"] = status;
    s["intent"] = "order";
    s["category"] = json::array{SectionConcept(section)};
    s["code"] = *CodeableConcept(codes);
    s["subject"] = ctx.SubjectRef();
    if (when) s["occurrenceDateTime"] = when->fhir;
    const std::string authored_on = authored ? authored->fhir : ctx.message_time;
    s["authoredOn"] = authored_on;
    if (g.orc != nullptr) {
      std::string doctor = core::Trim(g.orc->Get(12, 2) + " " + g.orc->Get(12, 3));
      if (auto req = Display(doctor)) s["requester"] = std::move(*req);
    }
    json::array reasons;
    for (size_t k = 0; k < g.obr->Repetitions(31); ++k)
      if (auto reason = CodeableConcept(CodesOf(*g.obr, 31, k, ctx.facility_id())))
        reasons.push_back(std::move(*reason));
    if (!reasons.empty()) s["reasonCode"] = std::move(reasons);
    if (g.spm != nullptr) {
      if (auto spec = Display(g.spm->Get(4, 2).empty() ? g.spm->Get(4, 1) : g.spm->Get(4, 2)))
        s["specimen"] = json::array{std::move(*spec)};
    }
    json::array notes;
    if (std::string info = core::Trim(g.obr->Get(13)); !info.empty())
      notes.push_back(json::object{{"text", info}});
    for (const std::string& n : g.notes) notes.push_back(json::object{{"text", n}});
    if (!notes.empty()) s["note"] = std::move(notes);
    r.effective = when ? when->fhir : authored_on;
    Finish(ctx, r, "", std::move(s));
    out.push_back(std::move(r));
  }
  return out;
}

core::Result<Records> MapReports(const MappingContext& ctx) {
  if (ctx.data_type.rfind("OML", 0) == 0) return MapLabResults(ctx);
  std::vector<Group> groups = GroupOrders(*ctx.message);
  if (groups.empty()) return core::InvalidInput("ORU^R01 message has no OBR segment");
  const SectionInfo section = Section(ctx.data_type);
  Records out;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    const std::string where = "OBR[" + std::to_string(gi + 1) + "]";
    std::vector<Code> codes = CodesOf(*g.obr, 4, 0, ctx.facility_id());
    if (codes.empty()) return core::InvalidInput(where + ": OBR-4 service is empty");
    std::string item = core::Trim(g.obr->Get(1));
    if (item.empty()) item = std::to_string(gi + 1);
    ResourceRecord r =
        NewRecord(ctx, "DiagnosticReport", Category::kReport, ctx.OrderNumber(g.orc, g.obr), item);
    SetPrimaryCode(r, codes);
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> when, GroupTime(g, where));
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> reported,
                             OptionalTime(g.obr->Get(22), where + " OBR-22"));
    json::object d(kBodyMembers);
    d["status"] = ctx.source->cancelled ? "cancelled" : ReportStatus(g.obr->Get(25));
    d["category"] = json::array{SectionConcept(section)};
    d["code"] = *CodeableConcept(codes);
    d["subject"] = ctx.SubjectRef();
    r.effective = when ? when->fhir : ctx.message_time;
    d["effectiveDateTime"] = r.effective;
    if (reported && reported->precision >= hl7v2::Timestamp::Precision::kMinute)
      d["issued"] = reported->fhir;
    std::string interpreter = core::Trim(g.obr->Get(32, 1, 2) + " " + g.obr->Get(32, 1, 3));
    if (auto who = Display(interpreter)) d["resultsInterpreter"] = json::array{std::move(*who)};
    std::string conclusion;
    json::array conclusion_codes;
    for (const ObxEntry& e : g.obxs) {
      const std::string type = e.obx->Get(2);
      if (type == "CE" || type == "CWE") {
        if (auto cc = CodeableConcept(CodesOf(*e.obx, 5, 0, ctx.facility_id())))
          conclusion_codes.push_back(std::move(*cc));
        continue;
      }
      std::string text = core::Trim(ValueText(*e.obx));
      if (text.empty()) continue;
      std::string label = core::Trim(e.obx->Get(3, 2));
      if (!conclusion.empty()) conclusion += "\n";
      conclusion += label.empty() ? text : label + ": " + text;
    }
    if (!conclusion.empty()) d["conclusion"] = conclusion;
    if (!conclusion_codes.empty()) d["conclusionCode"] = std::move(conclusion_codes);
    Finish(ctx, r, Profile(section.profile), std::move(d));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tsunagu::ssmix2::internal
