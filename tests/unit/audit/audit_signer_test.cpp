#include "audit/audit_signer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tsunagu::audit {
namespace {

namespace fs = std::filesystem;

class AuditSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tsunagu-audit-key-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(AuditSignerTest, KeyFileIsCreatedPrivateAndReusedOnReopen) {
  const std::string path = dir_ + "/keys/audit.key";  // parent created too
  auto first = AuditSigner::OpenOrCreate(path);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.size(), 64u);
  EXPECT_EQ(line.find_first_not_of("0123456789abcdef"), std::string::npos);

  auto second = AuditSigner::OpenOrCreate(path);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ((*first)->PublicKeyHex(), (*second)->PublicKeyHex());
  std::string sig = (*first)->Sign("12|abc");
  EXPECT_TRUE((*second)->Verify("12|abc", sig));
  // No temporary files are left behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_ + "/keys")) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(AuditSignerTest, DifferentFilesHoldDifferentKeys) {
  auto a = AuditSigner::OpenOrCreate(dir_ + "/a.key");
  auto b = AuditSigner::OpenOrCreate(dir_ + "/b.key");
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE((*a)->PublicKeyHex(), (*b)->PublicKeyHex());
  EXPECT_FALSE((*b)->Verify("m", (*a)->Sign("m")));
}

TEST_F(AuditSignerTest, MalformedKeyFileIsRejectedAndLeftAlone) {
  const std::string path = dir_ + "/bad.key";
  {
    std::ofstream out(path);
    out << "not a key\n";
  }
  auto signer = AuditSigner::OpenOrCreate(path);
  ASSERT_FALSE(signer.has_value());
  EXPECT_EQ(signer.error().code(), core::Code::kInvalidInput);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "not a key");
}

TEST_F(AuditSignerTest, EmptyPathIsInvalid) {
  EXPECT_EQ(AuditSigner::OpenOrCreate("").error().code(), core::Code::kInvalidInput);
}

TEST_F(AuditSignerTest, SignAndVerify) {
  auto signer = AuditSigner::FromSeedHex(std::string(64, '7'));
  ASSERT_TRUE(signer.has_value());
  const std::string sig = (*signer)->Sign("42|" + std::string(64, 'f'));
  EXPECT_EQ(sig.size(), 128u);
  EXPECT_TRUE((*signer)->Verify("42|" + std::string(64, 'f'), sig));
  EXPECT_FALSE((*signer)->Verify("43|" + std::string(64, 'f'), sig));
  std::string flipped = sig;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  EXPECT_FALSE((*signer)->Verify("42|" + std::string(64, 'f'), flipped));
  EXPECT_FALSE((*signer)->Verify("42", "zz"));
  EXPECT_FALSE((*signer)->Verify("42", ""));
  EXPECT_EQ((*signer)->PublicKeyHex().size(), 64u);
  EXPECT_TRUE(AuditSigner::VerifyWithPublicKey((*signer)->PublicKeyHex(),
                                               "42|" + std::string(64, 'f'), sig));
  EXPECT_FALSE(AuditSigner::VerifyWithPublicKey("00", "42", sig));
  // Deterministic: the same seed gives the same key.
  auto again = AuditSigner::FromSeedHex(std::string(64, '7'));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->PublicKeyHex(), (*signer)->PublicKeyHex());
}

TEST_F(AuditSignerTest, SeedMustBe64HexDigits) {
  EXPECT_FALSE(AuditSigner::FromSeedHex("abcd").has_value());
  EXPECT_FALSE(AuditSigner::FromSeedHex(std::string(64, 'g')).has_value());
  EXPECT_FALSE(AuditSigner::FromSeedHex(std::string(66, 'a')).has_value());
}

}  // namespace
}  // namespace tsunagu::audit
