#include "oauth/client_registry.hpp"

#include "core/access_epoch.hpp"
#include "core/random.hpp"
#include "oauth/public_key.hpp"
#include "oauth/scope.hpp"

namespace tsunagu::oauth {
namespace {

using store::Value;

constexpr const char* kColumns =
    "id, client_id, name, facility_id, occupation, scopes, jwks, kids, created_at, created_by, "
    "disabled, disabled_at";

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size() && !s.empty()) {
    size_t end = s.find(sep, i);
    if (end == std::string::npos) end = s.size();
    if (end > i) out.push_back(s.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

SystemClient FromRow(const store::Row& r) {
  SystemClient c;
  c.id = r.Int(0);
  c.client_id = r.Text(1);
  c.name = r.Text(2);
  c.facility_id = r.Int(3);
  c.occupation = auth::ParseOccupation(r.Text(4)).value_or(auth::Occupation::kClerk);
  c.scopes = Split(r.Text(5), ' ');
  c.jwks = r.Text(6);
  c.kids = Split(r.Text(7), '\n');
  c.created_at = r.Int(8);
  c.created_by = r.Int(9);
  c.disabled = r.Int(10) != 0;
  c.disabled_at = r.Int(11);
  return c;
}

// Code points of valid-enough UTF-8; control characters make it unusable.
core::Status CheckName(const std::string& name) {
  if (name.empty()) return core::InvalidInput("name is required");
  size_t points = 0;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F) return core::InvalidInput("name must not hold control characters");
    if ((c & 0xC0) != 0x80) ++points;
  }
  if (points > ClientRegistry::kMaxNameLength) {
    return core::InvalidInput("name must be at most " +
                              std::to_string(ClientRegistry::kMaxNameLength) + " characters");
  }
  return core::Status::Ok();
}

core::Result<auth::Occupation> DefaultOccupation(const FacilityInfo& f) {
  if (f.type == "hospital" || f.type == "clinic") return auth::Occupation::kPhysician;
  if (f.type == "dental_clinic") return auth::Occupation::kDentist;
  if (f.type == "pharmacy") return auth::Occupation::kPharmacist;
  if (f.type == "visiting_nurse_station") return auth::Occupation::kVisitingNurse;
  return core::InvalidInput("occupation is required for a client of a " + f.type + " facility");
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

ClientRegistry::ClientRegistry(store::Database& db, const core::Clock& clock,
                               FacilityLookup facilities)
    : db_(db), clock_(clock), facilities_(std::move(facilities)) {}

store::MigrationSet ClientRegistry::Migrations() {
  return store::MigrationSet{
      "oauth",
      {
          "CREATE TABLE oauth_clients (\n"
          "  id {{ID}},\n"
          "  client_id TEXT NOT NULL UNIQUE,\n"
          "  name TEXT NOT NULL,\n"
          "  facility_id BIGINT NOT NULL,\n"
          "  occupation TEXT NOT NULL,\n"
          "  scopes TEXT NOT NULL,\n"
          "  jwks TEXT NOT NULL,\n"
          "  kids TEXT NOT NULL,\n"
          "  created_at BIGINT NOT NULL,\n"
          "  created_by BIGINT NOT NULL DEFAULT 0,\n"
          "  disabled INTEGER NOT NULL DEFAULT 0,\n"
          "  disabled_at BIGINT NOT NULL DEFAULT 0\n"
          ");\n"
          "CREATE INDEX oauth_clients_facility ON oauth_clients (facility_id);\n"
          // jti of every accepted assertion, kept until the assertion expires.
          "CREATE TABLE oauth_assertion_jtis (\n"
          "  client_id TEXT NOT NULL,\n"
          "  jti TEXT NOT NULL,\n"
          "  expires_at BIGINT NOT NULL,\n"
          "  PRIMARY KEY (client_id, jti)\n"
          ");\n"
          "CREATE INDEX oauth_assertion_jtis_expiry ON oauth_assertion_jtis (expires_at);\n"
          // Only the SHA-256 of an access token is stored.
          "CREATE TABLE oauth_access_tokens (\n"
          "  token_hash TEXT PRIMARY KEY,\n"
          "  token_id TEXT NOT NULL,\n"
          "  client_id TEXT NOT NULL,\n"
          "  scopes TEXT NOT NULL,\n"
          "  issued_at BIGINT NOT NULL,\n"
          "  expires_at BIGINT NOT NULL\n"
          ");\n"
          "CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);\n"
          "CREATE INDEX oauth_access_tokens_expiry ON oauth_access_tokens (expires_at);\n",
      }};
}

core::Result<SystemClient> ClientRegistry::Register(const NewSystemClient& in) {
  SystemClient c;
  c.name = Trim(in.name);
  TSUNAGU_RETURN_IF_ERROR(CheckName(c.name));
  if (in.facility_id <= 0) return core::InvalidInput("facility_id is required");
  std::optional<FacilityInfo> facility = facilities_ ? facilities_(in.facility_id) : std::nullopt;
  if (!facility) return core::InvalidInput("facility_id is not a known facility");
  if (!facility->active) return core::InvalidInput("the facility is suspended");
  c.facility_id = facility->id;
  if (in.occupation) {
    if (*in.occupation == auth::Occupation::kFamily) {
      return core::InvalidInput("occupation family cannot be given to a system client");
    }
    c.occupation = *in.occupation;
  } else {
    TSUNAGU_ASSIGN_OR_RETURN(c.occupation, DefaultOccupation(*facility));
  }
  std::string scope_text = Trim(in.scopes);
  if (scope_text.empty()) scope_text = std::string(kDefaultScopes);
  TSUNAGU_ASSIGN_OR_RETURN(auto scopes, ParseScopes(scope_text));
  for (const auto& s : scopes) c.scopes.push_back(s.text);
  TSUNAGU_ASSIGN_OR_RETURN(auto keys, ParsePublicKeys(in.public_key));
  c.jwks = ToJwks(keys);
  for (const auto& k : keys) c.kids.push_back(k.kid);
  c.client_id = core::RandomToken(18);  // 24 URL-safe characters
  c.created_at = clock_.NowMillis();
  c.created_by = in.created_by;

  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(
          "INSERT INTO oauth_clients (client_id, name, facility_id, occupation, scopes, jwks, "
          "kids, created_at, created_by, disabled, disabled_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0) RETURNING id",
          {Value{c.client_id}, Value{c.name}, Value{c.facility_id},
           Value{std::string(auth::ToString(c.occupation))}, Value{Join(c.scopes, ' ')},
           Value{c.jwks}, Value{Join(c.kids, '\n')}, Value{c.created_at}, Value{c.created_by}}));
  if (rows.empty()) return core::Internal("internal error", "oauth client insert returned no id");
  c.id = rows.rows[0].Int(0);
  return c;
}

core::Result<std::vector<SystemClient>> ClientRegistry::List() const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(std::string("SELECT ") + kColumns + " FROM oauth_clients ORDER BY id DESC", {}));
  std::vector<SystemClient> out;
  for (const auto& r : rows.rows) out.push_back(FromRow(r));
  return out;
}

