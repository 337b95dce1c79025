#include "core/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace tsunagu::core {

void RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}

uint64_t RandomUint64() {
  uint64_t v;
  RandomBytes(&v, sizeof v);
  return v;
}

uint64_t RandomBelow(uint64_t bound) {
  if (bound <= 1) return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    uint64_t v = RandomUint64();
    if (v < limit) return v % bound;
  }
}

std::string HexEncode(const void* data, size_t n) {
  static const char* kHex = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4];
    s[2 * i + 1] = kHex[p[i] & 15];
  }
  return s;
}

std::string Base64UrlEncode(const void* data, size_t n) {
  static const char* kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string s;
  s.reserve((n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    s += kAlpha[(v >> 18) & 63];
    s += kAlpha[(v >> 12) & 63];
    s += kAlpha[(v >> 6) & 63];
    s += kAlpha[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = p[i] << 16;
    s += kAlpha[(v >> 18) & 63];
    s += kAlpha[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    s += kAlpha[(v >> 18) & 63];
    s += kAlpha[(v >> 12) & 63];
    s += kAlpha[(v >> 6) & 63];
  }
  return s;
}

std::string RandomHex(size_t n) {
  std::string buf(n, '\0');
  RandomBytes(buf.data(), n);
  return HexEncode(buf.data(), n);
}

std::string RandomToken(size_t n) {
  std::string buf(n, '\0');
  RandomBytes(buf.data(), n);
  return Base64UrlEncode(buf.data(), n);
}

}  // namespace tsunagu::core
