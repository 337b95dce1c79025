#pragma once
// Facilities, secondary medical areas, participation applications and the
// invitations that turn an approved application into a facility admin.
// Owns the tables areas, facilities, facility_applications, invitations.
// Thread-safe (stateless over the Database).
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "registry/types.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::auth {
class AccountService;
struct User;
}  // namespace tsunagu::auth

namespace tsunagu::registry {

struct NewApplication {
  Facility facility;
  std::string applicant_name;
  std::string applicant_email;
  std::string applicant_phone;
};

struct Approval {
  Facility facility;
  std::string invitation_token;  // secret, only its hash is stored
};

class FacilityService {
 public:
  FacilityService(store::Database& db, const core::Clock& clock);
  static store::MigrationSet Migrations();

  // Areas (二次医療圏). The list changes rarely and is read by every facility
  // answer, so it is kept in memory; PutArea refreshes it, and changes made by
  // another server process show within kAreaCacheMillis.
  static constexpr int64_t kAreaCacheMillis = 60 * 1000;
  std::vector<Area> ListAreas() const;
  core::Status PutArea(const Area& area);

  // InvalidInput for missing/invalid fields (type, name, kana, code rules,
  // unknown area), Conflict for a duplicate institution code.
  core::Result<Facility> Create(const Facility& facility);
  // Facilities are read on most requests (names, MFA rule, the directory)
  // and change rarely: Get keeps them in memory for kFacilityCacheMillis.
  // Update refreshes the cache at once; a change made by another server
  // process shows within that time.
  static constexpr int64_t kFacilityCacheMillis = 1000;
  // Overrides kFacilityCacheMillis (0 reads the database every time).
  void SetCacheMillis(int64_t ms) { cache_millis_ = ms; }
  core::Result<Facility> Get(int64_t id) const;
  // By 10-digit medical institution code. NotFound when none has it.
  core::Result<Facility> FindByCode(std::string_view code) const;
  std::vector<Facility> List(const FacilityFilter& filter) const;
  core::Result<Facility> Update(int64_t id, const FacilityPatch& patch);
  bool RequiresMfa(int64_t facility_id) const;
  std::string NameOf(int64_t facility_id) const;

  // Public participation application (no login).
  core::Result<Application> Apply(const NewApplication& application);
  std::vector<Application> ListApplications(const std::string& status) const;
  core::Result<Application> GetApplication(int64_t id) const;
  // Creates the facility and an invitation for the applicant (valid 7 days).
  // Conflict when the application was already decided.
  core::Result<Approval> Approve(int64_t application_id, int64_t decided_by);
  core::Result<Application> Reject(int64_t application_id, int64_t decided_by,
                                   const std::string& reason);

  // Invitations: NotFound for an unknown, used or expired token.
  core::Result<Invitation> GetInvitation(const std::string& token) const;
  // Issues a facility-admin invitation for an existing facility.
  core::Result<std::string> Invite(int64_t facility_id, const std::string& email);
  // Marks the invitation used by user_id; Conflict when already used.
  core::Status ConsumeInvitation(const std::string& token, int64_t user_id);

 private:
  core::Status Validate(const Facility& f) const;
  void InvalidateAreas();
  core::Result<Facility> Load(int64_t id) const;  // uncached
  void ForgetCachedFacility(int64_t id) const;
  core::Result<int64_t> Insert(store::Executor& ex, const Facility& facility);
  core::Result<std::string> InsertInvitation(store::Executor& ex, int64_t facility_id,
                                             const std::string& email);
  store::Database& db_;
  const core::Clock& clock_;
  mutable std::mutex areas_mu_;
  mutable std::vector<Area> areas_;
  mutable int64_t areas_loaded_at_ = -1;  // ms; -1 = not loaded
  struct CachedFacility {
    Facility facility;
    int64_t loaded_at = 0;
  };
  static constexpr size_t kMaxCachedFacilities = 10000;
  int64_t cache_millis_ = kFacilityCacheMillis;
  mutable std::mutex facilities_mu_;
  mutable std::unordered_map<int64_t, CachedFacility> facility_cache_;
};

}  // namespace tsunagu::registry
