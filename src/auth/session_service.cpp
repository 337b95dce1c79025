#include "auth/session_service.hpp"

#include "auth/internal/text_checks.hpp"
#include "auth/password_hasher.hpp"
#include "auth/qr_svg.hpp"
#include "auth/totp.hpp"
#include "core/log.hpp"
#include "core/random.hpp"

namespace tsunagu::auth {
namespace {

using store::Value;

constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxTokenLength = 128;
// Longer inputs are rejected before hashing: Argon2 cost grows with length.
constexpr size_t kMaxPasswordBytes = 4096;
constexpr int64_t kPurgeIntervalMillis = 10 * 60 * 1000;

Value Int(int64_t v) { return Value{v}; }
Value Text(std::string s) { return Value{std::move(s)}; }

void Trace(LoginTrace* trace, const User& user) {
  if (trace == nullptr) return;
  trace->user_id = user.id;
  trace->facility_id = user.facility_id;
  trace->user_name = user.display_name;
  trace->occupation = std::string(ToString(user.occupation));
}

void TraceReason(LoginTrace* trace, std::string reason) {
  if (trace != nullptr) trace->reason = std::move(reason);
}

}  // namespace

SessionService::SessionService(store::Database& db, const core::Clock& clock,
                               AccountService& accounts, PasswordHasher& hasher, const Totp& totp,
                               FacilityRequiresMfa facility_requires_mfa)
    : db_(db),
      clock_(clock),
      accounts_(accounts),
      hasher_(hasher),
      totp_(totp),
      facility_requires_mfa_(std::move(facility_requires_mfa)) {
  auto dummy = hasher_.Hash(core::RandomToken(16));
  if (dummy) dummy_hash_ = *dummy;
  accounts_.SetUserChangedListener([this](int64_t user_id) { ForgetCachedUser(user_id); });
}

bool SessionService::MfaEnrollmentRequired(const User& user) const {
  if (user.totp_enabled) return false;
  if (user.role == Role::kNetworkAdmin || user.role == Role::kFacilityAdmin) return true;
  return facility_requires_mfa_ && facility_requires_mfa_(user.facility_id);
}

core::Result<LoginResult> SessionService::Login(const std::string& login_id,
                                                const std::string& password,
                                                const std::string& client_address,
                                                LoginTrace* trace) {
  if (login_id.empty() || password.empty()) {
    TraceReason(trace, "empty login id or password");
    return core::InvalidInput("login_id and password are required");
  }
  MaybePurge();
  if (password.size() > kMaxPasswordBytes || login_id.size() > 64) {
    TraceReason(trace, "oversized credentials");
    return core::Unauthenticated(kBadCredentials);
  }
  auto credentials = accounts_.LoadCredentialsByLogin(login_id);
  if (!credentials) {
    if (credentials.error().code() != core::Code::kNotFound) return credentials.error();
    // Same work as for a real user, so response time does not reveal the ID.
    (void)hasher_.Verify(password, dummy_hash_);
    TraceReason(trace, "unknown login id");
    return core::Unauthenticated(kBadCredentials);
  }
  const Credentials& c = *credentials;
  Trace(trace, c.user);
  if (c.locked_until > clock_.NowMillis()) {
    TraceReason(trace, "account locked");
    return core::Unauthenticated(kLocked);
  }
  if (!hasher_.Verify(password, c.password_hash)) {
    TraceReason(trace, "wrong password");
    TSUNAGU_RETURN_IF_ERROR(CountFailure(c.user.id, trace));
    if (trace != nullptr && trace->locked_now) return core::Unauthenticated(kLocked);
    return core::Unauthenticated(kBadCredentials);
  }
  if (c.user.disabled) {
    TraceReason(trace, "account disabled");
    return core::Unauthenticated("account disabled; contact your facility administrator");
  }
  if (auto s = accounts_.UpgradePasswordHash(c.user.id, password); !s.ok()) {
    core::LogWarn("auth.rehash_failed", {{"user_id", std::to_string(c.user.id)}});
  }

  if (c.user.totp_enabled) {
    LoginResult result;
    result.mfa_required = true;
    result.mfa_token = core::RandomToken(kTokenBytes);
    const int64_t now = clock_.NowMillis();
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO mfa_challenges (token_hash, user_id, client_address, attempts, "
                    "created_at, expires_at) VALUES (?, ?, ?, 0, ?, ?)",
                    {Text(internal::Sha256Hex(result.mfa_token)), Int(c.user.id),
                     Text(client_address), Int(now), Int(now + kMfaChallengeMillis)})
            .status());
    TraceReason(trace, "password ok, totp required");
    return result;
  }
  TSUNAGU_RETURN_IF_ERROR(accounts_.RecordLoginSuccess(c.user.id));
  TraceReason(trace, "password");
  return StartSession(c.user, client_address);
}

