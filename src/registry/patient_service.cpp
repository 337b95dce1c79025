#include "registry/patient_service.hpp"

#include "core/access_epoch.hpp"
#include "core/text.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"

namespace tsunagu::registry {
namespace {

using store::Value;
constexpr const char* kPatientColumns =
    "p.id, p.regional_id, p.name, p.kana, p.birth_date, p.sex, p.postcode, p.address, p.phone, "
    "p.created_at";

Patient PatientFromRow(const store::Row& r) {
  Patient p;
  p.id = r.Int(0);
  p.regional_id = r.Text(1);
  p.name = r.Text(2);
  p.kana = r.Text(3);
  p.birth_date = r.Text(4);
  p.sex = ParseSex(r.Text(5)).value_or(Sex::kUnknown);
  p.postcode = r.Text(6);
  p.address = r.Text(7);
  p.phone = r.Text(8);
  p.created_at = r.Int(9);
  return p;
}

std::string LikeContains(const std::string& folded) {
  std::string pattern = "%";
  for (char c : folded) {
    if (c == '%' || c == '_' || c == '!') pattern += '!';
    pattern += c;
  }
  return pattern + "%";
}

std::string SearchKey(const std::string& name, const std::string& kana) {
  return core::FoldKana(name) + "\n" + core::FoldKana(kana);
}

// Demographic checks shared by registration and update.
core::Status ValidateDemographics(const Patient& p) {
  if (p.name.empty()) return core::InvalidInput("name is required");
  if (p.kana.empty()) return core::InvalidInput("kana is required");
  if (p.name.size() > 200 || p.kana.size() > 200 || p.address.size() > 400 || p.phone.size() > 40) {
    return core::InvalidInput("a field is too long");
  }
  if (!core::IsKatakanaOrSpace(core::FoldKana(p.kana))) {
    return core::InvalidInput("kana must be written in kana");
  }
  if (!IsValidDate(p.birth_date))
    return core::InvalidInput("birth_date must be a date (YYYY-MM-DD)");
  return core::Status::Ok();
}

}  // namespace

PatientService::PatientService(store::Database& db, const core::Clock& clock,
                               const FacilityService& facilities)
    : db_(db), clock_(clock), facilities_(facilities) {}

store::MigrationSet PatientService::Migrations() {
  return {"registry.patients",
          {R"sql(
CREATE TABLE patients (
  id {{ID}},
  regional_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kana TEXT NOT NULL,
  search_key TEXT NOT NULL,
  kana_folded TEXT NOT NULL,
  birth_date TEXT NOT NULL,
  sex TEXT NOT NULL,
  postcode TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX patients_kana ON patients (kana_folded);
CREATE INDEX patients_birth ON patients (birth_date);
CREATE TABLE patient_links (
  patient_id BIGINT NOT NULL REFERENCES patients (id),
  facility_id BIGINT NOT NULL,
  local_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (facility_id, local_id)
);
CREATE INDEX patient_links_patient ON patient_links (patient_id);
)sql",
           R"sql(
ALTER TABLE patients ADD COLUMN merged_into BIGINT;
ALTER TABLE patients ADD COLUMN merged_at BIGINT;
ALTER TABLE patients ADD COLUMN merged_by BIGINT;
ALTER TABLE patient_links ADD COLUMN created_by BIGINT NOT NULL DEFAULT 0;
CREATE INDEX patients_phone ON patients (phone);
)sql"}};
}

// A patient's links, oldest first: "SELECT" kLinkColumns "FROM patient_links
// l" ... kLinkOrder, read by LinksFrom.
constexpr const char* kLinkColumns = "l.facility_id, l.local_id";
constexpr const char* kLinkOrder = " ORDER BY l.created_at, l.facility_id";

std::vector<PatientLink> PatientService::LinksFrom(const store::ResultSet& rs) const {
  std::vector<PatientLink> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), facilities_.NameOf(r.Int(0)), r.Text(1)});
  }
  return out;
}

