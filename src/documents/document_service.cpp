#include "documents/document_service.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <cstring>
#include <span>
#include <tuple>

#include "consent/access_policy.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::documents {
namespace {

namespace json = boost::json;

constexpr const char* kKeyPrefix = "DOC|";
constexpr const char* kBinaryPrefix = "Binary/";
constexpr size_t kEofWindow = 1024;
// The registry's own visibility rule is not the clinical one.
constexpr registry::Viewer kResolver{0, true};

// "application/pdf; name=x" -> "application/pdf", lower-case.
std::string MediaType(std::string_view type) {
  std::string out(type.substr(0, type.find(';')));
  out = core::Trim(out);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsKnownContentType(const std::string& t) {
  return t == kPdf || t == kFhirJson || t == kJpeg || t == kPng;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// LOINC codes: digits, '-', one check digit ("57133-1").
bool IsLoincCode(std::string_view code) {
  size_t dash = code.find('-');
  return dash != std::string_view::npos && dash >= 1 && dash <= 7 &&
         IsDigits(code.substr(0, dash)) && code.size() == dash + 2 &&
         IsDigits(code.substr(dash + 1));
}

// YYYY-MM-DD, or a FHIR dateTime with seconds and a zone.
bool IsDocumentDate(std::string_view s) {
  if (s.size() < 10 || !registry::IsValidDate(s.substr(0, 10))) return false;
  if (s.size() == 10) return true;
  std::string_view t = s.substr(10);
  auto two = [](std::string_view v, size_t at, int max) {
    if (at + 2 > v.size() || !IsDigits(v.substr(at, 2))) return false;
    return (v[at] - '0') * 10 + (v[at + 1] - '0') <= max;
  };
  if (t.size() < 9 || t[0] != 'T' || !two(t, 1, 23) || t[3] != ':' || !two(t, 4, 59) ||
      t[6] != ':' || !two(t, 7, 60)) {
    return false;
  }
  size_t i = 9;
  if (i < t.size() && t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == start) return false;
  }
  std::string_view zone = t.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && two(zone, 1, 14) &&
         zone[3] == ':' && two(zone, 4, 59);
}

std::string Sha1Base64(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest.data(),
                          static_cast<int>(size));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return core::HexEncode(digest.data(), size);
}

core::Status ValidateBundle(const std::string& bytes) {
  const auto bad = [](const std::string& why) {
    return core::InvalidInput("the file is not a FHIR Document Bundle: " + why);
  };
  if (!core::IsValidUtf8(bytes)) return bad("it is not UTF-8 text");
  boost::system::error_code ec;
  json::value v = json::parse(bytes, ec);
  if (ec) return bad("it is not valid JSON");
  const json::object* bundle = v.if_object();
  if (!bundle) return bad("it is not a JSON object");
  const json::value* type = bundle->if_contains("resourceType");
  if (!type || !type->is_string() || type->as_string() != "Bundle") {
    return bad("resourceType must be \"Bundle\"");
  }
  const json::value* kind = bundle->if_contains("type");
  if (!kind || !kind->is_string() || kind->as_string() != "document") {
    return bad("Bundle.type must be \"document\"");
  }
  const json::value* entries = bundle->if_contains("entry");
  if (!entries || !entries->is_array() || entries->as_array().empty()) {
    return bad("the Bundle has no entries");
  }
  const json::value& first = entries->as_array()[0];
  const json::value* resource =
      first.is_object() ? first.as_object().if_contains("resource") : nullptr;
  const json::value* rtype = resource && resource->is_object()
                                 ? resource->as_object().if_contains("resourceType")
                                 : nullptr;
  if (!rtype || !rtype->is_string() || rtype->as_string() != "Composition") {
    return bad("its first entry must be a Composition");
  }
  return core::Status::Ok();
}

core::Status CheckText(const std::string& value, const char* name, size_t max) {
  if (value.size() > max) {
    return core::InvalidInput(std::string(name) + " is too long (at most " + std::to_string(max) +
                              " bytes)");
  }
  if (!core::IsValidUtf8(value)) return core::InvalidInput(std::string(name) + " must be UTF-8");
  for (unsigned char c : value) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      return core::InvalidInput(std::string(name) + " contains control characters");
    }
  }
  return core::Status::Ok();
}

std::string Field(const clinical::ResourceSummary& s, std::string_view key) {
  for (const auto& [k, v] : s.fields) {
    if (k == key) return v;
  }
  return {};
}

