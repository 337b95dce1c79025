#include "auth/account_service.hpp"

#include <algorithm>
#include <cstring>

#include "auth/internal/text_checks.hpp"
#include "auth/password_hasher.hpp"
#include "core/random.hpp"

namespace tsunagu::auth {
namespace {

using store::Value;

// The columns of a User; kUserColumns adds those of its credentials.
constexpr std::string_view kProfileColumns =
    "id, facility_id, login_id, display_name, kana, email, occupation, role, totp_enabled, "
    "must_change_password, disabled, created_at";
const std::string kUserColumns = std::string(kProfileColumns) +
                                 ", password_hash, totp_secret, totp_last_step, failed_logins, "
                                 "locked_until";

constexpr size_t kMaxNameLength = 200;  // display name / kana / email, in code points

Value Int(int64_t v) { return Value{v}; }
Value Text(std::string s) { return Value{std::move(s)}; }

// A User from kProfileColumns (the first columns of kUserColumns too).
User UserFromRow(const store::Row& row) {
  User u;
  u.id = row.Int(0);
  u.facility_id = row.Int(1);
  u.login_id = row.Text(2);
  u.display_name = row.Text(3);
  u.kana = row.Text(4);
  u.email = row.Text(5);
  u.occupation = ParseOccupation(row.Text(6)).value_or(Occupation::kClerk);
  u.role = ParseRole(row.Text(7)).value_or(Role::kStaff);
  u.totp_enabled = row.Int(8) != 0;
  u.must_change_password = row.Int(9) != 0;
  u.disabled = row.Int(10) != 0;
  u.created_at = row.Int(11);
  return u;
}

Credentials CredentialsFromRow(const store::Row& row) {
  Credentials c;
  c.user = UserFromRow(row);
  c.password_hash = row.Text(12);
  c.totp_secret = row.Text(13);
  c.totp_last_step = row.Int(14);
  c.failed_logins = row.Int(15);
  c.locked_until = row.Int(16);
  return c;
}

core::Status CheckLoginId(const std::string& login_id) {
  if (login_id.size() < 3 || login_id.size() > 64) {
    return core::InvalidInput("login ID must be 3 to 64 characters");
  }
  for (char c : login_id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) {
      return core::InvalidInput("login ID may contain only letters, digits and . _ @ -");
    }
  }
  return core::Status::Ok();
}

core::Status CheckText(const std::string& value, const char* field, bool required) {
  auto length = internal::Utf8Length(value);
  if (!length) return core::InvalidInput(std::string(field) + " is not valid UTF-8");
  if (required && internal::TrimSpaces(value).empty()) {
    return core::InvalidInput(std::string(field) + " is required");
  }
  if (*length > kMaxNameLength) {
    return core::InvalidInput(std::string(field) + " is too long (at most " +
                              std::to_string(kMaxNameLength) + " characters)");
  }
  if (internal::HasControlCharacter(value)) {
    return core::InvalidInput(std::string(field) + " contains control characters");
  }
  return core::Status::Ok();
}

core::Status CheckEmail(const std::string& email) {
  TSUNAGU_RETURN_IF_ERROR(CheckText(email, "email", false));
  if (email.empty()) return core::Status::Ok();
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string::npos || email.find(' ') != std::string::npos) {
    return core::InvalidInput("email is not a valid address");
  }
  return core::Status::Ok();
}

// Temporary passwords avoid look-alike characters (0/O, 1/l/I) so that they
// can be read out over the phone.
std::string RandomTemporaryPassword(size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) out += kAlphabet[core::RandomBelow(kAlphabet.size())];
  return out;
}

}  // namespace

AccountService::AccountService(store::Database& db, const core::Clock& clock,
                               PasswordHasher& hasher)
    : db_(db), clock_(clock), hasher_(hasher) {}