core::Result<LoginResult> SessionService::VerifyTotp(const std::string& mfa_token,
                                                     const std::string& code,
                                                     const std::string& client_address,
                                                     LoginTrace* trace) {
  if (mfa_token.empty() || mfa_token.size() > kMaxTokenLength) {
    TraceReason(trace, "unknown mfa token");
    return core::Unauthenticated(kMfaExpired);
  }
  const std::string token_hash = internal::Sha256Hex(mfa_token);
  TSUNAGU_ASSIGN_OR_RETURN(auto rows,
                           db_.Query("SELECT id, user_id, attempts, expires_at FROM mfa_challenges "
                                     "WHERE token_hash = ?",
                                     {Text(token_hash)}));
  if (rows.empty()) {
    TraceReason(trace, "unknown mfa token");
    return core::Unauthenticated(kMfaExpired);
  }
  const int64_t challenge_id = rows.rows[0].Int(0);
  const int64_t user_id = rows.rows[0].Int(1);
  const int64_t attempts = rows.rows[0].Int(2);
  const int64_t expires_at = rows.rows[0].Int(3);
  auto drop_challenge = [&] {
    return db_.Execute("DELETE FROM mfa_challenges WHERE id = ?", {Int(challenge_id)}).status();
  };
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, accounts_.LoadCredentials(user_id));
  Trace(trace, c.user);
  if (clock_.NowMillis() >= expires_at || attempts >= kMfaMaxAttempts) {
    TSUNAGU_RETURN_IF_ERROR(drop_challenge());
    TraceReason(trace, "mfa token expired");
    return core::Unauthenticated(kMfaExpired);
  }
  if (c.locked_until > clock_.NowMillis()) {
    TSUNAGU_RETURN_IF_ERROR(drop_challenge());
    TraceReason(trace, "account locked");
    return core::Unauthenticated(kLocked);
  }
  if (c.user.disabled || !c.user.totp_enabled) {
    TSUNAGU_RETURN_IF_ERROR(drop_challenge());
    TraceReason(trace, c.user.disabled ? "account disabled" : "totp no longer enabled");
    return core::Unauthenticated(kMfaExpired);
  }

  core::Status code_status;
  auto step = totp_.Match(c.totp_secret, code);
  if (!step) {
    TraceReason(trace, "wrong totp code");
    code_status = core::Unauthenticated("invalid code");
  } else {
    code_status = accounts_.AcceptTotpStep(user_id, *step);
    if (!code_status.ok()) TraceReason(trace, "replayed totp code");
  }
  if (!code_status.ok()) {
    if (code_status.code() != core::Code::kUnauthenticated) return code_status;
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("UPDATE mfa_challenges SET attempts = attempts + 1 WHERE id = ?",
                    {Int(challenge_id)})
            .status());
    TSUNAGU_RETURN_IF_ERROR(CountFailure(user_id, trace));
    if (trace != nullptr && trace->locked_now) {
      TSUNAGU_RETURN_IF_ERROR(drop_challenge());
      return core::Unauthenticated(kLocked);
    }
    return code_status;
  }
  TSUNAGU_RETURN_IF_ERROR(drop_challenge());
  TSUNAGU_RETURN_IF_ERROR(accounts_.RecordLoginSuccess(user_id));
  TraceReason(trace, "password+totp");
  return StartSession(c.user, client_address);
}

