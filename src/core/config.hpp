#pragma once
// INI-style configuration file ("key = value" lines under "[section]"
// headers; '#' and ';' start comments; values may be "quoted").
// Keys are addressed as "section.key" ("key" for the top, unnamed section).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::core {

class ConfigFile {
 public:
  // InvalidInput (with the line number in the message) on a malformed line.
  static Result<ConfigFile> Parse(std::string_view text);
  // NotFound when the file does not exist.
  static Result<ConfigFile> Load(const std::string& path);

  std::optional<std::string> Get(std::string_view key) const;
  std::string GetOr(std::string_view key, std::string_view fallback) const;
  // InvalidInput when present but not an integer / boolean.
  Result<std::optional<int64_t>> GetInt(std::string_view key) const;
  Result<std::optional<bool>> GetBool(std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace tsunagu::core
