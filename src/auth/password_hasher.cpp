#include "auth/password_hasher.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace tsunagu::auth {
namespace {

void InitSodiumOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
  });
}

}  // namespace

PasswordHasher::PasswordHasher() : PasswordHasher(Limits{}) {}

PasswordHasher::PasswordHasher(Limits limits) : limits_(limits) {
  InitSodiumOnce();
  if (limits_.iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN) {
    limits_.iterations = crypto_pwhash_argon2id_OPSLIMIT_MIN;
  }
  if (limits_.memory_kib * 1024 < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    limits_.memory_kib = crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024;
  }
}

core::Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), limits_.iterations,
                            static_cast<size_t>(limits_.memory_kib * 1024),
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return core::Internal("password hashing failed", "crypto_pwhash_str_alg: out of memory");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(std::string_view password, const std::string& encoded) const {
  if (encoded.size() >= crypto_pwhash_STRBYTES) return false;
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(const std::string& encoded) const {
  if (encoded.rfind("$argon2id$", 0) != 0) return true;
  return crypto_pwhash_str_needs_rehash(encoded.c_str(), limits_.iterations,
                                        static_cast<size_t>(limits_.memory_kib * 1024)) != 0;
}

}  // namespace tsunagu::auth