core::Result<SystemClient> ClientRegistry::Get(std::string_view client_id) const {
  if (client_id.empty() || client_id.size() > 200) return core::NotFound("client not found");
  TSUNAGU_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kColumns +
                                                    " FROM oauth_clients WHERE client_id = ?",
                                                {Value{std::string(client_id)}}));
  if (rows.empty()) return core::NotFound("client not found");
  return FromRow(rows.rows[0]);
}

core::Result<SystemClient> ClientRegistry::Disable(std::string_view client_id) {
  core::AccessEpochBump access_changed;
  TSUNAGU_ASSIGN_OR_RETURN(SystemClient c, Get(client_id));
  if (c.disabled) return core::Conflict("the client is already disabled");
  const int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(int64_t changed,
                           tx->Execute("UPDATE oauth_clients SET disabled = 1, disabled_at = ? "
                                       "WHERE client_id = ? AND disabled = 0",
                                       {Value{now}, Value{c.client_id}}));
  if (changed == 0) return core::Conflict("the client is already disabled");
  TSUNAGU_RETURN_IF_ERROR(
      tx->Execute("DELETE FROM oauth_access_tokens WHERE client_id = ?", {Value{c.client_id}}));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  c.disabled = true;
  c.disabled_at = now;
  return c;
}

}  // namespace tsunagu::oauth
