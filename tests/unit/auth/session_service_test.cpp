#include "auth/session_service.hpp"

#include <gtest/gtest.h>

#include "auth_fixture.hpp"

namespace tsunagu::auth {
namespace {

constexpr int64_t kMinute = 60 * 1000;

class SessionServiceTest : public AuthFixture {};

TEST_P(SessionServiceTest, LoginCreatesSession) {
  User user = CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value()) << login.status().ToString();
  EXPECT_FALSE(login->mfa_required);
  EXPECT_GE(login->session_token.size(), 43u);  // 32 bytes base64url
  EXPECT_GE(login->session.csrf_token.size(), 43u);
  EXPECT_NE(login->session_token, login->session.csrf_token);
  EXPECT_EQ(login->session.principal.user_id, user.id);
  EXPECT_EQ(login->session.principal.login_id, "taro");
  EXPECT_EQ(login->session.principal.occupation, Occupation::kNurse);
  EXPECT_FALSE(login->session.principal.session_id.empty());

  auto resolved = sessions_->Resolve(login->session_token);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->principal.user_id, user.id);
  EXPECT_EQ(resolved->csrf_token, login->session.csrf_token);
  EXPECT_EQ(resolved->principal.session_id, login->session.principal.session_id);
  EXPECT_FALSE(resolved->must_change_password);
  EXPECT_FALSE(resolved->mfa_enrollment_required);

  // Only a hash of the cookie token is stored.
  auto rows = db().Query("SELECT token_hash FROM sessions");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE(rows->rows[0].Text(0), login->session_token);
  EXPECT_EQ(rows->rows[0].Text(0).size(), 64u);
}

TEST_P(SessionServiceTest, WrongPasswordAndUnknownUserLookTheSame) {
  CreateUser("taro");
  auto wrong = sessions_->Login("taro", "not the password", "10.0.0.1");
  auto unknown = sessions_->Login("jiro", "not the password", "10.0.0.1");
  ASSERT_FALSE(wrong.has_value());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(wrong.error().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(unknown.error().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(wrong.error().message(), "invalid login ID or password");
  EXPECT_EQ(unknown.error().message(), wrong.error().message());
  EXPECT_EQ(sessions_->Login("", "x", "10.0.0.1").status().code(), core::Code::kInvalidInput);
}

TEST_P(SessionServiceTest, LockoutAfterFiveFailuresReleasedAfterFifteenMinutes) {
  User user = CreateUser("taro");
  for (int i = 0; i < 4; ++i) {
    LoginTrace trace;
    auto r = sessions_->Login("taro", "wrong password!", "10.0.0.1", &trace);
    EXPECT_EQ(r.status().message(), "invalid login ID or password");
    EXPECT_FALSE(trace.locked_now);
    EXPECT_EQ(trace.user_id, user.id);
  }
  LoginTrace fifth;
  auto locked = sessions_->Login("taro", "wrong password!", "10.0.0.1", &fifth);
  EXPECT_EQ(locked.status().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(locked.status().message(), "account locked, try again later");
  EXPECT_TRUE(fifth.locked_now);

  // The right password does not help while locked.
  EXPECT_EQ(sessions_->Login("taro", kGoodPassword, "10.0.0.1").status().message(),
            "account locked, try again later");
  clock_.Advance(14 * kMinute);
  EXPECT_EQ(sessions_->Login("taro", kGoodPassword, "10.0.0.1").status().message(),
            "account locked, try again later");
  clock_.Advance(1 * kMinute);
  auto released = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(released.has_value()) << released.status().ToString();

  // Success resets the count: four more failures do not lock.
  for (int i = 0; i < 4; ++i) (void)sessions_->Login("taro", "wrong password!", "10.0.0.1");
  EXPECT_TRUE(sessions_->Login("taro", kGoodPassword, "10.0.0.1").has_value());
}

TEST_P(SessionServiceTest, CachedSessionFollowsAccountChangesAtOnce) {
  User user = CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value());
  ASSERT_TRUE(sessions_->Resolve(login->session_token).has_value());  // now cached
  UserPatch role;
  role.occupation = Occupation::kPhysician;
  ASSERT_TRUE(accounts_->Update(user.id, role).has_value());
  auto resolved = sessions_->Resolve(login->session_token);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->principal.occupation, Occupation::kPhysician);
  UserPatch off;
  off.disabled = true;
  ASSERT_TRUE(accounts_->Update(user.id, off).has_value());
  EXPECT_EQ(sessions_->Resolve(login->session_token).status().code(), core::Code::kUnauthenticated);
}

TEST_P(SessionServiceTest, SessionEndedElsewhereIsRefusedWithinTheCacheTime) {
  CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value());
  ASSERT_TRUE(sessions_->Resolve(login->session_token).has_value());
  // Another server process ends the session directly in the database.
  ASSERT_TRUE(db().Execute("DELETE FROM sessions").has_value());
  clock_.Advance(SessionService::kCacheMillis);
  EXPECT_EQ(sessions_->Resolve(login->session_token).status().code(), core::Code::kUnauthenticated);
}

