#include "core/text.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace tsunagu::core {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one strict UTF-8 sequence at s[i]. On success stores the code
// point, advances i past it and returns true; on failure advances i by one
// byte and returns false.
bool NextCodePoint(std::string_view s, size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  }
  size_t len;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    min = 0x80;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    min = 0x800;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    min = 0x10000;
    cp = b0 & 0x07;
  } else {
    ++i;
    return false;
  }
  if (s.size() - i < len) {
    ++i;
    return false;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return false;
  }
  i += len;
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Code points of `s`; invalid bytes become U+FFFD.
std::vector<char32_t> CodePoints(std::string_view s) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    cps.push_back(NextCodePoint(s, i, cp) ? cp : kReplacement);
  }
  return cps;
}

// Half-width katakana U+FF61..U+FF9F to their full-width forms. U+FF65 (･)
// maps to ・; U+FF9E/U+FF9F map to the spacing marks ゛/゜.
constexpr char16_t kHalfWidthKana[] = {
    u'。', u'「', u'」', u'、', u'・', u'ヲ', u'ァ', u'ィ', u'ゥ', u'ェ', u'ォ', u'ャ', u'ュ',
    u'ョ', u'ッ', u'ー', u'ア', u'イ', u'ウ', u'エ', u'オ', u'カ', u'キ', u'ク', u'ケ', u'コ',
    u'サ', u'シ', u'ス', u'セ', u'ソ', u'タ', u'チ', u'ツ', u'テ', u'ト', u'ナ', u'ニ', u'ヌ',
    u'ネ', u'ノ', u'ハ', u'ヒ', u'フ', u'ヘ', u'ホ', u'マ', u'ミ', u'ム', u'メ', u'モ', u'ヤ',
    u'ユ', u'ヨ', u'ラ', u'リ', u'ル', u'レ', u'ロ', u'ワ', u'ン', u'゛', u'゜',
};
static_assert(sizeof(kHalfWidthKana) / sizeof(kHalfWidthKana[0]) == 0xFF9F - 0xFF61 + 1);

bool IsDakuten(char32_t cp) { return cp == 0xFF9E || cp == 0x3099 || cp == 0x309B; }
bool IsHandakuten(char32_t cp) { return cp == 0xFF9F || cp == 0x309A || cp == 0x309C; }

// Voiced form of a katakana or hiragana letter, or 0 when there is none.
char32_t Voiced(char32_t cp) {
  switch (cp) {
    case U'ウ':
      return U'ヴ';
    case U'う':
      return U'ゔ';
    case U'ワ':
      return U'ヷ';
    case U'ヰ':
      return U'ヸ';
    case U'ヱ':
      return U'ヹ';
    case U'ヲ':
      return U'ヺ';
    case U'ゝ':
      return U'ゞ';
    case U'ヽ':
      return U'ヾ';
    default:
      break;
  }
  // カ..ト and ハ..ホ (and their hiragana): the voiced letter follows directly.
  for (char32_t base : {U'か', U'カ'}) {
    const char32_t off = cp - base;
    if (cp >= base && off <= 0x1D) {
      // か(0) き(2) く(4) け(6) こ(8) さ.. そ(18) た(20) ち(22) っ(24) つ(25) て(27) と(29)
      if ((off <= 22 && off % 2 == 0) || off == 25 || off == 27 || off == 29) return cp + 1;
      return 0;
    }
  }
  for (char32_t base : {U'は', U'ハ'}) {
    const char32_t off = cp - base;
    if (cp >= base && off <= 12 && off % 3 == 0) return cp + 1;
  }
  return 0;
}

char32_t SemiVoiced(char32_t cp) {
  for (char32_t base : {U'は', U'ハ'}) {
    const char32_t off = cp - base;
    if (cp >= base && off <= 12 && off % 3 == 0) return cp + 2;
  }
  return 0;
}

