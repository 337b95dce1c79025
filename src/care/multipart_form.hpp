#pragma once
// A strict multipart/form-data parser (RFC 7578 on RFC 2046): the boundary
// comes from the Content-Type parameter; every part needs
// `Content-Disposition: form-data; name="..."` (optionally `filename="..."`,
// or RFC 5987 `filename*=UTF-8''...`) and may carry a Content-Type. A
// preamble before the first delimiter and an epilogue after the closing one
// are ignored, as RFC 2046 says. Anything else that does not follow the
// grammar (no boundary, a missing closing delimiter, a header line without a
// colon, folded or oversized headers, bytes after a delimiter other than
// "--" or CRLF, too many parts) is InvalidInput with a plain message.
//
// Ownership: a parsed form's part contents are views into the body passed to
// Parse, which must outlive the form. Thread-safety: immutable after Parse.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::care {

class MultipartForm {
 public:
  static constexpr size_t kMaxParts = 64;
  static constexpr size_t kMaxHeaderBytes = 8 * 1024;  // per part

  struct Part {
    std::string name;                     // the form field name
    std::optional<std::string> filename;  // present for file fields (may be "")
    std::string content_type;             // "" when the part has none
    std::string_view content;             // view into the parsed body
  };

  // True for a Content-Type of "multipart/form-data" (any parameters).
  static bool IsMultipart(std::string_view content_type);
  // Parses `body` sent with `content_type`. InvalidInput on malformed input.
  static core::Result<MultipartForm> Parse(std::string_view content_type, std::string_view body);

  const std::vector<Part>& parts() const { return parts_; }

 private:
  std::vector<Part> parts_;
};

}  // namespace tsunagu::care