DocumentSummary FromSummary(const std::string& id, const std::string& code,
                            const std::string& display, const std::string& effective,
                            int64_t source_facility_id, const clinical::ResourceSummary& s) {
  DocumentSummary d;
  d.id = id;
  std::string url = Field(s, "url");
  if (url.rfind(kBinaryPrefix, 0) == 0) d.binary_id = url.substr(std::strlen(kBinaryPrefix));
  d.type_code = code;
  d.type_display = Field(s, "document_type");
  d.title = Field(s, "title");
  if (d.title.empty()) d.title = display;
  d.description = Field(s, "description");
  d.date = effective;
  d.author = Field(s, "author");
  d.content_type = Field(s, "content_type");
  std::string size = Field(s, "size");
  d.size = IsDigits(size) && size.size() < 19 ? std::stoll(size) : 0;
  d.source_facility_id = source_facility_id;
  return d;
}

}  // namespace

const std::vector<DocumentType>& KnownDocumentTypes() {
  static const std::vector<DocumentType> kTypes = {
      {"57133-1", "診療情報提供書"}, {"18842-5", "退院時サマリー"}, {"60591-5", "患者サマリー"},
      {"11526-1", "病理報告書"},     {"18748-4", "画像診断報告書"},
  };
  return kTypes;
}

struct DocumentService::BinaryRow {
  std::string id;
  std::string sha256;
  std::string content_type;
  int64_t size = 0;
  std::string document_reference_id;
  int64_t source_facility_id = 0;
  std::string local_patient_id;
  std::string title;
};

DocumentService::DocumentService(clinical::ResourceStore& resources, store::BlobStore& blobs,
                                 const clinical::TimelineService& timeline, audit::AuditLog& audit,
                                 store::Database& db, const core::Clock& clock,
                                 const registry::PatientService& patients)
    : resources_(resources),
      blobs_(blobs),
      timeline_(timeline),
      audit_(audit),
      db_(db),
      clock_(clock),
      patients_(patients) {}

store::MigrationSet DocumentService::Migrations() {
  return {"documents", {R"sql(
CREATE TABLE document_binaries (
  id TEXT PRIMARY KEY,
  source_facility_id BIGINT NOT NULL,
  local_patient_id TEXT NOT NULL,
  source_key TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  title TEXT NOT NULL,
  document_reference_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (source_facility_id, source_key)
);
CREATE INDEX document_binaries_reference ON document_binaries (document_reference_id);
CREATE INDEX document_binaries_patient
  ON document_binaries (source_facility_id, local_patient_id)
)sql"}};
}

core::Status DocumentService::ValidateContent(const std::string& content_type,
                                              const std::string& b) {
  const std::string type = MediaType(content_type);
  if (b.empty()) return core::InvalidInput("the file is empty");
  if (type == kPdf) {
    if (b.compare(0, 5, "%PDF-") != 0) {
      return core::InvalidInput("the file is not a PDF (it does not start with %PDF-)");
    }
    size_t from = b.size() > kEofWindow ? b.size() - kEofWindow : 0;
    if (b.find("%%EOF", from) == std::string::npos) {
      return core::InvalidInput("the PDF is incomplete (no %%EOF at its end)");
    }
    return core::Status::Ok();
  }
  if (type == kJpeg) {
    if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0xFF ||
        static_cast<unsigned char>(b[1]) != 0xD8 || static_cast<unsigned char>(b[2]) != 0xFF) {
      return core::InvalidInput("the file is not a JPEG image");
    }
    return core::Status::Ok();
  }
  if (type == kPng) {
    if (b.compare(0, 8, std::string_view("\x89PNG\r\n\x1a\n", 8)) != 0) {
      return core::InvalidInput("the file is not a PNG image");
    }
    return core::Status::Ok();
  }
  if (type == kFhirJson) return ValidateBundle(b);
  return core::InvalidInput(
      "the content type must be application/pdf, application/fhir+json, image/jpeg or image/png");
}

core::Status DocumentService::Record(const clinical::ReadContext& ctx, const std::string& action,
                                     const std::string& patient_id, const std::string& object,
                                     const std::string& outcome, const std::string& reason) const {
  return clinical::RecordAccess(audit_, ctx, action, patient_id, object, outcome, reason);
}

std::string DocumentService::RegionalIdOf(int64_t facility_id, const std::string& local_id) const {
  registry::PatientQuery q;
  q.local_id = local_id;
  q.limit = 200;
  for (const auto& p : patients_.Search(q, kResolver)) {
    for (const auto& link : p.links) {
      if (link.facility_id == facility_id && link.local_id == local_id) return p.regional_id;
    }
  }
  return {};
}

