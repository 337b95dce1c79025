#pragma once
// User accounts: creation, lookup, password policy, admin reset, and the
// credential bookkeeping (password hash, failed logins, lockout, TOTP secret
// and last accepted step) that SessionService uses during login.
// Owns the "users", "sessions" and "mfa_challenges" tables (the latter two are
// read and written by SessionService of the same module).
// Thread-safe (stateless over the Database; counters are updated atomically in SQL).
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::auth {

class PasswordHasher;

struct NewUser {
  int64_t facility_id = 0;
  std::string login_id;      // 3-64 chars [A-Za-z0-9._@-], unique
  std::string display_name;  // required
  std::string kana;
  std::string email;
  Occupation occupation = Occupation::kClerk;
  Role role = Role::kStaff;
  std::string password;  // checked against the policy
  bool must_change_password = true;
};

struct UserPatch {
  std::optional<std::string> display_name, kana, email;
  std::optional<Occupation> occupation;
  std::optional<Role> role;
  std::optional<bool> disabled;
};

// Everything the login path needs to know about a user. Never serialised.
struct Credentials {
  User user;
  std::string password_hash;  // "$argon2id$..."
  std::string totp_secret;    // base32; may be set while !user.totp_enabled (enrolment pending)
  int64_t totp_last_step = 0;
  int64_t failed_logins = 0;
  int64_t locked_until = 0;  // ms UTC; locked while now < locked_until
};

class AccountService {
 public:
  static constexpr int kMaxFailedLogins = 5;
  static constexpr int64_t kLockoutMillis = 15 * 60 * 1000;
  static constexpr size_t kMinPasswordLength = 13;
  static constexpr size_t kMinPasswordLengthWithSecondFactor = 8;
  static constexpr size_t kMaxPasswordLength = 256;  // characters (code points)
  static constexpr size_t kTemporaryPasswordLength = 16;

  // The references must outlive the service.
  AccountService(store::Database& db, const core::Clock& clock, PasswordHasher& hasher);
  // The store migrations of the auth module (users, sessions, mfa_challenges).
  static store::MigrationSet Migrations();

  // InvalidInput (bad login id / display name / policy), Conflict (login id taken).
  core::Result<User> Create(const NewUser& user);
  // NotFound when there is no such user.
  core::Result<User> Get(int64_t user_id) const;
  core::Result<User> FindByLogin(const std::string& login_id) const;
  // Ordered by id; empty for an unknown facility.
  std::vector<User> ListByFacility(int64_t facility_id) const;
  // The users with these ids that exist, in id order, for showing who they
  // are (names, facilities, occupations of a care group's members). Read in
  // one query and cached for a minute; a change through this service is
  // seen at once, one made by another process within the minute.
  core::Result<std::vector<User>> ListByIds(const std::vector<int64_t>& ids) const;
  // NotFound, InvalidInput (empty display name). Disabling a user ends all of
  // their sessions.
  core::Result<User> Update(int64_t user_id, const UserPatch& patch);
  // Sets a random temporary password (returned, 16 chars) and forces a change
  // at next login; clears a lockout and ends all sessions of the user.
  core::Result<std::string> ResetPassword(int64_t user_id);
  // Turns the user's second factor off (a lost phone) and ends the user's
  // sessions; the user enrols again at the next login where 2FA is required.
  // NotFound for an unknown user, Conflict when no second factor is set up.
  core::Status ResetTotp(int64_t user_id);
  // Policy: >= 13 chars, or >= 8 with a second factor; not the login id;
  // valid UTF-8 without control characters; at most 256 characters.
  // Characters are Unicode code points (a Japanese passphrase counts per character).
  static core::Status CheckPasswordPolicy(const std::string& password, const std::string& login_id,
                                          bool has_second_factor);

  // --- Credential bookkeeping (used by SessionService) ---

  // NotFound when there is no such user.
  core::Result<Credentials> LoadCredentials(int64_t user_id) const;
  core::Result<Credentials> LoadCredentialsByLogin(const std::string& login_id) const;
  // Counts a failed login; the kMaxFailedLogins-th consecutive failure locks
  // the account for kLockoutMillis (and restarts the count). Returns true when
  // this failure locked the account.
  core::Result<bool> RecordLoginFailure(int64_t user_id);
  // Resets the failure count and any lock (after the last factor succeeded).
  core::Status RecordLoginSuccess(int64_t user_id);
  // Re-hashes the (just verified) `password` if the stored hash uses other
  // Argon2 parameters than the current hasher.
  core::Status UpgradePasswordHash(int64_t user_id, const std::string& password);
  // InvalidInput if `current_password` is wrong (counted like a failed login),
  // if the new password violates the policy or equals the current one.
  // Clears must_change_password. Does not end sessions (SessionService does).
  core::Status ChangePassword(int64_t user_id, const std::string& current_password,
                              const std::string& new_password);
  // Stores a not-yet-confirmed TOTP secret (replacing an earlier pending one).
  // Conflict if TOTP is already enabled.
  core::Status SetPendingTotpSecret(int64_t user_id, const std::string& secret_base32);
  // Marks the pending secret as enabled, recording `step` as used.
  core::Status EnableTotp(int64_t user_id, int64_t step);
  // Atomically records `step` as the last accepted TOTP step. Unauthenticated
  // if the step is not newer than the last accepted one (a replayed code).
  core::Status AcceptTotpStep(int64_t user_id, int64_t step);

  // Called (with the user id) whenever this service changes a user in a way
  // that a resolved session reflects (profile, role, disabled, password,
  // second factor) or ends the user's sessions, so that in-memory session
  // caches drop them at once. Set once at start, before serving.
  void SetUserChangedListener(std::function<void(int64_t user_id)> listener) {
    user_changed_ = std::move(listener);
  }

 private:
  core::Status EndAllSessions(store::Executor& ex, int64_t user_id);

  std::function<void(int64_t)> user_changed_;
  void UserChanged(int64_t user_id) const;
  store::Database& db_;
  const core::Clock& clock_;
  PasswordHasher& hasher_;

  static constexpr int64_t kProfileCacheMillis = 60'000;
  static constexpr size_t kProfileCacheEntries = 20'000;
  struct CachedProfile {
    User user;
    int64_t at = 0;
  };
  mutable std::mutex profiles_mu_;  // guards the two fields below
  // Moved by every change: a read that began before it is not cached.
  mutable uint64_t profiles_generation_ = 0;
  mutable std::unordered_map<int64_t, CachedProfile> profiles_;
};

}  // namespace tsunagu::auth