std::vector<PatientLink> PatientService::LinksOf(int64_t patient_id) const {
  auto rs = db_.Query(std::string("SELECT ") + kLinkColumns +
                          " FROM patient_links l WHERE l.patient_id = ?" + kLinkOrder,
                      {patient_id});
  if (!rs) return {};
  return LinksFrom(*rs);
}

core::Result<Patient> PatientService::Register(const NewPatient& in, const Viewer& viewer) {
  core::AccessEpochBump access_changed;
  if (viewer.facility_id == 0) return core::Forbidden("no facility to register the patient at");
  Patient p;
  p.name = core::Trim(in.name);
  p.kana = core::Trim(in.kana);
  p.birth_date = in.birth_date;
  p.sex = in.sex;
  p.postcode = in.postcode.empty() ? "" : core::NormalizePostcode(in.postcode);
  if (!in.postcode.empty() && p.postcode.empty()) {
    return core::InvalidInput("postcode must have 7 digits");
  }
  p.address = core::Trim(in.address);
  p.phone = core::NormalizePhone(in.phone);
  TSUNAGU_RETURN_IF_ERROR(ValidateDemographics(p));
  std::string local_id = core::Trim(in.local_id);
  if (local_id.size() > 64) return core::InvalidInput("local_id is too long");

  int64_t now = clock_.NowMillis();
  for (int attempt = 0; attempt < 5; ++attempt) {
    p.regional_id = NewRegionalId();
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin(store::Database::Mode::kWrite));
    auto rs = tx->Query(
        "INSERT INTO patients (regional_id, name, kana, search_key, kana_folded, birth_date, sex, "
        "postcode, address, phone, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {p.regional_id, p.name, p.kana, SearchKey(p.name, p.kana), core::FoldKana(p.kana),
         p.birth_date, std::string(ToString(p.sex)), p.postcode, p.address, p.phone, now, now});
    if (!rs) {
      if (rs.error().code() == core::Code::kConflict) continue;  // regional id collision
      return rs.error();
    }
    p.id = rs->rows.at(0).Int(0);
    auto link = tx->Execute(
        "INSERT INTO patient_links (patient_id, facility_id, local_id, created_at) "
        "VALUES (?, ?, ?, ?)",
        {p.id, viewer.facility_id, local_id.empty() ? p.regional_id : local_id, now});
    if (!link) {
      if (link.error().code() == core::Code::kConflict) {
        return core::Conflict("this local patient ID is already registered at your facility");
      }
      return link.error();
    }
    TSUNAGU_RETURN_IF_ERROR(tx->Commit());
    p.created_at = now;
    p.links = LinksOf(p.id);
    return p;
  }
  return core::Internal("could not allocate a regional patient ID");
}

core::Result<Patient> PatientService::Get(const std::string& regional_id,
                                          const Viewer& viewer) const {
  if (!IsValidRegionalId(regional_id)) return core::NotFound("patient not found");
  std::string sql = std::string("SELECT ") + kPatientColumns +
                    " FROM patients p WHERE p.regional_id = ? AND p.merged_into IS NULL";
  std::vector<Value> params{regional_id};
  if (!viewer.network_admin) {
    sql +=
        " AND EXISTS (SELECT 1 FROM patient_links l WHERE l.patient_id = p.id AND "
        "l.facility_id = ?)";
    params.emplace_back(viewer.facility_id);
  }
  // The links are read in the same batch (one snapshot, one round trip) and
  // used only when the patient is visible.
  const store::Statement statements[] = {
      {sql, std::move(params)},
      {std::string("SELECT ") + kLinkColumns +
           " FROM patient_links l JOIN patients p ON p.id = l.patient_id "
           "WHERE p.regional_id = ? AND p.merged_into IS NULL" +
           kLinkOrder,
       {regional_id}}};
  auto rs = db_.QueryBatch(statements);
  if (!rs) return rs.error();
  if ((*rs)[0].empty()) return core::NotFound("patient not found");
  Patient p = PatientFromRow((*rs)[0].rows[0]);
  p.links = LinksFrom((*rs)[1]);
  return p;
}

