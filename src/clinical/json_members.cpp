#include "clinical/json_members.hpp"

#include <cstring>

#include "core/log.hpp"

namespace tsunagu::clinical {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

size_t SkipSpace(std::string_view json, size_t i) {
  while (i < json.size() && IsSpace(json[i])) ++i;
  return i;
}

// Past the closing quote of the string starting at i (json[i] == '"'). A
// quote ends the string unless an odd number of backslashes precede it;
// stored texts are mostly string content (Japanese names, codes), found a
// quote at a time.
size_t SkipString(std::string_view json, size_t i) {
  const char* const data = json.data();
  const size_t n = json.size();
  size_t from = i + 1;
  while (from < n) {
    const void* quote = std::memchr(data + from, '"', n - from);
    if (quote == nullptr) return kNoMember;
    const size_t at = static_cast<size_t>(static_cast<const char*>(quote) - data);
    size_t backslashes = 0;
    while (at - backslashes > i + 1 && data[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at + 1;
    from = at + 1;
  }
  return kNoMember;
}

}  // namespace

size_t SkipValue(std::string_view json, size_t i) {
  i = SkipSpace(json, i);
  if (i >= json.size()) return kNoMember;
  if (json[i] == '"') return SkipString(json, i);
  if (json[i] == '{' || json[i] == '[') {
    int depth = 0;
    for (; i < json.size(); ++i) {
      const char c = json[i];
      if (c == '"') {
        i = SkipString(json, i);
        if (i == kNoMember) return kNoMember;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return kNoMember;
  }
  // A number, true, false or null.
  while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']' &&
         !IsSpace(json[i])) {
    ++i;
  }
  return i;
}

size_t FindMemberValue(std::string_view json, size_t object_start, std::string_view key) {
  if (object_start >= json.size() || json[object_start] != '{') return kNoMember;
  size_t i = SkipSpace(json, object_start + 1);
  if (i < json.size() && json[i] == '}') return kNoMember;
  while (i < json.size()) {
    if (json[i] != '"') return kNoMember;
    const size_t key_end = SkipString(json, i);
    if (key_end == kNoMember) return kNoMember;
    const std::string_view name = json.substr(i + 1, key_end - i - 2);
    i = SkipSpace(json, key_end);
    if (i >= json.size() || json[i] != ':') return kNoMember;
    const size_t value = SkipSpace(json, i + 1);
    if (name == key) return value;
    i = SkipValue(json, value);
    if (i == kNoMember) return kNoMember;
    i = SkipSpace(json, i);
    if (i >= json.size()) return kNoMember;
    if (json[i] == '}') return kNoMember;
    if (json[i] != ',') return kNoMember;
    i = SkipSpace(json, i + 1);
  }
  return kNoMember;
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  core::AppendJsonEscaped(out, text);
  out += '"';
  return out;
}

}  // namespace tsunagu::clinical
