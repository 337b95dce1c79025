#include "consent/consent_service.hpp"

#include <algorithm>
#include <cctype>

#include "core/access_epoch.hpp"
#include "core/text.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::consent {
namespace {

using store::Value;

constexpr const char* kColumns =
    "id, patient_id, scope, source_facility_id, viewer_facility_id, valid_from, valid_to, "
    "withdrawn_at, withdrawn_by, form_sha256, form_type, form_size, created_by, created_at, note";

Consent FromRow(const store::Row& r) {
  Consent c;
  c.id = r.Int(0);
  c.patient_id = r.Int(1);
  c.scope = ParseScope(r.Text(2)).value_or(Scope::kClinicalSharing);
  c.source_facility_id = r.Int(3);
  c.viewer_facility_id = r.Int(4);
  c.valid_from = r.Text(5);
  c.valid_to = r.Text(6);
  c.withdrawn_at = r.Int(7);
  c.withdrawn_by = r.Int(8);
  c.form_sha256 = r.Text(9);
  c.form_content_type = r.Text(10);
  c.form_size = r.Int(11);
  c.created_by = r.Int(12);
  c.created_at = r.Int(13);
  c.note = r.Text(14);
  return c;
}

// "Image/PNG; charset=x" -> "image/png"; "image/jpg" is a common alias.
std::string MediaType(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  t = core::Trim(t);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "image/jpg" || t == "image/pjpeg") return "image/jpeg";
  return t;
}

std::string Extension(const std::string& content_type) {
  if (content_type == "application/pdf") return ".pdf";
  if (content_type == "image/jpeg") return ".jpg";
  if (content_type == "image/png") return ".png";
  return "";
}

core::Status ValidateFacility(const registry::FacilityService& facilities, int64_t id,
                              const char* field) {
  if (id == 0) return core::Status::Ok();
  if (id < 0 || !facilities.Get(id)) {
    return core::InvalidInput(std::string(field) + " is not a known facility");
  }
  return core::Status::Ok();
}

}  // namespace

ConsentService::ConsentService(store::Database& db, const core::Clock& clock,
                               store::BlobStore& blobs, registry::PatientService& patients,
                               const registry::FacilityService& facilities)
    : db_(db), clock_(clock), blobs_(blobs), patients_(patients), facilities_(facilities) {}

