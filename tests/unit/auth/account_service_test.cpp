#include "auth/account_service.hpp"

#include <gtest/gtest.h>

#include "auth_fixture.hpp"

namespace tsunagu::auth {
namespace {

class AccountServiceTest : public AuthFixture {
 protected:
  NewUser Valid(const std::string& login_id, const std::string& password) {
    NewUser nu;
    nu.facility_id = 7;
    nu.login_id = login_id;
    nu.display_name = "山田 花子";
    nu.kana = "ヤマダ ハナコ";
    nu.email = "hanako@example.jp";
    nu.occupation = Occupation::kPharmacist;
    nu.role = Role::kFacilityAdmin;
    nu.password = password;
    return nu;
  }
};

TEST_P(AccountServiceTest, CreatesUserAndFindsIt) {
  auto user = accounts_->Create(Valid("hanako", "1234567890123"));
  ASSERT_TRUE(user.has_value()) << user.status().ToString();
  EXPECT_GT(user->id, 0);
  EXPECT_EQ(user->facility_id, 7);
  EXPECT_EQ(user->login_id, "hanako");
  EXPECT_EQ(user->display_name, "山田 花子");
  EXPECT_EQ(user->occupation, Occupation::kPharmacist);
  EXPECT_EQ(user->role, Role::kFacilityAdmin);
  EXPECT_TRUE(user->must_change_password);
  EXPECT_FALSE(user->totp_enabled);
  EXPECT_FALSE(user->disabled);
  EXPECT_EQ(user->created_at, clock_.NowMillis());

  auto found = accounts_->FindByLogin("hanako");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, user->id);
  EXPECT_EQ(accounts_->Get(user->id)->email, "hanako@example.jp");
  EXPECT_EQ(accounts_->Get(9999).status().code(), core::Code::kNotFound);
  EXPECT_EQ(accounts_->FindByLogin("nobody").status().code(), core::Code::kNotFound);