std::vector<Patient> PatientService::Search(const PatientQuery& q, const Viewer& viewer,
                                            int64_t* total) const {
  std::string where = " FROM patients p WHERE p.merged_into IS NULL";
  std::vector<Value> params;
  if (!viewer.network_admin) {
    where +=
        " AND EXISTS (SELECT 1 FROM patient_links l WHERE l.patient_id = p.id AND "
        "l.facility_id = ?)";
    params.emplace_back(viewer.facility_id);
  }
  std::string folded = core::FoldKana(q.q);
  if (!folded.empty()) {
    where += " AND p.search_key LIKE ? ESCAPE '!'";
    params.emplace_back(LikeContains(folded));
  }
  if (!q.birth_date.empty()) {
    where += " AND p.birth_date = ?";
    params.emplace_back(q.birth_date);
  }
  if (!q.regional_id.empty()) {
    where += " AND p.regional_id = ?";
    params.emplace_back(q.regional_id);
  }
  if (!q.local_id.empty()) {
    where +=
        " AND EXISTS (SELECT 1 FROM patient_links l2 WHERE l2.patient_id = p.id AND "
        "l2.local_id = ?";
    params.emplace_back(core::Trim(q.local_id));
    if (!viewer.network_admin) {
      where += " AND l2.facility_id = ?";
      params.emplace_back(viewer.facility_id);
    }
    where += ")";
  }
  if (total) {
    auto count = db_.Query("SELECT COUNT(*)" + where, params);
    *total = count && !count->empty() ? count->rows[0].Int(0) : 0;
  }
  int limit = q.limit > 0 && q.limit <= 200 ? q.limit : 50;
  int offset = q.offset > 0 ? q.offset : 0;
  params.emplace_back(int64_t{limit});
  params.emplace_back(int64_t{offset});
  std::vector<Patient> out;
  auto rs = db_.Query(std::string("SELECT ") + kPatientColumns + where +
                          " ORDER BY p.kana_folded, p.birth_date, p.id LIMIT ? OFFSET ?",
                      params);
  if (!rs) return out;
  for (const auto& r : rs->rows) {
    out.push_back(PatientFromRow(r));
    out.back().links = LinksOf(out.back().id);
  }
  return out;
}

core::Result<Patient> PatientService::Update(const std::string& regional_id,
                                             const PatientPatch& patch, const Viewer& viewer) {
  TSUNAGU_ASSIGN_OR_RETURN(Patient p, Get(regional_id, viewer));
  if (patch.name) p.name = core::Trim(*patch.name);
  if (patch.kana) p.kana = core::Trim(*patch.kana);
  if (patch.birth_date) p.birth_date = *patch.birth_date;
  if (patch.sex) p.sex = *patch.sex;
  if (patch.postcode) {
    p.postcode = patch.postcode->empty() ? "" : core::NormalizePostcode(*patch.postcode);
    if (!patch.postcode->empty() && p.postcode.empty()) {
      return core::InvalidInput("postcode must have 7 digits");
    }
  }
  if (patch.address) p.address = core::Trim(*patch.address);
  if (patch.phone) p.phone = core::NormalizePhone(*patch.phone);
  TSUNAGU_RETURN_IF_ERROR(ValidateDemographics(p));
  auto rs = db_.Execute(
      "UPDATE patients SET name = ?, kana = ?, search_key = ?, kana_folded = ?, birth_date = ?, "
      "sex = ?, postcode = ?, address = ?, phone = ?, updated_at = ? WHERE id = ?",
      {p.name, p.kana, SearchKey(p.name, p.kana), core::FoldKana(p.kana), p.birth_date,
       std::string(ToString(p.sex)), p.postcode, p.address, p.phone, clock_.NowMillis(), p.id});
  if (!rs) return rs.error();
  return Get(regional_id, viewer);
}

