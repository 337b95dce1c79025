#include "clinical/fhir_summary.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>

#include "core/log.hpp"

namespace tsunagu::clinical {
namespace {

namespace json = boost::json;

// Follows `keys` from v: an array on the way (or at the end) stands for its
// first element.
const json::value* Path(const json::value* v, const std::string_view* key,
                        const std::string_view* end) {
  for (; key != end; ++key) {
    if (!v) return nullptr;
    if (v->is_array()) {
      const auto& a = v->as_array();
      v = a.empty() ? nullptr : &a[0];
      if (!v) return nullptr;
    }
    const json::object* o = v->if_object();
    if (!o) return nullptr;
    v = o->if_contains(*key);
  }
  if (v && v->is_array()) {
    const auto& a = v->as_array();
    return a.empty() ? nullptr : &a[0];
  }
  return v;
}

const json::value* Path(const json::value* v, std::initializer_list<std::string_view> keys) {
  return Path(v, keys.begin(), keys.end());
}

// The same from a resource's members (keys has at least one key).
const json::value* Path(const json::object& o, std::initializer_list<std::string_view> keys) {
  return Path(o.if_contains(*keys.begin()), keys.begin() + 1, keys.end());
}

std::optional<double> Number(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

std::string Text(const json::value* v) {
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (auto n = Number(v)) return FormatNumber(*n);
  if (v->is_bool()) return v->as_bool() ? "true" : "false";
  return {};
}

// CodeableConcept: text, else the first coding's display, else its code.
std::string ConceptText(const json::value* cc) {
  if (!cc) return {};
  if (std::string t = Text(Path(cc, {"text"})); !t.empty()) return t;
  if (std::string d = Text(Path(cc, {"coding", "display"})); !d.empty()) return d;
  return Text(Path(cc, {"coding", "code"}));
}

std::string ConceptCode(const json::value* cc) { return Text(Path(cc, {"coding", "code"})); }

// Quantity as "value unit".
std::string QuantityText(const json::value* q) {
  if (!q) return {};
  std::string value = Text(Path(q, {"value"}));
  if (value.empty()) return {};
  std::string unit = Text(Path(q, {"unit"}));
  if (unit.empty()) unit = Text(Path(q, {"code"}));
  return value + unit;
}

void Add(ResourceSummary& s, std::string key, std::string value) {
  if (!value.empty()) s.fields.emplace_back(std::move(key), std::move(value));
}

std::string YjCodeOf(const ResourceRecord& r, const json::value* medication_concept) {
  if (IsYjCodeSystem(r.code_system) && !r.code.empty()) return r.code;
  if (!medication_concept || !medication_concept->is_object()) return {};
  const json::value* list = medication_concept->as_object().if_contains("coding");
  if (!list || !list->is_array()) return {};
  for (const auto& c : list->as_array()) {
    if (!c.is_object()) continue;
    std::string system = Text(c.as_object().if_contains("system"));
    std::string code = Text(c.as_object().if_contains("code"));
    if (IsYjCodeSystem(system) && !code.empty()) return code;
  }
  return {};
}

void SummarizeDosage(const json::value* dosage, MedicationInfo& m) {
  if (!dosage) return;
  const json::value* dose = Path(dosage, {"doseAndRate", "doseQuantity"});
  if (!dose) dose = Path(dosage, {"dose"});  // MedicationAdministration.dosage
  if (dose) {
    m.dose = Text(Path(dose, {"value"}));
    m.unit = Text(Path(dose, {"unit"}));
    if (m.unit.empty()) m.unit = Text(Path(dose, {"code"}));
  }
  m.frequency = ConceptText(Path(dosage, {"timing", "code"}));
  if (m.frequency.empty()) m.frequency = Text(Path(dosage, {"text"}));
  m.route = ConceptText(Path(dosage, {"route"}));
  if (m.days.empty()) {
    m.days = Text(Path(dosage, {"timing", "repeat", "boundsDuration", "value"}));
  }
}

void SummarizeMedication(const ResourceRecord& r, const json::object& v, ResourceSummary& s) {
  MedicationInfo m;
  const json::value* medication_concept = Path(v, {"medicationCodeableConcept"});
  m.name = ConceptText(medication_concept);
  if (m.name.empty()) m.name = r.display;
  m.yj_code = YjCodeOf(r, medication_concept);
  if (r.resource_type == "MedicationRequest") {
    m.days = Text(Path(v, {"dispenseRequest", "expectedSupplyDuration", "value"}));
    m.quantity = QuantityText(Path(v, {"dispenseRequest", "quantity"}));
    SummarizeDosage(Path(v, {"dosageInstruction"}), m);
  } else if (r.resource_type == "MedicationDispense") {
    m.days = Text(Path(v, {"daysSupply", "value"}));
    m.quantity = QuantityText(Path(v, {"quantity"}));
    SummarizeDosage(Path(v, {"dosageInstruction"}), m);
  } else {
    SummarizeDosage(Path(v, {"dosage"}), m);
  }
  Add(s, "medication", m.name);
  Add(s, "dose", m.dose);
  Add(s, "unit", m.unit);
  Add(s, "frequency", m.frequency);
  Add(s, "days", m.days);
  Add(s, "route", m.route);
  Add(s, "quantity", m.quantity);
  Add(s, "status", Text(Path(v, {"status"})));
  s.medication = std::move(m);
}

bool IsAbnormalFlag(const std::string& flag) {
  return !flag.empty() && flag != "N" && flag != "n" && flag != "normal";
}

void SummarizeObservation(const json::object& v, ResourceSummary& s) {
  LabValue lab;
  if (const json::value* q = Path(v, {"valueQuantity"})) {
    lab.value = Number(Path(q, {"value"}));
    lab.unit = Text(Path(q, {"unit"}));
    if (lab.unit.empty()) lab.unit = Text(Path(q, {"code"}));
    std::string comparator = Text(Path(q, {"comparator"}));
    if (lab.value) lab.value_text = comparator + FormatNumber(*lab.value);
  } else if (const json::value* str = Path(v, {"valueString"})) {
    lab.value_text = Text(str);
    double d = 0;
    const char* begin = lab.value_text.data();
    const char* end = begin + lab.value_text.size();
    auto [ptr, ec] = std::from_chars(begin, end, d);
    if (ec == std::errc() && ptr == end) lab.value = d;
  } else if (const json::value* cc = Path(v, {"valueCodeableConcept"})) {
    lab.value_text = ConceptText(cc);
  }
  if (const json::value* range = Path(v, {"referenceRange"})) {
    lab.low = Number(Path(range, {"low", "value"}));
    lab.high = Number(Path(range, {"high", "value"}));
    lab.range_text = Text(Path(range, {"text"}));
  }
  lab.flag = ConceptCode(Path(v, {"interpretation"}));
  s = SummarizeLab(std::move(lab), Text(Path(v, {"status"})));
}

// `text` as a JSON string, cut to at most `max` bytes at a UTF-8 character
// boundary, with "…" when cut.
void AppendText(std::string& out, std::string_view text, size_t max) {
  out += '"';
  if (text.size() <= max) {
    core::AppendJsonEscaped(out, text);
  } else {
    size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    core::AppendJsonEscaped(out, text.substr(0, end));
    out += "…";
  }
  out += '"';
}

// A number as the shortest text that reads back the same; null for none
// (JSON has no infinity either).
void AppendNumber(std::string& out, const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, *v);
  out.append(buf, r.ptr);
}

// Written straight as text (a list summary per stored resource): the
// members in a fixed order, those with nothing to say left out.
std::string EncodeSummary(const ResourceRecord& r, const ResourceSummary& s, size_t max_text) {
  std::string out;
  out.reserve(256);
  out += '{';
  auto key = [&out](std::string_view k) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += k;
    out += "\":";
  };
  auto text = [&](std::string_view k, const std::string& t) {
    if (t.empty()) return;
    key(k);
    AppendText(out, t, max_text);
  };
  text("s", r.code_system);
  text("c", r.code);
  text("d", r.display);
  text("e", r.effective_end);
  if (!s.fields.empty()) {
    key("f");
    out += '[';
    for (size_t i = 0; i < s.fields.size(); ++i) {
      if (i > 0) out += ',';
      out += "[\"";
      core::AppendJsonEscaped(out, s.fields[i].first);
      out += "\",";
      AppendText(out, s.fields[i].second, max_text);
      out += ']';
    }
    out += ']';
  }
  // Lab values and medication details are the fields above, under their
  // keys; only what the fields do not hold is stored besides.
  if (s.lab) {
    key("l");
    out += '[';
    AppendNumber(out, s.lab->value);
    out += ',';
    AppendNumber(out, s.lab->low);
    out += ',';
    AppendNumber(out, s.lab->high);
    out += ']';
  }
  if (s.medication) {
    key("m");
    AppendText(out, s.medication->yj_code, max_text);
  }
  out += '}';
  return out;
}

}  // namespace

