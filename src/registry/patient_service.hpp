#pragma once
// Patients: regional ID, demographics, links to facilities' local IDs, and
// search by folded kana/name, birth date, local ID and regional ID.
// Owns the tables patients and patient_links. Visibility until the consent
// module decides: a facility sees the patients linked to it; the secretariat
// sees all. A patient merged into another (master patient index) is gone for
// every lookup: Get/Search/Link answer as for an unknown patient.
// Thread-safe.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/epoch_cache.hpp"
#include "core/status.hpp"
#include "registry/types.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::registry {

class FacilityService;

class PatientService {
 public:
  PatientService(store::Database& db, const core::Clock& clock, const FacilityService& facilities);
  static store::MigrationSet Migrations();

  // Registers a patient linked to the viewer's facility (local_id, or the
  // regional ID when the facility keeps none). InvalidInput for bad fields,
  // Conflict when the facility's local ID is already linked.
  core::Result<Patient> Register(const NewPatient& patient, const Viewer& viewer);
  // NotFound for unknown ids and for patients the viewer may not see.
  core::Result<Patient> Get(const std::string& regional_id, const Viewer& viewer) const;
  std::vector<Patient> Search(const PatientQuery& query, const Viewer& viewer,
                              int64_t* total = nullptr) const;
  core::Result<Patient> Update(const std::string& regional_id, const PatientPatch& patch,
                               const Viewer& viewer);
  // Links a local ID of a facility to the patient. Conflict when taken.
  core::Status Link(const std::string& regional_id, int64_t facility_id,
                    const std::string& local_id);

  // --- master patient index (docs/consent.md) ------------------------------
  // These do no visibility check: route handlers authorise first.

  // Internal key of a live (not merged) patient; NotFound otherwise.
  core::Result<int64_t> IdOf(const std::string& regional_id) const;
  // Regional ID of a live patient; NotFound otherwise. Answers are cached
  // for a minute; a merge in this process (which moves the access epoch)
  // empties the cache at once.
  core::Result<std::string> RegionalIdOf(int64_t patient_id) const;
  // True when a live patient with this internal key exists.
  bool Exists(int64_t patient_id) const;
  // True when the live patient has at least one link at the facility.
  bool IsLinkedTo(int64_t patient_id, int64_t facility_id) const;
  // The queries behind Exists and IsLinkedTo (a row when true), for a
  // caller that reads them in one batch with its own.
  static store::Statement ExistsQuery(int64_t patient_id);
  static store::Statement LinkedToQuery(int64_t patient_id, int64_t facility_id);
  // The live patient that a facility's local ID is linked to (internal key
  // and regional ID); NotFound when the local ID is linked to nobody. Found
  // owners are cached like regional IDs (every clinical read by ID asks).
  struct LinkOwner {
    int64_t patient_id = 0;
    std::string regional_id;
  };
  core::Result<LinkOwner> FindByLink(int64_t facility_id, const std::string& local_id) const;
  // The patient's links at one facility (empty for unknown ids).
  std::vector<PatientLink> LinksAt(int64_t patient_id, int64_t facility_id) const;
  // Links a facility's local ID at consent time and records who did it.
  // InvalidInput for an empty or over-long local_id or facility 0, NotFound
  // for an unknown regional ID or facility, Conflict when the local ID is
  // already linked (to this or another patient).
  core::Status LinkLocalId(const std::string& regional_id, int64_t facility_id,
                           const std::string& local_id, int64_t by_user);
  // Removes one link. NotFound when the patient or that link does not exist.
  core::Status Unlink(const std::string& regional_id, int64_t facility_id,
                      const std::string& local_id);

  struct MergeResult {
    int64_t survivor_id = 0;
    int64_t duplicate_id = 0;
    int64_t links_moved = 0;
  };
  // Moves every link of `duplicate` to `survivor` and marks the duplicate as
  // merged (it disappears from Get/Search/IdOf). Runs on `tx` so that a
  // caller can move its own rows (consents) in the same transaction; the
  // caller commits. InvalidInput when both are the same patient, NotFound
  // when either is unknown or already merged.
  core::Result<MergeResult> Merge(store::Executor& tx, const std::string& survivor_regional_id,
                                  const std::string& duplicate_regional_id, int64_t by_user);

 private:
  std::vector<PatientLink> LinksOf(int64_t patient_id) const;
  std::vector<PatientLink> LinksFrom(const store::ResultSet& rows) const;
  store::Database& db_;
  const core::Clock& clock_;
  const FacilityService& facilities_;

  // Regional IDs by internal key and link owners by (facility, local ID),
  // kept until a link or merge in this process moves the access epoch, or
  // a minute (changes made by another process).
  static constexpr int64_t kRegionalIdCacheMillis = 60'000;
  static constexpr size_t kRegionalIdCacheEntries = 100'000;
  core::EpochCache<int64_t, std::string> regional_ids_{kRegionalIdCacheMillis,
                                                       kRegionalIdCacheEntries};
  struct LinkKey {
    int64_t facility_id = 0;
    std::string local_id;
    bool operator==(const LinkKey&) const = default;
  };
  struct LinkKeyHash {
    size_t operator()(const LinkKey& k) const {
      return std::hash<std::string>()(k.local_id) ^ std::hash<int64_t>()(k.facility_id) * 31;
    }
  };
  core::EpochCache<LinkKey, LinkOwner, LinkKeyHash> link_owners_{kRegionalIdCacheMillis,
                                                                 kRegionalIdCacheEntries};
};

}  // namespace tsunagu::registry