store::MigrationSet AccountService::Migrations() {
  return store::MigrationSet{"auth",
                             {
                                 "CREATE TABLE users (\n"
                                 "  id {{ID}},\n"
                                 "  facility_id BIGINT NOT NULL,\n"
                                 "  login_id TEXT NOT NULL UNIQUE,\n"
                                 "  display_name TEXT NOT NULL,\n"
                                 "  kana TEXT NOT NULL DEFAULT '',\n"
                                 "  email TEXT NOT NULL DEFAULT '',\n"
                                 "  occupation TEXT NOT NULL,\n"
                                 "  role TEXT NOT NULL,\n"
                                 "  password_hash TEXT NOT NULL,\n"
                                 "  totp_secret TEXT NOT NULL DEFAULT '',\n"
                                 "  totp_enabled INTEGER NOT NULL DEFAULT 0,\n"
                                 "  totp_last_step BIGINT NOT NULL DEFAULT 0,\n"
                                 "  failed_logins INTEGER NOT NULL DEFAULT 0,\n"
                                 "  locked_until BIGINT NOT NULL DEFAULT 0,\n"
                                 "  must_change_password INTEGER NOT NULL DEFAULT 1,\n"
                                 "  disabled INTEGER NOT NULL DEFAULT 0,\n"
                                 "  created_at BIGINT NOT NULL,\n"
                                 "  updated_at BIGINT NOT NULL\n"
                                 ");\n"
                                 "CREATE INDEX users_facility ON users (facility_id);\n",

                                 "CREATE TABLE sessions (\n"
                                 "  id {{ID}},\n"
                                 "  token_hash TEXT NOT NULL UNIQUE,\n"
                                 "  public_id TEXT NOT NULL,\n"
                                 "  user_id BIGINT NOT NULL REFERENCES users (id),\n"
                                 "  csrf_token TEXT NOT NULL,\n"
                                 "  client_address TEXT NOT NULL DEFAULT '',\n"
                                 "  created_at BIGINT NOT NULL,\n"
                                 "  last_seen_at BIGINT NOT NULL\n"
                                 ");\n"
                                 "CREATE INDEX sessions_user ON sessions (user_id);\n",

                                 "CREATE TABLE mfa_challenges (\n"
                                 "  id {{ID}},\n"
                                 "  token_hash TEXT NOT NULL UNIQUE,\n"
                                 "  user_id BIGINT NOT NULL REFERENCES users (id),\n"
                                 "  client_address TEXT NOT NULL DEFAULT '',\n"
                                 "  attempts INTEGER NOT NULL DEFAULT 0,\n"
                                 "  created_at BIGINT NOT NULL,\n"
                                 "  expires_at BIGINT NOT NULL\n"
                                 ");\n"
                                 "CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);\n",
                             }};
}

core::Status AccountService::CheckPasswordPolicy(const std::string& password,
                                                 const std::string& login_id,
                                                 bool has_second_factor) {
  auto length = internal::Utf8Length(password);
  if (!length) return core::InvalidInput("password is not valid UTF-8");
  if (internal::HasControlCharacter(password)) {
    return core::InvalidInput("password must not contain control characters");
  }
  const size_t minimum =
      has_second_factor ? kMinPasswordLengthWithSecondFactor : kMinPasswordLength;
  if (*length < minimum) {
    return core::InvalidInput("password must be at least " + std::to_string(minimum) +
                              " characters" +
                              (has_second_factor ? "" : " (8 with two-factor authentication)"));
  }
  if (*length > kMaxPasswordLength) {
    return core::InvalidInput("password must be at most " + std::to_string(kMaxPasswordLength) +
                              " characters");
  }
  if (!login_id.empty() && internal::EqualsIgnoreAsciiCase(password, login_id)) {
    return core::InvalidInput("password must not be the login ID");
  }
  return core::Status::Ok();
}