TEST_P(SessionServiceTest, ResetTotpEndsSessionsAndAsksForEnrolmentAgain) {
  User user = CreateUser("taro");
  const std::string secret = EnableTotp(user.id);
  auto first = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->mfa_required);
  auto session = sessions_->VerifyTotp(first->mfa_token, totp_->CurrentCode(secret), "10.0.0.1");
  ASSERT_TRUE(session.has_value()) << session.status().ToString();
  ASSERT_TRUE(sessions_->Resolve(session->session_token).has_value());

  ASSERT_TRUE(accounts_->ResetTotp(user.id).ok());
  EXPECT_EQ(sessions_->Resolve(session->session_token).status().code(),
            core::Code::kUnauthenticated);
  EXPECT_EQ(accounts_->ResetTotp(user.id).code(), core::Code::kConflict);
  EXPECT_EQ(accounts_->ResetTotp(999999).code(), core::Code::kNotFound);
  auto again = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->mfa_required);  // no second factor until enrolled again
  EXPECT_FALSE(accounts_->Get(user.id)->totp_enabled);
}

TEST_P(SessionServiceTest, DisabledUserCannotLogIn) {
  User user = CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value());
  UserPatch patch;
  patch.disabled = true;
  ASSERT_TRUE(accounts_->Update(user.id, patch).has_value());
  EXPECT_EQ(sessions_->Resolve(login->session_token).status().code(), core::Code::kUnauthenticated);
  auto again = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  EXPECT_EQ(again.status().code(), core::Code::kUnauthenticated);
  // A wrong password still gets the generic answer (no hint that the user exists).
  EXPECT_EQ(sessions_->Login("taro", "wrong password!", "10.0.0.1").status().message(),
            "invalid login ID or password");
}

