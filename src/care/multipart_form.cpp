#include "care/multipart_form.hpp"

#include <cctype>
#include <utility>

namespace tsunagu::care {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void SkipSpaces(std::string_view s, size_t& pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
}

std::string_view Token(std::string_view s, size_t& pos) {
  size_t start = pos;
  while (pos < s.size() && IsTokenChar(s[pos])) ++pos;
  return s.substr(start, pos - start);
}

// `value *( OWS ";" OWS name "=" (token / quoted-string) )` after the leading
// value, which the caller has consumed up to `pos`.
core::Result<Params> ParseParams(std::string_view s, size_t pos, const char* what) {
  Params out;
  auto bad = [&] { return core::InvalidInput(std::string("malformed ") + what); };
  for (;;) {
    SkipSpaces(s, pos);
    if (pos == s.size()) return out;
    if (s[pos] != ';') return bad();
    ++pos;
    SkipSpaces(s, pos);
    if (pos == s.size()) return out;  // a trailing ';' is tolerated
    std::string name = Lower(Token(s, pos));
    if (name.empty() || pos == s.size() || s[pos] != '=') return bad();
    ++pos;
    std::string value;
    if (pos < s.size() && s[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < s.size()) {
        char c = s[pos++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\r' || c == '\n') return bad();
        if (c == '\\') {
          if (pos == s.size()) return bad();
          c = s[pos++];
        }
        value += c;
      }
      if (!closed) return bad();
    } else {
      value = std::string(Token(s, pos));
      if (value.empty()) return bad();
    }
    for (const auto& [n, v] : out) {
      if (n == name) return core::InvalidInput(std::string("duplicate parameter in ") + what);
    }
    out.emplace_back(std::move(name), std::move(value));
  }
}

const std::string* Find(const Params& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return &v;
  }
  return nullptr;
}

bool IsBoundaryChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

// RFC 5987 ext-value: UTF-8'lang'percent-encoded.
core::Result<std::string> DecodeExtValue(const std::string& v) {
  auto bad = [] { return core::InvalidInput("malformed filename* in a multipart part"); };
  size_t q1 = v.find('\'');
  size_t q2 = q1 == std::string::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string::npos || Lower(v.substr(0, q1)) != "utf-8") return bad();
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size() || !std::isxdigit(static_cast<unsigned char>(v[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      return bad();
    }
    out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

core::Result<MultipartForm::Part> ParseHeaders(std::string_view block) {
  MultipartForm::Part part;
  bool disposition = false, type = false;
  // Folded (obsolete line-continued) headers are not accepted anywhere.
  if (block.find("\r\n ") != std::string_view::npos ||
      block.find("\r\n\t") != std::string_view::npos) {
    return core::InvalidInput("malformed multipart part header");
  }
  size_t pos = 0;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty() || line[0] == ' ' || line[0] == '\t') {
      return core::InvalidInput("malformed multipart part header");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return core::InvalidInput("malformed multipart part header");
    }
    std::string name = Lower(line.substr(0, colon));
    for (char c : name) {
      if (!IsTokenChar(c)) return core::InvalidInput("malformed multipart part header");
    }
    std::string_view value = line.substr(colon + 1);
    size_t vpos = 0;
    SkipSpaces(value, vpos);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (name == "content-disposition") {
      if (disposition) return core::InvalidInput("duplicate Content-Disposition in a part");
      disposition = true;
      if (Lower(Token(value, vpos)) != "form-data") {
        return core::InvalidInput("a multipart part must be form-data");
      }
      TSUNAGU_ASSIGN_OR_RETURN(Params params,
                               ParseParams(value, vpos, "Content-Disposition in a part"));
      const std::string* field = Find(params, "name");
      if (!field || field->empty()) return core::InvalidInput("a multipart part has no name");
      part.name = *field;
      if (const std::string* ext = Find(params, "filename*")) {
        TSUNAGU_ASSIGN_OR_RETURN(part.filename, DecodeExtValue(*ext));
      } else if (const std::string* plain = Find(params, "filename")) {
        part.filename = *plain;
      }
    } else if (name == "content-type") {
      if (type) return core::InvalidInput("duplicate Content-Type in a part");
      type = true;
      part.content_type = std::string(value.substr(vpos));
    }
  }
  if (!disposition) return core::InvalidInput("a multipart part has no Content-Disposition");
  return part;
}

}  // namespace

bool MultipartForm::IsMultipart(std::string_view content_type) {
  size_t pos = 0;
  SkipSpaces(content_type, pos);
  size_t start = pos;
  while (pos < content_type.size() && content_type[pos] != ';' && content_type[pos] != ' ' &&
         content_type[pos] != '\t') {
    ++pos;
  }
  return Lower(content_type.substr(start, pos - start)) == "multipart/form-data";
}

core::Result<MultipartForm> MultipartForm::Parse(std::string_view content_type,
                                                 std::string_view body) {
  if (!IsMultipart(content_type)) {
    return core::InvalidInput("Content-Type must be multipart/form-data");
  }
  size_t pos = content_type.find("multipart/form-data");
  if (pos == std::string_view::npos) pos = Lower(content_type).find("multipart/form-data");
  pos += std::string_view("multipart/form-data").size();
  TSUNAGU_ASSIGN_OR_RETURN(Params params, ParseParams(content_type, pos, "Content-Type"));
  const std::string* boundary = Find(params, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ') {
    return core::InvalidInput("multipart/form-data needs a valid boundary");
  }
  for (char c : *boundary) {
    if (!IsBoundaryChar(c)) return core::InvalidInput("multipart/form-data needs a valid boundary");
  }
  const std::string delimiter = "--" + *boundary;
  const std::string next_delimiter = "\r\n" + delimiter;

  size_t at = 0;
  if (body.compare(0, delimiter.size(), delimiter) != 0) {
    at = body.find(next_delimiter);
    if (at == std::string_view::npos) {
      return core::InvalidInput("the multipart body has no boundary");
    }
    at += 2;
  }
  MultipartForm form;
  for (;;) {
    size_t p = at + delimiter.size();
    if (body.compare(p, 2, "--") == 0) break;  // closing delimiter; the epilogue is ignored
    while (p < body.size() && (body[p] == ' ' || body[p] == '\t')) ++p;
    if (body.compare(p, 2, "\r\n") != 0) {
      return core::InvalidInput("malformed multipart boundary line");
    }
    p += 2;
    if (form.parts_.size() == kMaxParts) return core::InvalidInput("too many multipart parts");
    size_t content_start;
    std::string_view headers;
    if (body.compare(p, 2, "\r\n") == 0) {
      content_start = p + 2;
    } else {
      size_t end = body.find("\r\n\r\n", p);
      if (end == std::string_view::npos || end - p > kMaxHeaderBytes) {
        return core::InvalidInput("malformed multipart part header");
      }
      headers = body.substr(p, end - p);
      content_start = end + 4;
    }
    size_t content_end = body.find(next_delimiter, content_start);
    if (content_end == std::string_view::npos) {
      return core::InvalidInput("the multipart body has no closing boundary");
    }
    TSUNAGU_ASSIGN_OR_RETURN(Part part, ParseHeaders(headers));
    part.content = body.substr(content_start, content_end - content_start);
    form.parts_.push_back(std::move(part));
    at = content_end + 2;
  }
  return form;
}

}  // namespace tsunagu::care
