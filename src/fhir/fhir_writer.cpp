#include "fhir/fhir_writer.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "audit/audit_log.hpp"
#include "consent/access_policy.hpp"
#include "documents/document_service.hpp"
#include "fhir/operation_outcome.hpp"
#include "fhir/resource_types.hpp"
#include "registry/facility_service.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::fhir {
namespace {

namespace json = boost::json;
using clinical::Category;
using clinical::ResourceRecord;

constexpr size_t kMaxSourceKey = 200;

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* Arr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

// "a.b" path of strings.
std::string Path(const json::object& o, std::string_view path) {
  auto dot = path.find('.');
  if (dot == std::string_view::npos) return Str(o, path);
  const json::object* inner = Obj(o, path.substr(0, dot));
  return inner ? Path(*inner, path.substr(dot + 1)) : std::string();
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool Base64Decode(std::string_view in, std::string& out) {
  out.assign(in.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), " \r\n\t", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  out.resize(len);
  return true;
}

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// FHIR date or dateTime: YYYY, YYYY-MM, YYYY-MM-DD, or a date with a time.
bool IsFhirDate(std::string_view s) {
  if (s.size() < 4 || !Digits(s.substr(0, 4))) return false;
  if (s.size() == 4) return true;
  if (s.size() < 7 || s[4] != '-' || !Digits(s.substr(5, 2))) return false;
  if (s.size() == 7) return true;
  if (s.size() < 10 || s[7] != '-' || !Digits(s.substr(8, 2))) return false;
  return s.size() == 10 || (s.size() >= 16 && s[10] == 'T');
}

struct Coding {
  std::string system, code, display;
};

// The first coding of a CodeableConcept (or a Coding), with its text.
Coding CodingOf(const json::object* concept_or_coding) {
  Coding c;
  if (!concept_or_coding) return c;
  const json::object& o = *concept_or_coding;
  if (const json::array* codings = Arr(o, "coding");
      codings && !codings->empty() && (*codings)[0].is_object()) {
    const json::object& first = (*codings)[0].as_object();
    c.system = Str(first, "system");
    c.code = Str(first, "code");
    c.display = Str(first, "display");
  } else if (o.contains("code")) {
    c.system = Str(o, "system");
    c.code = Str(o, "code");
    c.display = Str(o, "display");
  }
  if (std::string text = Str(o, "text"); !text.empty()) c.display = text;
  return c;
}

struct TypeRules {
  std::string_view type;
  std::vector<std::string_view> required;  // "medication" = medication[x]
  std::vector<std::string_view> dates;     // in order of preference
  std::string_view code;                   // the element carrying the code
  std::string_view end;                    // end of a period, or ""
};

const std::vector<TypeRules>& Rules() {
  static const std::vector<TypeRules> kRules = {
      {"Observation",
       {"status", "code"},
       {"effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"},
       "code",
       ""},
      {"Condition", {"code"}, {"onsetDateTime", "onsetPeriod.start", "recordedDate"}, "code", ""},
      {"AllergyIntolerance",
       {"code"},
       {"recordedDate", "onsetDateTime", "onsetPeriod.start"},
       "code",
       ""},
      {"DiagnosticReport",
       {"status", "code"},
       {"effectiveDateTime", "effectivePeriod.start", "issued"},
       "code",
       ""},
      {"MedicationRequest",
       {"status", "intent", "medication"},
       {"authoredOn"},
       "medicationCodeableConcept",
       ""},
      {"MedicationDispense",
       {"status", "medication"},
       {"whenHandedOver", "whenPrepared"},
       "medicationCodeableConcept",
       ""},
      {"MedicationAdministration",
       {"status", "medication"},
       {"effectiveDateTime", "effectivePeriod.start"},
       "medicationCodeableConcept",
       "effectivePeriod.end"},
      {"Immunization", {"status", "vaccineCode"}, {"occurrenceDateTime"}, "vaccineCode", ""},
      {"Encounter", {"status", "class"}, {"period.start"}, "class", "period.end"},
      {"ServiceRequest",
       {"status", "intent", "code"},
       {"authoredOn", "occurrenceDateTime", "occurrencePeriod.start"},
       "code",
       ""},
  };
  return kRules;
}

const TypeRules* RulesFor(std::string_view type) {
  for (const auto& r : Rules()) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

Category CategoryOf(const ResourceType& type, const json::object& res) {
  if (type.name == "MedicationRequest") {
    std::string profiles;
    if (const json::object* meta = Obj(res, "meta")) {
      if (const json::array* p = Arr(*meta, "profile")) {
        for (const auto& v : *p) {
          if (v.is_string()) profiles += std::string(v.as_string());
        }
      }
    }
    bool injection = profiles.find("Injection") != std::string::npos;
    if (const json::array* cats = Arr(res, "category")) {
      for (const auto& c : *cats) {
        Coding coding = CodingOf(c.if_object());
        if (coding.code == "injection" || coding.code == "FTP") injection = true;
      }
    }
    return injection ? Category::kInjection : Category::kPrescription;
  }
  if (type.name == "DiagnosticReport") {
    if (const json::array* cats = Arr(res, "category")) {
      for (const auto& c : *cats) {
        Coding coding = CodingOf(c.if_object());
        if (coding.code == "LAB" || coding.code == "laboratory") return Category::kLabResult;
      }
    }
    return Category::kReport;
  }
  return type.categories.front();
}

struct Planned {
  size_t index = 0;
  std::string full_url;
  std::string method;
  std::string url;
  std::string resource_type;
  json::object resource;
  std::vector<Issue> issues;
  bool clinical = false;
  bool existed = false;
  ResourceRecord record;
  // Answer.
  std::string status;
  std::string location;
};

}  // namespace

// Per-request state: the writer, its facility's identifier system and the
// Bundle's Patient entries.
struct FhirWriter::Impl {
  const FhirWriter& w;
  const clinical::ReadContext& writer;
  const TypePermission& may_write;
  std::string local_system;
  std::map<std::string, json::object> bundle_patients;  // fullUrl -> Patient
  int64_t now = 0;

  int64_t facility() const { return writer.viewer.facility_id; }

  core::Result<std::string> LocalIdOfRegional(const std::string& rid) const {
    auto pid = w.patients_.IdOf(rid);
    if (!pid) return core::InvalidInput("no regional patient has ID " + rid);
    auto links = w.patients_.LinksAt(*pid, facility());
    if (links.empty()) {
      return core::InvalidInput(
          "the patient is not registered at your facility: link your local patient ID first");
    }
    return links.front().local_id;
  }

  core::Result<std::string> LocalIdFrom(const std::vector<const json::object*>& identifiers) const {
    for (const json::object* id : identifiers) {
      if (Str(*id, "system") == local_system && !Str(*id, "value").empty()) {
        return Str(*id, "value");
      }
    }
    for (const json::object* id : identifiers) {
      if (Str(*id, "system") == kRegionalIdSystem) return LocalIdOfRegional(Str(*id, "value"));
    }
    return core::InvalidInput("identify the patient by your facility's local ID (system " +
                              local_system + ") or by the regional ID (" +
                              std::string(kRegionalIdSystem) + ")");
  }

  core::Result<std::string> LocalIdOfPatientEntry(const json::object& patient) const {
    std::vector<const json::object*> ids;
    if (const json::array* list = Arr(patient, "identifier")) {
      for (const auto& v : *list) {
        if (v.is_object()) ids.push_back(&v.as_object());
      }
    }
    return LocalIdFrom(ids);
  }

  // The local patient ID that a reference element names.
  core::Result<std::string> LocalIdOfReference(const json::object& ref) const {
    if (std::string r = Str(ref, "reference"); !r.empty()) {
      if (auto it = bundle_patients.find(r); it != bundle_patients.end()) {
        return LocalIdOfPatientEntry(it->second);
      }
      std::string_view id = r;
      if (auto pos = id.rfind("Patient/"); pos != std::string_view::npos) {
        id.remove_prefix(pos + 8);
        return LocalIdOfRegional(std::string(id));
      }
      return core::InvalidInput("reference " + r + " names no Patient of this Bundle or server");
    }
    if (const json::object* id = Obj(ref, "identifier")) return LocalIdFrom({id});
    return core::InvalidInput("the patient reference has neither reference nor identifier");
  }

  bool MayWrite(std::string_view type, Category category) const {
    return (!may_write || may_write(type)) &&
           consent::AccessPolicy::OccupationMay(writer.viewer.occupation, category);
  }

  // Checks a clinical resource and fills p.record. Problems go to p.issues.
  void Build(Planned& p, const ResourceType& type, std::string source_key,
             const std::string& fallback_date, const std::string& fallback_local_id) const {
    const std::string at = "Bundle.entry[" + std::to_string(p.index) + "].resource";
    auto issue = [&](std::string code, std::string text, std::string element) {
      p.issues.push_back(
          {"error", std::move(code), std::move(text), element.empty() ? at : at + "." + element});
    };
    json::object& res = p.resource;
    const TypeRules* rules = RulesFor(type.name);
    if (!rules || !type.writable) {
      issue("not-supported", std::string(type.name) + " cannot be written here", "");
      return;
    }
    for (std::string_view req : rules->required) {
      bool present = req == "medication" ? (res.contains("medicationCodeableConcept") ||
                                            res.contains("medicationReference"))
                                         : res.contains(req);
      if (!present)
        issue("required", std::string(type.name) + "." + std::string(req) + " is required",
              std::string(req));
    }
    if (const json::value* status = res.if_contains("status"); status && !status->is_string()) {
      issue("structure", "status must be a code", "status");
    }
    const Category category = CategoryOf(type, res);
    if (!MayWrite(type.name, category)) {
      issue("forbidden", "you may not write " + std::string(type.name), "");
      return;
    }

    // The patient.
    std::string local_id;
    const json::object* subject = Obj(res, type.patient_element);
    if (subject) {
      auto resolved = LocalIdOfReference(*subject);
      if (!resolved) {
        issue("invalid", resolved.error().message(), std::string(type.patient_element));
      } else {
        local_id = *resolved;
      }
    } else if (!fallback_local_id.empty()) {
      local_id = fallback_local_id;
    } else {
      issue("required",
            std::string(type.name) + "." + std::string(type.patient_element) + " is required",
            std::string(type.patient_element));
    }

    // The date that orders it on the timeline.
    std::string effective;
    for (std::string_view path : rules->dates) {
      effective = Path(res, path);
      if (!effective.empty()) {
        if (!IsFhirDate(effective)) {
          issue("value", std::string(path) + " is not a FHIR date", std::string(path));
        }
        break;
      }
    }
    if (effective.empty()) effective = fallback_date;
    if (effective.empty()) {
      issue("required",
            std::string(type.name) + " needs a date (" + std::string(rules->dates.front()) + ")",
            std::string(rules->dates.front()));
    }
    if (!p.issues.empty()) return;

    // PUT Type/<id> updates that resource (of this facility).
    if (source_key.empty() && p.method == "PUT") {
      std::string_view url = p.url;
      if (auto q = url.find("?identifier="); q != std::string_view::npos) {
        source_key = "FHIR|" + std::string(url.substr(q + 12));
      } else if (auto slash = url.rfind('/'); slash != std::string_view::npos) {
        auto existing = w.resources_.Get(type.name, url.substr(slash + 1));
        if (!existing || existing->record.source_facility_id != facility()) {
          issue("not-found", "no resource " + std::string(url) + " of your facility to update", "");
          return;
        }
        source_key = existing->record.source_key;
      }
    }
    if (source_key.empty()) {
      if (const json::array* ids = Arr(res, "identifier");
          ids && !ids->empty() && (*ids)[0].is_object()) {
        const json::object& first = (*ids)[0].as_object();
        if (!Str(first, "value").empty()) {
          source_key = "FHIR|" + Str(first, "system") + "|" + Str(first, "value");
        }
      }
    }

    // Stored as the source facility's resource about its local patient.
    res.erase("id");
    json::object meta;
    if (const json::object* m = Obj(res, "meta")) {
      if (const json::value* profile = m->if_contains("profile")) meta["profile"] = *profile;
    }
    if (!meta.contains("profile")) meta["profile"] = json::array{json::value(type.profile)};
    meta["source"] = "urn:tsunagu:facility:" + std::to_string(facility());
    res["meta"] = std::move(meta);
    json::object ref{{"identifier", {{"system", local_system}, {"value", local_id}}}};
    if (subject) {
      if (std::string display = Str(*subject, "display"); !display.empty())
        ref["display"] = display;
    }
    res[type.patient_element] = std::move(ref);
    // Resource references among Bundle entries cannot be followed once stored.
    std::string serialized = json::serialize(res);
    if (source_key.empty()) source_key = "FHIR|sha256:" + Sha256Hex(serialized);
    if (source_key.size() > kMaxSourceKey) source_key = "FHIR|sha256:" + Sha256Hex(source_key);

    ResourceRecord& r = p.record;
    r.resource_type = std::string(type.name);
    r.source_facility_id = facility();
    r.local_patient_id = local_id;
    r.source_key = std::move(source_key);
    r.category = category;
    Coding coding = CodingOf(Obj(res, rules->code));
    r.code_system = coding.system;
    r.code = coding.code;
    r.display = coding.display;
    r.effective = effective;
    if (!rules->end.empty()) r.effective_end = Path(res, rules->end);
    r.source_time = now;
    r.json = std::move(serialized);
    p.clinical = true;
  }

  // Writes the planned clinical records; fills status/location.
  core::Status Store(std::vector<Planned*>& planned) const {
    std::vector<ResourceRecord> records;
    std::map<std::string, std::vector<clinical::ResourceStore::SourceRef>> by_type;
    for (Planned* p : planned) {
      records.push_back(p->record);
      by_type[p->record.resource_type].push_back({facility(), p->record.source_key});
    }
    if (records.empty()) return core::Status::Ok();
    std::map<std::string, std::string> before;  // type|key -> id
    for (const auto& [type, refs] : by_type) {
      TSUNAGU_ASSIGN_OR_RETURN(auto found, w.resources_.FindBySourceKeys(type, refs));
      for (const auto& f : found) before[type + "|" + f.record.source_key] = f.record.id;
    }
    TSUNAGU_RETURN_IF_ERROR(w.resources_.Write(records));
    std::map<std::string, std::string> after;
    for (const auto& [type, refs] : by_type) {
      TSUNAGU_ASSIGN_OR_RETURN(auto found, w.resources_.FindBySourceKeys(type, refs));
      for (const auto& f : found) after[type + "|" + f.record.source_key] = f.record.id;
    }
    for (Planned* p : planned) {
      const std::string key = p->record.resource_type + "|" + p->record.source_key;
      p->existed = before.contains(key);
      p->status = p->existed ? "200 OK" : "201 Created";
      if (auto it = after.find(key); it != after.end()) {
        p->record.id = it->second;
        p->location = p->record.resource_type + "/" + it->second;
      }
    }
    return core::Status::Ok();
  }

  // One audit entry per patient written for. An error after the write
  // (the log failed) is reported: re-posting the same Bundle is harmless.
  core::Status AuditWrites(const std::vector<Planned*>& planned, const std::string& object) const {
    std::map<std::string, int> per_patient;
    for (const Planned* p : planned) ++per_patient[p->record.local_patient_id];
    for (const auto& [local_id, n] : per_patient) {
      auto owner = w.patients_.FindByLink(facility(), local_id);
      TSUNAGU_RETURN_IF_ERROR(clinical::RecordAccess(
          w.audit_, writer, "fhir.write", owner ? owner->regional_id : std::string(), object,
          "success", "resources=" + std::to_string(n) + (owner ? "" : " unlinked")));
    }
    return core::Status::Ok();
  }
};

FhirWriter::FhirWriter(clinical::ResourceStore& resources, const registry::PatientService& patients,
                       const registry::FacilityService& facilities,
                       documents::DocumentService& documents, audit::AuditLog& audit,
                       const core::Clock& clock)
    : resources_(resources),
      patients_(patients),
      facilities_(facilities),
      documents_(documents),
      audit_(audit),
      clock_(clock) {}  // libsodium's base64 codec needs no sodium_init()

namespace {

json::object ResponseEntry(const Planned& p) {
  json::object response{{"status", p.status}};
  if (!p.location.empty()) response["location"] = p.location;
  if (!p.issues.empty()) {
    std::error_code ec;
    response["outcome"] = json::parse(OperationOutcomeJson(p.issues), ec);
  }
  json::object entry{{"response", std::move(response)}};
  if (!p.full_url.empty()) entry["fullUrl"] = p.full_url;
  return entry;
}

FhirAnswer ResponseBundle(const std::vector<Planned>& planned, const char* type, int status) {
  json::array entries;
  for (const auto& p : planned) entries.push_back(ResponseEntry(p));
  FhirAnswer answer;
  answer.status = status;
  answer.json = json::serialize(
      json::object{{"resourceType", "Bundle"}, {"type", type}, {"entry", std::move(entries)}});
  return answer;
}

FhirAnswer Unprocessable(const std::vector<Issue>& issues) {
  return {422, OperationOutcomeJson(issues), ""};
}

bool IsSubmissionSet(const json::object& list) {
  std::string text = json::serialize(list);
  return text.find("SubmissionSet") != std::string::npos ||
         text.find("submissionset") != std::string::npos;
}

}  // namespace

core::Result<FhirAnswer> FhirWriter::PostBundle(const clinical::ReadContext& writer,
                                                std::string_view body,
                                                const TypePermission& may_write) const {
  if (writer.viewer.facility_id == 0 || writer.viewer.role == auth::Role::kNetworkAdmin) {
    return core::Forbidden("only a facility's staff or systems write clinical data");
  }
  std::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return core::InvalidInput("the body is not a JSON object");
  json::object& bundle = parsed.as_object();
  if (Str(bundle, "resourceType") != "Bundle") {
    return core::InvalidInput("POST /fhir takes a Bundle");
  }
  const std::string bundle_type = Str(bundle, "type");
  const json::array* entries = Arr(bundle, "entry");
  if (!entries || entries->empty()) return core::InvalidInput("the Bundle has no entries");
  if (entries->size() > kMaxEntries) {
    return core::TooLarge("a Bundle holds at most " + std::to_string(kMaxEntries) + " entries");
  }

  auto facility = facilities_.Get(writer.viewer.facility_id);
  if (!facility) return core::Forbidden("your facility is not known");
  Impl impl{*this, writer, may_write, LocalIdSystem(facility->code), {}, clock_.NowMillis()};
  if (impl.local_system.empty()) {
    impl.local_system = "urn:tsunagu:facility:" + std::to_string(facility->id);
  }

  std::vector<Planned> planned;
  planned.reserve(entries->size());
  for (size_t i = 0; i < entries->size(); ++i) {
    Planned p;
    p.index = i;
    const json::object* entry = (*entries)[i].if_object();
    const json::object* resource = entry ? Obj(*entry, "resource") : nullptr;
    if (!resource) {
      p.issues.push_back({"error", "required", "entry has no resource",
                          "Bundle.entry[" + std::to_string(i) + "]"});
      planned.push_back(std::move(p));
      continue;
    }
    p.full_url = Str(*entry, "fullUrl");
    if (const json::object* request = Obj(*entry, "request")) {
      p.method = Str(*request, "method");
      p.url = Str(*request, "url");
    }
    p.resource = *resource;
    p.resource_type = Str(*resource, "resourceType");
    if (p.resource_type == "Patient" && !p.full_url.empty()) {
      impl.bundle_patients[p.full_url] = *resource;
    }
    planned.push_back(std::move(p));
  }

  // --- JP-CLINS (and any FHIR document): a Composition first. -------------
  if (bundle_type == "document") {
    Planned& first = planned.front();
    if (first.resource_type != "Composition") {
      return Unprocessable({{"error", "structure", "a document Bundle starts with a Composition",
                             "Bundle.entry[0].resource"}});
    }
    if (may_write && !may_write("DocumentReference")) {
      return core::Forbidden("this client may not write documents");
    }
    const json::object& comp = first.resource;
    const json::object* subject = Obj(comp, "subject");
    if (!subject) {
      return Unprocessable({{"error", "required", "Composition.subject is required",
                             "Bundle.entry[0].resource.subject"}});
    }
    auto local_id = impl.LocalIdOfReference(*subject);
    if (!local_id) {
      return Unprocessable(
          {{"error", "invalid", local_id.error().message(), "Bundle.entry[0].resource.subject"}});
    }
    documents::NewDocument doc;
    doc.local_patient_id = *local_id;
    Coding type = CodingOf(Obj(comp, "type"));
    doc.type_code = type.code;
    doc.type_display = type.display;
    doc.title = Str(comp, "title");
    doc.date = Str(comp, "date");
    if (const json::array* authors = Arr(comp, "author");
        authors && !authors->empty() && (*authors)[0].is_object()) {
      const json::object& author = (*authors)[0].as_object();
      doc.author = Str(author, "display");
      if (doc.author.empty()) {
        // A Practitioner of the Bundle: its name text, or family + given.
        const std::string ref = Str(author, "reference");
        for (const auto& p : planned) {
          if (p.full_url != ref || p.resource_type != "Practitioner") continue;
          if (const json::array* names = Arr(p.resource, "name");
              names && !names->empty() && (*names)[0].is_object()) {
            const json::object& n = (*names)[0].as_object();
            doc.author = Str(n, "text");
            if (doc.author.empty()) {
              doc.author = Str(n, "family");
              if (const json::array* given = Arr(n, "given");
                  given && !given->empty() && (*given)[0].is_string()) {
                doc.author += " " + std::string((*given)[0].as_string());
              }
            }
          }
        }
      }
    }
    doc.content_type = documents::kFhirJson;
    doc.content = std::string(body);
    std::string bundle_key;
    if (const json::object* ident = Obj(bundle, "identifier")) {
      bundle_key = Str(*ident, "system") + "|" + Str(*ident, "value");
      if (Str(*ident, "value").empty()) bundle_key.clear();
    }
    if (bundle_key.size() > 150) bundle_key = "sha256:" + Sha256Hex(bundle_key);
    doc.source_key = bundle_key.empty() ? std::string() : "CLINS|" + bundle_key;

    // Validate the entries that join the timeline before storing anything.
    const std::string comp_date = doc.date;
    const std::string entry_key = bundle_key.empty() ? "sha256:" + Sha256Hex(body) : bundle_key;
    std::vector<Planned*> records;
    for (size_t i = 1; i < planned.size(); ++i) {
      Planned& p = planned[i];
      const ResourceType* t = FindClinicalType(p.resource_type);
      if (!t || !t->writable) {
        p.status = "200 OK";  // part of the document only
        continue;
      }
      impl.Build(p, *t,
                 "CLINS|" + entry_key + "|" + (p.full_url.empty() ? std::to_string(i) : p.full_url),
                 comp_date, *local_id);
      if (p.issues.empty()) {
        records.push_back(&p);
      } else {
        p.status = "422 Unprocessable Entity";
      }
    }
    auto stored = documents_.Create(writer, doc);
    if (!stored) {
      if (stored.error().code() == core::Code::kInvalidInput) {
        return Unprocessable({{"error", "invalid", stored.error().message(), "Bundle"}});
      }
      return stored.error();
    }
    TSUNAGU_RETURN_IF_ERROR(impl.Store(records));
    TSUNAGU_RETURN_IF_ERROR(impl.AuditWrites(records, "Bundle/document"));
    first.status = stored->created ? "201 Created" : "200 OK";
    first.location = "DocumentReference/" + stored->reference.record.id;
    first.resource_type = "DocumentReference";
    FhirAnswer answer =
        ResponseBundle(planned, "transaction-response", stored->created ? 201 : 200);
    answer.location = first.location;
    return answer;
  }

  if (bundle_type != "transaction" && bundle_type != "batch") {
    return core::InvalidInput("Bundle.type must be transaction, batch or document");
  }
  const bool atomic = bundle_type == "transaction";

  // --- MHD provide document bundle: DocumentReference + Binary (+ List). ---
  std::map<std::string, const Planned*> binaries;  // fullUrl -> Binary entry
  for (const auto& p : planned) {
    if (p.resource_type == "Binary" && !p.full_url.empty()) binaries[p.full_url] = &p;
  }
  struct DocPlan {
    Planned* entry;
    documents::NewDocument doc;
  };
  std::vector<DocPlan> docs;
  std::vector<Planned*> records;
  for (auto& p : planned) {
    if (!p.issues.empty()) continue;
    const std::string at = "Bundle.entry[" + std::to_string(p.index) + "].resource";
    if (p.method != "POST" && p.method != "PUT") {
      p.issues.push_back({"error", "not-supported", "request.method must be POST or PUT",
                          "Bundle.entry[" + std::to_string(p.index) + "].request.method"});
      continue;
    }
    if (p.resource_type == "Patient") {
      p.status = "200 OK";  // names the patient; demographics come from the registry
      continue;
    }
    if (p.resource_type == "Binary") continue;  // with its DocumentReference
    if (p.resource_type == "List") {
      if (!IsSubmissionSet(p.resource)) {
        p.issues.push_back(
            {"error", "not-supported", "List is accepted only as an MHD SubmissionSet", at});
      } else {
        p.status = "200 OK";
      }
      continue;
    }
    if (p.resource_type == "DocumentReference") {
      if (may_write && !may_write("DocumentReference")) {
        p.issues.push_back({"error", "forbidden", "you may not write DocumentReference", at});
        continue;
      }
      documents::NewDocument doc;
      const json::object* subject = Obj(p.resource, "subject");
      auto local_id = subject ? impl.LocalIdOfReference(*subject)
                              : core::Result<std::string>(
                                    core::InvalidInput("DocumentReference.subject is required"));
      if (!local_id) {
        p.issues.push_back({"error", "invalid", local_id.error().message(), at + ".subject"});
        continue;
      }
      doc.local_patient_id = *local_id;
      Coding type = CodingOf(Obj(p.resource, "type"));
      doc.type_code = type.code;
      doc.type_display = type.display;
      doc.description = Str(p.resource, "description");
      doc.date = Str(p.resource, "date");
      if (const json::object* mi = Obj(p.resource, "masterIdentifier")) {
        doc.source_key = Str(*mi, "value");
        if (doc.source_key.size() > 150) doc.source_key = "sha256:" + Sha256Hex(doc.source_key);
      }
      if (const json::array* authors = Arr(p.resource, "author");
          authors && !authors->empty() && (*authors)[0].is_object()) {
        doc.author = Str((*authors)[0].as_object(), "display");
      }
      const json::array* content = Arr(p.resource, "content");
      const json::object* attachment = nullptr;
      if (content && !content->empty() && (*content)[0].is_object()) {
        attachment = Obj((*content)[0].as_object(), "attachment");
      }
      if (!attachment) {
        p.issues.push_back({"error", "required", "DocumentReference.content.attachment is required",
                            at + ".content"});
        continue;
      }
      doc.title = Str(*attachment, "title");
      if (doc.date.empty()) doc.date = Str(*attachment, "creation");
      doc.content_type = Str(*attachment, "contentType");
      std::string data = Str(*attachment, "data");
      if (data.empty()) {
        auto it = binaries.find(Str(*attachment, "url"));
        if (it == binaries.end()) {
          p.issues.push_back({"error", "required",
                              "the attachment has neither data nor a url naming a Binary entry",
                              at + ".content[0].attachment"});
          continue;
        }
        data = Str(it->second->resource, "data");
        if (doc.content_type.empty()) doc.content_type = Str(it->second->resource, "contentType");
      }
      if (!Base64Decode(data, doc.content)) {
        p.issues.push_back(
            {"error", "value", "the document data is not base64", at + ".content[0].attachment"});
        continue;
      }
      if (auto valid = documents::DocumentService::ValidateContent(doc.content_type, doc.content);
          !valid.ok()) {
        p.issues.push_back({"error", "value", valid.message(), at + ".content[0].attachment"});
        continue;
      }
      docs.push_back({&p, std::move(doc)});
      continue;
    }
    const ResourceType* t = FindClinicalType(p.resource_type);
    if (!t) {
      p.issues.push_back(
          {"error", "not-supported", "resource type " + p.resource_type + " is not accepted", at});
      continue;
    }
    impl.Build(p, *t, "", "", "");
    if (p.issues.empty()) records.push_back(&p);
  }

  std::vector<Issue> all;
  for (auto& p : planned) {
    if (!p.issues.empty()) {
      p.status = "422 Unprocessable Entity";
      all.insert(all.end(), p.issues.begin(), p.issues.end());
    }
  }
  if (atomic && !all.empty()) return Unprocessable(all);

  TSUNAGU_RETURN_IF_ERROR(impl.Store(records));
  TSUNAGU_RETURN_IF_ERROR(impl.AuditWrites(records, "Bundle/" + bundle_type));
  for (auto& d : docs) {
    auto stored = documents_.Create(writer, d.doc);
    if (!stored) {
      if (atomic || (stored.error().code() != core::Code::kInvalidInput &&
                     stored.error().code() != core::Code::kConflict &&
                     stored.error().code() != core::Code::kTooLarge)) {
        return stored.error();
      }
      d.entry->status = "422 Unprocessable Entity";
      d.entry->issues.push_back({"error", std::string(IssueCodeFor(stored.error().code())),
                                 stored.error().message(), ""});
      continue;
    }
    d.entry->status = stored->created ? "201 Created" : "200 OK";
    d.entry->location = "DocumentReference/" + stored->reference.record.id;
    // Its Binary entry answers with the stored Binary.
    for (auto& p : planned) {
      if (p.resource_type == "Binary" && p.status.empty()) {
        std::string url;
        if (const json::array* content = Arr(d.entry->resource, "content");
            content && !content->empty()) {
          if (const json::object* a = Obj((*content)[0].as_object(), "attachment"))
            url = Str(*a, "url");
        }
        if (p.full_url == url) {
          p.status = d.entry->status;
          p.location = "Binary/" + stored->binary_id;
        }
      }
    }
  }
  for (auto& p : planned) {
    if (p.status.empty()) p.status = p.issues.empty() ? "200 OK" : "422 Unprocessable Entity";
  }
  return ResponseBundle(planned, atomic ? "transaction-response" : "batch-response", 200);
}

core::Result<FhirAnswer> FhirWriter::Create(const clinical::ReadContext& writer,
                                            std::string_view type, std::string_view body,
                                            const TypePermission& may_write) const {
  std::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return core::InvalidInput("the body is not a JSON object");
  if (Str(parsed.as_object(), "resourceType") != type) {
    return core::InvalidInput("resourceType must be " + std::string(type));
  }
  if (type == "Bundle") return PostBundle(writer, body, may_write);
  const ResourceType* t = FindClinicalType(type);
  if (!t || !t->writable)
    return core::NotFound("resource type " + std::string(type) + " cannot be created");
  json::object bundle{{"resourceType", "Bundle"},
                      {"type", "transaction"},
                      {"entry", json::array{{{"resource", std::move(parsed)},
                                             {"request", {{"method", "POST"}, {"url", type}}}}}}};
  TSUNAGU_ASSIGN_OR_RETURN(FhirAnswer answer,
                           PostBundle(writer, json::serialize(bundle), may_write));
  if (answer.status != 200) return answer;
  // The one entry's outcome: 201 with Location and the stored resource.
  json::value response = json::parse(answer.json, ec);
  const json::object& entry = response.as_object()["entry"].as_array()[0].as_object();
  const json::object& r = entry.at("response").as_object();
  std::string location = Str(r, "location");
  FhirAnswer out;
  out.status = Str(r, "status").starts_with("201") ? 201 : 200;
  out.location = location;
  auto slash = location.find('/');
  auto stored = resources_.Get(type, slash == std::string::npos ? "" : location.substr(slash + 1));
  if (!stored) return stored.error();
  out.json = std::move(stored->record.json);
  return out;
}

}  // namespace tsunagu::fhir
