#include "ssmix2/internal/fhir_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/log.hpp"
#include "core/text.hpp"

namespace tsunagu::ssmix2::internal {
namespace {

void WriteString(std::string& out, std::string_view s) {
  out.push_back('"');
  core::AppendJsonEscaped(out, s);
  out.push_back('"');
}

void Write(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case boost::json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case boost::json::kind::double_: {
      if (!std::isfinite(v.get_double())) {  // JSON has no infinity (numbers are parsed finite)
        out += "null";
        break;
      }
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());
      out.append(buf, r.ptr);
      break;
    }
    case boost::json::kind::string:
      WriteString(out, v.get_string());
      break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Write(out, e);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        WriteString(out, kv.key());
        out.push_back(':');
        Write(out, kv.value());
      }
      out.push_back('}');
      break;
    }
  }
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

void AppendJson(std::string& out, const boost::json::value& v) { Write(out, v); }

void AppendJsonString(std::string& out, std::string_view s) { WriteString(out, s); }

std::string SystemUri(std::string_view name, std::string_view code, int64_t facility_id) {
  const std::string n = Upper(core::Trim(name));
  // ISO+ (ISO units as text) is not a code system: the unit stays text.
  if (n.empty() || n == "ISO+") return {};
  if (n == "HOT") {
    if (code.size() == 7) return "urn:oid:1.2.392.200119.4.403.2";
    if (code.size() == 13) return "urn:oid:1.2.392.200119.4.402.1";
    return "urn:oid:1.2.392.200119.4.403.1";
  }
  struct Entry {
    const char* name;
    const char* uri;
  };
  static const Entry kTable[] = {
      {"HOT7", "urn:oid:1.2.392.200119.4.403.2"},
      {"HOT9", "urn:oid:1.2.392.200119.4.403.1"},
      {"HOT13", "urn:oid:1.2.392.200119.4.402.1"},
      {"YJ", "urn:oid:1.2.392.100495.20.1.73"},
      {"MDCDX2", "urn:oid:1.2.392.200119.4.101.6"},
      {"MDCDX", "urn:oid:1.2.392.200119.4.101.6"},
      {"I10", "http://hl7.org/fhir/sid/icd-10"},
      {"ICD10", "http://hl7.org/fhir/sid/icd-10"},
      {"JC10", "urn:oid:1.2.392.200119.4.504"},
      {"JLAC10", "urn:oid:1.2.392.200119.4.504"},
      {"MR9P", "urn:oid:1.2.392.100495.20.2.101"},
      {"JAMISDP01", "urn:oid:1.2.392.200250.2.2.20.20"},
      {"JAMISDP02", "urn:oid:1.2.392.200250.2.2.20.22"},
      {"HL70162", "http://jpfhir.jp/fhir/Common/CodeSystem/route-codes"},
      {"HL70163", "http://terminology.hl7.org/CodeSystem/v2-0163"},
      {"UCUM", "http://unitsofmeasure.org"},
      {"CVX", "http://hl7.org/fhir/sid/cvx"},
      {"LN", "http://loinc.org"},
  };
  for (const Entry& e : kTable)
    if (n == e.name) return e.uri;
  std::string safe;
  for (char c : n) {
    auto u = static_cast<unsigned char>(c);
    safe.push_back(std::isalnum(u) || c == '-' || c == '.' || c == '_' ? c : '_');
  }
  // HL7 reserves "99" names for local tables: those codes mean something only
  // at their facility. Other names (JAHIS tables such as JHSP0003) are shared.
  if (n.rfind("99", 0) == 0)
    return "urn:tsunagu:facility:" + std::to_string(facility_id) + ":codesystem:" + safe;
  return "urn:tsunagu:codesystem:" + safe;
}

std::vector<Code> CodesOf(const hl7v2::Segment& s, size_t field, size_t repetition,
                          int64_t facility_id, size_t component_base) {
  // Trimmed (Segment::Get is Unescape of RawPart); a part with no escape
  // (nearly all) is trimmed straight from the message, without a copy first.
  auto part = [&](size_t i) {
    const std::string_view raw = component_base == 0
                                     ? s.RawPart(field, repetition, i, 1)
                                     : s.RawPart(field, repetition, component_base, i);
    if (raw.find(s.delimiters().escape) == std::string_view::npos) return core::Trim(raw);
    return core::Trim(hl7v2::Unescape(raw, s.delimiters()));
  };
  std::vector<Code> out;
  for (size_t base : {size_t{1}, size_t{4}}) {
    Code c;
    c.code = part(base);
    c.display = part(base + 1);
    if (c.code.empty() && c.display.empty()) continue;
    c.system = c.code.empty() ? "" : SystemUri(part(base + 2), c.code, facility_id);
    out.push_back(std::move(c));
  }
  return out;
}