std::string EncodeStoredSummary(const ResourceRecord& record, const ResourceSummary& summary) {
  std::string out = EncodeSummary(record, summary, kMaxStoredSummary);
  // A summary that long is rare (a free-text display or note): cut every
  // text shorter until it fits; at 0 only the keys are left.
  for (size_t max_text : {size_t{96}, size_t{24}, size_t{0}}) {
    if (out.size() <= kMaxStoredSummary) break;
    out = EncodeSummary(record, summary, max_text);
  }
  return out;
}

namespace {

// The members of a stored summary, as read.
struct StoredMembers {
  std::string s, c, d, e, m;
  bool has_m = false, has_l = false;
  std::optional<double> l[3];
  std::vector<std::pair<std::string, std::string>> f;
};

// Reads the text exactly as EncodeSummary writes it (no whitespace,
// strings without escapes, numbers as std::to_chars or Boost.JSON wrote
// them); false for anything else, which ParseMembers then reads as JSON.
// A page of a timeline reads a hundred of these.
class FastMembers {
 public:
  explicit FastMembers(std::string_view t) : t_(t) {}

  bool Read(StoredMembers& out) {
    if (!Eat('{')) return false;
    if (Eat('}')) return at_ == t_.size();
    do {
      std::string_view key;
      if (!String(key) || !Eat(':')) return false;
      if (key.size() != 1) return false;
      switch (key[0]) {
        case 's':
          if (!Text(out.s)) return false;
          break;
        case 'c':
          if (!Text(out.c)) return false;
          break;
        case 'd':
          if (!Text(out.d)) return false;
          break;
        case 'e':
          if (!Text(out.e)) return false;
          break;
        case 'm':
          if (!Text(out.m)) return false;
          out.has_m = true;
          break;
        case 'f':
          if (!Fields(out.f)) return false;
          break;
        case 'l':
          if (!Eat('[') || !Number(out.l[0]) || !Eat(',') || !Number(out.l[1]) || !Eat(',') ||
              !Number(out.l[2]) || !Eat(']')) {
            return false;
          }
          out.has_l = true;
          break;
        default:
          return false;
      }
    } while (Eat(','));
    return Eat('}') && at_ == t_.size();
  }

