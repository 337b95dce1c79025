#include "jahis/dispensing_import.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/text.hpp"
#include "jahis/dispensing_mapper.hpp"
#include "registry/facility_service.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::jahis {
namespace {

// The registry's visibility rule is not the one that decides here: the
// uploader's link to the patient is checked below.
constexpr registry::Viewer kResolver{0, true};

// The file's person against the regional patient: the same name (kana, or
// the name itself, both folded), birth date and, when both are known, sex.
// The reason is for the audit log: it names the field, never a value.
core::Status SamePerson(const NotebookPatient& file, const registry::Patient& patient,
                        std::string& reason) {
  if (file.birth_date.empty()) {
    reason = "no birth date in the file";
    return core::InvalidInput(
        "the patient record of the file has no birth date to confirm the person");
  }
  const bool kana_match = !file.kana.empty() && !patient.kana.empty() &&
                          core::FoldKana(file.kana) == core::FoldKana(patient.kana);
  const bool name_match = !file.name.empty() && !patient.name.empty() &&
                          core::FoldKana(file.name) == core::FoldKana(patient.name);
  const char* mismatch = nullptr;
  if (!kana_match && !name_match) {
    mismatch = "name";
  } else if (file.birth_date != patient.birth_date) {
    mismatch = "birth date";
  } else if ((file.sex == "1" && patient.sex == registry::Sex::kFemale) ||
             (file.sex == "2" && patient.sex == registry::Sex::kMale)) {
    mismatch = "sex";
  }
  if (mismatch != nullptr) {
    reason = std::string("different person (") + mismatch + ")";
    return core::InvalidInput("the notebook is for a different person");
  }
  return core::Status::Ok();
}

std::string IngredientCode(const NotebookDrug& d) {
  const bool coded = d.code_type == static_cast<int>(DrugCodeType::kYj) ||
                     d.code_type == static_cast<int>(DrugCodeType::kMhlw);
  return coded && d.code.size() >= 7 ? d.code : std::string();
}

ImportedMedication MedicationOf(const MappedDispense& m, const NotebookRp& rp,
                                const NotebookDrug& d) {
  ImportedMedication out;
  out.line = d.line;
  out.rp = rp.number;
  out.name = d.name;
  out.code_type = d.code_type;
  out.code = d.code;
  out.yj_code = IngredientCode(d);
  out.dose = d.dose;
  out.unit = d.unit;
  out.usage = rp.usage;
  out.quantity = rp.quantity;
  out.quantity_unit = rp.quantity_unit;
  out.dosage_form = std::string(DosageFormName(rp.dosage_form));
  out.start = m.record.effective;
  out.end = m.record.effective_end.empty() ? m.record.effective : m.record.effective_end;
  return out;
}

}  // namespace

DispensingImport::DispensingImport(clinical::ResourceStore& resources,
                                   const clinical::TimelineService& timeline,
                                   const registry::PatientService& patients,
                                   const registry::FacilityService& facilities,
                                   audit::AuditLog& audit)
    : resources_(resources),
      timeline_(timeline),
      patients_(patients),
      facilities_(facilities),
      audit_(audit) {}

bool DispensingImport::MayUpload(auth::Occupation occupation) {
  return occupation == auth::Occupation::kPharmacist ||
         occupation == auth::Occupation::kPhysician || occupation == auth::Occupation::kDentist;
}

core::Status DispensingImport::Record(const clinical::ReadContext& writer,
                                      const std::string& action, const std::string& patient_id,
                                      const std::string& outcome, const std::string& reason) const {
  audit::AuditEvent e = writer.event;
  if (e.user_id == 0) e.user_id = writer.viewer.user_id;
  if (e.facility_id == 0) e.facility_id = writer.viewer.facility_id;
  if (e.occupation.empty()) e.occupation = std::string(auth::ToString(writer.viewer.occupation));
  e.action = action;
  e.patient_id = patient_id;
  e.object = "dispensing";
  e.outcome = outcome;
  e.reason = reason;
  auto appended = audit_.Append(std::move(e));
  if (!appended) {
    // Patient data is never written (or shown) without its audit entry.
    return core::Internal("the upload could not be recorded", appended.error().ToString());
  }
  return core::Status::Ok();
}

