#include "http/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <limits>

namespace tsunagu::http {
namespace {

const boost::json::value* Lookup(const boost::json::object& obj, std::string_view key) {
  const boost::json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

core::Status WrongType(std::string_view key, std::string_view what) {
  std::string m(key);
  m += " must be ";
  m += what;
  return core::InvalidInput(std::move(m));
}

}  // namespace

core::Result<boost::json::object> ParseJsonObject(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return core::InvalidInput("malformed JSON", ec.message());
  if (!v.is_object()) return core::InvalidInput("expected a JSON object");
  return std::move(v.as_object());
}

core::Result<std::optional<std::string>> OptString(const boost::json::object& obj,
                                                   std::string_view key) {
  const boost::json::value* v = Lookup(obj, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(key, "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

core::Result<std::string> RequireString(const boost::json::object& obj, std::string_view key) {
  TSUNAGU_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(obj, key));
  if (!s || s->empty()) return core::InvalidInput(std::string(key) + " is required");
  return std::move(*s);
}

core::Result<std::optional<bool>> OptBool(const boost::json::object& obj, std::string_view key) {
  const boost::json::value* v = Lookup(obj, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return WrongType(key, "a boolean");
  return std::optional<bool>(v->get_bool());
}

core::Result<std::optional<int64_t>> OptInt64(const boost::json::object& obj,
                                              std::string_view key) {
  const boost::json::value* v = Lookup(obj, key);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return WrongType(key, "an integer in range");
    }
    return std::optional<int64_t>(static_cast<int64_t>(v->get_uint64()));
  }
  if (v->is_double()) {
    double d = v->get_double();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 &&
        d < 9223372036854775808.0) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return WrongType(key, "an integer");
}

core::Result<std::optional<std::vector<std::string>>> OptStringArray(const boost::json::object& obj,
                                                                     std::string_view key) {
  using Out = std::optional<std::vector<std::string>>;
  const boost::json::value* v = Lookup(obj, key);
  if (v == nullptr) return Out();
  if (!v->is_array()) return WrongType(key, "an array of strings");
  std::vector<std::string> out;
  out.reserve(v->get_array().size());
  for (const boost::json::value& e : v->get_array()) {
    if (!e.is_string()) return WrongType(key, "an array of strings");
    out.emplace_back(e.get_string());
  }
  return Out(std::move(out));
}

std::string ToJson(const boost::json::value& value) { return boost::json::serialize(value); }

Response JsonResponse(int status, const boost::json::value& value) {
  return Response::Json(status, ToJson(value));
}

}  // namespace tsunagu::http