core::Status SessionService::CountFailure(int64_t user_id, LoginTrace* trace) {
  TSUNAGU_ASSIGN_OR_RETURN(bool locked, accounts_.RecordLoginFailure(user_id));
  if (trace != nullptr) trace->locked_now = locked;
  if (locked) {
    core::LogWarn("auth.lockout", {{"user_id", std::to_string(user_id)}});
    // A locked account keeps no pending second-factor challenges.
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("DELETE FROM mfa_challenges WHERE user_id = ?", {Int(user_id)}).status());
  }
  return core::Status::Ok();
}

core::Result<LoginResult> SessionService::StartSession(const User& user,
                                                       const std::string& client_address) {
  LoginResult result;
  result.session_token = core::RandomToken(kTokenBytes);
  SessionInfo& s = result.session;
  s.user = user;
  s.csrf_token = core::RandomToken(kTokenBytes);
  s.created_at = s.last_seen_at = clock_.NowMillis();
  const std::string public_id = core::RandomHex(8);
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(
          "INSERT INTO sessions (token_hash, public_id, user_id, csrf_token, client_address, "
          "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
          {Text(internal::Sha256Hex(result.session_token)), Text(public_id), Int(user.id),
           Text(s.csrf_token), Text(client_address), Int(s.created_at), Int(s.last_seen_at)}));
  if (rows.empty()) return core::Internal("session was not created", "INSERT returned no id");
  s.row_id = rows.rows[0].Int(0);
  s.principal = Principal{user.id,         user.facility_id, user.login_id, user.display_name,
                          user.occupation, user.role,        public_id};
  s.must_change_password = user.must_change_password;
  s.mfa_enrollment_required = MfaEnrollmentRequired(user);
  return result;
}

core::Result<SessionInfo> SessionService::Resolve(const std::string& session_token) {
  TSUNAGU_ASSIGN_OR_RETURN(auto shared, ResolveShared(session_token));
  return *shared;
}

core::Result<std::shared_ptr<const SessionInfo>> SessionService::ResolveShared(
    const std::string& session_token) {
  if (session_token.empty() || session_token.size() > kMaxTokenLength) {
    return core::Unauthenticated(kLoginRequired);
  }
  {
    // The cache is keyed by the token itself (memory holds the cookie value
    // anyway): a hit costs no hashing.
    const int64_t now = clock_.NowMillis();
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(session_token);
    if (it != cache_.end() && now - it->second.cached_at < kCacheMillis &&
        now - it->second.info->created_at < kAbsoluteTimeoutMillis &&
        now - it->second.info->last_seen_at < kTouchIntervalMillis) {
      return it->second.info;
    }
  }
  const std::string token_hash = internal::Sha256Hex(session_token);
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT id, public_id, user_id, csrf_token, created_at, last_seen_at "
                           "FROM sessions WHERE token_hash = ?",
                           {Text(token_hash)}));
  if (rows.empty()) return core::Unauthenticated(kLoginRequired);
  const store::Row& row = rows.rows[0];
  SessionInfo s;
  s.row_id = row.Int(0);
  const std::string public_id = row.Text(1);
  const int64_t user_id = row.Int(2);
  s.csrf_token = row.Text(3);
  s.created_at = row.Int(4);
  s.last_seen_at = row.Int(5);
  const int64_t now = clock_.NowMillis();
  auto end = [&] {
    return db_.Execute("DELETE FROM sessions WHERE id = ?", {Int(s.row_id)}).status();
  };
  if (now - s.last_seen_at >= kIdleTimeoutMillis || now - s.created_at >= kAbsoluteTimeoutMillis) {
    TSUNAGU_RETURN_IF_ERROR(end());
    return core::Unauthenticated(kSessionExpired);
  }
  auto user = accounts_.Get(user_id);
  if (!user || user->disabled) {
    TSUNAGU_RETURN_IF_ERROR(end());
    return core::Unauthenticated(kSessionExpired);
  }
  if (now - s.last_seen_at >= kTouchIntervalMillis) {
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", {Int(now), Int(s.row_id)})
            .status());
    s.last_seen_at = now;
  }
  s.user = *user;
  s.principal = Principal{user->id,         user->facility_id, user->login_id, user->display_name,
                          user->occupation, user->role,        public_id};
  s.must_change_password = user->must_change_password;
  s.mfa_enrollment_required = MfaEnrollmentRequired(*user);
  auto shared = std::make_shared<const SessionInfo>(std::move(s));
  {
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kMaxCachedSessions) cache_.clear();
    cache_[session_token] = CachedSession{shared, now, token_hash};
  }
  return shared;
}