core::Result<ImportSummary> DispensingImport::Import(const clinical::ReadContext& writer,
                                                     const std::string& regional_id,
                                                     std::string_view bytes,
                                                     const ImportOptions& options) const {
  const std::string action = options.dry_run ? "dispensing.preview" : "dispensing.import";
  auto refuse = [&](const std::string& patient_id, const char* outcome, const std::string& reason,
                    core::Status status) -> core::Status {
    TSUNAGU_RETURN_IF_ERROR(Record(writer, action, patient_id, outcome, reason));
    return status;
  };

  if (writer.viewer.role == auth::Role::kNetworkAdmin || !MayUpload(writer.viewer.occupation)) {
    return refuse(regional_id, "denied", "occupation may not upload",
                  core::Forbidden("your occupation may not upload dispensing records"));
  }
  auto patient = patients_.Get(regional_id, kResolver);
  if (!patient) {
    if (patient.error().code() != core::Code::kNotFound) return patient.error();
    return refuse("", "failure", "unknown patient", core::NotFound("patient not found"));
  }
  std::vector<registry::PatientLink> links =
      patients_.LinksAt(patient->id, writer.viewer.facility_id);
  if (writer.viewer.facility_id <= 0 || links.empty()) {
    return refuse(regional_id, "denied", "no local patient ID at the facility",
                  core::Forbidden("your facility has no patient ID linked to this patient; link "
                                  "your patient ID first"));
  }
  if (bytes.size() > kMaxNotebookBytes) {
    return refuse(regional_id, "failure", "file too large",
                  core::TooLarge("the file is larger than 2 MB"));
  }
  auto notebook = ParseNotebook(bytes);
  if (!notebook) {
    // The parser's messages name a line and a reason, never a value.
    return refuse(regional_id, "failure", notebook.error().message(), notebook.error());
  }
  if (!notebook->patient) {
    return refuse(regional_id, "failure", "no patient record",
                  core::InvalidInput("the file has no patient record (record 1)"));
  }
  std::string reason;
  if (core::Status same = SamePerson(*notebook->patient, *patient, reason); !same.ok()) {
    return refuse(regional_id, "denied", reason, same);
  }

  MappingTarget target;
  target.facility_id = writer.viewer.facility_id;
  target.local_patient_id = links.front().local_id;
  std::string own_code;
  if (auto facility = facilities_.Get(writer.viewer.facility_id)) own_code = facility->code;
  target.facility_code = own_code;
  std::vector<MappedDispense> mapped = MapDispenses(*notebook, target);
  if (mapped.empty()) {
    return refuse(regional_id, "failure", "no drugs",
                  core::InvalidInput("the file holds no dispensed drugs (record 201)"));
  }
  if (mapped.size() > clinical::ResourceStore::kMaxBatch) {
    return refuse(regional_id, "failure", "too many drugs",
                  core::TooLarge("the file holds more drugs than one upload may"));
  }

  ImportSummary summary;
  summary.regional_id = patient->regional_id;
  summary.dry_run = options.dry_run;
  summary.encoding = notebook->encoding;
  summary.warnings = notebook->warnings;
  summary.medications = static_cast<int64_t>(mapped.size());
  for (size_t ei = 0; ei < notebook->events.size(); ++ei) {
    const DispensingEvent& e = notebook->events[ei];
    ImportedEvent out;
    out.line = e.line;
    out.date = e.date;
    out.pharmacy_name = e.pharmacy.name;
    out.pharmacy_code = e.pharmacy.InstitutionCode();
    out.pharmacist = e.pharmacist;
    out.prescriber_name = e.prescriber.name;
    out.prescriber_code = e.prescriber.InstitutionCode();
    out.doctor = e.doctor;
    out.department = e.department;
    for (const MappedDispense& m : mapped) {
      if (m.event != ei) continue;
      const NotebookRp& rp = e.rps[m.rp];
      out.medications.push_back(MedicationOf(m, rp, rp.drugs[m.drug]));
    }
    if (!own_code.empty() && !out.pharmacy_code.empty() && out.pharmacy_code != own_code) {
      summary.warnings.push_back(
          {e.line,
           "dispensed at another institution than yours (record 11); stored with your "
           "facility as the source"});
    }
    summary.events.push_back(std::move(out));
  }
  std::stable_sort(summary.warnings.begin(), summary.warnings.end(),
                   [](const ParseWarning& a, const ParseWarning& b) { return a.line < b.line; });

  if (!options.dry_run) {
    std::vector<clinical::ResourceRecord> records;
    records.reserve(mapped.size());
    for (MappedDispense& m : mapped) records.push_back(std::move(m.record));
    auto stats = resources_.Write(records);
    if (!stats) return refuse(regional_id, "failure", "storage error", stats.error());
    summary.stats = *stats;
  }
  const clinical::WriteStats& s = summary.stats;
  TSUNAGU_RETURN_IF_ERROR(Record(
      writer, action, regional_id, "success",
      "events=" + std::to_string(summary.events.size()) + " medications=" +
          std::to_string(summary.medications) + " inserted=" + std::to_string(s.inserted) +
          " updated=" + std::to_string(s.updated) + " unchanged=" + std::to_string(s.unchanged)));
  if (!options.dry_run) {
    core::LogInfo("jahis.imported", {{"facility_id", std::to_string(writer.viewer.facility_id)},
                                     {"medications", std::to_string(summary.medications)},
                                     {"inserted", std::to_string(s.inserted)},
                                     {"unchanged", std::to_string(s.unchanged)}});
  }
  // After a real import: the warnings are a convenience of the answer: the data is stored even
  // when they cannot be read (the read itself is audited by the timeline).
  if (!options.dry_run) {
    if (auto warnings = timeline_.GetMedicationWarnings(writer, regional_id)) {
      summary.medication_warnings = std::move(*warnings);
    }
  }
  return summary;
}

}  // namespace tsunagu::jahis
