#include "fhir/fhir_service.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "audit/audit_log.hpp"
#include "clinical/json_members.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"
#include "registry/facility_service.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::fhir {
namespace {

namespace json = boost::json;

constexpr std::string_view kFacilityUrnPrefix = "urn:tsunagu:facility:";

registry::Viewer RegistryViewer(const clinical::ReadContext& reader) {
  return {reader.viewer.facility_id, reader.viewer.role == auth::Role::kNetworkAdmin};
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == ':' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The stored resource as the API shows it: its patient element also carries
// "reference": "Patient/<regional ID>" when the data is linked. Spliced into
// the stored text when it has the usual shape; parsed otherwise.
std::string PresentText(const clinical::StoredResource& stored, const std::string& regional_id) {
  const std::string& text = stored.record.json;
  if (regional_id.empty()) return text;
  const ResourceType* type = FindClinicalType(stored.record.resource_type);
  std::string_view element = type ? type->patient_element : std::string_view("subject");
  const size_t start = text.find('{');
  const size_t subject = start == std::string::npos
                             ? clinical::kNoMember
                             : clinical::FindMemberValue(text, start, element);
  if (subject == clinical::kNoMember) return text;
  if (text[subject] == '{' &&
      clinical::FindMemberValue(text, subject, "reference") == clinical::kNoMember) {
    const size_t inner = text.find_first_not_of(" \t\r\n", subject + 1);
    if (inner != std::string::npos) {
      std::string out;
      out.reserve(text.size() + regional_id.size() + 32);
      out.append(text, 0, subject + 1);
      out += "\"reference\":" + clinical::JsonQuote("Patient/" + regional_id);
      if (text[inner] != '}') out += ',';
      out.append(text, subject + 1);
      return out;
    }
  }
  std::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return text;
  if (auto* s = v.as_object().if_contains(element); s && s->is_object()) {
    s->as_object()["reference"] = "Patient/" + regional_id;
  }
  return json::serialize(v);
}

// One searchset entry, written around the resource's JSON text.
void AppendEntry(std::string& out, const std::string& base, const std::string& type,
                 const std::string& id, const std::string& resource, const char* mode) {
  if (out.back() != '[') out += ',';
  out += "{\"fullUrl\":";
  out += clinical::JsonQuote(base + "/" + type + "/" + id);
  out += ",\"resource\":";
  out += resource;
  out += ",\"search\":{\"mode\":\"";
  out += mode;
  out += "\"}}";
}

// The Bundle: its envelope (everything but "entry") and the entries' text.
std::string BundleText(json::object envelope, const std::string& entries) {
  std::string out = json::serialize(envelope);
  out.pop_back();  // the closing brace
  out += ",\"entry\":";
  out += entries;
  out += "]}";
  return out;
}

// "山田 太郎" / "山田　太郎" -> family, given.
void SplitName(const std::string& full, std::string& family, std::string& given) {
  size_t pos = full.find(' ');
  size_t width = 1;
  if (auto ideographic = full.find("\u3000");
      ideographic != std::string::npos && ideographic < pos) {
    pos = ideographic;
    width = 3;
  }
  if (pos == std::string::npos) {
    family = full;
    given.clear();
    return;
  }
  family = full.substr(0, pos);
  given = full.substr(pos + width);
}

json::object HumanName(const std::string& full, const char* representation) {
  std::string family, given;
  SplitName(full, family, given);
  json::object name{
      {"extension",
       json::array{{{"url", "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"},
                    {"valueCode", representation}}}},
      {"use", "official"},
      {"text", full},
      {"family", family}};
  if (!given.empty()) name["given"] = json::array{json::value(given)};
  return name;
}

std::string GenderOf(registry::Sex sex) {
  switch (sex) {
    case registry::Sex::kMale:
      return "male";
    case registry::Sex::kFemale:
      return "female";
    case registry::Sex::kOther:
      return "other";
    case registry::Sex::kUnknown:
      break;
  }
  return "unknown";
}

bool Contains(const std::string& haystack_folded, const std::string& needle) {
  return haystack_folded.find(core::FoldKana(needle)) != std::string::npos;
}

json::object Capability(const std::string& base) {
  std::string root = base;
  if (root.ends_with("/fhir")) root.resize(root.size() - 5);
  json::array resources;
  auto search_param = [](std::string_view name, const char* type) {
    return json::object{{"name", name}, {"type", type}};
  };
  auto common = [&](json::array& params) {
    params.push_back(search_param("_count", "number"));
    params.push_back(search_param("_sort", "string"));
  };
  {
    json::array params{search_param("_id", "token"),    search_param("identifier", "token"),
                       search_param("name", "string"),  search_param("family", "string"),
                       search_param("given", "string"), search_param("birthdate", "date"),
                       search_param("gender", "token")};
    params.push_back(search_param("_count", "number"));
    resources.push_back(json::object{
        {"type", "Patient"},
        {"profile", "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"},
        {"interaction", json::array{{{"code", "read"}}, {{"code", "search-type"}}}},
        {"searchParam", std::move(params)},
        {"operation", json::array{{{"name", "ihe-pix"},
                                   {"definition",
                                    "https://profiles.ihe.net/ITI/PIXm/OperationDefinition/"
                                    "IHE.PIXm.pix"}}}}});
  }
  for (const ResourceType& t : ClinicalTypes()) {
    json::array params{search_param("patient", "reference"), search_param("category", "token")};
    for (auto name : t.date_params) params.push_back(search_param(name, "date"));
    for (auto name : t.code_params) params.push_back(search_param(name, "token"));
    common(params);
    json::array includes{json::value(std::string(t.name) + ":patient")};
    if (t.name == "DiagnosticReport") includes.push_back("DiagnosticReport:result");
    json::array interactions{{{"code", "read"}}, {{"code", "search-type"}}};
    if (t.writable) interactions.push_back(json::object{{"code", "create"}});
    resources.push_back(json::object{{"type", t.name},
                                     {"profile", t.profile},
                                     {"interaction", std::move(interactions)},
                                     {"searchParam", std::move(params)},
                                     {"searchInclude", std::move(includes)}});
  }
  resources.push_back(
      json::object{{"type", "Binary"}, {"interaction", json::array{{{"code", "read"}}}}});
  json::object security{
      {"cors", false},
      {"service",
       json::array{
           {{"coding",
             json::array{
                 {{"system", "http://terminology.hl7.org/CodeSystem/restful-security-service"},
                  {"code", "SMART-on-FHIR"}}}}}}},
      {"extension",
       json::array{
           {{"url", "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"},
            {"extension", json::array{{{"url", "token"}, {"valueUri", root + "/oauth/token"}}}}}}},
      {"description",
       "Sessions of the web app, or OAuth 2.0 client credentials with a signed JWT assertion "
       "(SMART Backend Services) for system clients bound to a facility."}};
  return {{"resourceType", "CapabilityStatement"},
          {"status", "active"},
          {"date", core::FormatIsoUtc(core::SystemClock::Instance().NowMillis()).substr(0, 10)},
          {"publisher", "Tsunagu"},
          {"kind", "instance"},
          {"software", {{"name", "Tsunagu"}}},
          {"implementation",
           {{"description", "Tsunagu regional health network FHIR API"}, {"url", base}}},
          {"fhirVersion", "4.0.1"},
          {"format", json::array{"json", "application/fhir+json"}},
          {"instantiates",
           json::array{
               "https://profiles.ihe.net/ITI/PDQm/CapabilityStatement/IHE.PDQm.Supplier",
               "https://profiles.ihe.net/ITI/PIXm/CapabilityStatement/IHE.PIXm.Manager",
               "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentResponder",
               "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentRecipient"}},
          {"rest", json::array{{{"mode", "server"},
                                {"security", std::move(security)},
                                {"resource", std::move(resources)},
                                {"interaction",
                                 json::array{{{"code", "transaction"}}, {{"code", "batch"}}}}}}}};
}

}  // namespace

std::string SearchUrl(std::string_view base, std::string_view type,
                      const std::vector<QueryParam>& params) {
  std::string url = std::string(base) + "/" + std::string(type);
  char sep = '?';
  for (const auto& p : params) {
    url += sep;
    url += PercentEncode(p.name);
    url += '=';
    url += PercentEncode(p.value);
    sep = '&';
  }
  return url;
}

FhirService::FhirService(const clinical::TimelineService& timeline,
                         const registry::PatientService& patients,
                         const registry::FacilityService& facilities,
                         const consent::AccessPolicy& policy, audit::AuditLog& audit,
                         std::string base_url)
    : timeline_(timeline),
      patients_(patients),
      facilities_(facilities),
      policy_(policy),
      audit_(audit),
      base_url_(std::move(base_url)),
      capability_(json::serialize(Capability(base_url_))) {}

core::Status FhirService::Audit(const clinical::ReadContext& reader, const std::string& action,
                                const std::string& patient_id, const std::string& object,
                                const std::string& outcome, const std::string& reason) const {
  return clinical::RecordAccess(audit_, reader, action, patient_id, object, outcome, reason);
}

core::Result<std::string> FhirService::Read(const clinical::ReadContext& reader,
                                            std::string_view type, const std::string& id) const {
  if (!FindClinicalType(type)) return core::NotFound("unknown resource type");
  std::string owner;
  TSUNAGU_ASSIGN_OR_RETURN(clinical::StoredResource stored,
                           timeline_.GetResource(reader, std::string(type), id, &owner));
  return PresentText(stored, owner);
}

core::Result<std::string> FhirService::Search(const clinical::ReadContext& reader,
                                              const ResourceType& type,
                                              const SearchParams& params) const {
  bool include_patient = false;
  bool include_results = false;
  for (const auto& inc : params.include) {
    const std::string own = std::string(type.name) + ":";
    if (inc == own + "patient" || inc == own + "subject" || inc == own + "subject:Patient" ||
        inc == "*") {
      include_patient = true;
      if (inc == "*" && type.name == "DiagnosticReport") include_results = true;
    } else if (type.name == "DiagnosticReport" &&
               (inc == "DiagnosticReport:result" || inc == "DiagnosticReport:result:Observation")) {
      include_results = true;
    } else {
      return core::InvalidInput("_include " + inc + " is not supported");
    }
  }

  clinical::ResourceQuery q;
  q.resource_types = {std::string(type.name)};
  q.categories = params.categories.empty() ? type.categories : params.categories;
  q.code_system = params.code_system;
  q.code = params.code;
  q.from = params.from;
  q.to = params.to;
  q.order = params.order;
  q.limit = params.count;
  q.cursor = params.page;
  q.with_total = params.total;

  clinical::TimelineService::ReferenceFn references;
  if (include_results) {
    // DiagnosticReport.result names its Observations by the identifier the
    // source gave them: "urn:tsunagu:facility:<id>:Observation" | source key.
    references = [](const clinical::StoredResource& r) {
      std::vector<clinical::TimelineService::Reference> out;
      std::error_code ec;
      json::value v = json::parse(r.record.json, ec);
      const json::array* results = nullptr;
      if (!ec && v.is_object()) {
        if (auto* res = v.as_object().if_contains("result")) results = res->if_array();
      }
      if (!results) return out;
      for (const auto& ref : *results) {
        const json::value* ident =
            ref.is_object() ? ref.as_object().if_contains("identifier") : nullptr;
        if (!ident || !ident->is_object()) continue;
        const auto* system = ident->as_object().if_contains("system");
        const auto* value = ident->as_object().if_contains("value");
        if (!system || !value || !system->is_string() || !value->is_string()) continue;
        std::string_view s = system->as_string();
        if (!s.starts_with(kFacilityUrnPrefix) || !s.ends_with(":Observation")) continue;
        s.remove_prefix(kFacilityUrnPrefix.size());
        int64_t fid = 0;
        auto [ptr, ec2] = std::from_chars(s.data(), s.data() + s.size(), fid);
        if (ec2 != std::errc() || std::string_view(ptr) != ":Observation") continue;
        out.push_back({"Observation", {fid, std::string(value->as_string())}});
      }
      return out;
    };
  }
  TSUNAGU_ASSIGN_OR_RETURN(
      auto found,
      timeline_.SearchResources(reader, params.patient, std::move(q), "fhir.search", references));

  std::string entries = "[";
  const std::string& rid = params.patient;
  for (const auto& r : found.page.items) {
    AppendEntry(entries, base_url_, r.record.resource_type, r.record.id, PresentText(r, rid),
                "match");
  }
  for (const auto& r : found.included) {
    AppendEntry(entries, base_url_, r.record.resource_type, r.record.id, PresentText(r, rid),
                "include");
  }
  if (include_patient) {
    auto patient = patients_.Get(rid, registry::Viewer{0, true});
    if (patient) {
      AppendEntry(entries, base_url_, "Patient", rid, PatientJson(*patient, reader, true),
                  "include");
    }
  }

  std::vector<QueryParam> self = params.applied;
  if (!params.page.empty()) self.push_back({"_page", params.page});
  json::array links{{{"relation", "self"}, {"url", SearchUrl(base_url_, type.name, self)}}};
  if (!found.page.next_cursor.empty()) {
    std::vector<QueryParam> next = params.applied;
    if (std::none_of(next.begin(), next.end(),
                     [](const QueryParam& p) { return p.name == "_count"; })) {
      next.push_back({"_count", std::to_string(params.count)});
    }
    next.push_back({"_page", found.page.next_cursor});
    links.push_back(
        json::object{{"relation", "next"}, {"url", SearchUrl(base_url_, type.name, next)}});
  }
  json::object bundle{
      {"resourceType", "Bundle"},
      {"type", "searchset"},
      {"meta", {{"lastUpdated", core::FormatIsoUtc(core::SystemClock::Instance().NowMillis())}}}};
  if (found.page.total) bundle["total"] = *found.page.total;
  bundle["link"] = std::move(links);
  return BundleText(std::move(bundle), entries);
}

std::string FhirService::PatientJson(const registry::Patient& p,
                                     const clinical::ReadContext& reader,
                                     bool with_consented_sources) const {
  json::array identifiers{{{"system", kRegionalIdSystem}, {"value", p.regional_id}}};
  std::set<int64_t> sources{reader.viewer.facility_id};
  bool any_source = false;
  if (with_consented_sources) {
    if (auto grant = policy_.Evaluate(reader.viewer, p.id)) {
      sources.insert(grant->sources().begin(), grant->sources().end());
      any_source = grant->any_source();
    }
  }
  for (const auto& link : p.links) {
    if (!any_source && !sources.contains(link.facility_id)) continue;
    auto facility = facilities_.Get(link.facility_id);
    std::string system = facility ? LocalIdSystem(facility->code) : std::string();
    if (system.empty()) system = std::string(kFacilityUrnPrefix) + std::to_string(link.facility_id);
    json::object id{{"system", system}, {"value", link.local_id}};
    if (!link.facility_name.empty()) id["assigner"] = json::object{{"display", link.facility_name}};
    identifiers.push_back(std::move(id));
  }
  json::array names{HumanName(p.name, "IDE")};
  if (!p.kana.empty()) names.push_back(HumanName(p.kana, "SYL"));
  json::object o{
      {"resourceType", "Patient"},
      {"id", p.regional_id},
      {"meta",
       {{"profile", json::array{"http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"}}}},
      {"identifier", std::move(identifiers)},
      {"active", true},
      {"name", std::move(names)},
      {"gender", GenderOf(p.sex)}};
  if (!p.birth_date.empty()) o["birthDate"] = p.birth_date;
  if (!p.phone.empty()) {
    o["telecom"] = json::array{{{"system", "phone"}, {"value", p.phone}}};
  }
  if (!p.address.empty() || !p.postcode.empty()) {
    json::object a{{"country", "JP"}};
    if (!p.address.empty()) a["text"] = p.address;
    if (!p.postcode.empty()) a["postalCode"] = p.postcode;
    o["address"] = json::array{std::move(a)};
  }
  return json::serialize(o);
}

core::Result<std::string> FhirService::ReadPatient(const clinical::ReadContext& reader,
                                                   const std::string& regional_id) const {
  const std::string object = "Patient/" + regional_id;
  auto patient = patients_.Get(regional_id, RegistryViewer(reader));
  if (!patient) {
    if (patient.error().code() != core::Code::kNotFound) return patient.error();
    TSUNAGU_RETURN_IF_ERROR(
        Audit(reader, "fhir.patient.read", "", object, "failure", "unknown or not visible"));
    return core::NotFound("patient not found");
  }
  TSUNAGU_RETURN_IF_ERROR(Audit(reader, "fhir.patient.read", regional_id, object, "success", ""));
  return PatientJson(*patient, reader, true);
}

core::Result<std::string> FhirService::ResolvePatientIdentifier(std::string_view system,
                                                                std::string_view value,
                                                                int64_t viewer_facility) const {
  const std::string v(value);
  if (system == kRegionalIdSystem) {
    TSUNAGU_RETURN_IF_ERROR(patients_.IdOf(v));
    return v;
  }
  if (!system.empty()) {
    std::string_view code = InstitutionCodeOf(system);
    if (code.empty()) return core::InvalidInput("unknown identifier system " + std::string(system));
    auto facility = facilities_.FindByCode(code);
    if (!facility) return core::NotFound("no facility has this institution code");
    TSUNAGU_ASSIGN_OR_RETURN(auto owner, patients_.FindByLink(facility->id, v));
    return owner.regional_id;
  }
  if (patients_.IdOf(v)) return v;
  TSUNAGU_ASSIGN_OR_RETURN(auto owner, patients_.FindByLink(viewer_facility, v));
  return owner.regional_id;
}

core::Result<std::string> FhirService::SearchPatients(const clinical::ReadContext& reader,
                                                      const SearchParams& params) const {
  registry::PatientQuery q;
  q.q = !params.name.empty() ? params.name : !params.family.empty() ? params.family : params.given;
  q.birth_date = params.birthdate;
  q.limit = params.count;
  if (!params.page.empty()) {
    auto [ptr, ec] =
        std::from_chars(params.page.data(), params.page.data() + params.page.size(), q.offset);
    if (ec != std::errc() || ptr != params.page.data() + params.page.size() || q.offset < 0) {
      return core::InvalidInput("_page is not valid");
    }
  }
  bool none = false;
  if (!params.id.empty()) q.regional_id = params.id;
  if (!params.identifier_value.empty()) {
    auto rid = ResolvePatientIdentifier(params.identifier_system, params.identifier_value,
                                        reader.viewer.facility_id);
    if (!rid) {
      if (rid.error().code() != core::Code::kNotFound) return rid.error();
      none = true;
    } else if (!q.regional_id.empty() && q.regional_id != *rid) {
      none = true;
    } else {
      q.regional_id = *rid;
    }
  }
  int64_t total = 0;
  std::vector<registry::Patient> found;
  if (!none) found = patients_.Search(q, RegistryViewer(reader), &total);
  std::erase_if(found, [&](const registry::Patient& p) {
    const std::string folded = core::FoldKana(p.name) + "\n" + core::FoldKana(p.kana);
    if (!params.family.empty() && !Contains(folded, params.family)) return true;
    if (!params.given.empty() && !Contains(folded, params.given)) return true;
    if (!params.gender.empty() && GenderOf(p.sex) != params.gender) return true;
    return false;
  });

  std::string entries = "[";
  for (const auto& p : found) {
    AppendEntry(entries, base_url_, "Patient", p.regional_id, PatientJson(p, reader, false),
                "match");
  }
  std::vector<QueryParam> self = params.applied;
  if (!params.page.empty()) self.push_back({"_page", params.page});
  json::array links{{{"relation", "self"}, {"url", SearchUrl(base_url_, "Patient", self)}}};
  if (!none && static_cast<int64_t>(q.offset) + q.limit < total) {
    std::vector<QueryParam> next = params.applied;
    if (std::none_of(next.begin(), next.end(),
                     [](const QueryParam& p) { return p.name == "_count"; })) {
      next.push_back({"_count", std::to_string(params.count)});
    }
    next.push_back({"_page", std::to_string(q.offset + q.limit)});
    links.push_back(
        json::object{{"relation", "next"}, {"url", SearchUrl(base_url_, "Patient", next)}});
  }
  TSUNAGU_RETURN_IF_ERROR(Audit(reader, "fhir.patient.search", "", "Patient", "success",
                                "matches=" + std::to_string(found.size())));
  json::object bundle{
      {"resourceType", "Bundle"},
      {"type", "searchset"},
      {"meta", {{"lastUpdated", core::FormatIsoUtc(core::SystemClock::Instance().NowMillis())}}}};
  if (params.total) bundle["total"] = none ? 0 : total;
  bundle["link"] = std::move(links);
  return BundleText(std::move(bundle), entries);
}

core::Result<std::string> FhirService::CrossReference(
    const clinical::ReadContext& reader, std::string_view source,
    const std::vector<std::string>& target_systems) const {
  std::string system, value;
  SplitToken(source, system, value);
  if (value.empty()) return core::InvalidInput("sourceIdentifier must be system|value");
  if (system.empty()) return core::InvalidInput("sourceIdentifier must name its system");
  for (const auto& t : target_systems) {
    if (t != kRegionalIdSystem && InstitutionCodeOf(t).empty()) {
      return core::InvalidInput("targetSystem " + t + " is not a known identifier domain");
    }
  }
  auto rid = ResolvePatientIdentifier(system, value, reader.viewer.facility_id);
  if (!rid) {
    if (rid.error().code() == core::Code::kInvalidInput) return rid.error();
    TSUNAGU_RETURN_IF_ERROR(
        Audit(reader, "fhir.pix", "", "Patient", "failure", "unknown identifier"));
    return core::NotFound("sourceIdentifier not found");
  }
  auto patient = patients_.Get(*rid, RegistryViewer(reader));
  if (!patient) {
    TSUNAGU_RETURN_IF_ERROR(Audit(reader, "fhir.pix", "", "Patient", "denied", "not visible"));
    return core::NotFound("sourceIdentifier not found");
  }
  std::error_code ec;
  json::value pj = json::parse(PatientJson(*patient, reader, true), ec);
  json::array parameters;
  if (!ec) {
    for (const auto& id : pj.as_object()["identifier"].as_array()) {
      const auto& o = id.as_object();
      const std::string id_system(o.at("system").as_string());
      const std::string id_value(o.at("value").as_string());
      if (id_system == system && id_value == value) continue;
      if (!target_systems.empty() && std::find(target_systems.begin(), target_systems.end(),
                                               id_system) == target_systems.end()) {
        continue;
      }
      parameters.push_back(json::object{
          {"name", "targetIdentifier"},
          {"valueIdentifier", {{"use", "official"}, {"system", id_system}, {"value", id_value}}}});
    }
  }
  parameters.push_back(
      json::object{{"name", "targetId"}, {"valueReference", {{"reference", "Patient/" + *rid}}}});
  TSUNAGU_RETURN_IF_ERROR(Audit(reader, "fhir.pix", *rid, "Patient/" + *rid, "success", ""));
  return json::serialize(
      json::object{{"resourceType", "Parameters"}, {"parameter", std::move(parameters)}});
}

}  // namespace tsunagu::fhir