// Widens half-width katakana and composes voicing marks onto the preceding
// letter. Shared by FoldKana and EncodeIso2022Jp.
void AppendWidened(std::vector<char32_t>& out, char32_t cp) {
  if (cp >= 0xFF61 && cp <= 0xFF9F) cp = kHalfWidthKana[cp - 0xFF61];
  if (!out.empty() && (IsDakuten(cp) || IsHandakuten(cp))) {
    const char32_t composed = IsDakuten(cp) ? Voiced(out.back()) : SemiVoiced(out.back());
    if (composed != 0) {
      out.back() = composed;
      return;
    }
  }
  // A combining mark left alone is shown in its spacing form.
  if (cp == 0x3099) cp = 0x309B;
  if (cp == 0x309A) cp = 0x309C;
  out.push_back(cp);
}

std::string ToUtf8(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size() * 3);
  for (char32_t cp : cps) AppendUtf8(out, cp);
  return out;
}

bool IsTrimmable(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\v' || cp == '\f' ||
         cp == 0x3000;
}

// A digit '0'..'9' from an ASCII or full-width digit, or -1.
int DigitValue(char32_t cp) {
  if (cp >= '0' && cp <= '9') return static_cast<int>(cp - '0');
  if (cp >= 0xFF10 && cp <= 0xFF19) return static_cast<int>(cp - 0xFF10);
  return -1;
}

// What may surround or split the digits of a postcode: 〒, hyphens and dashes
// people type (ASCII, full-width, ー), spaces.
bool IsPostcodeFiller(char32_t cp) {
  constexpr char32_t kFillers[] = {U'〒', U'-', U'－', U'‐', U'‑', U'‒',  U'–', U'—',
                                   U'―',  U'−', U'ー', U'ｰ', U' ', U'\t', U'　'};
  for (char32_t f : kFillers) {
    if (cp == f) return true;
  }
  return false;
}

class IconvHandle {
 public:
  IconvHandle(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
  ~IconvHandle() {
    if (ok()) iconv_close(cd_);
  }
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

// The calling thread's descriptor for a conversion, reset to its initial
// state: opening one costs more than converting a message (an SS-MIX2
// import decodes every message), so each thread keeps the few it uses.
// Null when the conversion is not available.
const IconvHandle* ThreadIconv(const char* to, const char* from) {
  struct Entry {
    std::string to, from;
    std::unique_ptr<IconvHandle> handle;
  };
  thread_local std::vector<Entry> cache;
  const IconvHandle* cd = nullptr;
  for (const Entry& e : cache) {
    if (e.to == to && e.from == from) cd = e.handle.get();
  }
  if (cd == nullptr) {
    auto handle = std::make_unique<IconvHandle>(to, from);
    if (!handle->ok()) return nullptr;
    cd = handle.get();
    cache.push_back({to, from, std::move(handle)});
  }
  (void)iconv(cd->get(), nullptr, nullptr, nullptr, nullptr);
  return cd;
}

// Whole-buffer conversion; nullopt on any invalid or incomplete input or an
// unrepresentable character (iconv without //TRANSLIT or //IGNORE).
std::optional<std::string> Convert(const char* to, const char* from, std::string_view in) {
  const IconvHandle* handle = ThreadIconv(to, from);
  if (handle == nullptr) return std::nullopt;
  const IconvHandle& cd = *handle;
  std::string out(in.size() * 2 + 16, '\0');
  // glibc's iconv does not write through the input pointer.
  char* in_ptr = const_cast<char*>(in.data());
  size_t in_left = in.size();
  size_t used = 0;
  bool flushing = false;
  for (;;) {
    char* out_ptr = out.data() + used;
    size_t out_left = out.size() - used;
    // After the input is consumed, a null input flushes the shift state (an
    // ISO-2022-JP encoder writes its final ESC ( B here).
    const size_t rc = flushing ? iconv(cd.get(), nullptr, nullptr, &out_ptr, &out_left)
                               : iconv(cd.get(), &in_ptr, &in_left, &out_ptr, &out_left);
    used = static_cast<size_t>(out_ptr - out.data());
    if (rc != static_cast<size_t>(-1)) {
      if (flushing) break;
      flushing = true;
      continue;
    }
    if (errno != E2BIG) return std::nullopt;  // EILSEQ or EINVAL (truncated)
    out.resize(out.size() * 2);
  }
  out.resize(used);
  return out;
}

// Validates the escape structure of ISO-2022-JP text and picks the iconv
// charset able to decode it ("" when malformed).
const char* CheckIso2022Jp(std::string_view s) {
  enum class Mode { kSingle, kDouble };
  Mode mode = Mode::kSingle;
  bool jisx0212 = false;
  bool jisx0213 = false;
  size_t run = 0;  // bytes in the current double-byte run
  auto starts = [&](size_t i, std::string_view esc) { return s.substr(i, esc.size()) == esc; };
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b == 0x1B) {
      if (mode == Mode::kDouble && run % 2 != 0) return "";
      size_t len = 0;
      Mode next = Mode::kDouble;
      if (starts(i, "\x1b(B") || starts(i, "\x1b(J") || starts(i, "\x1b(I")) {
        len = 3;
        next = Mode::kSingle;
      } else if (starts(i, "\x1b$@") || starts(i, "\x1b$B")) {
        len = 3;
      } else if (starts(i, "\x1b$(D")) {
        len = 4;
        jisx0212 = true;
      } else if (starts(i, "\x1b$(O") || starts(i, "\x1b$(Q") || starts(i, "\x1b$(P")) {
        len = 4;
        jisx0213 = true;
      } else {
        return "";
      }
      mode = next;
      run = 0;
      i += len;
      continue;
    }
    if (b >= 0x80) return "";
    if (mode == Mode::kDouble) {
      if (b < 0x21 || b > 0x7E) return "";
      ++run;
    }
    ++i;
  }
  if (mode == Mode::kDouble && run % 2 != 0) return "";
  if (jisx0212 && jisx0213) return "";
  return jisx0213 ? "ISO-2022-JP-3" : "ISO-2022-JP-2";
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    if (!NextCodePoint(s, i, cp)) return false;
  }
  return true;
}