core::Status PatientService::Link(const std::string& regional_id, int64_t facility_id,
                                  const std::string& local_id) {
  core::AccessEpochBump access_changed;
  if (core::Trim(local_id).empty()) return core::InvalidInput("local_id is required");
  TSUNAGU_ASSIGN_OR_RETURN(int64_t patient_id, IdOf(regional_id));
  auto ins = db_.Execute(
      "INSERT INTO patient_links (patient_id, facility_id, local_id, created_at) "
      "VALUES (?, ?, ?, ?)",
      {patient_id, facility_id, core::Trim(local_id), clock_.NowMillis()});
  if (!ins) {
    if (ins.error().code() == core::Code::kConflict) {
      return core::Conflict("this local patient ID is already linked");
    }
    return ins.error();
  }
  return core::Status::Ok();
}

core::Result<int64_t> PatientService::IdOf(const std::string& regional_id) const {
  if (!IsValidRegionalId(regional_id)) return core::NotFound("patient not found");
  auto rs = db_.Query("SELECT id FROM patients WHERE regional_id = ? AND merged_into IS NULL",
                      {regional_id});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("patient not found");
  return rs->rows[0].Int(0);
}

core::Result<std::string> PatientService::RegionalIdOf(int64_t patient_id) const {
  const uint64_t epoch = core::AccessEpoch();
  const int64_t now = clock_.NowMillis();
  if (auto hit = regional_ids_.Find(patient_id, epoch, now)) return std::move(*hit);
  auto rs = db_.Query("SELECT regional_id FROM patients WHERE id = ? AND merged_into IS NULL",
                      {patient_id});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("patient not found");
  std::string regional_id = rs->rows[0].Text(0);
  regional_ids_.Store(patient_id, regional_id, epoch, now);
  return regional_id;
}

store::Statement PatientService::ExistsQuery(int64_t patient_id) {
  return {"SELECT 1 FROM patients WHERE id = ? AND merged_into IS NULL", {patient_id}};
}

store::Statement PatientService::LinkedToQuery(int64_t patient_id, int64_t facility_id) {
  return {
      "SELECT 1 FROM patient_links l JOIN patients p ON p.id = l.patient_id "
      "WHERE l.patient_id = ? AND l.facility_id = ? AND p.merged_into IS NULL",
      {patient_id, facility_id}};
}

bool PatientService::Exists(int64_t patient_id) const {
  const store::Statement q = ExistsQuery(patient_id);
  auto rs = db_.Query(q.sql, q.params);
  return rs && !rs->empty();
}

bool PatientService::IsLinkedTo(int64_t patient_id, int64_t facility_id) const {
  const store::Statement q = LinkedToQuery(patient_id, facility_id);
  auto rs = db_.Query(q.sql, q.params);
  return rs && !rs->empty();
}

core::Result<PatientService::LinkOwner> PatientService::FindByLink(
    int64_t facility_id, const std::string& local_id) const {
  const uint64_t epoch = core::AccessEpoch();
  const int64_t now = clock_.NowMillis();
  LinkKey key{facility_id, local_id};
  if (auto hit = link_owners_.Find(key, epoch, now)) return std::move(*hit);
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query("SELECT p.id, p.regional_id FROM patient_links l "
                         "JOIN patients p ON p.id = l.patient_id "
                         "WHERE l.facility_id = ? AND l.local_id = ? AND p.merged_into IS NULL",
                         {facility_id, local_id}));
  if (rs.empty()) return core::NotFound("local patient ID not linked");
  LinkOwner owner{rs.rows[0].Int(0), rs.rows[0].Text(1)};
  link_owners_.Store(std::move(key), owner, epoch, now);
  return owner;
}

