#pragma once
// Text utilities. Everything inside Tsunagu is UTF-8.
// All functions are pure and thread-safe (iconv descriptors are opened per
// call and never shared).
#include <optional>
#include <string>
#include <string_view>

namespace tsunagu::core {

// Strict UTF-8: rejects overlong forms, surrogates (U+D800..U+DFFF), code
// points above U+10FFFF and truncated sequences.
bool IsValidUtf8(std::string_view s);

// Folds a Japanese name/kana for search: half-width katakana -> full-width
// (with dakuten/handakuten composed), hiragana -> katakana, full-width ASCII
// -> ASCII, ASCII letters lower-cased, all spaces (ASCII and U+3000) removed.
// "ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ　たろう" and "ヤマダタロウ" all fold to "ヤマダタロウ".
// Also: a following dakuten/handakuten (half-width U+FF9E/U+FF9F, combining
// U+3099/U+309A, spacing U+309B/U+309C) is composed onto the preceding kana
// when a voiced form exists (ｶﾞ -> ガ, ﾊﾟ -> パ, ｳﾞ -> ヴ, か+U+3099 -> ガ);
// half-width ｰ -> ー; middle dots (・ U+30FB, ･ U+FF65) and tabs are removed.
// Invalid UTF-8 bytes become U+FFFD.
std::string FoldKana(std::string_view s);

// Trims ASCII whitespace (space, \t, \r, \n, \v, \f) and ideographic
// (U+3000) spaces at both ends.
std::string Trim(std::string_view s);

// A plausible mail address for sending to: something@domain.tld, at most 254
// bytes, without spaces, line breaks, angle brackets or quotes (which would
// break a mail header).
bool LooksLikeEmail(std::string_view s);

// Decoders for legacy encodings met at the edges (HL7 ISO-2022-JP,
// receipt files in Shift_JIS). nullopt when the input is malformed.
//
// DecodeIso2022Jp accepts ESC ( B (ASCII), ESC ( J (JIS-Roman: 0x5C -> ¥,
// 0x7E -> ‾), ESC ( I (JIS X 0201 katakana, seen in the wild), ESC $ @ and
// ESC $ B (JIS X 0208), ESC $ ( D (JIS X 0212) and ESC $ ( O / Q / P
// (JIS X 0213; not together with JIS X 0212 in one input). Any other escape,
// a byte >= 0x80, a control character or an odd byte count inside a
// double-byte run is malformed. Input may end without returning to ASCII.
std::optional<std::string> DecodeIso2022Jp(std::string_view s);
// Windows-31J (CP932): Shift_JIS plus NEC/IBM extensions (①, ㈱, 髙).
std::optional<std::string> DecodeShiftJis(std::string_view s);

// Encoders (test data generators, exports). nullopt when `utf8` is not valid
// UTF-8 or holds a character the target cannot represent.
// EncodeIso2022Jp writes ASCII / JIS-Roman / JIS X 0208 (JIS X 0212 for
// characters only found there) and ends in ASCII. Half-width katakana are
// widened first (ISO-2022-JP cannot carry them) and the CP932 look-alikes
// (～ － ∥ — ￠ ￡ ￢) are mapped to their JIS X 0208 characters.
std::optional<std::string> EncodeIso2022Jp(std::string_view utf8);
// Encodes to Windows-31J (CP932).
std::optional<std::string> EncodeShiftJis(std::string_view utf8);

// True when `s` is valid UTF-8 made only of full-width katakana (U+30A1..
// U+30FE, which includes ー and ・) and spaces (ASCII and U+3000). Meant for
// kana name fields after FoldKana/hiragana conversion. "" yields true.
bool IsKatakanaOrSpace(std::string_view s);

// Keeps only the digits (full-width digits converted): "０３-1234-5678" ->
// "0312345678". Everything else, including '+', is dropped.
std::string NormalizePhone(std::string_view s);

// Japanese postcode: "〒123-4567", "１２３－４５６７", "123 4567" -> "1234567".
// Removes '〒', hyphens (ASCII, full-width, ー, minus sign) and spaces and
// converts full-width digits; returns "" unless exactly 7 digits remain.
std::string NormalizePostcode(std::string_view s);

}  // namespace tsunagu::core