core::Result<DocumentService::BinaryRow> DocumentService::FindBinary(
    const std::string& binary_id) const {
  if (binary_id.empty() || binary_id.size() > 64) return core::NotFound("document not found");
  TSUNAGU_ASSIGN_OR_RETURN(
      store::ResultSet rs,
      db_.Query("SELECT id, sha256, content_type, size, document_reference_id, "
                "source_facility_id, local_patient_id, title FROM document_binaries WHERE id = ?",
                {binary_id}));
  if (rs.empty()) return core::NotFound("document not found");
  const store::Row& r = rs.rows[0];
  return BinaryRow{r.Text(0), r.Text(1), r.Text(2), r.Int(3),
                   r.Text(4), r.Int(5),  r.Text(6), r.Text(7)};
}

core::Result<std::string> DocumentService::FindReferenceId(int64_t facility_id,
                                                           const std::string& source_key) const {
  const clinical::ResourceStore::SourceRef ref{facility_id, source_key};
  TSUNAGU_ASSIGN_OR_RETURN(
      std::vector<clinical::StoredResource> found,
      resources_.FindBySourceKeys("DocumentReference",
                                  std::span<const clinical::ResourceStore::SourceRef>(&ref, 1)));
  if (found.empty()) {
    return core::Internal("the document could not be stored", "stored DocumentReference not found");
  }
  return found.front().record.id;
}