std::vector<PatientLink> PatientService::LinksAt(int64_t patient_id, int64_t facility_id) const {
  std::vector<PatientLink> out;
  for (auto& link : LinksOf(patient_id)) {
    if (link.facility_id == facility_id) out.push_back(std::move(link));
  }
  return out;
}

core::Status PatientService::LinkLocalId(const std::string& regional_id, int64_t facility_id,
                                         const std::string& local_id, int64_t by_user) {
  core::AccessEpochBump access_changed;
  std::string id = core::Trim(local_id);
  if (id.empty()) return core::InvalidInput("local_id is required");
  if (id.size() > 64 || !core::IsValidUtf8(id)) {
    return core::InvalidInput("local_id must be valid text of at most 64 bytes");
  }
  if (facility_id <= 0) return core::InvalidInput("facility_id is required");
  if (!facilities_.Get(facility_id)) return core::NotFound("facility not found");
  TSUNAGU_ASSIGN_OR_RETURN(int64_t patient_id, IdOf(regional_id));
  // ON CONFLICT keeps the statement from failing (and, on PostgreSQL, from
  // poisoning a surrounding transaction); zero rows means "already linked".
  auto ins = db_.Execute(
      "INSERT INTO patient_links (patient_id, facility_id, local_id, created_at, created_by) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (facility_id, local_id) DO NOTHING",
      {patient_id, facility_id, id, clock_.NowMillis(), by_user});
  if (!ins) return ins.error();
  if (*ins == 0) return core::Conflict("this local patient ID is already linked");
  return core::Status::Ok();
}

core::Status PatientService::Unlink(const std::string& regional_id, int64_t facility_id,
                                    const std::string& local_id) {
  core::AccessEpochBump access_changed;
  TSUNAGU_ASSIGN_OR_RETURN(int64_t patient_id, IdOf(regional_id));
  auto del = db_.Execute(
      "DELETE FROM patient_links WHERE patient_id = ? AND facility_id = ? AND local_id = ?",
      {patient_id, facility_id, core::Trim(local_id)});
  if (!del) return del.error();
  if (*del == 0) return core::NotFound("link not found");
  return core::Status::Ok();
}

core::Result<PatientService::MergeResult> PatientService::Merge(
    store::Executor& tx, const std::string& survivor_regional_id,
    const std::string& duplicate_regional_id, int64_t by_user) {
  core::AccessEpochBump access_changed;
  if (survivor_regional_id == duplicate_regional_id) {
    return core::InvalidInput("a patient cannot be merged into itself");
  }
  auto id_of = [&tx](const std::string& rid) -> core::Result<int64_t> {
    if (!IsValidRegionalId(rid)) return core::NotFound("patient not found");
    auto rs =
        tx.Query("SELECT id FROM patients WHERE regional_id = ? AND merged_into IS NULL", {rid});
    if (!rs) return rs.error();
    if (rs->empty()) return core::NotFound("patient not found");
    return rs->rows[0].Int(0);
  };
  MergeResult out;
  TSUNAGU_ASSIGN_OR_RETURN(out.survivor_id, id_of(survivor_regional_id));
  TSUNAGU_ASSIGN_OR_RETURN(out.duplicate_id, id_of(duplicate_regional_id));
  int64_t now = clock_.NowMillis();
  // Guarded by "merged_into IS NULL" so that two concurrent merges of the
  // same duplicate cannot both succeed.
  auto marked = tx.Execute(
      "UPDATE patients SET merged_into = ?, merged_at = ?, merged_by = ?, updated_at = ? "
      "WHERE id = ? AND merged_into IS NULL",
      {out.survivor_id, now, by_user, now, out.duplicate_id});
  if (!marked) return marked.error();
  if (*marked == 0) return core::NotFound("patient not found");
  auto moved = tx.Execute("UPDATE patient_links SET patient_id = ? WHERE patient_id = ?",
                          {out.survivor_id, out.duplicate_id});
  if (!moved) return moved.error();
  out.links_moved = *moved;
  return out;
}

}  // namespace tsunagu::registry
