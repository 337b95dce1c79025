#pragma once
// Ed25519 key holder for signing the head of the audit chain.
//
// The secret key lives in a key file (one line: the 32-byte Ed25519 seed as 64
// lower-case hex digits). OpenOrCreate() loads it, or creates it atomically
// with mode 0600 when it does not exist yet (two processes racing to create it
// end up with the same key). Keep the key file out of database backups: whoever
// holds it can re-sign a rewritten chain.
//
// Signatures and keys cross the API as lower-case hex strings.
// Thread-safety: all methods are const after construction and safe to call
// from any thread.
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::audit {

class AuditSigner {
 public:
  static constexpr size_t kSeedBytes = 32;
  static constexpr size_t kPublicKeyBytes = 32;
  static constexpr size_t kSecretKeyBytes = 64;
  static constexpr size_t kSignatureBytes = 64;

  // Loads the key at `key_path`, or creates a fresh one there (0600, written
  // to a temporary file in the same directory, fsynced, then linked into
  // place). Errors: InvalidInput when the file exists but does not hold a key;
  // Internal on I/O failure (detail names the path, never the key).
  static core::Result<std::unique_ptr<AuditSigner>> OpenOrCreate(const std::string& key_path);

  // A signer from a 32-byte seed given as 64 hex digits (tests, key escrow).
  static core::Result<std::unique_ptr<AuditSigner>> FromSeedHex(std::string_view seed_hex);

  ~AuditSigner();
  AuditSigner(const AuditSigner&) = delete;
  AuditSigner& operator=(const AuditSigner&) = delete;

  // Detached Ed25519 signature of `message`, 128 hex digits.
  std::string Sign(std::string_view message) const;
  // True when `signature_hex` is a valid signature of `message` under this
  // signer's public key. Malformed hex is simply false.
  bool Verify(std::string_view message, std::string_view signature_hex) const;
  // Verifies against an explicit public key (64 hex digits), e.g. a key
  // published to auditors. False on malformed input.
  static bool VerifyWithPublicKey(std::string_view public_key_hex, std::string_view message,
                                  std::string_view signature_hex);
  // 64 hex digits.
  std::string PublicKeyHex() const;

 private:
  AuditSigner() = default;
  std::array<unsigned char, kPublicKeyBytes> public_key_{};
  std::array<unsigned char, kSecretKeyBytes> secret_key_{};
};

}  // namespace tsunagu::audit
