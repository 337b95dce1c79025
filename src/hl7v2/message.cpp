#include "hl7v2/message.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <utility>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/text.hpp"

namespace tsunagu::hl7v2 {
namespace {

constexpr size_t kMinMshFields = 12;  // through MSH-12 (version ID)

// The n-th (0-based) piece of `s` split at `sep`; "" when absent.
std::string_view Nth(std::string_view s, char sep, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) return {};
    start = pos + 1;
  }
  size_t end = s.find(sep, start);
  return s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

bool IsDelimiterChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7E && !std::isalnum(u);
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::string DecodeHex(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(HexValue(hex[i]) * 16 + HexValue(hex[i + 1])));
  return out;
}

bool AllHex(std::string_view s) { return std::all_of(s.begin(), s.end(), IsHex); }

// Checks the payload between two escape characters.
bool ValidEscapePayload(std::string_view p) {
  if (p.empty()) return false;
  switch (p[0]) {
    case 'F':
    case 'S':
    case 'T':
    case 'R':
    case 'E':
    case 'H':
    case 'N':
      return p.size() == 1;
    case 'X':
      return p.size() >= 3 && p.size() % 2 == 1 && AllHex(p.substr(1)) &&
             core::IsValidUtf8(DecodeHex(p.substr(1)));
    case 'C':
      return p.size() == 5 && AllHex(p.substr(1));
    case 'M':
      return (p.size() == 5 || p.size() == 7) && AllHex(p.substr(1));
    case 'Z':
      return p.size() > 1;
    case '.':
      return p.size() >= 3 && std::all_of(p.begin() + 1, p.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-';
             });
    default:
      return false;
  }
}

// Validates every escape sequence in a field; false on the first bad one.
bool ValidEscapes(std::string_view field, const Delimiters& d) {
  size_t pos = field.find(d.escape);
  while (pos != std::string_view::npos) {
    size_t end = field.find(d.escape, pos + 1);
    if (end == std::string_view::npos) return false;
    std::string_view payload = field.substr(pos + 1, end - pos - 1);
    if (payload.find_first_of(std::string{d.component, d.repetition, d.subcomponent}) !=
        std::string_view::npos)
      return false;
    if (!ValidEscapePayload(payload)) return false;
    pos = field.find(d.escape, end + 1);
  }
  return true;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Only printable ASCII of a header value goes into an error message.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  return out;
}

// Iterates the lines of a message: CR, LF and CRLF end a line.
template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  size_t start = 0;
  size_t line = 0;
  const char* const data = text.data();
  while (start < text.size()) {
    // HL7 ends a segment with CR: one search for it, then one for a LF
    // before it (find_first_of would search its set of two once per byte).
    const void* cr = std::memchr(data + start, '\r', text.size() - start);
    size_t end =
        cr != nullptr ? static_cast<size_t>(static_cast<const char*>(cr) - data) : text.size();
    if (const void* lf = std::memchr(data + start, '\n', end - start))
      end = static_cast<size_t>(static_cast<const char*>(lf) - data);
    ++line;
    if (!f(text.substr(start, end - start), line)) return;
    start = end + 1;
  }
}

// Reports which line of undecodable text is at fault (error path only).
core::Status DecodeError(std::string_view raw, TextEncoding charset) {
  size_t bad_line = 0;
  ForEachLine(raw, [&](std::string_view line, size_t n) {
    bool ok = true;
    switch (charset) {
      case TextEncoding::kIso2022Jp:
        ok = core::DecodeIso2022Jp(line).has_value();
        break;
      case TextEncoding::kShiftJis:
        ok = core::DecodeShiftJis(line).has_value();
        break;
      case TextEncoding::kUtf8:
        ok = core::IsValidUtf8(line);
        break;
    }
    if (!ok) bad_line = n;
    return ok;
  });
  const char* what = charset == TextEncoding::kIso2022Jp
                         ? "broken ISO-2022-JP text (escape sequence)"
                     : charset == TextEncoding::kShiftJis ? "invalid Shift_JIS text"
                                                          : "invalid UTF-8 text";
  if (bad_line == 0) return core::InvalidInput(std::string("HL7 message: ") + what);
  return core::InvalidInput("HL7 message line " + std::to_string(bad_line) + ": " + what);
}

}  // namespace

