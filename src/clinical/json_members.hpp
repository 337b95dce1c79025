#pragma once
// Small edits of a stored JSON object without parsing it into a document:
// the request path of every clinical read adds "id", "meta.lastUpdated" and
// the patient reference to JSON that was validated when it was stored, and a
// full parse + serialise per read costs more than the rest of the read.
// These functions scan the text (strings and nesting only) and splice; they
// answer "don't know" (npos / false) whenever the text is not the simple case,
// and callers then fall back to a real parser. Pure; thread-safe.
#include <cstddef>
#include <string>
#include <string_view>

namespace tsunagu::clinical {

inline constexpr size_t kNoMember = std::string::npos;

// The offset of the value of member `key` of the object that starts at
// `object_start` (json[object_start] == '{'), or kNoMember. Keys are compared
// as written (no unescaping: use it for plain ASCII keys).
size_t FindMemberValue(std::string_view json, size_t object_start, std::string_view key);

// The offset just past the JSON value that starts at `value_start`, or
// kNoMember for text that is not a complete value.
size_t SkipValue(std::string_view json, size_t value_start);

// `text` as a JSON string literal (quotes and escapes added).
std::string JsonQuote(std::string_view text);

}  // namespace tsunagu::clinical