std::string FoldKana(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (char32_t cp : CodePoints(s)) {
    if (cp == ' ' || cp == '\t' || cp == 0x3000) continue;
    if (cp == 0x30FB || cp == 0xFF65) continue;  // middle dots
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    // Voicing marks are composed before the hiragana -> katakana shift so
    // that "ｳﾞ", "う゛" and "ヴ" meet.
    AppendWidened(out, cp);
    char32_t& last = out.back();
    if ((last >= 0x3041 && last <= 0x3096) || last == 0x309D || last == 0x309E) last += 0x60;
  }
  return ToUtf8(out);
}

bool LooksLikeEmail(std::string_view s) {
  auto at = s.find('@');
  return at != std::string_view::npos && at > 0 && s.find('.', at) != std::string_view::npos &&
         s.find_first_of(" \r\n<>\"") == std::string_view::npos && s.size() <= 254;
}

std::string Trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  for (;;) {
    if (begin < end && IsTrimmable(static_cast<unsigned char>(s[begin]))) {
      ++begin;
    } else if (end - begin >= 3 && s.substr(begin, 3) == "\u3000") {
      begin += 3;
    } else {
      break;
    }
  }
  for (;;) {
    if (end > begin && IsTrimmable(static_cast<unsigned char>(s[end - 1]))) {
      --end;
    } else if (end - begin >= 3 && s.substr(end - 3, 3) == "\u3000") {
      end -= 3;
    } else {
      break;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

namespace {

// The common case of ISO-2022-JP decoding (ASCII, JIS-Roman and JIS X 0208
// only: every SS-MIX2 message of a hospital's EHR), by tables of what
// iconv itself answers for each character, filled once. An SS-MIX2 import
// decodes every message; through iconv a message cost about as much as
// parsing it. Anything else (JIS X 0201 katakana, JIS X 0212/0213, a
// malformed text, a character iconv refuses) goes to iconv as before.
class Iso2022JpTables {
 public:
  struct Char {
    uint8_t size = 0;  // 0: iconv refuses it
    char utf8[3] = {};
  };
  static const Iso2022JpTables& Get() {
    static const Iso2022JpTables tables;
    return tables;
  }
  // Single-byte sets: [0] ESC ( B, [1] ESC ( J. Double-byte: [0] ESC $ @,
  // [1] ESC $ B, indexed by (b1 - 0x21) * 94 + (b2 - 0x21).
  Char single[2][128];
  std::vector<Char> dbcs[2];
  // Whether iconv gives every byte but ESC of the ASCII set back as itself.
  bool ascii_is_ascii = true;

 private:
  Iso2022JpTables() {
    const char* const single_escapes[2] = {"\x1b(B", "\x1b(J"};
    for (int set = 0; set < 2; ++set) {
      for (int b = 0; b < 128; ++b) {
        if (b == 0x1B) continue;
        single[set][b] = Decode(std::string(single_escapes[set]) + static_cast<char>(b));
      }
    }
    for (int b = 0; b < 128; ++b) {
      if (b != 0x1B && (single[0][b].size != 1 || single[0][b].utf8[0] != static_cast<char>(b))) {
        ascii_is_ascii = false;
      }
    }
    const char* const double_escapes[2] = {"\x1b$@", "\x1b$B"};
    for (int set = 0; set < 2; ++set) {
      dbcs[set].resize(94 * 94);
      for (int row = 0; row < 94; ++row) {
        // A row at once; a row iconv refuses (a cell unassigned), a cell at once.
        std::string text = double_escapes[set];
        for (int cell = 0; cell < 94; ++cell) {
          text += static_cast<char>(0x21 + row);
          text += static_cast<char>(0x21 + cell);
        }
        std::optional<std::string> decoded = Convert("UTF-8", "ISO-2022-JP-2", text);
        std::vector<Char> chars;
        if (decoded) chars = Split(*decoded);
        for (int cell = 0; cell < 94; ++cell) {
          dbcs[set][row * 94 + cell] =
              chars.size() == 94
                  ? chars[cell]
                  : Decode(std::string(double_escapes[set]) + static_cast<char>(0x21 + row) +
                           static_cast<char>(0x21 + cell));
        }
      }
    }
  }
  static Char Decode(const std::string& text) {
    std::optional<std::string> decoded = Convert("UTF-8", "ISO-2022-JP-2", text);
    if (!decoded) return {};
    std::vector<Char> chars = Split(*decoded);
    return chars.size() == 1 ? chars[0] : Char{};
  }
  // UTF-8 text as characters of at most three bytes (empty if one is longer).
  static std::vector<Char> Split(std::string_view utf8) {
    std::vector<Char> out;
    size_t i = 0;
    while (i < utf8.size()) {
      const size_t start = i;
      char32_t cp;
      if (!NextCodePoint(utf8, i, cp) || i - start > 3) return {};
      Char c;
      c.size = static_cast<uint8_t>(i - start);
      for (size_t k = 0; k < c.size; ++k) c.utf8[k] = utf8[start + k];
      out.push_back(c);
    }
    return out;
  }
};

// nullopt when the text needs iconv (see Iso2022JpTables).
std::optional<std::string> DecodeIso2022JpByTables(std::string_view s) {
  const Iso2022JpTables& t = Iso2022JpTables::Get();
  // At most three bytes out per byte in (JIS-Roman's ‾), and a character's
  // three bytes are always copied, its size then kept.
  std::string out(s.size() * 3 + 3, '\0');
  char* p = out.data();
  const char* const end = s.data() + s.size();
  const char* i = s.data();
  int single = 0;                               // ESC ( B, ESC ( J
  const Iso2022JpTables::Char* dbcs = nullptr;  // set in a double-byte run
  while (i < end) {
    if (*i == '\x1b') {
      if (end - i < 3) return std::nullopt;
      const char a = i[1];
      const char c = i[2];
      if (a == '(' && (c == 'B' || c == 'J')) {
        single = c == 'J' ? 1 : 0;
        dbcs = nullptr;
      } else if (a == '$' && (c == '@' || c == 'B')) {
        dbcs = t.dbcs[c == 'B' ? 1 : 0].data();
      } else {
        return std::nullopt;
      }
      i += 3;
      continue;
    }
    if (dbcs == nullptr) {
      if (single == 0 && t.ascii_is_ascii) {
        // A run of ASCII up to the next escape, copied at once.
        const void* esc = std::memchr(i, '\x1b', static_cast<size_t>(end - i));
        const char* run_end = esc != nullptr ? static_cast<const char*>(esc) : end;
        unsigned char high = 0;
        for (const char* q = i; q < run_end; ++q) high |= static_cast<unsigned char>(*q);
        if (high >= 0x80) return std::nullopt;
        std::memcpy(p, i, static_cast<size_t>(run_end - i));
        p += run_end - i;
        i = run_end;
        continue;
      }
      const auto b = static_cast<unsigned char>(*i);
      if (b >= 0x80) return std::nullopt;
      const Iso2022JpTables::Char& ch = t.single[single][b];
      if (ch.size == 0) return std::nullopt;
      std::memcpy(p, ch.utf8, 3);
      p += ch.size;
      ++i;
      continue;
    }
    if (end - i < 2) return std::nullopt;
    const auto b1 = static_cast<unsigned char>(i[0]);
    const auto b2 = static_cast<unsigned char>(i[1]);
    if (b1 < 0x21 || b1 > 0x7E || b2 < 0x21 || b2 > 0x7E) return std::nullopt;
    const Iso2022JpTables::Char& ch = dbcs[(b1 - 0x21) * 94 + (b2 - 0x21)];
    if (ch.size == 0) return std::nullopt;
    std::memcpy(p, ch.utf8, 3);
    p += ch.size;
    i += 2;
  }
  out.resize(static_cast<size_t>(p - out.data()));
  return out;
}

}  // namespace

std::optional<std::string> DecodeIso2022Jp(std::string_view s) {
  if (auto fast = DecodeIso2022JpByTables(s)) return fast;
  const char* charset = CheckIso2022Jp(s);
  if (*charset == '\0') return std::nullopt;
  return Convert("UTF-8", charset, s);
}

std::optional<std::string> DecodeShiftJis(std::string_view s) {
  return Convert("UTF-8", "CP932", s);
}

std::optional<std::string> EncodeIso2022Jp(std::string_view utf8) {
  if (!IsValidUtf8(utf8)) return std::nullopt;
  std::vector<char32_t> cps;
  cps.reserve(utf8.size());
  for (char32_t cp : CodePoints(utf8)) {
    // CP932 look-alikes of JIS X 0208 characters.
    switch (cp) {
      case 0xFF5E:
        cp = 0x301C;
        break;  // ～ -> 〜
      case 0xFF0D:
        cp = 0x2212;
        break;  // － -> −
      case 0x2225:
        cp = 0x2016;
        break;  // ∥ -> ‖
      case 0x2014:
        cp = 0x2015;
        break;  // — -> ―
      case 0xFFE0:
        cp = 0x00A2;
        break;  // ￠ -> ¢
      case 0xFFE1:
        cp = 0x00A3;
        break;  // ￡ -> £
      case 0xFFE2:
        cp = 0x00AC;
        break;  // ￢ -> ¬
      default:
        break;
    }
    AppendWidened(cps, cp);
  }
  std::optional<std::string> out = Convert("ISO-2022-JP-2", "UTF-8", ToUtf8(cps));
  // ISO-2022-JP-2 would reach for Chinese, Korean or ISO 8859 sets for what
  // JIS lacks; those escapes do not belong in Japanese HL7 text.
  if (out && *CheckIso2022Jp(*out) == '\0') return std::nullopt;
  return out;
}

std::optional<std::string> EncodeShiftJis(std::string_view utf8) {
  if (!IsValidUtf8(utf8)) return std::nullopt;
  return Convert("CP932", "UTF-8", utf8);
}

bool IsKatakanaOrSpace(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    if (!NextCodePoint(s, i, cp)) return false;
    if (!(cp == ' ' || cp == 0x3000 || (cp >= 0x30A1 && cp <= 0x30FE))) return false;
  }
  return true;
}

std::string NormalizePhone(std::string_view s) {
  std::string out;
  for (char32_t cp : CodePoints(s)) {
    const int d = DigitValue(cp);
    if (d >= 0) out += static_cast<char>('0' + d);
  }
  return out;
}

std::string NormalizePostcode(std::string_view s) {
  std::string out;
  for (char32_t cp : CodePoints(s)) {
    const int d = DigitValue(cp);
    if (d >= 0) {
      out += static_cast<char>('0' + d);
      continue;
    }
    if (!IsPostcodeFiller(cp)) return "";
  }
  return out.size() == 7 ? out : "";
}

}  // namespace tsunagu::core