TEST_P(SessionServiceTest, TotpLoginFlow) {
  User user = CreateUser("taro");
  const std::string secret = EnableTotp(user.id);
  ASSERT_FALSE(secret.empty());
  EXPECT_TRUE(accounts_->Get(user.id)->totp_enabled);

  auto first = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->mfa_required);
  EXPECT_FALSE(first->mfa_token.empty());
  EXPECT_TRUE(first->session_token.empty());

  // Wrong code.
  std::string wrong = totp_->CurrentCode(secret);
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  auto bad = sessions_->VerifyTotp(first->mfa_token, wrong, "10.0.0.1");
  EXPECT_EQ(bad.status().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(bad.status().message(), "invalid code");

  // Right code: a session.
  const std::string code = totp_->CurrentCode(secret);
  auto ok = sessions_->VerifyTotp(first->mfa_token, code, "10.0.0.1");
  ASSERT_TRUE(ok.has_value()) << ok.status().ToString();
  EXPECT_FALSE(ok->mfa_required);
  EXPECT_TRUE(sessions_->Resolve(ok->session_token).has_value());
  // The challenge is used up.
  EXPECT_EQ(sessions_->VerifyTotp(first->mfa_token, code, "10.0.0.1").status().message(),
            "login expired, please log in again");

  // The same code again (a new password step, same 30 s window) is a replay.
  auto second = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(second.has_value() && second->mfa_required);
  auto replay = sessions_->VerifyTotp(second->mfa_token, code, "10.0.0.1");
  EXPECT_EQ(replay.status().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(replay.status().message(), "this code was already used; wait for the next one");
  // The next step's code works.
  clock_.Advance(Totp::kStepSeconds * 1000);
  EXPECT_TRUE(sessions_->VerifyTotp(second->mfa_token, totp_->CurrentCode(secret), "10.0.0.1"));
}

TEST_P(SessionServiceTest, MfaTokenExpiresAfterFiveMinutes) {
  User user = CreateUser("taro");
  const std::string secret = EnableTotp(user.id);
  auto first = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(first.has_value() && first->mfa_required);
  clock_.Advance(5 * kMinute);
  auto late = sessions_->VerifyTotp(first->mfa_token, totp_->CurrentCode(secret), "10.0.0.1");
  EXPECT_EQ(late.status().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(late.status().message(), "login expired, please log in again");
  EXPECT_EQ(sessions_->VerifyTotp("made-up-token", "123456", "10.0.0.1").status().message(),
            "login expired, please log in again");
}

TEST_P(SessionServiceTest, WrongTotpCodesCountTowardsLockout) {
  User user = CreateUser("taro");
  const std::string secret = EnableTotp(user.id);
  auto first = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(first.has_value() && first->mfa_required);
  std::string wrong = totp_->CurrentCode(secret);
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(sessions_->VerifyTotp(first->mfa_token, wrong, "10.0.0.1").status().message(),
              "invalid code");
  }
  LoginTrace trace;
  EXPECT_EQ(sessions_->VerifyTotp(first->mfa_token, wrong, "10.0.0.1", &trace).status().message(),
            "account locked, try again later");
  EXPECT_TRUE(trace.locked_now);
  EXPECT_EQ(sessions_->Login("taro", kGoodPassword, "10.0.0.1").status().message(),
            "account locked, try again later");
}

TEST_P(SessionServiceTest, IdleTimeout) {
  CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value());
  clock_.Advance(29 * kMinute);
  EXPECT_TRUE(sessions_->Resolve(login->session_token).has_value());
  clock_.Advance(29 * kMinute);  // activity keeps it alive
  EXPECT_TRUE(sessions_->Resolve(login->session_token).has_value());
  clock_.Advance(30 * kMinute);
  auto expired = sessions_->Resolve(login->session_token);
  EXPECT_EQ(expired.status().code(), core::Code::kUnauthenticated);
  EXPECT_EQ(expired.status().message(), "session expired, please log in again");
  // And it is gone for good.
  EXPECT_EQ(sessions_->Resolve(login->session_token).status().message(), "login required");
}

TEST_P(SessionServiceTest, AbsoluteTimeoutOfTwelveHours) {
  CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value());
  for (int i = 0; i < 35; ++i) {  // 35 x 20 min = 11 h 40 min of steady use
    clock_.Advance(20 * kMinute);
    ASSERT_TRUE(sessions_->Resolve(login->session_token).has_value()) << i;
  }
  clock_.Advance(20 * kMinute);  // 12 h
  EXPECT_EQ(sessions_->Resolve(login->session_token).status().message(),
            "session expired, please log in again");
}

TEST_P(SessionServiceTest, LogoutEndsSession) {
  CreateUser("taro");
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value());
  ASSERT_TRUE(sessions_->Logout(login->session_token).ok());
  EXPECT_EQ(sessions_->Resolve(login->session_token).status().code(), core::Code::kUnauthenticated);
  EXPECT_TRUE(sessions_->Logout(login->session_token).ok());
  EXPECT_EQ(sessions_->Resolve("").status().message(), "login required");
}

TEST_P(SessionServiceTest, ChangePasswordChecksCurrentAndPolicy) {
  User user = CreateUser("taro", Role::kStaff, /*must_change_password=*/true);
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  auto other = sessions_->Login("taro", kGoodPassword, "10.0.0.2");
  ASSERT_TRUE(login.has_value() && other.has_value());
  EXPECT_TRUE(login->session.must_change_password);

  auto wrong = sessions_->ChangePassword(login->session, "not current pw", "brand new password");
  EXPECT_EQ(wrong.code(), core::Code::kInvalidInput);
  EXPECT_EQ(wrong.message(), "current password is wrong");
  auto weak = sessions_->ChangePassword(login->session, kGoodPassword, "short pw");
  EXPECT_EQ(weak.code(), core::Code::kInvalidInput);
  auto same_as_login = sessions_->ChangePassword(login->session, kGoodPassword, "TARO");
  EXPECT_EQ(same_as_login.code(), core::Code::kInvalidInput);
  EXPECT_TRUE(accounts_->Get(user.id)->must_change_password);

  ASSERT_TRUE(sessions_->ChangePassword(login->session, kGoodPassword, "brand new password").ok());
  EXPECT_FALSE(accounts_->Get(user.id)->must_change_password);
  auto resolved = sessions_->Resolve(login->session_token);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_FALSE(resolved->must_change_password);
  // Other sessions of the user end; the current one stays.
  EXPECT_FALSE(sessions_->Resolve(other->session_token).has_value());
  EXPECT_FALSE(sessions_->Login("taro", kGoodPassword, "10.0.0.1").has_value());
  EXPECT_TRUE(sessions_->Login("taro", "brand new password", "10.0.0.1").has_value());
}