store::MigrationSet ConsentService::Migrations() {
  return {"consent", {R"sql(
CREATE TABLE consents (
  id {{ID}},
  patient_id BIGINT NOT NULL,
  scope TEXT NOT NULL,
  source_facility_id BIGINT NOT NULL DEFAULT 0,
  viewer_facility_id BIGINT NOT NULL DEFAULT 0,
  valid_from TEXT NOT NULL,
  valid_to TEXT,
  withdrawn_at BIGINT,
  withdrawn_by BIGINT,
  form_sha256 TEXT,
  form_type TEXT,
  form_size BIGINT,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consents_patient ON consents (patient_id, scope);
)sql"}};
}

std::string ConsentService::Today() const {
  // FormatJst: "2026-01-01 09:00" in Japan time.
  return core::FormatJst(clock_.NowMillis()).substr(0, 10);
}

core::Result<ConsentService::AccessFacts> ConsentService::FactsFor(int64_t patient_id,
                                                                   int64_t facility_id,
                                                                   std::span<const Scope> scopes,
                                                                   std::string_view date) const {
  if (!registry::IsValidDate(date)) return core::InvalidInput("date must be YYYY-MM-DD");
  std::vector<store::Statement> statements{
      registry::PatientService::ExistsQuery(patient_id),
      registry::PatientService::LinkedToQuery(patient_id, facility_id)};
  if (!scopes.empty()) statements.push_back(ActiveQuery(patient_id, scopes, date));
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.QueryBatch(statements));
  AccessFacts facts;
  facts.patient_exists = !rs[0].empty();
  facts.linked_at_facility = !rs[1].empty();
  if (rs.size() > 2) {
    for (const auto& r : rs[2].rows) facts.active.push_back(FromRow(r));
  }
  return facts;
}

std::string ConsentService::DetectFormType(std::string_view b) {
  if (b.substr(0, 5) == "%PDF-") return "application/pdf";
  if (b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0xFF &&
      static_cast<unsigned char>(b[1]) == 0xD8 && static_cast<unsigned char>(b[2]) == 0xFF) {
    return "image/jpeg";
  }
  if (b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return "image/png";
  return "";
}

core::Result<Consent> ConsentService::Create(const NewConsent& in, int64_t created_by) {
  core::AccessEpochBump access_changed;
  if (!patients_.Exists(in.patient_id)) return core::NotFound("patient not found");
  if (!registry::IsValidDate(in.valid_from)) {
    return core::InvalidInput("valid_from must be a date (YYYY-MM-DD)");
  }
  if (!in.valid_to.empty() && !registry::IsValidDate(in.valid_to)) {
    return core::InvalidInput("valid_to must be a date (YYYY-MM-DD) or empty");
  }
  if (!in.valid_to.empty() && in.valid_to < in.valid_from) {
    return core::InvalidInput("valid_to must not be before valid_from");
  }
  TSUNAGU_RETURN_IF_ERROR(
      ValidateFacility(facilities_, in.source_facility_id, "source_facility_id"));
  TSUNAGU_RETURN_IF_ERROR(
      ValidateFacility(facilities_, in.viewer_facility_id, "viewer_facility_id"));
  std::string note = core::Trim(in.note);
  if (note.size() > kMaxNoteBytes || !core::IsValidUtf8(note)) {
    return core::InvalidInput("note must be valid text of at most 2000 bytes");
  }
  int64_t now = clock_.NowMillis();
  Value valid_to = in.valid_to.empty() ? Value{} : Value{in.valid_to};
  auto rs = db_.Query(
      "INSERT INTO consents (patient_id, scope, source_facility_id, viewer_facility_id, "
      "valid_from, valid_to, created_by, created_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id",
      {in.patient_id, std::string(ToString(in.scope)), in.source_facility_id, in.viewer_facility_id,
       in.valid_from, valid_to, created_by, now, note});
  if (!rs) return rs.error();
  return Get(rs->rows.at(0).Int(0));
}

core::Result<Consent> ConsentService::Get(int64_t consent_id) const {
  auto rs =
      db_.Query(std::string("SELECT ") + kColumns + " FROM consents WHERE id = ?", {consent_id});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("consent not found");
  return FromRow(rs->rows[0]);
}

core::Result<std::vector<Consent>> ConsentService::ListForPatient(int64_t patient_id) const {
  if (!patients_.Exists(patient_id)) return core::NotFound("patient not found");
  auto rs = db_.Query(std::string("SELECT ") + kColumns +
                          " FROM consents WHERE patient_id = ? ORDER BY created_at DESC, id DESC",
                      {patient_id});
  if (!rs) return rs.error();
  std::vector<Consent> out;
  for (const auto& r : rs->rows) out.push_back(FromRow(r));
  return out;
}

core::Result<std::vector<Consent>> ConsentService::ActiveFor(int64_t patient_id, Scope scope,
                                                             std::string_view date) const {
  if (!registry::IsValidDate(date)) return core::InvalidInput("date must be YYYY-MM-DD");
  if (!patients_.Exists(patient_id)) return core::NotFound("patient not found");
  return ActiveIn(patient_id, {&scope, 1}, date);
}

core::Result<std::vector<Consent>> ConsentService::ActiveIn(int64_t patient_id,
                                                            std::span<const Scope> scopes,
                                                            std::string_view date) const {
  if (!registry::IsValidDate(date)) return core::InvalidInput("date must be YYYY-MM-DD");
  std::vector<Consent> out;
  if (scopes.empty()) return out;
  const store::Statement q = ActiveQuery(patient_id, scopes, date);
  auto rs = db_.Query(q.sql, q.params);
  if (!rs) return rs.error();
  for (const auto& r : rs->rows) out.push_back(FromRow(r));
  return out;
}

store::Statement ConsentService::ActiveQuery(int64_t patient_id, std::span<const Scope> scopes,
                                             std::string_view date) {
  std::vector<Value> params{patient_id};
  for (Scope s : scopes) params.emplace_back(std::string(ToString(s)));
  params.emplace_back(std::string(date));
  params.emplace_back(std::string(date));
  return {std::string("SELECT ") + kColumns + " FROM consents WHERE patient_id = ? AND scope IN (" +
              store::Placeholders(scopes.size()) +
              ") AND withdrawn_at IS NULL AND valid_from <= ? AND "
              "(valid_to IS NULL OR valid_to >= ?) ORDER BY id",
          std::move(params)};
}

core::Result<Consent> ConsentService::AttachForm(int64_t consent_id, std::string_view bytes,
                                                 std::string_view declared_content_type) {
  TSUNAGU_ASSIGN_OR_RETURN(Consent c, Get(consent_id));
  if (bytes.empty()) return core::InvalidInput("the form file is empty");
  if (bytes.size() > kMaxFormBytes) return core::TooLarge("the form file is larger than 10 MB");
  std::string type = DetectFormType(bytes);
  if (type.empty()) return core::InvalidInput("the form must be a PDF, JPEG or PNG file");
  if (!declared_content_type.empty() && MediaType(declared_content_type) != type) {
    return core::InvalidInput("the file content does not match its Content-Type");
  }
  if (c.withdrawn()) return core::Conflict("the consent is withdrawn");
  if (!c.form_sha256.empty()) return core::Conflict("a signed form is already attached");
  TSUNAGU_ASSIGN_OR_RETURN(std::string sha, blobs_.Put(bytes));
  auto updated = db_.Execute(
      "UPDATE consents SET form_sha256 = ?, form_type = ?, form_size = ? "
      "WHERE id = ? AND form_sha256 IS NULL AND withdrawn_at IS NULL",
      {sha, type, static_cast<int64_t>(bytes.size()), consent_id});
  if (!updated) return updated.error();
  // A concurrent withdrawal or upload won; the blob stays (content-addressed,
  // possibly shared) but nothing refers to it from this consent.
  if (*updated == 0) return core::Conflict("the consent changed; reload and try again");
  return Get(consent_id);
}

core::Result<Consent> ConsentService::Withdraw(int64_t consent_id, int64_t by_user) {
  core::AccessEpochBump access_changed;
  TSUNAGU_ASSIGN_OR_RETURN(Consent c, Get(consent_id));
  if (c.withdrawn()) return core::Conflict("the consent is already withdrawn");
  auto updated = db_.Execute(
      "UPDATE consents SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ? AND "
      "withdrawn_at IS NULL",
      {clock_.NowMillis(), by_user, consent_id});
  if (!updated) return updated.error();
  if (*updated == 0) return core::Conflict("the consent is already withdrawn");
  return Get(consent_id);
}

core::Result<ConsentForm> ConsentService::Form(int64_t consent_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(Consent c, Get(consent_id));
  if (c.form_sha256.empty()) return core::NotFound("no signed form is attached");
  TSUNAGU_ASSIGN_OR_RETURN(std::string bytes, blobs_.Get(c.form_sha256));
  return ConsentForm{std::move(bytes), c.form_content_type,
                     "consent-" + std::to_string(c.id) + Extension(c.form_content_type)};
}

core::Result<ConsentService::MergeResult> ConsentService::MergePatients(
    const std::string& survivor_regional_id, const std::string& duplicate_regional_id,
    int64_t by_user) {
  core::AccessEpochBump access_changed;
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin(store::Database::Mode::kWrite));
  TSUNAGU_ASSIGN_OR_RETURN(
      auto merged, patients_.Merge(*tx, survivor_regional_id, duplicate_regional_id, by_user));
  auto moved = tx->Execute("UPDATE consents SET patient_id = ? WHERE patient_id = ?",
                           {merged.survivor_id, merged.duplicate_id});
  if (!moved) return moved.error();
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  return MergeResult{merged.survivor_id, merged.duplicate_id, merged.links_moved, *moved};
}

}  // namespace tsunagu::consent
