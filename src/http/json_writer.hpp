#pragma once
// A streaming JSON writer for hot response paths: appends to one string,
// no document is built. Keys and values are written in call order; the
// caller keeps objects and arrays balanced. Strings are escaped as JSON
// requires (quote, backslash, control characters); UTF-8 passes through.
// Not thread-safe (one writer per response).
//
//   JsonWriter w;
//   w.BeginObject().Key("id").Int(3).Key("name").String("県北中央病院").EndObject();
//   std::string body = w.Take();
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace tsunagu::http {

class JsonWriter {
 public:
  explicit JsonWriter(size_t reserve = 512) { out_.resize(std::max<size_t>(reserve, 64)); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  JsonWriter& Key(std::string_view key) {
    Quote(key, ':');
    need_comma_ = false;
    return *this;
  }
  JsonWriter& String(std::string_view value) {
    Quote(value, 0);
    need_comma_ = true;
    return *this;
  }
  JsonWriter& Int(int64_t value) {
    char* d = Room(21);
    d = need_comma_ ? (*d = ',', d + 1) : d;
    at_ = static_cast<size_t>(std::to_chars(d, d + 20, value).ptr - out_.data());
    need_comma_ = true;
    return *this;
  }
  // The shortest text that reads back as `value` ("5.6", "1e+21"); null
  // for infinity and NaN, which JSON cannot write.
  JsonWriter& Number(double value) {
    if (!std::isfinite(value)) return Null();
    char* d = Room(33);
    d = need_comma_ ? (*d = ',', d + 1) : d;
    at_ = static_cast<size_t>(std::to_chars(d, d + 32, value).ptr - out_.data());
    need_comma_ = true;
    return *this;
  }
  // An object's members from (key, text) pairs in order, `key` and `value`
  // reading a pair's two texts: a key given twice keeps its first place
  // and its last value, as assigning each pair to a JSON object would.
  template <class Pairs, class KeyOf, class ValueOf>
  JsonWriter& StringMembers(const Pairs& pairs, KeyOf key, ValueOf value) {
    for (size_t i = 0; i < pairs.size(); ++i) {
      const std::string_view k = key(pairs[i]);
      bool seen = false;
      for (size_t j = 0; j < i && !seen; ++j) seen = key(pairs[j]) == k;
      if (seen) continue;
      size_t last = i;
      for (size_t j = i + 1; j < pairs.size(); ++j) {
        if (key(pairs[j]) == k) last = j;
      }
      Key(k).String(value(pairs[last]));
    }
    return *this;
  }
  JsonWriter& Bool(bool value) { return Literal(value ? "true" : "false"); }
  JsonWriter& Null() { return Literal("null"); }

  std::string Take() {
    out_.resize(at_);
    at_ = 0;
    need_comma_ = false;
    return std::move(out_);
  }

 private:
  // Room for `n` more bytes (one more for a comma), at the end of the text.
  char* Room(size_t n) {
    if (out_.size() - at_ < n + 1) out_.resize(std::max(out_.size() * 2, at_ + n + 1));
    return out_.data() + at_;
  }
  JsonWriter& Literal(std::string_view text) {
    char* d = Room(text.size());
    if (need_comma_) *d++ = ',';
    std::memcpy(d, text.data(), text.size());
    at_ = static_cast<size_t>(d + text.size() - out_.data());
    need_comma_ = true;
    return *this;
  }
  JsonWriter& Open(char c) {
    char* d = Room(1);
    if (need_comma_) *d++ = ',';
    *d++ = c;
    at_ = static_cast<size_t>(d - out_.data());
    need_comma_ = false;
    return *this;
  }
  JsonWriter& Close(char c) {
    *Room(1) = c;
    ++at_;
    need_comma_ = true;
    return *this;
  }
  // The comma if one is due, then `s` quoted, then `after` (':' after a key).
  void Quote(std::string_view s, char after) {
    if (core::JsonNeedsEscape(s)) {
      std::string escaped;
      core::AppendJsonEscaped(escaped, s);
      QuoteAsIs(escaped, after);
    } else {
      QuoteAsIs(s, after);
    }
  }
  void QuoteAsIs(std::string_view s, char after) {
    char* d = Room(s.size() + 3);
    if (need_comma_) *d++ = ',';
    *d++ = '"';
    std::memcpy(d, s.data(), s.size());
    d += s.size();
    *d++ = '"';
    if (after) *d++ = after;
    at_ = static_cast<size_t>(d - out_.data());
  }

  std::string out_;  // the text is out_[0, at_); the rest is room
  size_t at_ = 0;
  bool need_comma_ = false;
};

}  // namespace tsunagu::http