core::Result<User> AccountService::Create(const NewUser& user) {
  TSUNAGU_RETURN_IF_ERROR(CheckLoginId(user.login_id));
  TSUNAGU_RETURN_IF_ERROR(CheckText(user.display_name, "display name", true));
  TSUNAGU_RETURN_IF_ERROR(CheckText(user.kana, "kana", false));
  TSUNAGU_RETURN_IF_ERROR(CheckEmail(user.email));
  if (user.facility_id < 0) return core::InvalidInput("facility ID is invalid");
  TSUNAGU_RETURN_IF_ERROR(CheckPasswordPolicy(user.password, user.login_id, false));
  TSUNAGU_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(user.password));

  const int64_t now = clock_.NowMillis();
  auto rows = db_.Query(
      "INSERT INTO users (facility_id, login_id, display_name, kana, email, occupation, role, "
      "password_hash, must_change_password, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {Int(user.facility_id), Text(user.login_id), Text(internal::TrimSpaces(user.display_name)),
       Text(internal::TrimSpaces(user.kana)), Text(internal::TrimSpaces(user.email)),
       Text(std::string(ToString(user.occupation))), Text(std::string(ToString(user.role))),
       Text(hash), Int(user.must_change_password ? 1 : 0), Int(now), Int(now)});
  if (!rows) {
    if (rows.error().code() == core::Code::kConflict) {
      return core::Conflict("login ID is already taken");
    }
    return rows.error();
  }
  if (rows->empty()) return core::Internal("user was not created", "INSERT returned no id");
  return Get(rows->rows[0].Int(0));
}

core::Result<Credentials> AccountService::LoadCredentials(int64_t user_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows, db_.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?",
                           {Int(user_id)}));
  if (rows.empty()) return core::NotFound("user not found");
  return CredentialsFromRow(rows.rows[0]);
}

core::Result<Credentials> AccountService::LoadCredentialsByLogin(
    const std::string& login_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows, db_.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE login_id = ?",
                           {Text(login_id)}));
  if (rows.empty()) return core::NotFound("user not found");
  return CredentialsFromRow(rows.rows[0]);
}

core::Result<User> AccountService::Get(int64_t user_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentials(user_id));
  return c.user;
}

core::Result<User> AccountService::FindByLogin(const std::string& login_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentialsByLogin(login_id));
  return c.user;
}

std::vector<User> AccountService::ListByFacility(int64_t facility_id) const {
  std::vector<User> users;
  auto rows = db_.Query(
      std::string("SELECT ") + kUserColumns + " FROM users WHERE facility_id = ? ORDER BY id",
      {Int(facility_id)});
  if (!rows) return users;
  for (const auto& row : rows->rows) users.push_back(CredentialsFromRow(row).user);
  return users;
}

core::Result<std::vector<User>> AccountService::ListByIds(const std::vector<int64_t>& ids) const {
  std::vector<User> users;
  std::vector<int64_t> missing;
  const int64_t now = clock_.NowMillis();
  uint64_t generation = 0;
  {
    std::lock_guard lock(profiles_mu_);
    generation = profiles_generation_;
    for (int64_t id : ids) {
      auto it = profiles_.find(id);
      if (it != profiles_.end() && now >= it->second.at &&
          now - it->second.at < kProfileCacheMillis) {
        users.push_back(it->second.user);
      } else {
        missing.push_back(id);
      }
    }
  }
  if (!missing.empty()) {
    std::string sql = "SELECT ";
    sql += kProfileColumns;
    sql += " FROM users WHERE id IN (";
    std::vector<store::Value> params;
    params.reserve(missing.size());
    for (int64_t id : missing) {
      sql += params.empty() ? "?" : ", ?";
      params.emplace_back(id);
    }
    sql += ")";
    TSUNAGU_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
    std::lock_guard lock(profiles_mu_);
    const bool current = generation == profiles_generation_;
    if (current && profiles_.size() + rows.size() > kProfileCacheEntries) profiles_.clear();
    for (const auto& row : rows.rows) {
      users.push_back(UserFromRow(row));
      if (current) profiles_[users.back().id] = {users.back(), now};
    }
  }
  std::sort(users.begin(), users.end(), [](const User& a, const User& b) { return a.id < b.id; });
  users.erase(std::unique(users.begin(), users.end(),
                          [](const User& a, const User& b) { return a.id == b.id; }),
              users.end());
  return users;
}

