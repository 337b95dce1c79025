#pragma once
// JSON helpers for route files (*_routes.cpp) only: parsing request bodies,
// reading typed fields with uniform errors, and building JSON responses.
// Includes Boost.JSON, so keep it out of widely included headers.
// Thread-safety: all functions are pure.
//
// Field readers treat an absent key and JSON null alike (nullopt); a present
// value of the wrong type is InvalidInput naming the field ("age must be an
// integer"). Unknown fields are ignored.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "http/message.hpp"

namespace tsunagu::http {

// InvalidInput "malformed JSON" (parse error) or "expected a JSON object".
core::Result<boost::json::object> ParseJsonObject(std::string_view body);

core::Result<std::optional<std::string>> OptString(const boost::json::object& obj,
                                                   std::string_view key);
// Missing, null or empty -> InvalidInput "<key> is required".
core::Result<std::string> RequireString(const boost::json::object& obj, std::string_view key);
core::Result<std::optional<bool>> OptBool(const boost::json::object& obj, std::string_view key);
// Accepts integral JSON numbers that fit in int64 (also 3.0); 3.5 is InvalidInput.
core::Result<std::optional<int64_t>> OptInt64(const boost::json::object& obj, std::string_view key);
// Every element must be a string.
core::Result<std::optional<std::vector<std::string>>> OptStringArray(const boost::json::object& obj,
                                                                     std::string_view key);

// Serialises `value` as the body with content-type application/json.
Response JsonResponse(int status, const boost::json::value& value);
std::string ToJson(const boost::json::value& value);

}  // namespace tsunagu::http
