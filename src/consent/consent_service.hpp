#pragma once
// Patient consents: who (a registry patient), which scope, from which source
// facility (or any) to which viewing facility (or any), from/until, withdrawn,
// and the scanned signed form (PDF/JPEG/PNG in the blob store).
// Owns the table consents. The access rule built on it is AccessPolicy.
//
// Ownership: borrows the database, clock, blob store and registry services;
// they must outlive it. Thread-safety: stateless over the Database; safe to
// share between threads. Errors: InvalidInput for bad fields (message names
// the field), NotFound for unknown patients/consents, Conflict for a state
// that forbids the change, TooLarge for an oversize form, Internal/Unavailable
// from storage. A failed call changes nothing.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consent/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/blob_store.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::registry {
class FacilityService;
class PatientService;
}  // namespace tsunagu::registry

namespace tsunagu::consent {

class ConsentService {
 public:
  static constexpr size_t kMaxFormBytes = 10 * 1024 * 1024;
  static constexpr size_t kMaxNoteBytes = 2000;

  ConsentService(store::Database& db, const core::Clock& clock, store::BlobStore& blobs,
                 registry::PatientService& patients, const registry::FacilityService& facilities);
  ConsentService(const ConsentService&) = delete;
  ConsentService& operator=(const ConsentService&) = delete;
  static store::MigrationSet Migrations();

  // Records a consent. NotFound for an unknown patient; InvalidInput for a
  // bad date, valid_to before valid_from, an unknown source/viewer facility
  // (0 = any is fine) or an over-long note.
  core::Result<Consent> Create(const NewConsent& consent, int64_t created_by);
  // Stores the scanned signed form. The type is read from the bytes (PDF,
  // JPEG or PNG magic numbers); a non-empty `declared_content_type` (the
  // request's Content-Type, parameters ignored) must name the same type.
  // InvalidInput for an empty, unknown or disguised file, TooLarge above
  // kMaxFormBytes, NotFound for an unknown consent, Conflict when the consent
  // is withdrawn or already has a form (a signed form is evidence: never
  // replaced).
  core::Result<Consent> AttachForm(int64_t consent_id, std::string_view bytes,
                                   std::string_view declared_content_type);
  // Withdraws at once (ActiveFor stops returning it immediately). NotFound for
  // an unknown consent, Conflict when already withdrawn.
  core::Result<Consent> Withdraw(int64_t consent_id, int64_t by_user);

  core::Result<Consent> Get(int64_t consent_id) const;
  // Every consent of the patient, newest first. NotFound for an unknown patient.
  core::Result<std::vector<Consent>> ListForPatient(int64_t patient_id) const;
  // Consents of `scope` active on `date` (YYYY-MM-DD). NotFound for an
  // unknown patient, InvalidInput for a bad date.
  core::Result<std::vector<Consent>> ActiveFor(int64_t patient_id, Scope scope,
                                               std::string_view date) const;
  // Consents of any of `scopes` active on `date`, in one query, for a caller
  // that has already checked the patient (an unknown one simply has none).
  core::Result<std::vector<Consent>> ActiveIn(int64_t patient_id, std::span<const Scope> scopes,
                                              std::string_view date) const;
  // The stored form. NotFound when the consent has none.
  core::Result<ConsentForm> Form(int64_t consent_id) const;

  struct MergeResult {
    int64_t survivor_id = 0;
    int64_t duplicate_id = 0;
    int64_t links_moved = 0;
    int64_t consents_moved = 0;
  };
  // Master patient index merge: in one transaction, moves the duplicate's
  // facility links (registry) and consents to the survivor and retires the
  // duplicate's regional ID. Errors as PatientService::Merge.
  core::Result<MergeResult> MergePatients(const std::string& survivor_regional_id,
                                          const std::string& duplicate_regional_id,
                                          int64_t by_user);

  // Today's date in Japan (UTC+9), the day consents are judged on.
  std::string Today() const;
  int64_t NowMillis() const { return clock_.NowMillis(); }

  // What an access decision reads, in one batch (one snapshot; one round
  // trip on PostgreSQL): whether the patient exists, whether it has a local
  // ID linked at the facility, and its consents of `scopes` active on
  // `date`, as ActiveIn gives them.
  struct AccessFacts {
    bool patient_exists = false;
    bool linked_at_facility = false;
    std::vector<Consent> active;
  };
  core::Result<AccessFacts> FactsFor(int64_t patient_id, int64_t facility_id,
                                     std::span<const Scope> scopes, std::string_view date) const;

  // "application/pdf", "image/jpeg", "image/png" or "" from magic numbers.
  static std::string DetectFormType(std::string_view bytes);

 private:
  // ActiveIn's query; `scopes` not empty.
  static store::Statement ActiveQuery(int64_t patient_id, std::span<const Scope> scopes,
                                      std::string_view date);
  store::Database& db_;
  const core::Clock& clock_;
  store::BlobStore& blobs_;
  registry::PatientService& patients_;
  const registry::FacilityService& facilities_;
};

}  // namespace tsunagu::consent
