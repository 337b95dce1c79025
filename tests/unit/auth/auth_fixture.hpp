#pragma once
// Shared set-up of the auth tests: a fresh database per backend with the auth
// schema, a FakeClock, fast Argon2 limits and the services.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "auth/account_service.hpp"
#include "auth/password_hasher.hpp"
#include "auth/session_service.hpp"
#include "auth/totp.hpp"
#include "core/clock.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::auth {

inline constexpr const char* kGoodPassword = "correct horse battery";  // 21 chars

class AuthFixture : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(db(), ExtraMigrations()).ok());
    hasher_ = std::make_unique<PasswordHasher>(PasswordHasher::MinimumLimits());
    accounts_ = std::make_unique<AccountService>(db(), clock_, *hasher_);
    totp_ = std::make_unique<Totp>(clock_);
    sessions_ = std::make_unique<SessionService>(
        db(), clock_, *accounts_, *hasher_, *totp_,
        [this](int64_t facility_id) { return mfa_facilities_.count(facility_id) > 0; });
  }

  virtual std::vector<store::MigrationSet> ExtraMigrations() {
    return {AccountService::Migrations()};
  }

  store::Database& db() { return tdb_->db(); }

  User CreateUser(const std::string& login_id, Role role = Role::kStaff,
                  bool must_change_password = false, int64_t facility_id = 1) {
    NewUser nu;
    nu.facility_id = facility_id;
    nu.login_id = login_id;
    nu.display_name = "Staff " + login_id;
    nu.occupation = Occupation::kNurse;
    nu.role = role;
    nu.password = kGoodPassword;
    nu.must_change_password = must_change_password;
    auto user = accounts_->Create(nu);
    EXPECT_TRUE(user.has_value()) << user.status().ToString();
    return user.value_or(User{});
  }

  // Enrols TOTP for the user and returns the secret; the clock moves on one
  // step so that the next code is not a replay of the confirmation code.
  std::string EnableTotp(int64_t user_id) {
    auto enrollment = sessions_->StartTotpEnrollment(user_id);
    EXPECT_TRUE(enrollment.has_value());
    if (!enrollment) return {};
    auto user = sessions_->ConfirmTotpEnrollment(user_id, totp_->CurrentCode(enrollment->secret));
    EXPECT_TRUE(user.has_value()) << user.status().ToString();
    clock_.Advance(Totp::kStepSeconds * 1000);
    return enrollment->secret;
  }

  core::FakeClock clock_;
  std::set<int64_t> mfa_facilities_;
  std::unique_ptr<testing::TestDatabase> tdb_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<AccountService> accounts_;
  std::unique_ptr<Totp> totp_;
  std::unique_ptr<SessionService> sessions_;
};

}  // namespace tsunagu::auth
