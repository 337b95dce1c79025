#pragma once
// Parsing of the from/to query parameters of the audit search.
#include <cstdint>
#include <optional>
#include <string_view>

namespace tsunagu::audit::internal {

enum class Bound { kLower, kUpper };

// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff...]]" ('T' or ' ') with an
// optional zone "Z" / "+HH:MM" / "-HH:MM" / "+HHMM". Without a zone the value
// is Japan time (UTC+9). A bare date as kUpper means the end of that day
// (inclusive), as kLower its start. Returns ms UTC, nullopt when malformed or
// out of range.
std::optional<int64_t> ParseAuditTime(std::string_view text, Bound bound);

}  // namespace tsunagu::audit::internal