core::Result<StoredDocument> DocumentService::Create(const clinical::ReadContext& writer,
                                                     const NewDocument& doc) {
  constexpr const char* kAction = "document.create";
  const int64_t facility = writer.viewer.facility_id;
  std::string patient_id;  // regional, for the audit entry, once known
  auto refuse = [&](core::Status s) -> core::Result<StoredDocument> {
    const char* outcome = s.code() == core::Code::kForbidden ? "denied" : "failure";
    TSUNAGU_RETURN_IF_ERROR(Record(writer, kAction, patient_id, "document", outcome, s.message()));
    return s;
  };

  // Who may write: a facility's staff whose occupation sees documents.
  if (facility <= 0) return refuse(core::Forbidden("documents are written by a facility's staff"));
  if (writer.viewer.role == auth::Role::kNetworkAdmin) {
    return refuse(core::Forbidden("the network secretariat does not write clinical documents"));
  }
  if (!consent::AccessPolicy::OccupationMay(writer.viewer.occupation,
                                            clinical::Category::kDocument)) {
    return refuse(core::Forbidden("your occupation may not write clinical documents"));
  }

  // The fields.
  if (doc.local_patient_id.empty() || doc.local_patient_id.size() > 64) {
    return refuse(core::InvalidInput("the local patient ID is required (at most 64 bytes)"));
  }
  patient_id = RegionalIdOf(facility, doc.local_patient_id);
  if (doc.content.size() > kMaxBytes) {
    return refuse(core::TooLarge("the file is larger than 32 MB"));
  }
  const std::string content_type = MediaType(doc.content_type);
  if (!IsKnownContentType(content_type)) {
    return refuse(core::InvalidInput(
        "the content type must be application/pdf, application/fhir+json, image/jpeg or "
        "image/png"));
  }
  if (auto st = ValidateContent(content_type, doc.content); !st.ok()) return refuse(st);
  if (!IsLoincCode(doc.type_code)) {
    return refuse(core::InvalidInput("type_code must be a LOINC code such as 57133-1"));
  }
  std::string type_display = core::Trim(doc.type_display);
  if (type_display.empty()) {
    for (const auto& t : KnownDocumentTypes()) {
      if (doc.type_code == t.code) type_display = t.display;
    }
    if (type_display.empty()) {
      return refuse(core::InvalidInput("type_display is required for a document type not listed"));
    }
  }
  if (!IsDocumentDate(doc.date)) {
    return refuse(core::InvalidInput(
        "date must be a date (YYYY-MM-DD) or a date-time with seconds and a time zone"));
  }
  std::string title = core::Trim(doc.title);
  if (title.empty()) title = type_display;
  const std::string description = core::Trim(doc.description);
  const std::string author = core::Trim(doc.author);
  using Limit = std::tuple<const std::string*, const char*, size_t>;
  for (auto [value, name, max] :
       {Limit{&type_display, "type_display", kMaxTitle}, Limit{&title, "title", kMaxTitle},
        Limit{&description, "description", kMaxDescription}, Limit{&author, "author", kMaxAuthor},
        Limit{&doc.source_key, "source_key", kMaxSourceKey}}) {
    if (auto st = CheckText(*value, name, max); !st.ok()) return refuse(st);
  }

  const std::string sha256 = Sha256Hex(doc.content);
  const std::string sha1 = Sha1Base64(doc.content);
  if (sha256.empty() || sha1.empty()) return core::Internal("the file could not be hashed");
  const std::string key = kKeyPrefix + (doc.source_key.empty() ? sha256 : doc.source_key);

  // Claim the key with a fresh binary id; an existing row means this
  // document (or another one under the same key) was submitted before.
  std::string binary_id = core::RandomToken(18);
  TSUNAGU_ASSIGN_OR_RETURN(
      store::ResultSet claimed,
      db_.Query("INSERT INTO document_binaries (id, source_facility_id, local_patient_id, "
                "source_key, sha256, content_type, size, title, document_reference_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?) "
                "ON CONFLICT (source_facility_id, source_key) DO NOTHING RETURNING id",
                {binary_id, facility, doc.local_patient_id, key, sha256, content_type,
                 static_cast<int64_t>(doc.content.size()), title, clock_.NowMillis()}));
  bool created = !claimed.empty();
  if (!created) {
    TSUNAGU_ASSIGN_OR_RETURN(
        store::ResultSet existing,
        db_.Query("SELECT id, sha256, document_reference_id, local_patient_id FROM "
                  "document_binaries WHERE source_facility_id = ? AND source_key = ?",
                  {facility, key}));
    if (existing.empty()) return core::Internal("the document could not be stored");
    const store::Row& row = existing.rows[0];
    if (row.Text(1) != sha256 || row.Text(3) != doc.local_patient_id) {
      return refuse(core::Conflict(
          "another document was already submitted with this identifier; use a new one"));
    }
    binary_id = row.Text(0);
    if (std::string ref_id = row.Text(2); !ref_id.empty()) {
      auto stored = resources_.Get("DocumentReference", ref_id);
      if (stored) {
        TSUNAGU_RETURN_IF_ERROR(Record(writer, kAction, patient_id, "DocumentReference/" + ref_id,
                                       "success", "unchanged"));
        return StoredDocument{std::move(*stored), binary_id, false};
      }
      if (stored.error().code() != core::Code::kNotFound) return stored.error();
      // Retracted at the source: stored again below under the same key.
    }
  }

  // The blob first: a reference never points at missing bytes.
  auto put = blobs_.Put(doc.content);
  if (!put) return put.error();

  json::object coding{{"system", kLoincSystem}, {"code", doc.type_code}, {"display", type_display}};
  json::object attachment{{"contentType", content_type},
                          {"url", kBinaryPrefix + binary_id},
                          {"size", static_cast<int64_t>(doc.content.size())},
                          {"hash", sha1},
                          {"title", title},
                          {"creation", doc.date}};
  json::object ref{{"resourceType", "DocumentReference"}};
  if (!doc.source_key.empty()) ref["masterIdentifier"] = json::object{{"value", doc.source_key}};
  ref["status"] = "current";
  ref["type"] = json::object{{"coding", json::array{coding}}, {"text", type_display}};
  ref["category"] = json::array{json::object{{"text", "document"}}};
  ref["subject"] = json::object{{"identifier", json::object{{"value", doc.local_patient_id}}}};
  ref["date"] = core::FormatIsoUtc(clock_.NowMillis());
  if (!author.empty()) ref["author"] = json::array{json::object{{"display", author}}};
  if (!description.empty()) ref["description"] = description;
  ref["content"] = json::array{json::object{{"attachment", std::move(attachment)}}};

  clinical::ResourceRecord record;
  record.resource_type = "DocumentReference";
  record.source_facility_id = facility;
  record.local_patient_id = doc.local_patient_id;
  record.source_key = key;
  record.category = clinical::Category::kDocument;
  record.code_system = kLoincSystem;
  record.code = doc.type_code;
  record.display = title;
  record.effective = doc.date;
  record.source_time = clock_.NowMillis();
  record.json = json::serialize(ref);
  auto written = resources_.Write(std::span<const clinical::ResourceRecord>(&record, 1));
  if (!written) {
    if (created) {
      // Release the key so that the submission can be retried as new.
      (void)db_.Execute("DELETE FROM document_binaries WHERE id = ?", {binary_id});
    }
    return written.error();
  }
  TSUNAGU_ASSIGN_OR_RETURN(std::string ref_id, FindReferenceId(facility, key));
  TSUNAGU_RETURN_IF_ERROR(db_.Execute(
      "UPDATE document_binaries SET document_reference_id = ? WHERE id = ?", {ref_id, binary_id}));
  TSUNAGU_ASSIGN_OR_RETURN(clinical::StoredResource stored,
                           resources_.Get("DocumentReference", ref_id));
  TSUNAGU_RETURN_IF_ERROR(Record(writer, kAction, patient_id, "DocumentReference/" + ref_id,
                                 "success", std::string(content_type)));
  return StoredDocument{std::move(stored), binary_id, true};
}