core::Result<TextEncoding> EncodingFromMsh18(std::string_view msh18, char repetition) {
  std::optional<TextEncoding> found;
  size_t start = 0;
  while (start <= msh18.size()) {
    size_t end = msh18.find(repetition, start);
    if (end == std::string_view::npos) end = msh18.size();
    std::string name = Upper(core::Trim(msh18.substr(start, end - start)));
    start = end + 1;
    if (name.empty()) continue;
    TextEncoding c;
    if (name == "ISO IR87" || name == "ISO IR6" || name == "ISO IR13" || name == "ISO IR159" ||
        name == "ISO 2022-1994" || name == "ISO-2022-JP") {
      c = TextEncoding::kIso2022Jp;
    } else if (name == "UNICODE UTF-8" || name == "UTF-8" || name == "UNICODE") {
      c = TextEncoding::kUtf8;
    } else if (name == "SHIFT_JIS" || name == "SJIS" || name == "SHIFT-JIS" ||
               name == "WINDOWS-31J" || name == "CP932") {
      c = TextEncoding::kShiftJis;
    } else {
      return core::InvalidInput("HL7 message: unsupported character set in MSH-18: \"" +
                                Printable(name) + "\"");
    }
    // "ISO IR6" next to "ISO IR87" (ASCII + JIS X 0208) is still ISO-2022-JP.
    if (!found || c == TextEncoding::kIso2022Jp) {
      if (found && *found == TextEncoding::kShiftJis)
        return core::InvalidInput("HL7 message: MSH-18 mixes Shift_JIS and ISO-2022-JP");
      found = c;
    } else if (*found != c && !(c == TextEncoding::kUtf8 && *found == TextEncoding::kIso2022Jp)) {
      return core::InvalidInput("HL7 message: MSH-18 names incompatible character sets");
    }
  }
  return found.value_or(TextEncoding::kUtf8);
}

std::string_view Segment::Raw(size_t field) const {
  if (field == 0 || field > fields_.size()) return {};
  return fields_[field - 1];
}

std::string_view Segment::RawPart(size_t field, size_t repetition, size_t component,
                                  size_t subcomponent) const {
  std::string_view f = Raw(field);
  if (name_ == "MSH" && field <= 2) return f;
  std::string_view r = Nth(f, delimiters_.repetition, repetition);
  if (component == 0) return r;
  std::string_view c = Nth(r, delimiters_.component, component - 1);
  if (subcomponent == 0) return c;
  return Nth(c, delimiters_.subcomponent, subcomponent - 1);
}

std::string Segment::Get(size_t field, size_t component, size_t subcomponent,
                         size_t repetition) const {
  if (name_ == "MSH" && field <= 2) return std::string(Raw(field));
  if (component == 0) component = 1;
  if (subcomponent == 0) subcomponent = 1;
  return Unescape(RawPart(field, repetition, component, subcomponent), delimiters_);
}

size_t Segment::Repetitions(size_t field) const {
  std::string_view f = Raw(field);
  if (f.empty()) return 0;
  if (name_ == "MSH" && field <= 2) return 1;
  return static_cast<size_t>(std::count(f.begin(), f.end(), delimiters_.repetition)) + 1;
}

Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;
Message::~Message() = default;

const std::string& Message::utf8() const {
  static const std::string kEmpty;
  return text_ ? *text_ : kEmpty;
}

