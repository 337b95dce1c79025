#include "core/config.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tsunagu::core {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlank(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Only blanks or a comment may follow a section header or a quoted value.
bool IsBlankOrComment(std::string_view rest) {
  rest = TrimBlank(rest);
  return rest.empty() || rest.front() == '#' || rest.front() == ';';
}

Status LineError(size_t line_no, std::string_view what) {
  return InvalidInput("config line " + std::to_string(line_no) + ": " + std::string(what));
}

// Parses the text after '='; sets `error` on failure.
std::string ParseValue(std::string_view raw, const char** error) {
  std::string_view v = TrimBlank(raw);
  if (!v.empty() && v.front() == '"') {
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
      const char c = v[i];
      if (c == '"') {
        if (!IsBlankOrComment(v.substr(i + 1))) *error = "unexpected text after quoted value";
        return out;
      }
      if (c == '\\') {
        if (i + 1 >= v.size() || (v[i + 1] != '"' && v[i + 1] != '\\')) {
          *error = "unknown escape in quoted value (only \\\" and \\\\)";
          return {};
        }
        out += v[++i];
        continue;
      }
      out += c;
    }
    *error = "unterminated quoted value";
    return {};
  }
  // Unquoted: a '#' or ';' after whitespace starts a trailing comment.
  for (size_t i = 1; i < raw.size(); ++i) {
    if ((raw[i] == '#' || raw[i] == ';') && IsBlank(raw[i - 1])) {
      raw = raw.substr(0, i);
      break;
    }
  }
  return std::string(TrimBlank(raw));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

Result<ConfigFile> ConfigFile::Parse(std::string_view text) {
  ConfigFile config;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::string section;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = TrimBlank(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (close == std::string_view::npos) return LineError(line_no, "missing ']'");
      const std::string_view name = TrimBlank(line.substr(1, close - 1));
      if (!IsName(name)) return LineError(line_no, "invalid section name");
      if (!IsBlankOrComment(line.substr(close + 1))) {
        return LineError(line_no, "unexpected text after section header");
      }
      section = std::string(name);
      continue;
    }

    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return LineError(line_no, "expected 'key = value'");
    const std::string_view key = TrimBlank(line.substr(0, eq));
    if (!IsName(key)) return LineError(line_no, "invalid key");
    const char* error = nullptr;
    std::string value = ParseValue(line.substr(eq + 1), &error);
    if (error != nullptr) return LineError(line_no, error);
    std::string full_key = section.empty() ? std::string(key) : section + "." + std::string(key);
    config.values_.insert_or_assign(std::move(full_key), std::move(value));
  }
  return config;
}

Result<ConfigFile> ConfigFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return NotFound("config file not found", path);
    return Unavailable("config file cannot be read", path + ": " + std::strerror(err));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Unavailable("config file cannot be read", path);
  Result<ConfigFile> parsed = Parse(buf.str());
  if (!parsed) return InvalidInput(parsed.error().message(), path);
  return parsed;
}

std::optional<std::string> ConfigFile::Get(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ConfigFile::GetOr(std::string_view key, std::string_view fallback) const {
  const auto it = values_.find(key);
  return it == values_.end() ? std::string(fallback) : it->second;
}

Result<std::optional<int64_t>> ConfigFile::GetInt(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::optional<int64_t>();
  const std::string& v = it->second;
  int64_t n = 0;
  const char* begin = v.data();
  if (v.size() > 1 && v.front() == '+' && v[1] != '-') ++begin;
  const auto [end, ec] = std::from_chars(begin, v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    return InvalidInput("config key '" + std::string(key) + "' is not an integer");
  }
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> ConfigFile::GetBool(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::optional<bool>();
  const std::string& v = it->second;
  for (const char* t : {"true", "yes", "on", "1"}) {
    if (EqualsIgnoreCase(v, t)) return std::optional<bool>(true);
  }
  for (const char* f : {"false", "no", "off", "0"}) {
    if (EqualsIgnoreCase(v, f)) return std::optional<bool>(false);
  }
  return InvalidInput("config key '" + std::string(key) + "' is not a boolean (true/false)");
}

}  // namespace tsunagu::core
