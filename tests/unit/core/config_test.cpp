#include "core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace tsunagu::core {
namespace {

TEST(ConfigTest, SectionsKeysCommentsAndQuotes) {
  Result<ConfigFile> c = ConfigFile::Parse(
      "# Tsunagu\n"
      "mode = demo\n"
      "\n"
      "[server]\r\n"
      "  port = 8443   # trailing comment\n"
      "host=127.0.0.1;not a comment\n"
      "name = \"Kibitan ; # net\"  ; comment\n"
      "quote = \"say \\\"hi\\\" \\\\ bye\"\n"
      "empty =\n"
      "url = postgresql://u@h/db?x=1\n"
      "; whole-line comment\n"
      "[ store.sqlite ]  # comment\n"
      "path = ./data/tsunagu.db\n"
      "label = 地域医療連携\n");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->Get("mode"), "demo");
  EXPECT_EQ(c->Get("server.port"), "8443");
  EXPECT_EQ(c->Get("server.host"), "127.0.0.1;not a comment");
  EXPECT_EQ(c->Get("server.name"), "Kibitan ; # net");
  EXPECT_EQ(c->Get("server.quote"), "say \"hi\" \\ bye");
  EXPECT_EQ(c->Get("server.empty"), "");
  EXPECT_EQ(c->Get("server.url"), "postgresql://u@h/db?x=1");
  EXPECT_EQ(c->Get("store.sqlite.path"), "./data/tsunagu.db");
  EXPECT_EQ(c->Get("store.sqlite.label"), "地域医療連携");
  EXPECT_EQ(c->Get("port"), std::nullopt);
  EXPECT_EQ(c->GetOr("server.missing", "fallback"), "fallback");
  EXPECT_EQ(c->GetOr("server.port", "fallback"), "8443");
  EXPECT_EQ(c->values().size(), 9u);
}

TEST(ConfigTest, LaterDuplicateWins) {
  Result<ConfigFile> c = ConfigFile::Parse("[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Get("a.k"), "3");
  EXPECT_EQ(c->Get("b.k"), "2");
}

TEST(ConfigTest, EmptyAndBomOnly) {
  ASSERT_TRUE(ConfigFile::Parse(""));
  Result<ConfigFile> c = ConfigFile::Parse("\xEF\xBB\xBFkey = v");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Get("key"), "v");
}

TEST(ConfigTest, MalformedLinesReportLineNumbers) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"a = 1\njust words\n", "line 2: expected 'key = value'"},
      {"[server\n", "line 1: missing ']'"},
      {"\n\n[]\n", "line 3: invalid section name"},
      {"[a] b\n", "line 1: unexpected text after section header"},
      {"= 1\n", "line 1: invalid key"},
      {"my key = 1\n", "line 1: invalid key"},
      {"# c\nk = \"open\n", "line 2: unterminated quoted value"},
      {"k = \"a\" b\n", "line 1: unexpected text after quoted value"},
      {"k = \"a\\n\"\n", "line 1: unknown escape"},
  };
  for (const auto& c : cases) {
    Result<ConfigFile> r = ConfigFile::Parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), Code::kInvalidInput);
    EXPECT_NE(r.error().message().find(c.message), std::string::npos)
        << r.error().message() << " vs " << c.message;
  }
}

TEST(ConfigTest, GetInt) {
  Result<ConfigFile> c =
      ConfigFile::Parse("a = 42\nb = -7\nc = +3\nd = 12x\ne = \nf = 99999999999999999999\ng = +-1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->GetInt("a").value(), 42);
  EXPECT_EQ(c->GetInt("b").value(), -7);
  EXPECT_EQ(c->GetInt("c").value(), 3);
  EXPECT_EQ(c->GetInt("missing").value(), std::nullopt);
  for (const char* bad : {"d", "e", "f", "g"}) {
    Result<std::optional<int64_t>> r = c->GetInt(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidInput);
    EXPECT_NE(r.error().message().find(bad), std::string::npos);
  }
}

TEST(ConfigTest, GetBool) {
  Result<ConfigFile> c = ConfigFile::Parse(
      "t1 = true\nt2 = YES\nt3 = on\nt4 = 1\nf1 = False\nf2 = no\nf3 = OFF\nf4 = 0\nx = maybe\n");
  ASSERT_TRUE(c);
  for (const char* k : {"t1", "t2", "t3", "t4"}) EXPECT_EQ(c->GetBool(k).value(), true) << k;
  for (const char* k : {"f1", "f2", "f3", "f4"}) EXPECT_EQ(c->GetBool(k).value(), false) << k;
  EXPECT_EQ(c->GetBool("missing").value(), std::nullopt);
  Result<std::optional<bool>> r = c->GetBool("x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidInput);
}

TEST(ConfigTest, Load) {
  Result<ConfigFile> missing = ConfigFile::Load("/nonexistent/tsunagu.conf");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);

  char path[] = "/tmp/tsunagu_config_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "[server]\nport = 8080\n";
  }
  Result<ConfigFile> c = ConfigFile::Load(path);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->GetInt("server.port").value(), 8080);
  {
    std::ofstream out(path);
    out << "[server]\nport 8080\n";
  }
  Result<ConfigFile> bad = ConfigFile::Load(path);
  std::remove(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kInvalidInput);
  EXPECT_NE(bad.error().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace tsunagu::core
