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
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace tsunagu::http {

class JsonWriter {
 public:
  explicit JsonWriter(size_t reserve = 512) { out_.reserve(reserve); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  JsonWriter& Key(std::string_view key) {
    Separate();
    Quote(key);
    out_ += ':';
    need_comma_ = false;
    return *this;
  }
  JsonWriter& String(std::string_view value) {
    Separate();
    Quote(value);
    need_comma_ = true;
    return *this;
  }
  JsonWriter& Int(int64_t value) {
    Separate();
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
    need_comma_ = true;
    return *this;
  }
  // The shortest text that reads back as `value` ("5.6", "1e+21"); null
  // for infinity and NaN, which JSON cannot write.
  JsonWriter& Number(double value) {
    Separate();
    if (std::isfinite(value)) {
      char buf[32];
      out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
    } else {
      out_ += "null";
    }
    need_comma_ = true;
    return *this;
  }
  JsonWriter& Bool(bool value) {
    Separate();
    out_ += value ? "true" : "false";
    need_comma_ = true;
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    out_ += "null";
    need_comma_ = true;
    return *this;
  }

  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char c) {
    Separate();
    out_ += c;
    need_comma_ = false;
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    need_comma_ = true;
    return *this;
  }
  void Separate() {
    if (need_comma_) out_ += ',';
  }
  void Quote(std::string_view s) {
    out_ += '"';
    core::AppendJsonEscaped(out_, s);
    out_ += '"';
  }

  std::string out_;
  bool need_comma_ = false;
};

}  // namespace tsunagu::http