boost::json::object CodingJson(const Code& c) {
  boost::json::object o(3);  // room for all: no rehash while it fills
  if (!c.system.empty()) o["system"] = c.system;
  if (!c.code.empty()) o["code"] = c.code;
  if (!c.display.empty()) o["display"] = c.display;
  return o;
}

std::optional<boost::json::object> CodeableConcept(const std::vector<Code>& codes) {
  boost::json::array coding;
  coding.reserve(codes.size());
  std::string text;
  for (const Code& c : codes) {
    if (text.empty()) text = c.display;
    if (!c.code.empty()) coding.push_back(CodingJson(c));
  }
  if (coding.empty() && text.empty()) return std::nullopt;
  boost::json::object o(2);
  if (!coding.empty()) o["coding"] = std::move(coding);
  if (!text.empty()) o["text"] = text;
  return o;
}

boost::json::object TextConcept(std::string_view text) {
  boost::json::object o(1);
  o["text"] = text;
  return o;
}

boost::json::object SystemCodeConcept(std::string_view system, std::string_view code,
                                      std::string_view display) {
  boost::json::object coding(3);
  coding["system"] = system;
  coding["code"] = code;
  if (!display.empty()) coding["display"] = display;
  boost::json::array codings(1);
  codings[0] = std::move(coding);
  boost::json::object o(1);
  o["coding"] = std::move(codings);
  return o;
}

namespace {

void AppendCoding(std::string& out, const Code& c) {
  out += '{';
  bool first = true;
  auto member = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    if (!first) out += ',';
    first = false;
    out += key;
    AppendJsonString(out, value);
  };
  member("\"system\":", c.system);
  member("\"code\":", c.code);
  member("\"display\":", c.display);
  out += '}';
}

// CodeableConcept's text: the first display given.
const std::string* FirstDisplay(const std::vector<Code>& codes) {
  for (const Code& c : codes)
    if (!c.display.empty()) return &c.display;
  return nullptr;
}

}  // namespace

bool AppendCodeableConcept(std::string& out, const std::vector<Code>& codes) {
  const std::string* text = FirstDisplay(codes);
  const bool any_code =
      std::any_of(codes.begin(), codes.end(), [](const Code& c) { return !c.code.empty(); });
  if (!any_code && text == nullptr) return false;
  out += '{';
  if (any_code) {
    out += "\"coding\":[";
    bool first = true;
    for (const Code& c : codes) {
      if (c.code.empty()) continue;
      if (!first) out += ',';
      first = false;
      AppendCoding(out, c);
    }
    out += ']';
  }
  if (text != nullptr) {
    if (any_code) out += ',';
    out += "\"text\":";
    AppendJsonString(out, *text);
  }
  out += '}';
  return true;
}

std::string ConceptTextOf(const std::vector<Code>& codes) {
  if (const std::string* text = FirstDisplay(codes)) return *text;
  for (const Code& c : codes)
    if (!c.code.empty()) return c.code;
  return {};
}

void AppendSystemCodeConcept(std::string& out, std::string_view system, std::string_view code,
                             std::string_view display) {
  out += "{\"coding\":[{\"system\":";
  AppendJsonString(out, system);
  out += ",\"code\":";
  AppendJsonString(out, code);
  if (!display.empty()) {
    out += ",\"display\":";
    AppendJsonString(out, display);
  }
  out += "}]}";
}

std::optional<boost::json::value> Decimal(std::string_view text) {
  std::string t = core::Trim(text);
  if (t.empty() || t.size() > 30) return std::nullopt;
  std::string_view v = t;
  if (v.front() == '+') v.remove_prefix(1);
  bool dot = false;
  size_t digits = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '-' && i == 0) continue;
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (!dot) {
    int64_t n = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (r.ec == std::errc() && r.ptr == v.data() + v.size()) return boost::json::value(n);
  }
  double d = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), d);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return std::nullopt;
  return boost::json::value(d);
}

}  // namespace tsunagu::ssmix2::internal
