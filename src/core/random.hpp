#pragma once
// Cryptographically secure randomness from the kernel (getrandom).
#include <cstddef>
#include <cstdint>
#include <string>

namespace tsunagu::core {

void RandomBytes(void* out, size_t n);
uint64_t RandomUint64();
// Uniform in [0, bound).
uint64_t RandomBelow(uint64_t bound);
// n random bytes, hex-encoded (2n chars).
std::string RandomHex(size_t n);
// n random bytes, base64url without padding.
std::string RandomToken(size_t n = 32);

std::string HexEncode(const void* data, size_t n);
std::string Base64UrlEncode(const void* data, size_t n);

}  // namespace tsunagu::core
