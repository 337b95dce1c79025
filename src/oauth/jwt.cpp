#include "oauth/jwt.hpp"

#include <boost/json.hpp>
#include <cmath>

namespace tsunagu::oauth {
namespace {

namespace json = boost::json;

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

core::Result<json::object> DecodeJsonPart(std::string_view part, const char* what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return core::InvalidInput(std::string("the assertion ") + what + " is not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) {
    return core::InvalidInput(std::string("the assertion ") + what + " is not a JSON object");
  }
  return std::move(v.as_object());
}

core::Result<std::string> StringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::string();
  if (!v->is_string())
    return core::InvalidInput("the " + std::string(key) + " claim must be a string");
  return std::string(v->as_string());
}

// NumericDate (RFC 7519 §2): seconds, possibly fractional (truncated).
core::Result<std::optional<int64_t>> DateMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::optional<int64_t>();
  auto bad = [&] {
    return core::InvalidInput("the " + std::string(key) + " claim must be a number");
  };
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64()) {
    if (v->as_uint64() > static_cast<uint64_t>(INT64_MAX)) return bad();
    return std::optional<int64_t>(static_cast<int64_t>(v->as_uint64()));
  }
  if (v->is_double()) {
    double d = v->as_double();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) return bad();
    return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  return bad();
}

}  // namespace

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (one canonical encoding per byte string).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

core::Result<JwtAssertion> ParseJwtAssertion(std::string_view compact) {
  if (compact.empty()) return core::InvalidInput("client_assertion is empty");
  if (compact.size() > kMaxAssertionBytes)
    return core::InvalidInput("client_assertion is too large");
  size_t first = compact.find('.');
  size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return core::InvalidInput("client_assertion is not a compact JWS (header.payload.signature)");
  }
  std::string_view header_part = compact.substr(0, first);
  std::string_view payload_part = compact.substr(first + 1, second - first - 1);
  std::string_view signature_part = compact.substr(second + 1);

  TSUNAGU_ASSIGN_OR_RETURN(json::object header, DecodeJsonPart(header_part, "header"));
  TSUNAGU_ASSIGN_OR_RETURN(json::object claims, DecodeJsonPart(payload_part, "payload"));
  auto signature = Base64UrlDecode(signature_part);
  if (!signature) return core::InvalidInput("the assertion signature is not base64url");

  JwtAssertion a;
  const json::value* alg = header.if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string().empty()) {
    return core::InvalidInput("the assertion header has no alg");
  }
  a.alg = std::string(alg->as_string());
  if (const json::value* kid = header.if_contains("kid")) {
    if (!kid->is_string()) return core::InvalidInput("the assertion header kid must be a string");
    a.kid = std::string(kid->as_string());
  }
  a.has_crit = header.contains("crit");

  TSUNAGU_ASSIGN_OR_RETURN(a.iss, StringMember(claims, "iss"));
  TSUNAGU_ASSIGN_OR_RETURN(a.sub, StringMember(claims, "sub"));
  TSUNAGU_ASSIGN_OR_RETURN(a.jti, StringMember(claims, "jti"));
  if (const json::value* aud = claims.if_contains("aud")) {
    if (aud->is_string()) {
      a.aud.emplace_back(aud->as_string());
    } else if (aud->is_array()) {
      for (const auto& e : aud->as_array()) {
        if (!e.is_string()) return core::InvalidInput("the aud claim must hold strings");
        a.aud.emplace_back(e.as_string());
      }
    } else {
      return core::InvalidInput("the aud claim must be a string or an array of strings");
    }
  }
  TSUNAGU_ASSIGN_OR_RETURN(a.exp, DateMember(claims, "exp"));
  TSUNAGU_ASSIGN_OR_RETURN(a.nbf, DateMember(claims, "nbf"));
  TSUNAGU_ASSIGN_OR_RETURN(a.iat, DateMember(claims, "iat"));
  a.signing_input = std::string(compact.substr(0, second));
  a.signature = std::move(*signature);
  return a;
}

}  // namespace tsunagu::oauth