void AccountService::UserChanged(int64_t user_id) const {
  {
    std::lock_guard lock(profiles_mu_);
    ++profiles_generation_;
    profiles_.erase(user_id);
  }
  if (user_changed_) user_changed_(user_id);
}

core::Result<User> AccountService::Update(int64_t user_id, const UserPatch& patch) {
  if (patch.display_name) {
    TSUNAGU_RETURN_IF_ERROR(CheckText(*patch.display_name, "display name", true));
  }
  if (patch.kana) TSUNAGU_RETURN_IF_ERROR(CheckText(*patch.kana, "kana", false));
  if (patch.email) TSUNAGU_RETURN_IF_ERROR(CheckEmail(*patch.email));

  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows, tx->Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?",
                           {Int(user_id)}));
  if (rows.empty()) return core::NotFound("user not found");
  User user = CredentialsFromRow(rows.rows[0]).user;
  const bool was_disabled = user.disabled;
  if (patch.display_name) user.display_name = internal::TrimSpaces(*patch.display_name);
  if (patch.kana) user.kana = internal::TrimSpaces(*patch.kana);
  if (patch.email) user.email = internal::TrimSpaces(*patch.email);
  if (patch.occupation) user.occupation = *patch.occupation;
  if (patch.role) user.role = *patch.role;
  if (patch.disabled) user.disabled = *patch.disabled;

  TSUNAGU_RETURN_IF_ERROR(
      tx->Execute(
            "UPDATE users SET display_name = ?, kana = ?, email = ?, occupation = ?, "
            "role = ?, disabled = ?, updated_at = ? WHERE id = ?",
            {Text(user.display_name), Text(user.kana), Text(user.email),
             Text(std::string(ToString(user.occupation))), Text(std::string(ToString(user.role))),
             Int(user.disabled ? 1 : 0), Int(clock_.NowMillis()), Int(user_id)})
          .status());
  if (user.disabled && !was_disabled) TSUNAGU_RETURN_IF_ERROR(EndAllSessions(*tx, user_id));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  UserChanged(user_id);
  return user;
}

core::Result<std::string> AccountService::ResetPassword(int64_t user_id) {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentials(user_id));
  std::string password;
  // A random 16-character string practically never equals the login ID; the
  // loop only makes the policy guarantee unconditional.
  do {
    password = RandomTemporaryPassword(kTemporaryPasswordLength);
  } while (!CheckPasswordPolicy(password, c.user.login_id, false).ok());
  TSUNAGU_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));

  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t changed,
      tx->Execute("UPDATE users SET password_hash = ?, must_change_password = 1, "
                  "failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?",
                  {Text(hash), Int(clock_.NowMillis()), Int(user_id)}));
  if (changed == 0) return core::NotFound("user not found");
  TSUNAGU_RETURN_IF_ERROR(EndAllSessions(*tx, user_id));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  return password;
}

core::Result<bool> AccountService::RecordLoginFailure(int64_t user_id) {
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows, tx->Query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? "
                           "RETURNING failed_logins",
                           {Int(user_id)}));
  if (rows.empty()) return core::NotFound("user not found");
  bool locked = false;
  if (rows.rows[0].Int(0) >= kMaxFailedLogins) {
    TSUNAGU_RETURN_IF_ERROR(
        tx->Execute("UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                    {Int(clock_.NowMillis() + kLockoutMillis), Int(user_id)})
            .status());
    locked = true;
  }
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  return locked;
}

core::Status AccountService::RecordLoginSuccess(int64_t user_id) {
  return db_
      .Execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?", {Int(user_id)})
      .status();
}