  // Only the Argon2id hash is stored, never the password.
  auto credentials = accounts_->LoadCredentials(user->id);
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(credentials->password_hash.find("1234567890123"), std::string::npos);
}

TEST_P(AccountServiceTest, PasswordPolicyOnCreate) {
  auto twelve = accounts_->Create(Valid("hanako", "123456789012"));
  ASSERT_FALSE(twelve.has_value());
  EXPECT_EQ(twelve.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(twelve.error().message(),
            "password must be at least 13 characters (8 with two-factor authentication)");

  auto login_as_password = accounts_->Create(Valid("hanako.yamada", "Hanako.Yamada"));
  ASSERT_FALSE(login_as_password.has_value());
  EXPECT_EQ(login_as_password.error().message(), "password must not be the login ID");

  // Nothing was stored by the rejected attempts.
  EXPECT_EQ(accounts_->FindByLogin("hanako").status().code(), core::Code::kNotFound);
  EXPECT_TRUE(accounts_->ListByFacility(7).empty());

  EXPECT_TRUE(accounts_->Create(Valid("hanako", "1234567890123")).has_value());
}

TEST_P(AccountServiceTest, PolicyCountsCharactersNotBytes) {
  // 8 kanji = 24 bytes: too short without a second factor, enough with one.
  const std::string eight = "日本語の合言葉だ";
  EXPECT_FALSE(AccountService::CheckPasswordPolicy(eight, "user", false).ok());
  EXPECT_TRUE(AccountService::CheckPasswordPolicy(eight, "user", true).ok());
  EXPECT_FALSE(AccountService::CheckPasswordPolicy("1234567", "user", true).ok());
  EXPECT_FALSE(AccountService::CheckPasswordPolicy("\xff\xfe invalid utf8 x", "user", false).ok());
  EXPECT_FALSE(AccountService::CheckPasswordPolicy("tab\tinside password", "user", false).ok());
  EXPECT_FALSE(AccountService::CheckPasswordPolicy(std::string(257, 'a'), "user", false).ok());
}

TEST_P(AccountServiceTest, DuplicateLoginIsConflict) {
  ASSERT_TRUE(accounts_->Create(Valid("hanako", "1234567890123")).has_value());
  auto again = accounts_->Create(Valid("hanako", "another password 1"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), core::Code::kConflict);
  EXPECT_EQ(again.error().message(), "login ID is already taken");
  EXPECT_EQ(accounts_->ListByFacility(7).size(), 1u);
}

TEST_P(AccountServiceTest, RejectsBadLoginIdsAndNames) {
  EXPECT_EQ(accounts_->Create(Valid("ab", "1234567890123")).status().message(),
            "login ID must be 3 to 64 characters");
  EXPECT_EQ(accounts_->Create(Valid("with space", "1234567890123")).status().message(),
            "login ID may contain only letters, digits and . _ @ -");
  NewUser no_name = Valid("hanako", "1234567890123");
  no_name.display_name = "　 ";
  EXPECT_EQ(accounts_->Create(no_name).status().message(), "display name is required");
  NewUser bad_mail = Valid("hanako", "1234567890123");
  bad_mail.email = "not-an-address";
  EXPECT_EQ(accounts_->Create(bad_mail).status().message(), "email is not a valid address");
}

TEST_P(AccountServiceTest, UpdateChangesOnlyGivenFields) {
  auto user = accounts_->Create(Valid("hanako", "1234567890123"));
  ASSERT_TRUE(user.has_value());
  UserPatch patch;
  patch.display_name = "山田 花";
  patch.role = Role::kStaff;
  auto updated = accounts_->Update(user->id, patch);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->display_name, "山田 花");
  EXPECT_EQ(updated->role, Role::kStaff);
  EXPECT_EQ(updated->occupation, Occupation::kPharmacist);
  EXPECT_EQ(updated->email, "hanako@example.jp");
  EXPECT_EQ(accounts_->Get(user->id)->display_name, "山田 花");

  UserPatch empty_name;
  empty_name.display_name = "";
  EXPECT_EQ(accounts_->Update(user->id, empty_name).status().code(), core::Code::kInvalidInput);
  EXPECT_EQ(accounts_->Get(user->id)->display_name, "山田 花");
  EXPECT_EQ(accounts_->Update(4242, patch).status().code(), core::Code::kNotFound);
}

TEST_P(AccountServiceTest, ListByIdsShowsChangesMadeThroughTheServiceAtOnce) {
  auto a = accounts_->Create(Valid("hanako", "1234567890123"));
  auto b = accounts_->Create(Valid("taro", "1234567890123"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto names = [&](std::vector<int64_t> ids) {
    std::vector<std::string> out;
    auto users = accounts_->ListByIds(ids);
    EXPECT_TRUE(users.has_value()) << users.error().ToString();
    if (users) {
      for (const auto& u : *users) out.push_back(u.login_id + "=" + u.display_name);
    }
    return out;
  };
  // Id order, unknown ids left out, each user once.
  const std::vector<std::string> both{"hanako=" + a->display_name, "taro=" + b->display_name};
  EXPECT_EQ(names({b->id, 9999, a->id}), both);
  EXPECT_EQ(names({a->id, b->id, a->id}), both);  // the second read comes from the cache
  UserPatch patch;
  patch.display_name = "山田 花";
  ASSERT_TRUE(accounts_->Update(a->id, patch).has_value());
  EXPECT_EQ(names({a->id, b->id}),
            (std::vector<std::string>{"hanako=山田 花", "taro=" + b->display_name}));
  // A change made elsewhere (another process) shows within the minute.
  ASSERT_TRUE(db().Execute("UPDATE users SET display_name = ? WHERE id = ?",
                           {store::Value{"外部"}, store::Value{b->id}})
                  .has_value());
  EXPECT_EQ(names({b->id}), (std::vector<std::string>{"taro=" + b->display_name}));
  clock_.Advance(61'000);
  EXPECT_EQ(names({b->id}), (std::vector<std::string>{"taro=外部"}));
  EXPECT_TRUE(names({}).empty());
}

TEST_P(AccountServiceTest, ListByFacilityIsOrdered) {
  auto a = accounts_->Create(Valid("aaa", "1234567890123"));
  auto b = accounts_->Create(Valid("bbb", "1234567890123"));
  NewUser other = Valid("ccc", "1234567890123");
  other.facility_id = 8;
  ASSERT_TRUE(a && b && accounts_->Create(other));
  auto users = accounts_->ListByFacility(7);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].login_id, "aaa");
  EXPECT_EQ(users[1].login_id, "bbb");
  EXPECT_TRUE(accounts_->ListByFacility(99).empty());
}

TEST_P(AccountServiceTest, ResetPasswordGivesTemporaryPassword) {
  User user = CreateUser("taro");
  ASSERT_FALSE(user.must_change_password);
  auto temporary = accounts_->ResetPassword(user.id);
  ASSERT_TRUE(temporary.has_value());
  EXPECT_EQ(temporary->size(), 16u);
  EXPECT_TRUE(accounts_->Get(user.id)->must_change_password);
  EXPECT_FALSE(sessions_->Login("taro", kGoodPassword, "10.0.0.1").has_value());
  auto login = sessions_->Login("taro", *temporary, "10.0.0.1");
  ASSERT_TRUE(login.has_value()) << login.status().ToString();
  EXPECT_TRUE(login->session.must_change_password);
  EXPECT_TRUE(sessions_->Resolve(login->session_token).has_value());
  EXPECT_NE(*accounts_->ResetPassword(user.id), *temporary);
  // A reset ends the sessions of the user.
  EXPECT_FALSE(sessions_->Resolve(login->session_token).has_value());
  EXPECT_EQ(accounts_->ResetPassword(777).status().code(), core::Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountServiceTest, testing::AllBackends(),
                         testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::auth
