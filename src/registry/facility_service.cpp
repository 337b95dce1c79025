#include "registry/facility_service.hpp"

#include <openssl/sha.h>

#include "core/random.hpp"
#include "core/text.hpp"
#include "registry/identifiers.hpp"

namespace tsunagu::registry {
namespace {

using store::Value;
constexpr int64_t kInvitationMillis = 7LL * 24 * 3600 * 1000;
constexpr const char* kFacilityColumns =
    "id, type, code, name, kana, postcode, address, phone, area, departments, services, "
    "require_mfa, status, created_at";

std::string JoinLines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    std::string t = core::Trim(s);
    if (t.empty()) continue;
    if (!out.empty()) out += '\n';
    out += t;
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    if (nl > start) out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

Facility FacilityFromRow(const store::Row& r) {
  Facility f;
  f.id = r.Int(0);
  f.type = ParseFacilityType(r.Text(1)).value_or(FacilityType::kClinic);
  f.code = r.Text(2);
  f.name = r.Text(3);
  f.kana = r.Text(4);
  f.postcode = r.Text(5);
  f.address = r.Text(6);
  f.phone = r.Text(7);
  f.area = r.Text(8);
  f.departments = SplitLines(r.Text(9));
  f.services = SplitLines(r.Text(10));
  f.require_mfa = r.Int(11) != 0;
  f.status = r.Text(12);
  f.created_at = r.Int(13);
  return f;
}

std::string TokenHash(const std::string& token) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), md);
  return core::HexEncode(md, sizeof md);
}

// The application's facility is kept as columns of its own row, prefixed f_.
constexpr const char* kApplicationColumns =
    "id, status, f_type, f_code, f_name, f_kana, f_postcode, f_address, f_phone, f_area, "
    "f_departments, f_services, applicant_name, applicant_email, applicant_phone, reason, "
    "facility_id, created_at, decided_at";

Application ApplicationFromRow(const store::Row& r) {
  Application a;
  a.id = r.Int(0);
  a.status = r.Text(1);
  a.facility.type = ParseFacilityType(r.Text(2)).value_or(FacilityType::kClinic);
  a.facility.code = r.Text(3);
  a.facility.name = r.Text(4);
  a.facility.kana = r.Text(5);
  a.facility.postcode = r.Text(6);
  a.facility.address = r.Text(7);
  a.facility.phone = r.Text(8);
  a.facility.area = r.Text(9);
  a.facility.departments = SplitLines(r.Text(10));
  a.facility.services = SplitLines(r.Text(11));
  a.applicant_name = r.Text(12);
  a.applicant_email = r.Text(13);
  a.applicant_phone = r.Text(14);
  a.reason = r.Text(15);
  a.facility_id = r.Int(16);
  a.created_at = r.Int(17);
  a.decided_at = r.Int(18);
  return a;
}

}  // namespace

FacilityService::FacilityService(store::Database& db, const core::Clock& clock)
    : db_(db), clock_(clock) {}

