#pragma once
// Login flow (password, then TOTP when enabled), sessions and TOTP enrolment.
//
// Sessions: the cookie holds a random 32-byte token (base64url); only its
// SHA-256 is stored (table "sessions"), with a per-session CSRF token. A
// session ends after kIdleTimeoutMillis without requests or
// kAbsoluteTimeoutMillis after login, on logout, on a password reset and when
// the user is disabled. MFA challenges (table "mfa_challenges") are stored the
// same way, live kMfaChallengeMillis and allow kMfaMaxAttempts codes.
//
// Failed logins: kMaxFailedLogins consecutive failures (wrong password or
// wrong TOTP code) lock the account for 15 minutes (AccountService). Unknown
// login IDs and wrong passwords give the same message and take the same time.
//
// Thread-safety: safe to share between threads; all state is in the database.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/account_service.hpp"
#include "auth/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"

namespace tsunagu::auth {

class PasswordHasher;
class Totp;

// An active session as seen by the middleware and the routes.
struct SessionInfo {
  Principal principal;  // principal.session_id is the public id (safe for logs)
  User user;
  std::string csrf_token;
  bool must_change_password = false;
  bool mfa_enrollment_required = false;
  int64_t created_at = 0;    // ms UTC
  int64_t last_seen_at = 0;  // ms UTC
  int64_t row_id = 0;        // sessions.id
};

struct LoginResult {
  // True: the password was right and a TOTP code is needed; mfa_token is set
  // and there is no session yet. False: session_token (the cookie value) and
  // session are set.
  bool mfa_required = false;
  std::string mfa_token;
  std::string session_token;
  SessionInfo session;
};

// What happened during a login attempt, for the audit log (filled on success
// and on failure; user_id 0 when the login ID is unknown).
struct LoginTrace {
  int64_t user_id = 0;
  int64_t facility_id = 0;
  std::string user_name;
  std::string occupation;
  bool locked_now = false;  // this failure locked the account
  std::string reason;       // internal: "wrong password", "unknown login id", ...
};

struct TotpEnrollment {
  std::string secret;       // base32
  std::string otpauth_uri;  // for authenticator apps
  std::string qr_svg;       // the URI as a QR code (SVG markup)
};

class SessionService {
 public:
  static constexpr int64_t kIdleTimeoutMillis = 30 * 60 * 1000;
  static constexpr int64_t kAbsoluteTimeoutMillis = 12 * 60 * 60 * 1000;
  static constexpr int64_t kMfaChallengeMillis = 5 * 60 * 1000;
  static constexpr int kMfaMaxAttempts = 5;
  // last_seen_at is written at most this often (so idle expiry may come up
  // to one minute early), sparing a database write on every request.
  static constexpr int64_t kTouchIntervalMillis = 60 * 1000;
  // Resolved sessions are cached in memory this long, so that a burst of
  // requests costs one database round trip. Logout, password change and
  // ending a user's sessions through this service drop the entries at once;
  // changes made elsewhere (another server process, an admin disabling the
  // user) take effect within this time.
  static constexpr int64_t kCacheMillis = 1000;
  static constexpr size_t kMaxCachedSessions = 20000;

  inline static const char* const kBadCredentials = "invalid login ID or password";
  inline static const char* const kLocked = "account locked, try again later";
  inline static const char* const kLoginRequired = "login required";
  inline static const char* const kSessionExpired = "session expired, please log in again";
  inline static const char* const kMfaExpired = "login expired, please log in again";

  // Facility policy (provided by the registry via the composition root):
  // true if staff of the facility must use two-factor authentication.
  using FacilityRequiresMfa = std::function<bool(int64_t facility_id)>;

  // All references must outlive the service. `facility_requires_mfa` may be empty.
  SessionService(store::Database& db, const core::Clock& clock, AccountService& accounts,
                 PasswordHasher& hasher, const Totp& totp,
                 FacilityRequiresMfa facility_requires_mfa);

  // InvalidInput (empty fields); Unauthenticated with kBadCredentials (unknown
  // login ID or wrong password), kLocked, or "account disabled".
  core::Result<LoginResult> Login(const std::string& login_id, const std::string& password,
                                  const std::string& client_address, LoginTrace* trace = nullptr);
  // Second step. Unauthenticated: kMfaExpired (unknown/expired/used-up token),
  // "invalid code", a replayed code, kLocked.
  core::Result<LoginResult> VerifyTotp(const std::string& mfa_token, const std::string& code,
                                       const std::string& client_address,
                                       LoginTrace* trace = nullptr);

  // The session of a cookie token and refreshes its idle timer.
  // Unauthenticated kLoginRequired (unknown token) or kSessionExpired.
  core::Result<SessionInfo> Resolve(const std::string& session_token);
  // The same, sharing the cached value instead of copying it (the request
  // path: no allocation on a cache hit).
  core::Result<std::shared_ptr<const SessionInfo>> ResolveShared(const std::string& session_token);
  // Ends the session (no error if it is already gone).
  core::Status Logout(const std::string& session_token);
  // Ends every session of the user except `keep_row_id` (0: all).
  core::Status EndSessionsOf(int64_t user_id, int64_t keep_row_id = 0);
  // Deletes expired sessions and challenges; returns how many rows went.
  core::Result<int64_t> PurgeExpired();

  // Checks the current password and the policy, clears must_change_password
  // and ends the user's other sessions. Errors as AccountService::ChangePassword.
  core::Status ChangePassword(const SessionInfo& session, const std::string& current_password,
                              const std::string& new_password);

  // Starts (or restarts) TOTP enrolment: a new pending secret.
  // Conflict if TOTP is already enabled.
  core::Result<TotpEnrollment> StartTotpEnrollment(int64_t user_id);
  // Enables TOTP if `code` matches the pending secret. InvalidInput on a wrong
  // code, Conflict when there is no pending enrolment or TOTP is already on.
  core::Result<User> ConfirmTotpEnrollment(int64_t user_id, const std::string& code);

  // An admin, or staff of a facility that requires 2FA, without TOTP.
  bool MfaEnrollmentRequired(const User& user) const;

 private:
  core::Result<LoginResult> StartSession(const User& user, const std::string& client_address);
  core::Status CountFailure(int64_t user_id, LoginTrace* trace);
  void MaybePurge();

  store::Database& db_;
  const core::Clock& clock_;
  AccountService& accounts_;
  PasswordHasher& hasher_;
  const Totp& totp_;
  FacilityRequiresMfa facility_requires_mfa_;
  std::string dummy_hash_;  // verified for unknown login IDs (equal timing)
  std::atomic<int64_t> last_purge_{0};

  struct CachedSession {
    std::shared_ptr<const SessionInfo> info;
    int64_t cached_at = 0;
    std::string token_hash;
  };
  void ForgetCached(const std::string& token_hash);
  void ForgetCachedUser(int64_t user_id);
  std::mutex cache_mu_;
  std::unordered_map<std::string, CachedSession> cache_;  // by session token
};

}  // namespace tsunagu::auth
