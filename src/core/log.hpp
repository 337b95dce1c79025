#pragma once
// Structured logging: one JSON object per line on stderr (or a file).
// Never log patient data: names, birth dates, clinical content. IDs are fine.
// Thread-safe.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tsunagu::core {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };

using LogField = std::pair<std::string_view, std::string>;

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Redirects log output to a file (append). Empty path = stderr.
bool SetLogFile(const std::string& path);

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
inline void LogInfo(std::string_view e, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, e, f);
}
inline void LogWarn(std::string_view e, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarn, e, f);
}
inline void LogError(std::string_view e, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, e, f);
}
inline void LogDebug(std::string_view e, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, e, f);
}

// JSON string escaping (used by the logger; handy elsewhere for tiny outputs).
void AppendJsonEscaped(std::string& out, std::string_view s);
// True when `s` holds a byte JSON must escape (a quote, a backslash or a
// control character); AppendJsonEscaped then differs from a plain copy.
bool JsonNeedsEscape(std::string_view s);

}  // namespace tsunagu::core
