#pragma once
// Upload of a JAHIS medication notebook file (お薬手帳データ) for one
// regional patient: parse, check who uploads and that the file is about this
// person, map to MedicationDispense and store in the clinical ResourceStore,
// where the records join the timeline and the duplicate-medication check.
//
// Who may upload: pharmacists, and physicians and dentists (clinics that
// dispense in-house), of a facility that has a local patient ID linked to the
// patient (the records are stored under that ID, with the uploading facility
// as their source). The network secretariat may not.
//
// Every call is recorded in the audit log (action "dispensing.import", or
// "dispensing.preview" for a dry run), allowed or not, naming the patient and
// the outcome with counts only, never drug names or demographics.
//
// Errors (nothing is stored on any error): NotFound for an unknown regional
// patient; Forbidden for an occupation that may not upload or a facility
// without a linked local ID; TooLarge beyond kMaxNotebookBytes; InvalidInput
// for a file that does not parse ("line N: reason"), a file without a patient
// record or without drugs, and "the notebook is for a different person" when
// the file's name / kana, birth date or sex do not match the patient;
// Internal when storage or the audit log fails.
//
// Thread-safety: safe to share between threads. Ownership: borrows every
// collaborator; they must outlive the service.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "clinical/resource_store.hpp"
#include "clinical/timeline_service.hpp"
#include "core/status.hpp"
#include "jahis/notebook.hpp"

namespace tsunagu::registry {
class PatientService;
class FacilityService;
}  // namespace tsunagu::registry

namespace tsunagu::jahis {

struct ImportOptions {
  // Check and map everything, store nothing (the upload form's preview).
  bool dry_run = false;
};

// One drug as it was (or would be) stored.
struct ImportedMedication {
  int line = 0;
  int rp = 0;
  std::string name;
  int code_type = 0;
  std::string code;
  std::string yj_code;  // the code when it names an ingredient (YJ / MHLW code)
  std::string dose, unit;
  std::string usage;
  std::string quantity, quantity_unit;
  std::string dosage_form;  // "内服", "頓服", ...
  std::string start, end;   // YYYY-MM-DD; end = start when not in 日分
};

struct ImportedEvent {
  int line = 0;
  std::string date;
  std::string pharmacy_name, pharmacy_code;
  std::string pharmacist;
  std::string prescriber_name, prescriber_code, doctor, department;
  std::vector<ImportedMedication> medications;
};

struct ImportSummary {
  std::string regional_id;
  bool dry_run = false;
  std::string encoding;  // of the file: "UTF-8" or "Shift_JIS"
  std::vector<ImportedEvent> events;
  int64_t medications = 0;
  clinical::WriteStats stats;  // all zero on a dry run
  std::vector<ParseWarning> warnings;
  // Duplicate-medication warnings of the patient after the import, as the
  // uploader may see them (TimelineService::GetMedicationWarnings).
  std::vector<clinical::DuplicateMedicationWarning> medication_warnings;
};

class DispensingImport {
 public:
  DispensingImport(clinical::ResourceStore& resources, const clinical::TimelineService& timeline,
                   const registry::PatientService& patients,
                   const registry::FacilityService& facilities, audit::AuditLog& audit);

  // `writer` is the uploader (viewer + the request's audit event).
  core::Result<ImportSummary> Import(const clinical::ReadContext& writer,
                                     const std::string& regional_id, std::string_view bytes,
                                     const ImportOptions& options = {}) const;

  // True when this occupation may upload notebook files at all.
  static bool MayUpload(auth::Occupation occupation);

 private:
  core::Status Record(const clinical::ReadContext& writer, const std::string& action,
                      const std::string& patient_id, const std::string& outcome,
                      const std::string& reason) const;

  clinical::ResourceStore& resources_;
  const clinical::TimelineService& timeline_;
  const registry::PatientService& patients_;
  const registry::FacilityService& facilities_;
  audit::AuditLog& audit_;
};

}  // namespace tsunagu::jahis
