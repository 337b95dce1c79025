#include "core/log.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/clock.hpp"

namespace tsunagu::core {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;
FILE* g_out = nullptr;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

bool SetLogFile(const std::string& path) {
  std::lock_guard lock(g_mu);
  if (g_out && g_out != stderr) std::fclose(g_out);
  g_out = nullptr;
  if (path.empty()) return true;
  g_out = std::fopen(path.c_str(), "a");
  return g_out != nullptr;
}

namespace {
// For each byte: 0 when it is copied as it is, else the character after the
// backslash of its escape ('u' for \u00XX).
constexpr std::array<char, 256> kJsonEscapes = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['"'] = '"';
  t['\\'] = '\\';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  return t;
}();

// True if any of the 8 bytes of `w` needs an escape (below 0x20, quote or
// backslash): the usual "has a zero byte" and "has a byte less than" tests,
// exact for any byte values.
bool AnyEscapeIn8(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (k01 * '"');
  const uint64_t backslash = w ^ (k01 * '\\');
  const uint64_t t =
      ((w - k01 * 0x20) & ~w) | ((quote - k01) & ~quote) | ((backslash - k01) & ~backslash);
  return (t & k80) != 0;
}

#ifdef __SSE2__
// The same for sixteen bytes: a control character (unsigned <= 0x1f: the
// larger of it and 0x1f is 0x1f), a quote or a backslash.
bool AnyEscapeIn16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control = _mm_set1_epi8(0x1f);
  const __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
      _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
  return _mm_movemask_epi8(hit) != 0;
}
#endif

}  // namespace

// Sixteen (or eight) bytes at a time, the last partial block read again
// from the end, short texts byte by byte.
bool JsonNeedsEscape(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
#ifdef __SSE2__
  if (n >= 16) {
    for (size_t i = 0; i + 16 <= n; i += 16) {
      if (AnyEscapeIn16(p + i)) return true;
    }
    return AnyEscapeIn16(p + n - 16);
  }
#endif
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (kJsonEscapes[static_cast<unsigned char>(p[i])] != 0) return true;
    }
    return false;
  }
  uint64_t w;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&w, p + i, 8);
    if (AnyEscapeIn8(w)) return true;
  }
  std::memcpy(&w, p + n - 8, 8);
  return AnyEscapeIn8(w);
}

namespace {

// AppendJsonEscaped of a text with something to escape (kept out of line:
// the common case then needs no stack frame).
[[gnu::noinline]] void AppendEscapedSlow(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Runs of bytes that need no escape (nearly all of them) go in one append.
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p < end; ++p) {
    // Sixteen, then eight bytes at a time while none of them needs an escape.
#ifdef __SSE2__
    while (end - p >= 16 && !AnyEscapeIn16(p)) p += 16;
#endif
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (AnyEscapeIn8(w)) break;
      p += 8;
    }
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p);
    const char e = kJsonEscapes[c];
    if (e == 0) continue;
    out.append(run, p - run);
    if (e == 'u') {
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(escape, sizeof escape);
    } else {
      const char escape[2] = {'\\', e};
      out.append(escape, sizeof escape);
    }
    run = p + 1;
  }
  out.append(run, end - run);
}
}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view s) {
  // Nearly every text needs no escape: one test, one append.
  if (JsonNeedsEscape(s)) {
    AppendEscapedSlow(out, s);
  } else {
    out.append(s.data(), s.size());
  }
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line;
  line.reserve(128);
  line += "{\"ts\":\"";
  line += FormatIsoUtc(SystemClock::Instance().NowMillis());
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"event\":\"";
  AppendJsonEscaped(line, event);
  line += '"';
  for (const auto& [k, v] : fields) {
    line += ",\"";
    AppendJsonEscaped(line, k);
    line += "\":\"";
    AppendJsonEscaped(line, v);
    line += '"';
  }
  line += "}\n";
  std::lock_guard lock(g_mu);
  FILE* out = g_out ? g_out : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace tsunagu::core