 private:
  bool Eat(char c) {
    if (at_ < t_.size() && t_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  // A string without escapes (a backslash: false).
  bool String(std::string_view& out) {
    if (!Eat('"')) return false;
    const size_t from = at_;
    while (at_ < t_.size() && t_[at_] != '"') {
      if (t_[at_] == '\\' || static_cast<unsigned char>(t_[at_]) < 0x20) return false;
      ++at_;
    }
    if (at_ == t_.size()) return false;
    out = t_.substr(from, at_ - from);
    ++at_;
    return true;
  }
  bool Text(std::string& out) {
    std::string_view v;
    if (!String(v)) return false;
    out.assign(v);
    return true;
  }
  bool Fields(std::vector<std::pair<std::string, std::string>>& out) {
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    do {
      std::string_view k, v;
      if (!Eat('[') || !String(k) || !Eat(',') || !String(v) || !Eat(']')) return false;
      out.emplace_back(k, v);
    } while (Eat(','));
    return Eat(']');
  }
  bool Number(std::optional<double>& out) {
    if (t_.substr(at_, 4) == "null") {
      at_ += 4;
      out.reset();
      return true;
    }
    double v = 0;
    const char* begin = t_.data() + at_;
    const auto [ptr, ec] = std::from_chars(begin, t_.data() + t_.size(), v);
    if (ec != std::errc() || ptr == begin || !std::isfinite(v)) return false;
    at_ += static_cast<size_t>(ptr - begin);
    out = v;
    return true;
  }

  std::string_view t_;
  size_t at_ = 0;
};

// The same members read by a JSON parser: any spelling JSON allows.
bool ParseMembers(std::string_view text, StoredMembers& out) {
  unsigned char arena[4096];
  json::monotonic_resource memory(arena, sizeof arena);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, &memory);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.get_object();
  auto string = [&o](std::string_view key) -> std::string {
    const json::value* x = o.if_contains(key);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  if (const json::value* fields = o.if_contains("f")) {
    if (!fields->is_array()) return false;
    out.f.reserve(fields->get_array().size());
    for (const json::value& pair : fields->get_array()) {
      const json::array* kv = pair.if_array();
      if (!kv || kv->size() != 2 || !(*kv)[0].is_string() || !(*kv)[1].is_string()) return false;
      out.f.emplace_back(std::string((*kv)[0].get_string()), std::string((*kv)[1].get_string()));
    }
  }
  if (const json::value* lab = o.if_contains("l")) {
    const json::array* numbers = lab->if_array();
    if (!numbers || numbers->size() != 3) return false;
    for (size_t i = 0; i < 3; ++i) {
      const json::value& n = (*numbers)[i];
      if (n.is_number()) out.l[i] = n.to_number<double>();
    }
    out.has_l = true;
  }
  out.has_m = o.contains("m");
  out.m = string("m");
  out.s = string("s");
  out.c = string("c");
  out.d = string("d");
  out.e = string("e");
  return true;
}

}  // namespace

bool DecodeStoredSummary(std::string_view text, ResourceRecord& record, ResourceSummary& summary) {
  StoredMembers m;
  if (!FastMembers(text).Read(m)) {
    m = StoredMembers{};
    if (!ParseMembers(text, m)) return false;
  }
  ResourceSummary s;
  s.fields = std::move(m.f);
  auto field = [&s](std::string_view key) -> std::string {
    for (const auto& [k, value] : s.fields) {
      if (k == key) return value;
    }
    return {};
  };
  if (m.has_l) {
    LabValue l;
    l.value = m.l[0];
    l.low = m.l[1];
    l.high = m.l[2];
    l.value_text = field("value");
    l.unit = field("unit");
    l.range_text = field("reference_range");
    l.flag = field("flag");
    l.abnormal = IsAbnormalFlag(l.flag);
    s.lab = std::move(l);
  }
  if (m.has_m) {
    MedicationInfo med;
    med.name = field("medication");
    med.yj_code = std::move(m.m);
    med.dose = field("dose");
    med.unit = field("unit");
    med.frequency = field("frequency");
    med.days = field("days");
    med.route = field("route");
    med.quantity = field("quantity");
    s.medication = std::move(med);
  }
  record.code_system = std::move(m.s);
  record.code = std::move(m.c);
  record.display = std::move(m.d);
  record.effective_end = std::move(m.e);
  summary = std::move(s);
  return true;
}

bool IsYjCodeSystem(std::string_view system) {
  if (system == kYjCodeSystem || system == "urn:oid:1.2.392.100495.20.1.74" ||
      system == "urn:oid:1.2.392.100495.20.2.74") {
    return true;
  }
  // Table names as HL7 v2 senders spell them: "YJ", "99YJ", ".../yj".
  if (system.size() < 2) return false;
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  if (lower(system[system.size() - 2]) != 'y' || lower(system.back()) != 'j') return false;
  if (system.size() == 2) return true;
  char before = system[system.size() - 3];
  return !std::isalpha(static_cast<unsigned char>(before));
}

std::string FormatNumber(double value) {
  if (!std::isfinite(value)) return {};
  if (std::fabs(value) < 1e15 && value == std::trunc(value)) {
    return std::to_string(static_cast<long long>(value));
  }
  // printf's "%.10g", by definition of this overload, without its cost.
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 10);
  return std::string(buf, r.ptr);
}

ResourceSummary SummarizeLab(LabValue lab, const std::string& status) {
  if (lab.range_text.empty()) {
    if (lab.low && lab.high) {
      lab.range_text = FormatNumber(*lab.low) + "-" + FormatNumber(*lab.high);
    } else if (lab.low) {
      lab.range_text = "≥" + FormatNumber(*lab.low);
    } else if (lab.high) {
      lab.range_text = "≤" + FormatNumber(*lab.high);
    }
  }
  if (lab.flag.empty() && lab.value) {
    if (lab.high && *lab.value > *lab.high) lab.flag = "H";
    if (lab.low && *lab.value < *lab.low) lab.flag = "L";
  }
  lab.abnormal = IsAbnormalFlag(lab.flag);
  ResourceSummary s;
  Add(s, "value", lab.value_text);
  Add(s, "unit", lab.unit);
  Add(s, "reference_range", lab.range_text);
  Add(s, "flag", lab.flag);
  Add(s, "status", status);
  if (!lab.value_text.empty()) s.lab = std::move(lab);
  return s;
}

ResourceSummary Summarize(const ResourceRecord& r) {
  boost::system::error_code ec;
  // The document lives only for this call: a stack arena spares the
  // allocator a call per member (a timeline page summarizes 50 resources).
  unsigned char arena[8192];
  json::monotonic_resource memory(arena, sizeof arena);
  json::value v = json::parse(r.json, ec, &memory);
  if (ec) return ResourceSummary{};
  return Summarize(r, v);
}

ResourceSummary Summarize(const ResourceRecord& r, const json::value& parsed) {
  if (!parsed.is_object()) return ResourceSummary{};
  return Summarize(r, parsed.get_object());
}

ResourceSummary Summarize(const ResourceRecord& r, const json::object& v) {
  ResourceSummary s;
  const std::string& t = r.resource_type;
  if (t == "MedicationRequest" || t == "MedicationDispense" || t == "MedicationAdministration") {
    SummarizeMedication(r, v, s);
  } else if (t == "Observation") {
    SummarizeObservation(v, s);
  } else if (t == "Condition") {
    Add(s, "clinical_status", ConceptCode(Path(v, {"clinicalStatus"})));
    Add(s, "verification_status", ConceptCode(Path(v, {"verificationStatus"})));
    Add(s, "onset", Text(Path(v, {"onsetDateTime"})));
    Add(s, "abatement", Text(Path(v, {"abatementDateTime"})));
    Add(s, "severity", ConceptText(Path(v, {"severity"})));
  } else if (t == "AllergyIntolerance") {
    Add(s, "type", Text(Path(v, {"type"})));
    Add(s, "allergy_category", Text(Path(v, {"category"})));
    Add(s, "criticality", Text(Path(v, {"criticality"})));
    Add(s, "clinical_status", ConceptCode(Path(v, {"clinicalStatus"})));
    std::string reactions;
    if (const json::value* list = v.if_contains("reaction"); list && list->is_array()) {
      for (const auto& reaction : list->as_array()) {
        std::string m = ConceptText(Path(&reaction, {"manifestation"}));
        if (m.empty()) continue;
        if (!reactions.empty()) reactions += "、";
        reactions += m;
      }
    }
    Add(s, "reaction", reactions);
  } else if (t == "Immunization") {
    Add(s, "vaccine", ConceptText(Path(v, {"vaccineCode"})));
    Add(s, "lot_number", Text(Path(v, {"lotNumber"})));
    Add(s, "dose", QuantityText(Path(v, {"doseQuantity"})));
    Add(s, "status", Text(Path(v, {"status"})));
  } else if (t == "Encounter") {
    std::string cls = Text(Path(v, {"class", "display"}));
    if (cls.empty()) cls = Text(Path(v, {"class", "code"}));
    Add(s, "class", cls);
    Add(s, "status", Text(Path(v, {"status"})));
    Add(s, "service_type", ConceptText(Path(v, {"serviceType"})));
  } else if (t == "DiagnosticReport") {
    Add(s, "conclusion", Text(Path(v, {"conclusion"})));
    Add(s, "status", Text(Path(v, {"status"})));
  } else if (t == "DocumentReference") {
    Add(s, "document_type", ConceptText(Path(v, {"type"})));
    Add(s, "description", Text(Path(v, {"description"})));
    Add(s, "title", Text(Path(v, {"content", "attachment", "title"})));
    Add(s, "content_type", Text(Path(v, {"content", "attachment", "contentType"})));
    Add(s, "author", Text(Path(v, {"author", "display"})));
    Add(s, "creation", Text(Path(v, {"content", "attachment", "creation"})));
    Add(s, "url", Text(Path(v, {"content", "attachment", "url"})));
    Add(s, "size", Text(Path(v, {"content", "attachment", "size"})));
  } else if (t == "ServiceRequest") {
    Add(s, "status", Text(Path(v, {"status"})));
    Add(s, "intent", Text(Path(v, {"intent"})));
  }
  return s;
}

}  // namespace tsunagu::clinical
