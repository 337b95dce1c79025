#pragma once
// SMART system scopes: "system/<ResourceType or *>.<permissions>", where the
// permissions are SMART v1 "read", "write" or "*", or SMART v2 letters from
// "cruds" in that order ("rs", "cud", "cruds"). v1 "read" means r+s, "write"
// means c+u+d, "*" all five. Query-qualified v2 scopes ("?category=...") and
// other scope families (patient/, user/, openid, launch) are not accepted.
// Thread-safety: value types and pure functions.
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::oauth {

// One FHIR interaction a scope can permit.
enum class Interaction { kCreate, kRead, kUpdate, kDelete, kSearch };

struct ScopeGrant {
  std::string text;           // as written, "system/Patient.rs"
  std::string resource_type;  // "Patient" or "*"
  bool create = false, read = false, update = false, del = false, search = false;

  bool Matches(std::string_view type) const {
    return resource_type == "*" || resource_type == type;
  }
  bool Permits(Interaction i) const {
    switch (i) {
      case Interaction::kCreate:
        return create;
      case Interaction::kRead:
        return read;
      case Interaction::kUpdate:
        return update;
      case Interaction::kDelete:
        return del;
      case Interaction::kSearch:
        return search;
    }
    return false;
  }
};

// Parses one scope. InvalidInput naming the scope when it is not a system
// scope of the grammar above.
core::Result<ScopeGrant> ParseScope(std::string_view text);
// Parses a space-separated list (RFC 6749 §3.3; runs of spaces allowed,
// duplicates dropped, order kept). Empty input gives an empty list.
core::Result<std::vector<ScopeGrant>> ParseScopes(std::string_view text);
// True when every interaction `requested` permits on its resource type is
// permitted on that type by the union of `allowed`.
bool ScopesCover(const std::vector<ScopeGrant>& allowed, const ScopeGrant& requested);
// "a b c"
std::string JoinScopes(const std::vector<ScopeGrant>& scopes);

}  // namespace tsunagu::oauth