core::Result<Message> Message::Parse(std::string_view raw) {
  // Leading blank lines (left over from MLLP framing or editors) are harmless.
  size_t first = raw.find_first_not_of("\r\n \t");
  if (first == std::string_view::npos) return core::InvalidInput("HL7 message is empty");
  raw.remove_prefix(first);
  if (raw.substr(0, 3) != "MSH")
    return core::InvalidInput("HL7 message does not start with an MSH segment");
  if (raw.size() < 8) return core::InvalidInput("HL7 message: MSH segment is truncated");

  Delimiters d;
  d.field = raw[3];
  if (!IsDelimiterChar(d.field))
    return core::InvalidInput("HL7 message: MSH-1 field separator is not a punctuation character");
  size_t enc_end = raw.find(d.field, 4);
  size_t line_end = raw.find_first_of("\r\n");
  std::string_view enc = raw.substr(4, std::min(enc_end, line_end) - 4);
  if (enc.size() != 4 && enc.size() != 5)
    return core::InvalidInput("HL7 message: MSH-2 must hold 4 encoding characters (^~\\&)");
  d.component = enc[0];
  d.repetition = enc[1];
  d.escape = enc[2];
  d.subcomponent = enc[3];
  {
    const char all[] = {d.field, d.component, d.repetition, d.escape, d.subcomponent};
    for (size_t i = 0; i < 5; ++i) {
      if (!IsDelimiterChar(all[i]))
        return core::InvalidInput("HL7 message: MSH-2 encoding characters must be punctuation");
      for (size_t j = i + 1; j < 5; ++j)
        if (all[i] == all[j])
          return core::InvalidInput("HL7 message: MSH-1/MSH-2 delimiters must all differ");
    }
  }

  // MSH-18 is read from the raw bytes: the header itself is ASCII.
  std::string_view msh_raw = raw.substr(0, line_end);
  std::string_view msh18 = Nth(msh_raw, d.field, 17);
  TSUNAGU_ASSIGN_OR_RETURN(TextEncoding charset, EncodingFromMsh18(msh18, d.repetition));
  if (charset == TextEncoding::kUtf8 && msh18.empty() &&
      core::Trim(Nth(msh_raw, d.field, 19)) == "ISO 2022-1994")
    charset = TextEncoding::kIso2022Jp;

  Message m;
  m.delimiters_ = d;
  m.charset_ = charset;
  switch (charset) {
    case TextEncoding::kIso2022Jp: {
      std::optional<std::string> text = core::DecodeIso2022Jp(raw);
      if (!text) return DecodeError(raw, charset);
      m.text_ = std::make_unique<std::string>(std::move(*text));
      break;
    }
    case TextEncoding::kShiftJis: {
      std::optional<std::string> text = core::DecodeShiftJis(raw);
      if (!text) return DecodeError(raw, charset);
      m.text_ = std::make_unique<std::string>(std::move(*text));
      break;
    }
    case TextEncoding::kUtf8:
      if (!core::IsValidUtf8(raw)) return DecodeError(raw, charset);
      m.text_ = std::make_unique<std::string>(raw);
      break;
  }

  std::optional<core::Status> error;
  const std::string_view text = *m.text_;
  m.segments_.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\r')) + 1);
  std::vector<std::string_view> fields;
  ForEachLine(text, [&](std::string_view line, size_t n) {
    if (line.empty()) return true;
    // Error messages only: built when one is reported.
    auto where = [n] { return "HL7 message line " + std::to_string(n); };
    bool name_ok =
        line.size() >= 3 &&
        std::all_of(line.begin(), line.begin() + 3,
                    [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }) &&
        (line.size() == 3 || line[3] == d.field);
    if (!name_ok) {
      error = core::InvalidInput(where() + ": a segment must start with a 3-character name and '" +
                                 std::string(1, d.field) + "'");
      return false;
    }
    Segment seg;
    seg.name_ = line.substr(0, 3);
    seg.text_ = line;
    seg.delimiters_ = d;
    size_t rest = 4;
    if (seg.name_ == "MSH") {
      if (!m.segments_.empty()) {
        error = core::InvalidInput(where() + ": a second MSH segment (batches are not supported)");
        return false;
      }
      size_t end = line.find(d.field, 4);
      seg.fields_.push_back(line.substr(3, 1));
      seg.fields_.push_back(
          line.substr(4, end == std::string_view::npos ? line.size() - 4 : end - 4));
      rest = end == std::string_view::npos ? line.size() + 1 : end + 1;
    } else if (m.segments_.empty()) {
      error = core::InvalidInput(where() + ": MSH must be the first segment");
      return false;
    }
    if (rest <= line.size()) {
      // The fields are found in one pass over the line (most are a few
      // bytes long: a search per field costs more than the bytes), into a
      // list reused from segment to segment, then copied at their number.
      fields.assign(seg.fields_.begin(), seg.fields_.end());
      const char* const begin = line.data() + rest;
      const char* const end = line.data() + line.size();
      const char* start = begin;
      const char* p = begin;
#ifdef __SSE2__
      // Sixteen bytes at a time: a mask of where the separators are.
      const __m128i separator = _mm_set1_epi8(d.field);
      for (; end - p >= 16; p += 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, separator)));
        while (mask != 0) {
          const char* at = p + __builtin_ctz(mask);
          fields.emplace_back(start, static_cast<size_t>(at - start));
          start = at + 1;
          mask &= mask - 1;
        }
      }
#endif
      for (; p != end; ++p) {
        if (*p == d.field) {
          fields.emplace_back(start, static_cast<size_t>(p - start));
          start = p + 1;
        }
      }
      fields.emplace_back(start, static_cast<size_t>(end - start));
      // Most segments hold no escape at all: one search for the line.
      if (std::memchr(begin, d.escape, static_cast<size_t>(end - begin)) != nullptr) {
        for (size_t i = seg.fields_.size(); i < fields.size(); ++i) {
          if (fields[i].find(d.escape) != std::string_view::npos && !ValidEscapes(fields[i], d)) {
            error = core::InvalidInput(where() + " (" + std::string(seg.name_) + "-" +
                                       std::to_string(i + 1) + "): malformed escape sequence");
            return false;
          }
        }
      }
      seg.fields_.assign(fields.begin(), fields.end());
    }
    m.segments_.push_back(std::move(seg));
    return true;
  });
  if (error) return *error;
  if (m.segments_.empty() || m.segments_.front().name_ != "MSH")
    return core::InvalidInput("HL7 message does not start with an MSH segment");
  const Segment& msh = m.segments_.front();
  if (msh.FieldCount() < kMinMshFields)
    return core::InvalidInput("HL7 message: MSH has " + std::to_string(msh.FieldCount()) +
                              " fields; at least 12 (through MSH-12 version) are required");
  if (m.Type().empty()) return core::InvalidInput("HL7 message: MSH-9 message type is empty");
  return m;
}

