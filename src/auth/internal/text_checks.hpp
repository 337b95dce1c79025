#pragma once
// Small text and secret helpers of the auth module (not for use by other modules).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tsunagu::auth::internal {

// Number of Unicode code points; nullopt if `s` is not valid UTF-8.
std::optional<size_t> Utf8Length(std::string_view s);
// True if `s` holds C0 control characters or DEL.
bool HasControlCharacter(std::string_view s);
// Removes ASCII whitespace and U+3000 (ideographic space) at both ends.
std::string TrimSpaces(std::string_view s);
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);
// Constant-time comparison of equal-length secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// Lower-case hex SHA-256 of `s`: how session and MFA tokens are stored, so
// that a database leak does not hand out live tokens.
std::string Sha256Hex(std::string_view s);

}  // namespace tsunagu::auth::internal
