#pragma once
// Protocol-level request/response values seen by route handlers. Beast stays
// inside the server implementation; handlers only see these plain types.
#include <any>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::http {

// Case-insensitive header map (names stored lower-case).
class Headers {
 public:
  void Set(std::string name, std::string value);
  void Add(std::string name, std::string value);  // keeps earlier values (Set-Cookie)
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;                                      // "GET", "POST", ...
  std::string target;                                      // raw target, "/api/v1/x?y=1"
  std::string path;                                        // percent-decoded path, "/api/v1/x"
  std::map<std::string, std::string, std::less<>> query;   // decoded query params
  std::map<std::string, std::string, std::less<>> params;  // router path params (":id")
  Headers headers;
  std::string body;
  std::string client_address;  // "127.0.0.1"
  bool tls = false;
  // Per-request values set by middleware (e.g. the authenticated principal).
  std::map<std::string, std::any, std::less<>> context;

  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
  // Value of a cookie from the Cookie header.
  std::optional<std::string> Cookie(std::string_view name) const;
  std::string QueryOr(std::string_view key, std::string_view fallback = {}) const;
  std::string Param(std::string_view key) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // If set, the server streams this file as the body (static files, blobs).
  std::optional<std::string> file_path;

  static Response Json(int status, std::string json_body);
  static Response Text(int status, std::string text,
                       std::string content_type = "text/plain; charset=utf-8");
  // {"error": {"code": "<code>", "message": "<external message>"}} with the
  // HTTP status that the code maps to (the one place that mapping lives).
  static Response Error(const core::Status& status);
  static Response NoContent();
};

// The one mapping from core::Code to an HTTP status.
int HttpStatusFor(core::Code code);

}  // namespace tsunagu::http
