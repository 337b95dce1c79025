#include "app/app_config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace tsunagu::app {
namespace {

TEST(AppConfigTest, DefaultsAreLoopbackSqliteInData) {
  auto c = ParseConfig({});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server.address, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->DatabaseUrl(), "sqlite:data/tsunagu.db");
  EXPECT_EQ(c->AuditDatabaseUrl(), "sqlite:data/tsunagu-audit.db");
  EXPECT_EQ(c->PublicUrl(), "http://127.0.0.1:8080");
  EXPECT_FALSE(c->secure_cookies);
}

TEST(AppConfigTest, FlagsOverrideTheFileAndTlsTurnsOnSecureCookies) {
  std::string path = ::testing::TempDir() + "/tsunagu-test.ini";
  std::ofstream(path)
      << "[server]\nport = 9000\nthreads = 4\n[database]\n"
         "url = postgresql://t@127.0.0.1:5432/t\n[smtp]\nfrom = \"事務局 <a@b.jp>\"\n";
  auto c = ParseConfig({"--config", path, "--port=9443", "--tls-cert", "c.pem", "--tls-key",
                        "k.pem", "--public-url", "https://net.example.jp"});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server.port, 9443);
  EXPECT_EQ(c->server.threads, 4);
  EXPECT_EQ(c->DatabaseUrl(), "postgresql://t@127.0.0.1:5432/t");
  EXPECT_EQ(c->AuditDatabaseUrl(), "");  // the audit log shares the PostgreSQL database
  EXPECT_EQ(c->smtp.from, "事務局 <a@b.jp>");
  EXPECT_TRUE(c->secure_cookies);
  EXPECT_EQ(c->PublicUrl(), "https://net.example.jp");
  std::remove(path.c_str());
}

TEST(AppConfigTest, RejectsUnknownFlagsBadNumbersAndHalfTls) {
  EXPECT_EQ(ParseConfig({"--no-such-flag", "1"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--port", "70000"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--port", "80x"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--port"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--tls-cert", "c.pem"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--log-level", "loud"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--config", "/nonexistent/tsunagu.ini"}).error().code(),
            core::Code::kNotFound);
}

TEST(AppConfigTest, UnknownIniSettingIsAnError) {
  std::string path = ::testing::TempDir() + "/tsunagu-bad.ini";
  std::ofstream(path) << "[server]\nprot = 9000\n";
  auto c = ParseConfig({"--config", path});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("server.prot"), std::string::npos);
  std::remove(path.c_str());
}

TEST(AppConfigTest, CareFileLimitFromFlagOrIni) {
  auto defaults = ParseConfig({});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->care_file_max_bytes, 20 * 1024 * 1024);
  auto flag = ParseConfig({"--care-file-max-mb", "5"});
  ASSERT_TRUE(flag) << flag.error().ToString();
  EXPECT_EQ(flag->care_file_max_bytes, 5 * 1024 * 1024);
  std::string path = ::testing::TempDir() + "/tsunagu-care.ini";
  std::ofstream(path) << "[care]\nfile_max_mb = 8\n";
  auto ini = ParseConfig({"--config", path});
  ASSERT_TRUE(ini) << ini.error().ToString();
  EXPECT_EQ(ini->care_file_max_bytes, 8 * 1024 * 1024);
  std::remove(path.c_str());
  EXPECT_EQ(ParseConfig({"--care-file-max-mb", "0"}).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(ParseConfig({"--care-file-max-mb", "201"}).error().code(), core::Code::kInvalidInput);
}

}  // namespace
}  // namespace tsunagu::app