TEST_P(SessionServiceTest, SecondFactorAllowsShorterPassword) {
  User user = CreateUser("taro");
  EnableTotp(user.id);
  auto login = sessions_->Login("taro", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(login.has_value() && login->mfa_required);
  auto s = sessions_->VerifyTotp(
      login->mfa_token, totp_->CurrentCode(accounts_->LoadCredentials(user.id)->totp_secret),
      "10.0.0.1");
  ASSERT_TRUE(s.has_value()) << s.status().ToString();
  EXPECT_TRUE(sessions_->ChangePassword(s->session, kGoodPassword, "8chars!!").ok());
}

TEST_P(SessionServiceTest, MfaEnrollmentRequiredForAdminsAndPolicyFacilities) {
  User admin = CreateUser("admin", Role::kFacilityAdmin);
  User staff = CreateUser("staff", Role::kStaff, false, /*facility_id=*/3);
  mfa_facilities_.insert(3);
  User free_staff = CreateUser("other", Role::kStaff, false, /*facility_id=*/4);

  auto admin_login = sessions_->Login("admin", kGoodPassword, "10.0.0.1");
  ASSERT_TRUE(admin_login.has_value());
  EXPECT_TRUE(admin_login->session.mfa_enrollment_required);
  EXPECT_TRUE(
      sessions_->Login("staff", kGoodPassword, "10.0.0.1")->session.mfa_enrollment_required);
  EXPECT_FALSE(
      sessions_->Login("other", kGoodPassword, "10.0.0.1")->session.mfa_enrollment_required);

  EnableTotp(admin.id);
  auto resolved = sessions_->Resolve(admin_login->session_token);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_FALSE(resolved->mfa_enrollment_required);
  (void)staff;
  (void)free_staff;
}

TEST_P(SessionServiceTest, TotpEnrollmentNeedsAMatchingCode) {
  User user = CreateUser("taro");
  auto enrollment = sessions_->StartTotpEnrollment(user.id);
  ASSERT_TRUE(enrollment.has_value());
  EXPECT_EQ(enrollment->secret.size(), 32u);
  EXPECT_EQ(enrollment->otpauth_uri.rfind("otpauth://totp/Tsunagu%3Ataro?secret=", 0), 0u);
  EXPECT_EQ(enrollment->qr_svg.rfind("<svg", 0), 0u);
  auto bad = sessions_->ConfirmTotpEnrollment(user.id, "000000");
  if (totp_->CurrentCode(enrollment->secret) != "000000") {
    EXPECT_EQ(bad.status().code(), core::Code::kInvalidInput);
    EXPECT_FALSE(accounts_->Get(user.id)->totp_enabled);
  }
  auto ok = sessions_->ConfirmTotpEnrollment(user.id, totp_->CurrentCode(enrollment->secret));
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->totp_enabled);
  EXPECT_EQ(sessions_->StartTotpEnrollment(user.id).status().code(), core::Code::kConflict);
}

TEST_P(SessionServiceTest, PurgeRemovesExpiredRows) {
  CreateUser("taro");
  ASSERT_TRUE(sessions_->Login("taro", kGoodPassword, "10.0.0.1").has_value());
  clock_.Advance(31 * kMinute);
  auto purged = sessions_->PurgeExpired();
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, 1);
  EXPECT_TRUE(db().Query("SELECT id FROM sessions")->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, SessionServiceTest, testing::AllBackends(),
                         testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::auth
