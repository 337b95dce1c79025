#include "mail/mailer.hpp"

#include <gtest/gtest.h>

namespace tsunagu::mail {
namespace {

std::string DecodeBase64(const std::string& in) {
  static const std::string kAlpha =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0, value = 0;
  for (char c : in) {
    auto pos = kAlpha.find(c);
    if (pos == std::string::npos) continue;
    value = (value << 6) | static_cast<int>(pos);
    bits += 6;
    if (bits >= 8) {
      out += static_cast<char>((value >> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return out;
}

TEST(MailFormatTest, EncodesJapaneseSubjectSenderAndBody) {
  SmtpSettings s{"smtp://127.0.0.1:25", "つなぐ事務局 <noreply@tsunagu.example.jp>", "", "", false};
  Mail m{"clinic@example.jp", "【つなぐ】参加申請の承認",
         "施設: 県北中央病院\nhttps://x/invite/abc\n"};
  std::string msg = FormatMessage(s, m, 1'767'225'600'000);
  EXPECT_NE(msg.find("To: clinic@example.jp\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(msg.find("From: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(msg.find("<noreply@tsunagu.example.jp>"), std::string::npos);
  EXPECT_NE(msg.find("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  auto body_at = msg.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_EQ(DecodeBase64(msg.substr(body_at + 4)), m.body);
  auto subj = msg.find("Subject: =?UTF-8?B?") + 19;
  EXPECT_EQ(DecodeBase64(msg.substr(subj, msg.find("?=", subj) - subj)), m.subject);
}

TEST(MailFormatTest, BodyLinesStayShort) {
  SmtpSettings s{"smtp://127.0.0.1:25", "noreply@tsunagu.example.jp", "", "", false};
  Mail m{"a@example.jp", "ascii subject", std::string(1000, 'x')};
  std::string msg = FormatMessage(s, m, 0);
  EXPECT_NE(msg.find("Subject: ascii subject\r\n"), std::string::npos);
  size_t start = msg.find("\r\n\r\n") + 4;
  while (start < msg.size()) {
    size_t end = msg.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
}

TEST(SmtpMailerTest, RefusesHeaderInjectionAndReportsUnreachableServer) {
  auto mailer = MakeSmtpMailer({"smtp://127.0.0.1:1", "noreply@tsunagu.example.jp", "", "", false});
  EXPECT_EQ(mailer->Send({"a@example.jp\r\nBcc: x@evil.example", "s", "b"}).code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(mailer->Send({"a@example.jp", "s\nX-Evil: 1", "b"}).code(), core::Code::kInvalidInput);
  EXPECT_EQ(mailer->Send({"a@example.jp", "s", "b"}).code(), core::Code::kUnavailable);
}

}  // namespace
}  // namespace tsunagu::mail