store::MigrationSet FacilityService::Migrations() {
  return {"registry.facilities", {R"sql(
CREATE TABLE areas (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE facilities (
  id {{ID}},
  type TEXT NOT NULL,
  code TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  kana TEXT NOT NULL,
  search_key TEXT NOT NULL,
  postcode TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  area TEXT NOT NULL DEFAULT '',
  departments TEXT NOT NULL DEFAULT '',
  services TEXT NOT NULL DEFAULT '',
  require_mfa INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX facilities_code ON facilities (code) WHERE code <> '';
CREATE INDEX facilities_area ON facilities (area, type);
CREATE TABLE facility_applications (
  id {{ID}},
  status TEXT NOT NULL,
  f_type TEXT NOT NULL,
  f_code TEXT NOT NULL DEFAULT '',
  f_name TEXT NOT NULL,
  f_kana TEXT NOT NULL,
  f_postcode TEXT NOT NULL DEFAULT '',
  f_address TEXT NOT NULL DEFAULT '',
  f_phone TEXT NOT NULL DEFAULT '',
  f_area TEXT NOT NULL DEFAULT '',
  f_departments TEXT NOT NULL DEFAULT '',
  f_services TEXT NOT NULL DEFAULT '',
  applicant_name TEXT NOT NULL,
  applicant_email TEXT NOT NULL,
  applicant_phone TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  facility_id BIGINT NOT NULL DEFAULT 0,
  decided_by BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX facility_applications_status ON facility_applications (status, created_at);
CREATE TABLE invitations (
  id {{ID}},
  token_hash TEXT NOT NULL UNIQUE,
  facility_id BIGINT NOT NULL,
  email TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_at BIGINT NOT NULL DEFAULT 0,
  user_id BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
)sql"}};
}

std::vector<Area> FacilityService::ListAreas() const {
  const int64_t now = clock_.NowMillis();
  {
    std::lock_guard lock(areas_mu_);
    if (areas_loaded_at_ >= 0 && now - areas_loaded_at_ < kAreaCacheMillis) return areas_;
  }
  std::vector<Area> out;
  auto rs = db_.Query("SELECT code, name FROM areas ORDER BY sort_order, code");
  if (!rs) return out;
  for (const auto& r : rs->rows) out.push_back({r.Text(0), r.Text(1)});
  std::lock_guard lock(areas_mu_);
  areas_ = out;
  areas_loaded_at_ = now;
  return out;
}

void FacilityService::InvalidateAreas() {
  std::lock_guard lock(areas_mu_);
  areas_loaded_at_ = -1;
}

core::Status FacilityService::PutArea(const Area& area) {
  if (area.code.empty() || area.name.empty())
    return core::InvalidInput("area code and name required");
  auto count = db_.Query("SELECT COUNT(*) FROM areas");
  int64_t order = count && !count->empty() ? count->rows[0].Int(0) : 0;
  auto up = db_.Execute("UPDATE areas SET name = ? WHERE code = ?", {area.name, area.code});
  if (!up) return up.error();
  if (*up == 0) {
    auto ins = db_.Execute("INSERT INTO areas (code, name, sort_order) VALUES (?, ?, ?)",
                           {area.code, area.name, order});
    if (!ins) return ins.error();
  }
  InvalidateAreas();
  return core::Status::Ok();
}

core::Status FacilityService::Validate(const Facility& f) const {
  if (core::Trim(f.name).empty()) return core::InvalidInput("facility name is required");
  if (core::Trim(f.kana).empty()) return core::InvalidInput("facility kana is required");
  if (f.name.size() > 200 || f.kana.size() > 200 || f.address.size() > 400) {
    return core::InvalidInput("facility name, kana or address too long");
  }
  if (RequiresInstitutionCode(f.type)) {
    TSUNAGU_RETURN_IF_ERROR(ValidateInstitutionCode(f.code));
    char table = f.code[2];
    bool ok =
        (f.type == FacilityType::kDentalClinic && table == '3') ||
        (f.type == FacilityType::kPharmacy && table == '4') ||
        ((f.type == FacilityType::kHospital || f.type == FacilityType::kClinic) && table == '1');
    if (!ok) return core::InvalidInput("medical institution code does not match the facility type");
  } else if (!f.code.empty()) {
    TSUNAGU_RETURN_IF_ERROR(ValidateInstitutionCode(f.code));
  }
  if (!f.postcode.empty() && core::NormalizePostcode(f.postcode).empty()) {
    return core::InvalidInput("postcode must have 7 digits");
  }
  if (!f.area.empty()) {
    auto rs = db_.Query("SELECT 1 FROM areas WHERE code = ?", {f.area});
    if (!rs) return rs.error();
    if (rs->empty()) return core::InvalidInput("unknown secondary medical area");
  }
  return core::Status::Ok();
}

core::Result<int64_t> FacilityService::Insert(store::Executor& ex, const Facility& in) {
  Facility f = in;
  f.name = core::Trim(f.name);
  f.kana = core::Trim(f.kana);
  if (!f.postcode.empty()) f.postcode = core::NormalizePostcode(f.postcode);
  TSUNAGU_RETURN_IF_ERROR(Validate(f));
  int64_t now = clock_.NowMillis();
  auto rs = ex.Query(
      "INSERT INTO facilities (type, code, name, kana, search_key, postcode, address, phone, "
      "area, departments, services, require_mfa, status, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {std::string(ToString(f.type)), f.code, f.name, f.kana,
       core::FoldKana(f.name) + "\n" + core::FoldKana(f.kana), f.postcode, f.address, f.phone,
       f.area, JoinLines(f.departments), JoinLines(f.services), int64_t{f.require_mfa ? 1 : 0},
       std::string("active"), now, now});
  if (!rs) {
    if (rs.error().code() == core::Code::kConflict) {
      return core::Conflict("a facility with this medical institution code already exists");
    }
    return rs.error();
  }
  return rs->rows.at(0).Int(0);
}

core::Result<Facility> FacilityService::Create(const Facility& in) {
  TSUNAGU_ASSIGN_OR_RETURN(int64_t id, Insert(db_, in));
  return Get(id);
}

core::Result<Facility> FacilityService::Load(int64_t id) const {
  static const std::string kSql =
      std::string("SELECT ") + kFacilityColumns + " FROM facilities WHERE id = ?";
  auto rs = db_.Query(kSql, {id});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("facility not found");
  return FacilityFromRow(rs->rows[0]);
}

core::Result<Facility> FacilityService::Get(int64_t id) const {
  const int64_t now = clock_.NowMillis();
  {
    std::lock_guard lock(facilities_mu_);
    auto it = facility_cache_.find(id);
    if (it != facility_cache_.end() && now - it->second.loaded_at < cache_millis_ &&
        now >= it->second.loaded_at) {
      return it->second.facility;
    }
  }
  TSUNAGU_ASSIGN_OR_RETURN(Facility f, Load(id));
  if (cache_millis_ <= 0) return f;
  std::lock_guard lock(facilities_mu_);
  if (facility_cache_.size() >= kMaxCachedFacilities) facility_cache_.clear();
  facility_cache_[id] = CachedFacility{f, now};
  return f;
}

void FacilityService::ForgetCachedFacility(int64_t id) const {
  std::lock_guard lock(facilities_mu_);
  facility_cache_.erase(id);
}

core::Result<Facility> FacilityService::FindByCode(std::string_view code) const {
  if (code.empty()) return core::NotFound("facility not found");
  auto rs = db_.Query(std::string("SELECT ") + kFacilityColumns + " FROM facilities WHERE code = ?",
                      {std::string(code)});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("facility not found");
  return FacilityFromRow(rs->rows[0]);
}

std::vector<Facility> FacilityService::List(const FacilityFilter& filter) const {
  std::string sql = std::string("SELECT ") + kFacilityColumns + " FROM facilities WHERE 1 = 1";
  std::vector<Value> params;
  if (!filter.q.empty()) {
    sql += " AND search_key LIKE ? ESCAPE '!'";
    std::string pattern;
    for (char c : core::FoldKana(filter.q)) {
      if (c == '%' || c == '_' || c == '!') pattern += '!';
      pattern += c;
    }
    params.emplace_back("%" + pattern + "%");
  }
  if (filter.type) {
    sql += " AND type = ?";
    params.emplace_back(std::string(ToString(*filter.type)));
  }
  if (!filter.area.empty()) {
    sql += " AND area = ?";
    params.emplace_back(filter.area);
  }
  sql += " ORDER BY kana, id LIMIT ?";
  params.emplace_back(int64_t{filter.limit > 0 && filter.limit <= 1000 ? filter.limit : 200});
  std::vector<Facility> out;
  auto rs = db_.Query(sql, params);
  if (!rs) return out;
  for (const auto& r : rs->rows) out.push_back(FacilityFromRow(r));
  return out;
}

core::Result<Facility> FacilityService::Update(int64_t id, const FacilityPatch& p) {
  ForgetCachedFacility(id);
  TSUNAGU_ASSIGN_OR_RETURN(Facility f, Load(id));
  if (p.name) f.name = core::Trim(*p.name);
  if (p.kana) f.kana = core::Trim(*p.kana);
  if (p.postcode) f.postcode = p.postcode->empty() ? "" : core::NormalizePostcode(*p.postcode);
  if (p.postcode && !p.postcode->empty() && f.postcode.empty()) {
    return core::InvalidInput("postcode must have 7 digits");
  }
  if (p.address) f.address = *p.address;
  if (p.phone) f.phone = *p.phone;
  if (p.area) f.area = *p.area;
  if (p.departments) f.departments = *p.departments;
  if (p.services) f.services = *p.services;
  if (p.require_mfa) f.require_mfa = *p.require_mfa;
  if (p.status) {
    if (*p.status != "active" && *p.status != "suspended") {
      return core::InvalidInput("status must be active or suspended");
    }
    f.status = *p.status;
  }
  TSUNAGU_RETURN_IF_ERROR(Validate(f));
  auto rs = db_.Execute(
      "UPDATE facilities SET name = ?, kana = ?, search_key = ?, postcode = ?, address = ?, "
      "phone = ?, area = ?, departments = ?, services = ?, require_mfa = ?, status = ?, "
      "updated_at = ? WHERE id = ?",
      {f.name, f.kana, core::FoldKana(f.name) + "\n" + core::FoldKana(f.kana), f.postcode,
       f.address, f.phone, f.area, JoinLines(f.departments), JoinLines(f.services),
       int64_t{f.require_mfa ? 1 : 0}, f.status, clock_.NowMillis(), id});
  if (!rs) return rs.error();
  ForgetCachedFacility(id);
  return Get(id);
}

bool FacilityService::RequiresMfa(int64_t facility_id) const {
  auto f = Get(facility_id);
  return f && f->require_mfa;
}

std::string FacilityService::NameOf(int64_t facility_id) const {
  auto f = Get(facility_id);
  return f ? f->name : std::string();
}

core::Result<Application> FacilityService::Apply(const NewApplication& in) {
  Facility f = in.facility;
  f.name = core::Trim(f.name);
  f.kana = core::Trim(f.kana);
  if (!f.postcode.empty()) f.postcode = core::NormalizePostcode(f.postcode);
  TSUNAGU_RETURN_IF_ERROR(Validate(f));
  if (core::Trim(in.applicant_name).empty())
    return core::InvalidInput("applicant_name is required");
  if (!core::LooksLikeEmail(in.applicant_email)) {
    return core::InvalidInput("applicant_email is not a valid e-mail address");
  }
  if (!f.code.empty()) {
    auto dup = db_.Query("SELECT 1 FROM facilities WHERE code = ?", {f.code});
    if (!dup) return dup.error();
    if (!dup->empty())
      return core::Conflict("a facility with this medical institution code already exists");
  }
  auto rs = db_.Query(
      "INSERT INTO facility_applications (status, f_type, f_code, f_name, f_kana, f_postcode, "
      "f_address, f_phone, f_area, f_departments, f_services, applicant_name, applicant_email, "
      "applicant_phone, created_at) VALUES ('pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id",
      {std::string(ToString(f.type)), f.code, f.name, f.kana, f.postcode, f.address, f.phone,
       f.area, JoinLines(f.departments), JoinLines(f.services), core::Trim(in.applicant_name),
       in.applicant_email, in.applicant_phone, clock_.NowMillis()});
  if (!rs) return rs.error();
  return GetApplication(rs->rows.at(0).Int(0));
}

std::vector<Application> FacilityService::ListApplications(const std::string& status) const {
  std::vector<Application> out;
  std::string sql = std::string("SELECT ") + kApplicationColumns + " FROM facility_applications";
  std::vector<Value> params;
  if (!status.empty()) {
    sql += " WHERE status = ?";
    params.emplace_back(status);
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT 500";
  auto rs = db_.Query(sql, params);
  if (!rs) return out;
  for (const auto& r : rs->rows) out.push_back(ApplicationFromRow(r));
  return out;
}

core::Result<Application> FacilityService::GetApplication(int64_t id) const {
  auto rs = db_.Query(
      std::string("SELECT ") + kApplicationColumns + " FROM facility_applications WHERE id = ?",
      {id});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("application not found");
  return ApplicationFromRow(rs->rows[0]);
}

core::Result<Approval> FacilityService::Approve(int64_t application_id, int64_t decided_by) {
  TSUNAGU_ASSIGN_OR_RETURN(Application app, GetApplication(application_id));
  if (app.status != "pending") return core::Conflict("application was already decided");
  // Facility, decision and invitation land together or not at all.
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin(store::Database::Mode::kWrite));
  TSUNAGU_ASSIGN_OR_RETURN(int64_t facility_id, Insert(*tx, app.facility));
  auto up = tx->Execute(
      "UPDATE facility_applications SET status = 'approved', facility_id = ?, decided_by = ?, "
      "decided_at = ? WHERE id = ? AND status = 'pending'",
      {facility_id, decided_by, clock_.NowMillis(), application_id});
  if (!up) return up.error();
  if (*up == 0) return core::Conflict("application was already decided");
  TSUNAGU_ASSIGN_OR_RETURN(std::string token,
                           InsertInvitation(*tx, facility_id, app.applicant_email));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  TSUNAGU_ASSIGN_OR_RETURN(Facility facility, Get(facility_id));
  return Approval{facility, token};
}

core::Result<Application> FacilityService::Reject(int64_t application_id, int64_t decided_by,
                                                  const std::string& reason) {
  TSUNAGU_ASSIGN_OR_RETURN(Application app, GetApplication(application_id));
  if (app.status != "pending") return core::Conflict("application was already decided");
  if (core::Trim(reason).empty()) return core::InvalidInput("reason is required");
  auto up = db_.Execute(
      "UPDATE facility_applications SET status = 'rejected', reason = ?, decided_by = ?, "
      "decided_at = ? WHERE id = ? AND status = 'pending'",
      {reason, decided_by, clock_.NowMillis(), application_id});
  if (!up) return up.error();
  return GetApplication(application_id);
}

core::Result<std::string> FacilityService::InsertInvitation(store::Executor& ex,
                                                            int64_t facility_id,
                                                            const std::string& email) {
  if (!core::LooksLikeEmail(email)) return core::InvalidInput("invalid e-mail address");
  std::string token = core::RandomToken(32);
  int64_t now = clock_.NowMillis();
  auto rs = ex.Execute(
      "INSERT INTO invitations (token_hash, facility_id, email, expires_at, created_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {TokenHash(token), facility_id, email, now + kInvitationMillis, now});
  if (!rs) return rs.error();
  return token;
}

core::Result<std::string> FacilityService::Invite(int64_t facility_id, const std::string& email) {
  TSUNAGU_RETURN_IF_ERROR(Get(facility_id).status());
  return InsertInvitation(db_, facility_id, email);
}

core::Result<Invitation> FacilityService::GetInvitation(const std::string& token) const {
  auto rs = db_.Query(
      "SELECT i.facility_id, f.name, i.email, i.expires_at, i.accepted_at FROM invitations i "
      "JOIN facilities f ON f.id = i.facility_id WHERE i.token_hash = ?",
      {TokenHash(token)});
  if (!rs) return rs.error();
  if (rs->empty()) return core::NotFound("invitation not found or expired");
  const auto& r = rs->rows[0];
  Invitation inv{r.Int(0), r.Text(1), r.Text(2), r.Int(3), r.Int(4) != 0};
  if (inv.accepted || inv.expires_at < clock_.NowMillis()) {
    return core::NotFound("invitation not found or expired");
  }
  return inv;
}

core::Status FacilityService::ConsumeInvitation(const std::string& token, int64_t user_id) {
  auto rs = db_.Execute(
      "UPDATE invitations SET accepted_at = ?, user_id = ? WHERE token_hash = ? AND accepted_at = "
      "0",
      {clock_.NowMillis(), user_id, TokenHash(token)});
  if (!rs) return rs.error();
  if (*rs == 0) return core::Conflict("invitation already used");
  return core::Status::Ok();
}

}  // namespace tsunagu::registry