core::Result<StoredDocument> DocumentService::CreateForPatient(const clinical::ReadContext& writer,
                                                               const std::string& regional_id,
                                                               NewDocument doc) {
  constexpr const char* kAction = "document.create";
  auto patient = patients_.Get(regional_id, kResolver);
  if (!patient) {
    if (patient.error().code() != core::Code::kNotFound) return patient.error();
    TSUNAGU_RETURN_IF_ERROR(Record(writer, kAction, "", "patient", "failure", "unknown patient"));
    return core::NotFound("patient not found");
  }
  std::vector<std::string> locals;
  for (const auto& link : patient->links) {
    if (link.facility_id == writer.viewer.facility_id) locals.push_back(link.local_id);
  }
  if (locals.empty()) {
    TSUNAGU_RETURN_IF_ERROR(
        Record(writer, kAction, regional_id, "patient", "denied", "not linked at the facility"));
    return core::Forbidden(
        "this patient is not registered at your facility; register the patient (link your local "
        "patient ID) first, then upload the document");
  }
  if (doc.local_patient_id.empty()) {
    doc.local_patient_id = locals.front();
  } else if (std::find(locals.begin(), locals.end(), doc.local_patient_id) == locals.end()) {
    TSUNAGU_RETURN_IF_ERROR(
        Record(writer, kAction, regional_id, "patient", "failure", "local ID not linked"));
    return core::InvalidInput("the local patient ID is not linked to this patient");
  }
  return Create(writer, doc);
}

core::Result<BinaryContent> DocumentService::GetBinary(const clinical::ReadContext& reader,
                                                       const std::string& binary_id) const {
  constexpr const char* kAction = "document.read";
  const std::string object = "Binary/" + binary_id;
  auto row = FindBinary(binary_id);
  if (!row || row->document_reference_id.empty()) {
    if (row || row.error().code() == core::Code::kNotFound) {
      TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, "", object, "failure", "unknown document"));
      return core::NotFound("document not found");
    }
    return row.error();
  }
  // The one access check (consent, occupation, category), audited there.
  std::string patient_id;
  auto reference =
      timeline_.GetResource(reader, "DocumentReference", row->document_reference_id, &patient_id);
  if (!reference) {
    patient_id = RegionalIdOf(row->source_facility_id, row->local_patient_id);
    core::Code code = reference.error().code();
    if (code != core::Code::kNotFound && code != core::Code::kForbidden) return reference.error();
    TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, patient_id, object,
                                   code == core::Code::kForbidden ? "denied" : "failure",
                                   reference.error().message()));
    return core::NotFound("document not found");
  }
  auto bytes = blobs_.Get(row->sha256);
  if (!bytes) {
    TSUNAGU_RETURN_IF_ERROR(
        Record(reader, kAction, patient_id, object, "failure", "content unavailable"));
    return core::Internal("the document content is unavailable", bytes.error().ToString());
  }
  TSUNAGU_RETURN_IF_ERROR(Record(reader, kAction, patient_id, object, "success", ""));
  return BinaryContent{row->content_type, std::move(*bytes), row->document_reference_id,
                       row->title};
}

DocumentSummary DocumentService::SummaryOf(const clinical::StoredResource& stored) {
  const clinical::ResourceRecord& r = stored.record;
  return FromSummary(r.id, r.code, r.display, r.effective, r.source_facility_id,
                     clinical::Summarize(r));
}

core::Result<DocumentList> DocumentService::List(const clinical::ReadContext& reader,
                                                 const std::string& regional_id, int limit,
                                                 const std::string& cursor) const {
  clinical::TimelineQuery q;
  q.categories = {clinical::Category::kDocument};
  q.limit = limit;
  q.cursor = cursor;
  TSUNAGU_ASSIGN_OR_RETURN(clinical::Timeline timeline,
                           timeline_.GetTimeline(reader, regional_id, q));
  DocumentList out;
  out.next_cursor = timeline.next_cursor;
  out.total = timeline.total;
  for (const auto& item : timeline.items) {
    if (item.resource_type != "DocumentReference") continue;
    DocumentSummary d = FromSummary(item.id, item.code, item.display, item.effective,
                                    item.source_facility_id, item.summary);
    d.source_facility_name = item.source_facility_name;
    out.items.push_back(std::move(d));
  }
  return out;
}

}  // namespace tsunagu::documents
