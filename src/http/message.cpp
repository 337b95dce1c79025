#include "http/message.hpp"

#include <cctype>

#include "core/log.hpp"

namespace tsunagu::http {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void Headers::Set(std::string name, std::string value) {
  name = Lower(std::move(name));
  bool replaced = false;
  for (auto it = items_.begin(); it != items_.end();) {
    if (it->first == name) {
      if (!replaced) {
        it->second = std::move(value);
        replaced = true;
        ++it;
      } else {
        it = items_.erase(it);
      }
    } else {
      ++it;
    }
  }
  if (!replaced) items_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
  items_.emplace_back(Lower(std::move(name)), std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> Request::Cookie(std::string_view name) const {
  // Several Cookie headers may be present (HTTP/2 proxies split them).
  for (const auto& [k, v] : headers.all()) {
    if (k != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = TrimSpaces(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (TrimSpaces(pair.substr(0, eq)) != name) continue;
      std::string_view value = TrimSpaces(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return std::nullopt;
}

std::string Request::QueryOr(std::string_view key, std::string_view fallback) const {
  auto it = query.find(key);
  return it == query.end() ? std::string(fallback) : it->second;
}

std::string Request::Param(std::string_view key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

Response Response::Json(int status, std::string json_body) {
  Response r;
  r.status = status;
  r.headers.Set("content-type", "application/json");
  r.body = std::move(json_body);
  return r;
}

Response Response::Text(int status, std::string text, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.Set("content-type", std::move(content_type));
  r.body = std::move(text);
  return r;
}

Response Response::Error(const core::Status& status) {
  // An ok Status is a programming error at the call site; answer as internal
  // rather than claiming success with an error body.
  core::Code code = status.ok() ? core::Code::kInternal : status.code();
  std::string message = status.ok() ? std::string("internal error") : status.message();
  std::string body = "{\"error\":{\"code\":\"";
  core::AppendJsonEscaped(body, core::CodeName(code));
  body += "\",\"message\":\"";
  core::AppendJsonEscaped(body, message);
  body += "\"}}";
  return Json(HttpStatusFor(code), std::move(body));
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  return r;
}

int HttpStatusFor(core::Code code) {
  switch (code) {
    case core::Code::kOk:
      return 200;
    case core::Code::kInvalidInput:
      return 400;
    case core::Code::kUnauthenticated:
      return 401;
    case core::Code::kForbidden:
      return 403;
    case core::Code::kNotFound:
      return 404;
    case core::Code::kConflict:
      return 409;
    case core::Code::kTooLarge:
      return 413;
    case core::Code::kUnavailable:
      return 503;
    case core::Code::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace tsunagu::http
