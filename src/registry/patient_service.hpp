#pragma once
// Patients: regional ID, demographics, links to facilities' local IDs, and
// search by folded kana/name, birth date, local ID and regional ID.
// Owns the tables patients and patient_links. Visibility until the consent
// module decides: a facility sees the patients linked to it; the secretariat
// sees all. Thread-safe.
#include <vector>

#include "core/clock.hpp"
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

 private:
  std::vector<PatientLink> LinksOf(int64_t patient_id) const;
  store::Database& db_;
  const core::Clock& clock_;
  const FacilityService& facilities_;
};

}  // namespace tsunagu::registry
