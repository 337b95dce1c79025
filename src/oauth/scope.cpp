#include "oauth/scope.hpp"

#include <algorithm>

namespace tsunagu::oauth {
namespace {

constexpr std::string_view kSystemPrefix = "system/";
constexpr size_t kMaxScopeLength = 100;

bool IsResourceTypeName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() < 'A' || s.front() > 'Z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// SMART v2 letters, each at most once and in the order c r u d s.
bool ParseLetters(std::string_view p, ScopeGrant& g) {
  static constexpr std::string_view kOrder = "cruds";
  size_t next = 0;
  for (char c : p) {
    size_t at = kOrder.find(c, next);
    if (at == std::string_view::npos) return false;
    next = at + 1;
    switch (c) {
      case 'c':
        g.create = true;
        break;
      case 'r':
        g.read = true;
        break;
      case 'u':
        g.update = true;
        break;
      case 'd':
        g.del = true;
        break;
      default:
        g.search = true;
    }
  }
  return !p.empty();
}

}  // namespace

core::Result<ScopeGrant> ParseScope(std::string_view text) {
  auto invalid = [&] {
    std::string shown(text.substr(0, kMaxScopeLength));
    return core::InvalidInput("unsupported scope \"" + shown +
                              "\" (expected system/<ResourceType or *>.<read|write|*|cruds>)");
  };
  if (text.size() > kMaxScopeLength || text.rfind(kSystemPrefix, 0) != 0) return invalid();
  std::string_view rest = text.substr(kSystemPrefix.size());
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return invalid();
  ScopeGrant g;
  g.text = std::string(text);
  std::string_view type = rest.substr(0, dot), permissions = rest.substr(dot + 1);
  if (type != "*" && !IsResourceTypeName(type)) return invalid();
  g.resource_type = std::string(type);
  if (permissions == "read") {
    g.read = g.search = true;
  } else if (permissions == "write") {
    g.create = g.update = g.del = true;
  } else if (permissions == "*") {
    g.create = g.read = g.update = g.del = g.search = true;
  } else if (!ParseLetters(permissions, g)) {
    return invalid();
  }
  return g;
}

core::Result<std::vector<ScopeGrant>> ParseScopes(std::string_view text) {
  std::vector<ScopeGrant> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    TSUNAGU_ASSIGN_OR_RETURN(ScopeGrant g, ParseScope(text.substr(i, end - i)));
    bool seen =
        std::any_of(out.begin(), out.end(), [&](const ScopeGrant& s) { return s.text == g.text; });
    if (!seen) out.push_back(std::move(g));
    i = end;
  }
  return out;
}

bool ScopesCover(const std::vector<ScopeGrant>& allowed, const ScopeGrant& requested) {
  ScopeGrant have;
  for (const auto& a : allowed) {
    // A wildcard request is covered only by wildcard grants.
    if (a.resource_type != "*" && a.resource_type != requested.resource_type) continue;
    have.create |= a.create;
    have.read |= a.read;
    have.update |= a.update;
    have.del |= a.del;
    have.search |= a.search;
  }
  return (!requested.create || have.create) && (!requested.read || have.read) &&
         (!requested.update || have.update) && (!requested.del || have.del) &&
         (!requested.search || have.search);
}

std::string JoinScopes(const std::vector<ScopeGrant>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s.text;
  }
  return out;
}

}  // namespace tsunagu::oauth
