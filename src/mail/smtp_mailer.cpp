#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <mutex>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "mail/mailer.hpp"

namespace tsunagu::mail {
namespace {

std::string Base64(std::string_view in) {
  static const char* kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlpha[(v >> s) & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = byte(i) << 16;
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlpha[(v >> 18) & 63];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// RFC 2047 encoded-word for non-ASCII header text.
std::string EncodeHeader(std::string_view s) {
  if (IsAscii(s)) return std::string(s);
  return "=?UTF-8?B?" + Base64(s) + "?=";
}

// Address part of "Name <addr>" or the whole string.
std::string AddressOf(const std::string& s) {
  auto lt = s.find('<');
  auto gt = s.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return s.substr(lt + 1, gt - lt - 1);
  }
  return s;
}

std::string FormatFrom(const std::string& from) {
  auto lt = from.find('<');
  if (lt == std::string::npos || lt == 0) return from;
  std::string name = from.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return EncodeHeader(name) + " " + from.substr(lt);
}

struct Payload {
  std::string data;
  size_t pos = 0;
};

size_t ReadPayload(char* buf, size_t size, size_t n, void* user) {
  auto* p = static_cast<Payload*>(user);
  size_t room = size * n;
  size_t left = p->data.size() - p->pos;
  size_t take = left < room ? left : room;
  std::memcpy(buf, p->data.data() + p->pos, take);
  p->pos += take;
  return take;
}

bool ValidHeaderValue(const std::string& s) {
  return s.find('\r') == std::string::npos && s.find('\n') == std::string::npos;
}

class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(SmtpSettings s) : settings_(std::move(s)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  core::Status Send(const Mail& mail) override {
    if (!ValidHeaderValue(mail.to) || !ValidHeaderValue(mail.subject) || mail.to.empty()) {
      return core::InvalidInput("invalid mail address or subject");
    }
    Payload payload{FormatMessage(settings_, mail, core::SystemClock::Instance().NowMillis())};
    CURL* curl = curl_easy_init();
    if (!curl) return core::Internal("mail client unavailable");
    struct curl_slist* rcpt = curl_slist_append(nullptr, ("<" + AddressOf(mail.to) + ">").c_str());
    std::string from = "<" + AddressOf(settings_.from) + ">";
    curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadPayload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &payload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (settings_.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, CURLUSESSL_ALL);
    if (!settings_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      core::LogWarn("mail.failed", {{"error", curl_easy_strerror(rc)}});
      return core::Unavailable("mail could not be sent", curl_easy_strerror(rc));
    }
    core::LogInfo("mail.sent", {{"subject_len", std::to_string(mail.subject.size())}});
    return core::Status::Ok();
  }

 private:
  SmtpSettings settings_;
};

class LogMailer final : public Mailer {
 public:
  core::Status Send(const Mail& mail) override {
    // Only used without an SMTP server: the operator reads invitations here.
    core::LogInfo("mail.outbox", {{"to", mail.to}, {"subject", mail.subject}, {"body", mail.body}});
    return core::Status::Ok();
  }
};

}  // namespace

std::string FormatMessage(const SmtpSettings& settings, const Mail& mail, int64_t now_millis) {
  std::time_t t = static_cast<std::time_t>(now_millis / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string domain = AddressOf(settings.from);
  auto at = domain.find('@');
  domain = at == std::string::npos ? "tsunagu.local" : domain.substr(at + 1);
  std::string m;
  m += "Date: " + std::string(date) + "\r\n";
  m += "From: " + FormatFrom(settings.from) + "\r\n";
  m += "To: " + mail.to + "\r\n";
  m += "Subject: " + EncodeHeader(mail.subject) + "\r\n";
  m += "Message-ID: <" + core::RandomHex(12) + "@" + domain + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  std::string b64 = Base64(mail.body);
  for (size_t i = 0; i < b64.size(); i += 76) m += b64.substr(i, 76) + "\r\n";
  return m;
}

std::unique_ptr<Mailer> MakeSmtpMailer(SmtpSettings settings) {
  return std::make_unique<SmtpMailer>(std::move(settings));
}
std::unique_ptr<Mailer> MakeLogMailer() { return std::make_unique<LogMailer>(); }

}  // namespace tsunagu::mail