core::Status AccountService::UpgradePasswordHash(int64_t user_id, const std::string& password) {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentials(user_id));
  if (hasher_.NeedsRehash(c.password_hash)) {
    TSUNAGU_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
    // Only replace the hash that was verified (a concurrent change wins).
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                    {Text(hash), Int(user_id), Text(c.password_hash)})
            .status());
  }
  return core::Status::Ok();
}

core::Status AccountService::ResetTotp(int64_t user_id) {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentials(user_id));
  if (!c.user.totp_enabled) return core::Conflict("two-factor authentication is not set up");
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_RETURN_IF_ERROR(
      tx->Execute("UPDATE users SET totp_enabled = 0, totp_secret = '', totp_last_step = 0, "
                  "updated_at = ? WHERE id = ?",
                  {Int(clock_.NowMillis()), Int(user_id)})
          .status());
  TSUNAGU_RETURN_IF_ERROR(EndAllSessions(*tx, user_id));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  UserChanged(user_id);
  return core::Status::Ok();
}

core::Status AccountService::ChangePassword(int64_t user_id, const std::string& current_password,
                                            const std::string& new_password) {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentials(user_id));
  if (!hasher_.Verify(current_password, c.password_hash)) {
    // Counted so that a hijacked session cannot be used to guess the password.
    TSUNAGU_RETURN_IF_ERROR(RecordLoginFailure(user_id).status());
    return core::InvalidInput("current password is wrong");
  }
  TSUNAGU_RETURN_IF_ERROR(CheckPasswordPolicy(new_password, c.user.login_id, c.user.totp_enabled));
  if (new_password == current_password) {
    return core::InvalidInput("new password must differ from the current password");
  }
  TSUNAGU_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(new_password));
  TSUNAGU_RETURN_IF_ERROR(
      db_.Execute("UPDATE users SET password_hash = ?, must_change_password = 0, updated_at = ? "
                  "WHERE id = ?",
                  {Text(hash), Int(clock_.NowMillis()), Int(user_id)})
          .status());
  UserChanged(user_id);
  return core::Status::Ok();
}

core::Status AccountService::SetPendingTotpSecret(int64_t user_id,
                                                  const std::string& secret_base32) {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, LoadCredentials(user_id));
  if (c.user.totp_enabled) {
    return core::Conflict("two-factor authentication is already enabled");
  }
  TSUNAGU_RETURN_IF_ERROR(db_.Execute("UPDATE users SET totp_secret = ?, updated_at = ? "
                                      "WHERE id = ? AND totp_enabled = 0",
                                      {Text(secret_base32), Int(clock_.NowMillis()), Int(user_id)})
                              .status());
  return core::Status::Ok();
}

core::Status AccountService::EnableTotp(int64_t user_id, int64_t step) {
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE users SET totp_enabled = 1, totp_last_step = ?, updated_at = ? "
                  "WHERE id = ? AND totp_enabled = 0 AND totp_secret <> ''",
                  {Int(step), Int(clock_.NowMillis()), Int(user_id)}));
  if (changed == 0) {
    return core::Conflict("no pending two-factor enrolment (start it again)");
  }
  UserChanged(user_id);
  return core::Status::Ok();
}

core::Status AccountService::AcceptTotpStep(int64_t user_id, int64_t step) {
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
                  {Int(step), Int(user_id), Int(step)}));
  if (changed == 0)
    return core::Unauthenticated("this code was already used; wait for the next one");
  return core::Status::Ok();
}

core::Status AccountService::EndAllSessions(store::Executor& ex, int64_t user_id) {
  TSUNAGU_RETURN_IF_ERROR(
      ex.Execute("DELETE FROM sessions WHERE user_id = ?", {Int(user_id)}).status());
  TSUNAGU_RETURN_IF_ERROR(
      ex.Execute("DELETE FROM mfa_challenges WHERE user_id = ?", {Int(user_id)}).status());
  UserChanged(user_id);
  return core::Status::Ok();
}

}  // namespace tsunagu::auth
