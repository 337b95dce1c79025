#include "auth/totp.hpp"

#include <liboath/oath.h>

#include <array>
#include <mutex>
#include <stdexcept>

#include "core/random.hpp"

namespace tsunagu::auth {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void InitOathOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (oath_init() != OATH_OK) throw std::runtime_error("liboath initialisation failed");
  });
}

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string UriEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Strips spaces from a user-typed code; nullopt unless exactly kDigits digits.
std::optional<std::string> NormaliseCode(std::string_view code) {
  std::string digits;
  for (char c : code) {
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9') return std::nullopt;
    digits += c;
  }
  if (digits.size() != static_cast<size_t>(Totp::kDigits)) return std::nullopt;
  return digits;
}

}  // namespace

Totp::Totp(const core::Clock& clock) : clock_(clock) { InitOathOnce(); }

std::string Totp::NewSecret() const {
  std::array<unsigned char, kSecretBytes> bytes{};
  core::RandomBytes(bytes.data(), bytes.size());
  return Base32Encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string Totp::Base32Encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kBase32Alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> Totp::Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    if (padding) return std::nullopt;  // data after padding
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    size_t value = kBase32Alphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xFF);
      bits -= 8;
    }
  }
  // Leftover bits must be zero padding (fewer than 5 of them).
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Totp::OtpauthUri(std::string_view secret_base32, std::string_view account) {
  std::string label = std::string(kIssuer) + ":" + std::string(account);
  return "otpauth://totp/" + UriEscape(label) + "?secret=" + std::string(secret_base32) +
         "&issuer=" + UriEscape(kIssuer) + "&algorithm=SHA1&digits=" + std::to_string(kDigits) +
         "&period=" + std::to_string(kStepSeconds);
}

std::optional<int64_t> Totp::Match(std::string_view secret_base32, std::string_view code) const {
  auto secret = Base32Decode(secret_base32);
  auto digits = NormaliseCode(code);
  if (!secret || secret->empty() || !digits) return std::nullopt;
  int position = 0;
  uint64_t counter = 0;
  int rc =
      oath_totp_validate3(secret->data(), secret->size(), static_cast<time_t>(clock_.NowSeconds()),
                          kStepSeconds, 0, kWindowSteps, &position, &counter, digits->c_str());
  if (rc < 0) return std::nullopt;
  return static_cast<int64_t>(counter);
}

std::string Totp::CodeAt(std::string_view secret_base32, int64_t unix_seconds) {
  InitOathOnce();
  auto secret = Base32Decode(secret_base32);
  if (!secret || secret->empty()) return {};
  char otp[kDigits + 1] = {};
  if (oath_totp_generate(secret->data(), secret->size(), static_cast<time_t>(unix_seconds),
                         kStepSeconds, 0, kDigits, otp) != OATH_OK) {
    return {};
  }
  return std::string(otp, kDigits);
}

std::string Totp::CurrentCode(std::string_view secret_base32) const {
  return CodeAt(secret_base32, clock_.NowSeconds());
}

int64_t Totp::CurrentStep() const { return clock_.NowSeconds() / kStepSeconds; }

}  // namespace tsunagu::auth