const Segment* Message::Find(std::string_view name, size_t occurrence) const {
  for (const Segment& s : segments_) {
    if (s.name_ == name) {
      if (occurrence == 0) return &s;
      --occurrence;
    }
  }
  return nullptr;
}

std::vector<const Segment*> Message::FindAll(std::string_view name) const {
  std::vector<const Segment*> out;
  for (const Segment& s : segments_)
    if (s.name_ == name) out.push_back(&s);
  return out;
}

std::string_view Message::Type() const { return Header().RawPart(9, 0, 1); }
std::string_view Message::Event() const { return Header().RawPart(9, 0, 2); }
std::string Message::ControlId() const { return Header().Get(10); }
std::string Message::Charset() const { return std::string(Header().Raw(18)); }
std::string Message::Version() const { return Header().Get(12); }

std::string Unescape(std::string_view text, const Delimiters& d) {
  size_t pos = text.find(d.escape);
  if (pos == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t start = 0;
  while (pos != std::string_view::npos) {
    size_t end = text.find(d.escape, pos + 1);
    if (end == std::string_view::npos) break;
    out.append(text, start, pos - start);
    std::string_view p = text.substr(pos + 1, end - pos - 1);
    if (!ValidEscapePayload(p)) {
      // Copied through; the closing escape may open the next sequence.
      out.append(text, pos, end - pos);
      start = end;
      pos = end;
      continue;
    }
    switch (p[0]) {
      case 'F':
        out.push_back(d.field);
        break;
      case 'S':
        out.push_back(d.component);
        break;
      case 'T':
        out.push_back(d.subcomponent);
        break;
      case 'R':
        out.push_back(d.repetition);
        break;
      case 'E':
        out.push_back(d.escape);
        break;
      case 'X':
        out += DecodeHex(p.substr(1));
        break;
      case '.':
        if (p == ".br" || p.substr(0, 3) == ".sp") out.push_back('\n');
        break;
      default:  // \H\ \N\ \C..\ \M..\ \Z..\: presentation only
        break;
    }
    start = end + 1;
    pos = text.find(d.escape, start);
  }
  out.append(text, start, std::string_view::npos);
  return out;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  auto seq = [&](char c) {
    out.push_back(d.escape);
    out.push_back(c);
    out.push_back(d.escape);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == d.field) {
      seq('F');
    } else if (c == d.component) {
      seq('S');
    } else if (c == d.subcomponent) {
      seq('T');
    } else if (c == d.repetition) {
      seq('R');
    } else if (c == d.escape) {
      seq('E');
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out.push_back(d.escape);
      out += ".br";
      out.push_back(d.escape);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace tsunagu::hl7v2