void SessionService::ForgetCached(const std::string& token_hash) {
  std::lock_guard lock(cache_mu_);
  std::erase_if(cache_,
                [&token_hash](const auto& kv) { return kv.second.token_hash == token_hash; });
}

void SessionService::ForgetCachedUser(int64_t user_id) {
  std::lock_guard lock(cache_mu_);
  std::erase_if(cache_, [user_id](const auto& kv) { return kv.second.info->user.id == user_id; });
}

core::Status SessionService::Logout(const std::string& session_token) {
  if (session_token.empty() || session_token.size() > kMaxTokenLength) {
    return core::Status::Ok();
  }
  ForgetCached(internal::Sha256Hex(session_token));
  return db_
      .Execute("DELETE FROM sessions WHERE token_hash = ?",
               {Text(internal::Sha256Hex(session_token))})
      .status();
}

core::Status SessionService::EndSessionsOf(int64_t user_id, int64_t keep_row_id) {
  ForgetCachedUser(user_id);
  return db_
      .Execute("DELETE FROM sessions WHERE user_id = ? AND id <> ?",
               {Int(user_id), Int(keep_row_id)})
      .status();
}

core::Result<int64_t> SessionService::PurgeExpired() {
  const int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t sessions,
      db_.Execute("DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?",
                  {Int(now - kIdleTimeoutMillis), Int(now - kAbsoluteTimeoutMillis)}));
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t challenges,
      db_.Execute("DELETE FROM mfa_challenges WHERE expires_at <= ?", {Int(now)}));
  return sessions + challenges;
}

void SessionService::MaybePurge() {
  const int64_t now = clock_.NowMillis();
  int64_t last = last_purge_.load();
  if (now - last < kPurgeIntervalMillis) return;
  if (!last_purge_.compare_exchange_strong(last, now)) return;  // another thread purges
  if (auto purged = PurgeExpired(); !purged) {
    core::LogWarn("auth.purge_failed", {{"detail", purged.error().detail()}});
  }
}

core::Status SessionService::ChangePassword(const SessionInfo& session,
                                            const std::string& current_password,
                                            const std::string& new_password) {
  if (current_password.size() > kMaxPasswordBytes || new_password.size() > kMaxPasswordBytes) {
    return core::InvalidInput("password is too long");
  }
  TSUNAGU_RETURN_IF_ERROR(
      accounts_.ChangePassword(session.user.id, current_password, new_password));
  return EndSessionsOf(session.user.id, session.row_id);
}

core::Result<TotpEnrollment> SessionService::StartTotpEnrollment(int64_t user_id) {
  TSUNAGU_ASSIGN_OR_RETURN(User user, accounts_.Get(user_id));
  if (user.totp_enabled) return core::Conflict("two-factor authentication is already enabled");
  TotpEnrollment enrollment;
  enrollment.secret = totp_.NewSecret();
  TSUNAGU_RETURN_IF_ERROR(accounts_.SetPendingTotpSecret(user_id, enrollment.secret));
  enrollment.otpauth_uri = Totp::OtpauthUri(enrollment.secret, user.login_id);
  TSUNAGU_ASSIGN_OR_RETURN(enrollment.qr_svg, QrSvg(enrollment.otpauth_uri));
  return enrollment;
}

core::Result<User> SessionService::ConfirmTotpEnrollment(int64_t user_id, const std::string& code) {
  TSUNAGU_ASSIGN_OR_RETURN(Credentials c, accounts_.LoadCredentials(user_id));
  if (c.user.totp_enabled) return core::Conflict("two-factor authentication is already enabled");
  if (c.totp_secret.empty()) {
    return core::Conflict("no pending two-factor enrolment (start it again)");
  }
  auto step = totp_.Match(c.totp_secret, code);
  if (!step) {
    return core::InvalidInput(
        "the code does not match; check the authenticator app and the device clock");
  }
  TSUNAGU_RETURN_IF_ERROR(accounts_.EnableTotp(user_id, *step));
  return accounts_.Get(user_id);
}

}  // namespace tsunagu::auth
