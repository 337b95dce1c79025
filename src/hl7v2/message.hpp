#pragma once
// HL7 v2.5 message parser (JAHIS conventions as used in SS-MIX2 storage).
// No storage, no HTTP. A Message owns its text, decoded to UTF-8 from the
// MSH-18 character set before splitting (ISO-2022-JP and Shift_JIS bytes can
// collide with the delimiters); segments and fields are views into it, so
// parsing copies the text once and allocates only the segment/field tables.
// Thread-safety: a parsed Message is immutable and may be shared; Segment
// views stay valid as long as their Message lives (also across moves).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::hl7v2 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// Character sets of MSH-18 that the parser understands.
enum class TextEncoding {
  kUtf8,       // "UNICODE UTF-8" or empty
  kIso2022Jp,  // "ISO IR87", "ISO IR6", "ISO IR13", "ISO IR159", "ISO 2022-1994"
  kShiftJis,   // "SHIFT_JIS", "SJIS", "Shift_JIS" (seen in the field, not HL7 table 0211)
};

class Segment {
 public:
  std::string_view Name() const { return name_; }
  // Number of fields after the name. For MSH, field 1 is the field separator
  // itself and field 2 the encoding characters (HL7 numbering).
  size_t FieldCount() const { return fields_.size(); }
  // Raw (still escaped) text of field n (1-based); "" when absent.
  std::string_view Raw(size_t field) const;
  // Unescaped value of field/repetition/component/subcomponent (1-based
  // field, component, subcomponent; 0-based repetition); "" when absent.
  // MSH-1 and MSH-2 are returned verbatim.
  std::string Get(size_t field, size_t component = 1, size_t subcomponent = 1,
                  size_t repetition = 0) const;
  // Raw (still escaped) text of one repetition/component/subcomponent;
  // component or subcomponent 0 means "the whole repetition/component".
  std::string_view RawPart(size_t field, size_t repetition = 0, size_t component = 0,
                           size_t subcomponent = 0) const;
  // Number of repetitions of field n: 0 when the field is empty or absent.
  size_t Repetitions(size_t field) const;
  // Raw text of the whole segment (without the terminator).
  std::string_view Text() const { return text_; }
  const Delimiters& delimiters() const { return delimiters_; }

 private:
  friend class Message;
  std::string_view name_;
  std::string_view text_;
  std::vector<std::string_view> fields_;
  Delimiters delimiters_;
};

class Message {
 public:
  // Parses one message. Segments end at CR (LF and CRLF tolerated; blank
  // lines skipped). Errors (InvalidInput, with a reason naming the
  // segment/line): empty input, no MSH first, bad encoding characters, MSH
  // with fewer than 12 fields, an invalid segment name, unknown MSH-18
  // character set, text undecodable in that character set (broken
  // ISO-2022-JP escapes, invalid UTF-8), malformed HL7 escape sequences.
  // Unknown segments (Z segments included) are kept.
  static core::Result<Message> Parse(std::string_view raw);

  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  const std::vector<Segment>& segments() const { return segments_; }
  // The n-th (0-based) segment with this name, or nullptr.
  const Segment* Find(std::string_view name, size_t occurrence = 0) const;
  std::vector<const Segment*> FindAll(std::string_view name) const;
  const Segment& Header() const { return segments_.front(); }  // MSH
  std::string_view Type() const;                               // MSH-9.1, e.g. "ADT"
  std::string_view Event() const;                              // MSH-9.2, e.g. "A08"
  std::string ControlId() const;                               // MSH-10
  std::string Charset() const;  // MSH-18 as sent ("ISO IR87", "~ISO IR87", "UNICODE UTF-8")
  hl7v2::TextEncoding Encoding() const { return charset_; }  // how the bytes were decoded
  std::string Version() const;                               // MSH-12
  const Delimiters& delimiters() const { return delimiters_; }
  const std::string& utf8() const;

 private:
  Message() = default;
  std::unique_ptr<std::string> text_;  // UTF-8; segments_ point into it (stable across moves)
  Delimiters delimiters_;
  hl7v2::TextEncoding charset_ = hl7v2::TextEncoding::kUtf8;
  std::vector<Segment> segments_;
};

// Resolves \F\ \S\ \T\ \R\ \E\ \X..\ (hex bytes) and drops formatting escapes
// (\H\ \N\ \.sp\ \.in..\ etc.; \.br\ -> newline). A malformed sequence is
// copied through unchanged (Message::Parse has already rejected those).
std::string Unescape(std::string_view text, const Delimiters& d);
// The inverse, for building messages (ACKs, test data). CR/LF -> \.br\.
std::string Escape(std::string_view text, const Delimiters& d);

// Reads the MSH-18 value of a raw (undecoded) message as the parser does:
// every repetition names a set ("~ISO IR87" = ASCII default + JIS X 0208).
// InvalidInput for an unknown set.
core::Result<TextEncoding> EncodingFromMsh18(std::string_view msh18, char repetition = '~');

}  // namespace tsunagu::hl7v2
