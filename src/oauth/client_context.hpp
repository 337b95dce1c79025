#pragma once
// The system client behind a /fhir request authenticated with an OAuth bearer
// token. oauth::MakeBearerMiddleware stores it in Request::context next to the
// auth::Principal it derives from the client. Header-only, so that route files
// of any module (the FHIR API) can read it without linking the oauth library.
//
//   if (const oauth::ClientGrant* c = oauth::CurrentClient(request)) {
//     if (!c->Allows("Observation", /*write=*/false)) return 403 ...;
//   }
#include <any>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "oauth/scope.hpp"

namespace tsunagu::oauth {

inline constexpr const char* kClientGrantKey = "oauth.client";

struct ClientGrant {
  std::string client_id;
  std::string name;
  int64_t facility_id = 0;
  std::vector<ScopeGrant> scopes;  // granted to this token
  std::string token_id;            // short public id of the token, for logs
  int64_t expires_at = 0;          // ms UTC

  // Reading means read or search permitted; writing means create, update or
  // delete permitted. Use Permits for one interaction.
  bool Allows(std::string_view resource_type, bool write) const {
    for (const auto& s : scopes) {
      if (!s.Matches(resource_type)) continue;
      if (write ? (s.create || s.update || s.del) : (s.read || s.search)) return true;
    }
    return false;
  }
  bool Permits(std::string_view resource_type, Interaction interaction) const {
    for (const auto& s : scopes) {
      if (s.Matches(resource_type) && s.Permits(interaction)) return true;
    }
    return false;
  }
};

// nullptr unless the request was authenticated with a bearer token.
inline const ClientGrant* CurrentClient(const http::Request& request) {
  auto it = request.context.find(kClientGrantKey);
  if (it == request.context.end()) return nullptr;
  return std::any_cast<ClientGrant>(&it->second);
}

inline void SetClient(http::Request& request, ClientGrant grant) {
  request.context[kClientGrantKey] = std::move(grant);
}

}  // namespace tsunagu::oauth
