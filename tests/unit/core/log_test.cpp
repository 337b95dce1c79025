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

// What the escaping must give, a byte at a time.
std::string ReferenceEscaped(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

// Texts of every length up to 70 (blocks of 16 and 8 and what is left)
// with one byte of each kind at every position: those to escape and their
// neighbours that are copied (space, DEL, bytes of UTF-8 text).
TEST(LogTest, EveryByteKindAtEveryPositionOfEveryLength) {
  const unsigned char kinds[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, '"',  '\\',
                                 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xe3, 0xff};
  for (size_t length = 1; length <= 70; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (unsigned char kind : kinds) {
        std::string in(length, 'a');
        in[at] = static_cast<char>(kind);
        const std::string want = ReferenceEscaped(in);
        ASSERT_EQ(Escaped(in), want)
            << "length " << length << " at " << at << " byte " << static_cast<int>(kind);
        ASSERT_EQ(JsonNeedsEscape(in), want != in) << "length " << length << " at " << at;
      }
    }
  }
  EXPECT_FALSE(JsonNeedsEscape(""));
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
