#include "core/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace tsunagu::core {
namespace {

std::string Escaped(std::string_view s) {
  std::string out;
  AppendJsonEscaped(out, s);
  return out;
}

TEST(LogTest, JsonEscaping) {
  EXPECT_EQ(Escaped("plain"), "plain");
  EXPECT_EQ(Escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(Escaped("l1\nl2\r\t"), "l1\\nl2\\r\\t");
  EXPECT_EQ(Escaped(std::string_view("\x00\x01\x1f", 3)), "\\u0000\\u0001\\u001f");
  EXPECT_EQ(Escaped("\x7f"), "\x7f");
  EXPECT_EQ(Escaped("山田 ｶﾞ"), "山田 ｶﾞ");
  // Long runs and escapes at every position of an 8-byte block.
  const std::string block = "abcdefgh";
  for (size_t at = 0; at < 16; ++at) {
    for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
      std::string in = block + block + "xyz";
      in[at] = special;
      std::string want = in.substr(0, at);
      want += special == '"'      ? "\\\""
              : special == '\\'   ? "\\\\"
              : special == '\n'   ? "\\n"
              : special == '\x01' ? "\\u0001"
                                  : "\\u001f";
      want += in.substr(at + 1);
      EXPECT_EQ(Escaped(in), want) << at;
    }
  }
  EXPECT_EQ(Escaped("県北中央病院ケンポクチュウオウビョウイン \x7f\xff"),
            "県北中央病院ケンポクチュウオウビョウイン \x7f\xff");
  std::string out = "prefix:";
  AppendJsonEscaped(out, "x");
  EXPECT_EQ(out, "prefix:x");
}

TEST(LogTest, WritesOneJsonLinePerEventAndHonoursLevel) {
  char path[] = "/tmp/tsunagu_log_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(SetLogFile(path));
  const LogLevel old = GetLogLevel();
  SetLogLevel(LogLevel::kInfo);
  LogDebug("hidden");
  LogInfo("import.done", {{"file", "a\"b.hl7"}, {"count", "3"}});
  SetLogLevel(LogLevel::kError);
  LogWarn("hidden_too");
  SetLogLevel(old);
  ASSERT_TRUE(SetLogFile(""));

  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::remove(path);
  const std::string text = buf.str();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text.rfind("{\"ts\":\"", 0), 0u) << text;
  EXPECT_NE(text.find("\"level\":\"info\",\"event\":\"import.done\",\"file\":\"a\\\"b.hl7\","
                      "\"count\":\"3\"}\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace tsunagu::core
