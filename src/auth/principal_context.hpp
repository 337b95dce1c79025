#pragma once
// Access to the authenticated Principal that the session middleware stores in
// Request::context["principal"]. Header-only so that route files of any module
// can read it without linking the auth library.
#include <any>
#include <memory>

#include "auth/types.hpp"
#include "http/message.hpp"

namespace tsunagu::auth {

inline constexpr const char* kPrincipalKey = "principal";

// nullptr when the request is not authenticated.
inline const Principal* CurrentPrincipal(const http::Request& request) {
  auto it = request.context.find(kPrincipalKey);
  if (it == request.context.end()) return nullptr;
  const auto* shared = std::any_cast<std::shared_ptr<const Principal>>(&it->second);
  return shared ? shared->get() : nullptr;
}

// Shares a principal owned elsewhere (the session cache) without copying.
inline void SetPrincipal(http::Request& request, std::shared_ptr<const Principal> principal) {
  request.context[kPrincipalKey] = std::move(principal);
}

inline void SetPrincipal(http::Request& request, Principal principal) {
  SetPrincipal(request, std::make_shared<const Principal>(std::move(principal)));
}

}  // namespace tsunagu::auth
