#pragma once
// Outbound e-mail. Mails carry no medical details: only who, which facility
// or group, and a link. Thread-safe.
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::mail {

struct Mail {
  std::string to;
  std::string subject;  // UTF-8 (encoded as RFC 2047 on the wire)
  std::string body;     // UTF-8 plain text
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Unavailable when the server cannot be reached or refuses the mail.
  virtual core::Status Send(const Mail& mail) = 0;
};

struct SmtpSettings {
  std::string url;   // "smtp://127.0.0.1:2525" or "smtps://host:465"
  std::string from;  // "Tsunagu <noreply@example.jp>"
  std::string username;
  std::string password;
  bool starttls = false;  // require STARTTLS on smtp://
};

// Sends through an SMTP server with libcurl.
std::unique_ptr<Mailer> MakeSmtpMailer(SmtpSettings settings);
// Writes the mail to the server log (when no SMTP server is configured).
std::unique_ptr<Mailer> MakeLogMailer();

// The RFC 5322 message as sent (headers + base64 body), for tests.
std::string FormatMessage(const SmtpSettings& settings, const Mail& mail, int64_t now_millis);

}  // namespace tsunagu::mail
