#pragma once
// The registry of system clients (OAuth 2.0 confidential clients that
// authenticate with private_key_jwt). Owns the tables of the "oauth"
// migration set: oauth_clients, oauth_assertion_jtis, oauth_access_tokens
// (the last two are used by TokenService). Thread-safe (stateless over the
// Database and the lookup). Ownership: borrows the database, clock and lookup;
// they must outlive it.
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "oauth/types.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::oauth {

class ClientRegistry {
 public:
  static constexpr size_t kMaxNameLength = 100;
  static constexpr std::string_view kDefaultScopes = "system/*.read";

  ClientRegistry(store::Database& db, const core::Clock& clock, FacilityLookup facilities);
  static store::MigrationSet Migrations();

  // Registers a client with a fresh client_id. InvalidInput (message names
  // the field) for an empty or over-long name, an unknown or suspended
  // facility, an occupation that cannot be defaulted or is "family", a scope
  // outside the grammar of scope.hpp, or an unusable public key
  // (public_key.hpp). Internal on storage failure.
  core::Result<SystemClient> Register(const NewSystemClient& client);
  // All clients, newest first.
  core::Result<std::vector<SystemClient>> List() const;
  // NotFound for an unknown client_id.
  core::Result<SystemClient> Get(std::string_view client_id) const;
  // Disables the client and revokes its access tokens at once. NotFound for
  // an unknown client_id, Conflict when it is already disabled.
  core::Result<SystemClient> Disable(std::string_view client_id);

  const FacilityLookup& facilities() const { return facilities_; }

 private:
  store::Database& db_;
  const core::Clock& clock_;
  FacilityLookup facilities_;
};

}  // namespace tsunagu::oauth
