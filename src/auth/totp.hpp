#pragma once
// Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits),
// compatible with Google Authenticator, Microsoft Authenticator, FreeOTP, etc.
//
// Totp is the algorithm only; it keeps no per-user state. Replay protection
// (a code's time step must be newer than the last accepted step of the user)
// is enforced by the caller with the step returned by Match(): SessionService
// stores it per user with an atomic compare-and-set.
//
// Thread-safety: all methods may be called concurrently.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace tsunagu::auth {

class Totp {
 public:
  static constexpr int kDigits = 6;
  static constexpr int kStepSeconds = 30;
  static constexpr int kWindowSteps = 1;  // accepts the previous and the next step too
  static constexpr size_t kSecretBytes = 20;
  static constexpr const char* kIssuer = "Tsunagu";

  explicit Totp(const core::Clock& clock);

  // A new random 20-byte secret, base32-encoded (32 chars, no padding).
  std::string NewSecret() const;

  // RFC 4648 base32 (upper-case, no padding). Decode accepts lower case,
  // spaces, hyphens and optional '=' padding; nullopt when malformed.
  static std::string Base32Encode(std::string_view bytes);
  static std::optional<std::string> Base32Decode(std::string_view text);

  // "otpauth://totp/Tsunagu:<account>?secret=...&issuer=Tsunagu&algorithm=SHA1&digits=6&period=30"
  static std::string OtpauthUri(std::string_view secret_base32, std::string_view account);

  // If `code` (6 digits; spaces ignored) is valid for the current time +-1
  // step, returns the time step (unix seconds / 30) it belongs to.
  std::optional<int64_t> Match(std::string_view secret_base32, std::string_view code) const;

  // The code of `secret_base32` at `unix_seconds` ("" if the secret is
  // malformed). Used by tests and by operators' diagnostics.
  static std::string CodeAt(std::string_view secret_base32, int64_t unix_seconds);
  std::string CurrentCode(std::string_view secret_base32) const;
  int64_t CurrentStep() const;

 private:
  const core::Clock& clock_;
};

}  // namespace tsunagu::auth
