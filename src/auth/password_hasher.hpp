#pragma once
// Password hashing with Argon2id (libsodium, ARGON2ID13).
//
// Default parameters follow the OWASP Password Storage Cheat Sheet minimum
// for Argon2id: memory m = 19 MiB (19456 KiB), iterations t = 2, parallelism
// p = 1 (libsodium always uses one lane). One hash takes roughly 30-60 ms on a
// current server core and 19 MiB of RAM, which bounds login throughput; see
// docs/security.md. The parameters are encoded in every stored string
// ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), so raising them later keeps old
// hashes verifiable, and NeedsRehash() tells the login path to upgrade them.
//
// Thread-safety: all methods are const-safe and may be called concurrently.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::auth {

class PasswordHasher {
 public:
  static constexpr uint64_t kDefaultMemoryKib = 19456;  // 19 MiB
  static constexpr uint64_t kDefaultIterations = 2;
  // The smallest limits libsodium accepts (for tests only: not secure).
  static constexpr uint64_t kMinimumMemoryKib = 8;
  static constexpr uint64_t kMinimumIterations = 1;

  struct Limits {
    uint64_t memory_kib = kDefaultMemoryKib;
    uint64_t iterations = kDefaultIterations;
  };

  PasswordHasher();  // default (production) limits
  explicit PasswordHasher(Limits limits);
  // Fast, insecure limits for unit tests.
  static Limits MinimumLimits() { return {kMinimumMemoryKib, kMinimumIterations}; }

  // Returns the encoded "$argon2id$..." string (with a random salt).
  // Internal if libsodium cannot allocate the memory.
  core::Result<std::string> Hash(std::string_view password) const;
  // True when `encoded` is a valid Argon2id string for `password`.
  // A malformed or foreign encoded string simply does not verify.
  bool Verify(std::string_view password, const std::string& encoded) const;
  // True when `encoded` was made with other limits than this hasher's (or is
  // not an Argon2id string at all) and should be re-hashed after a login.
  bool NeedsRehash(const std::string& encoded) const;

  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
};

}  // namespace tsunagu::auth
