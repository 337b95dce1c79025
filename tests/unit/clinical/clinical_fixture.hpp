#pragma once
// Shared fixture of the clinical tests: the resource store with the registry,
// consent and audit services on a fresh database of each backend, and
// builders of FHIR resources shaped like the SS-MIX2 mapping's output.
// The FakeClock starts at 2026-01-01 09:00 Japan time ("today" for consents).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "audit/audit_signer.hpp"
#include "clinical/fhir_summary.hpp"
#include "clinical/resource_store.hpp"
#include "consent/access_policy.hpp"
#include "consent/consent_service.hpp"
#include "core/clock.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"
#include "store/blob_store.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::clinical {

// JLAC10 and HOT code systems as the mapping writes them.
inline constexpr const char* kJlac10 = "urn:oid:1.2.392.200119.4.504";

inline std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// An Observation (lab result) with a value, a unit, a reference range and an
// optional interpretation flag.
inline ResourceRecord LabRecord(int64_t facility, const std::string& local_id,
                                const std::string& key, const std::string& code,
                                const std::string& display, double value, const std::string& unit,
                                double low, double high, const std::string& effective,
                                const std::string& flag = "", int64_t source_time = 1000) {
  ResourceRecord r;
  r.resource_type = "Observation";
  r.source_facility_id = facility;
  r.local_patient_id = local_id;
  r.source_key = key;
  r.category = Category::kLabResult;
  r.code_system = kJlac10;
  r.code = code;
  r.display = display;
  r.effective = effective;
  r.source_time = source_time;
  char number[64];
  std::snprintf(number, sizeof number, "%g", value);
  std::string interpretation =
      flag.empty() ? ""
                   : ",\"interpretation\":[{\"coding\":[{\"system\":"
                     "\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\","
                     "\"code\":" +
                         Quote(flag) + "}]}]";
  char range[128];
  std::snprintf(range, sizeof range, "{\"low\":{\"value\":%g},\"high\":{\"value\":%g}}", low, high);
  r.json =
      "{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{\"coding\":[{"
      "\"code\":\"laboratory\"}]}],\"code\":{\"coding\":[{\"system\":" +
      Quote(kJlac10) + ",\"code\":" + Quote(code) + ",\"display\":" + Quote(display) +
      "}]},\"subject\":{\"identifier\":{\"value\":" + Quote(local_id) +
      "}},\"effectiveDateTime\":" + Quote(effective) + ",\"valueQuantity\":{\"value\":" + number +
      ",\"unit\":" + Quote(unit) + "},\"referenceRange\":[" + range + "]" + interpretation + "}";
  return r;
}

// A MedicationRequest (oral prescription) with a YJ code, dose, frequency and
// supply days; effective_end is the last day of the supply.
inline ResourceRecord PrescriptionRecord(int64_t facility, const std::string& local_id,
                                         const std::string& key, const std::string& yj_code,
                                         const std::string& name, const std::string& start,
                                         const std::string& end, int days,
                                         const std::string& resource_type = "MedicationRequest") {
  ResourceRecord r;
  r.resource_type = resource_type;
  r.source_facility_id = facility;
  r.local_patient_id = local_id;
  r.source_key = key;
  r.category =
      resource_type == "MedicationRequest" ? Category::kPrescription : Category::kDispensing;
  r.code_system = std::string(kYjCodeSystem);
  r.code = yj_code;
  r.display = name;
  r.effective = start;
  r.effective_end = end;
  r.source_time = 1000;
  std::string medication =
      "\"medicationCodeableConcept\":{\"coding\":[{\"system\":" + Quote(r.code_system) +
      ",\"code\":" + Quote(yj_code) + ",\"display\":" + Quote(name) + "}],\"text\":" + Quote(name) +
      "}";
  std::string dosage =
      "[{\"text\":\"1日3回毎食後\",\"timing\":{\"code\":{\"text\":\"1日3回毎食後\"}},"
      "\"route\":{\"text\":\"内服\"},\"doseAndRate\":[{\"doseQuantity\":{\"value\":1,"
      "\"unit\":\"錠\"}}]}]";
  if (resource_type == "MedicationRequest") {
    r.json = "{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\"," +
             medication + ",\"subject\":{\"identifier\":{\"value\":" + Quote(local_id) +
             "}},\"authoredOn\":" + Quote(start) + ",\"dosageInstruction\":" + dosage +
             ",\"dispenseRequest\":{\"expectedSupplyDuration\":{\"value\":" + std::to_string(days) +
             ",\"unit\":\"日\"},\"quantity\":{\"value\":" + std::to_string(days * 3) +
             ",\"unit\":\"錠\"}}}";
  } else {
    r.json = "{\"resourceType\":\"MedicationDispense\",\"status\":\"completed\"," + medication +
             ",\"subject\":{\"identifier\":{\"value\":" + Quote(local_id) +
             "}},\"whenHandedOver\":" + Quote(start) + ",\"dosageInstruction\":" + dosage +
             ",\"daysSupply\":{\"value\":" + std::to_string(days) + ",\"unit\":\"日\"}}";
  }
  return r;
}

// A generic record of any category (condition, allergy, encounter, ...).
inline ResourceRecord SimpleRecord(int64_t facility, const std::string& local_id,
                                   const std::string& key, Category category,
                                   const std::string& resource_type, const std::string& display,
                                   const std::string& effective, const std::string& extra = "") {
  ResourceRecord r;
  r.resource_type = resource_type;
  r.source_facility_id = facility;
  r.local_patient_id = local_id;
  r.source_key = key;
  r.category = category;
  r.code = "C-" + key;
  r.display = display;
  r.effective = effective;
  r.source_time = 1000;
  r.json = "{\"resourceType\":" + Quote(resource_type) + ",\"code\":{\"text\":" + Quote(display) +
           "},\"subject\":{\"identifier\":{\"value\":" + Quote(local_id) + "}}" + extra + "}";
  return r;
}

class ClinicalDbTest : public ::testing::TestWithParam<tsunagu::testing::Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<tsunagu::testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(
                    db(), {audit::AuditLog::Migrations(), registry::FacilityService::Migrations(),
                           registry::PatientService::Migrations(),
                           consent::ConsentService::Migrations(), ResourceStore::Migrations()})
                    .ok());
    auto signer = audit::AuditSigner::FromSeedHex(std::string(64, '7'));
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(signer).value();
    audit_ = std::make_unique<audit::AuditLog>(db(), clock_, *signer_);
    facilities_ = std::make_unique<registry::FacilityService>(db(), clock_);
    patients_ = std::make_unique<registry::PatientService>(db(), clock_, *facilities_);
    blobs_ = std::make_unique<store::BlobStore>(tdb_->dir() + "/blobs");
    consents_ =
        std::make_unique<consent::ConsentService>(db(), clock_, *blobs_, *patients_, *facilities_);
    policy_ = std::make_unique<consent::AccessPolicy>(*consents_);
    resources_ = std::make_unique<ResourceStore>(db(), clock_);
    ASSERT_TRUE(facilities_->PutArea({"kenpoku", "県北"}).ok());
  }

  store::Database& db() { return tdb_->db(); }

  int64_t AddFacility(const std::string& name,
                      registry::FacilityType type = registry::FacilityType::kClinic) {
    std::string six = std::to_string(200000 + (++facility_seq_));
    char table = type == registry::FacilityType::kPharmacy ? '4' : '1';
    registry::Facility f;
    f.type = type;
    f.code = std::string("07") + table + six + registry::InstitutionCheckDigit(six);
    f.name = name;
    f.kana = "てすと";
    f.area = "kenpoku";
    auto created = facilities_->Create(f);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.has_value() ? created->id : 0;
  }

  registry::Patient AddPatient(int64_t facility_id, const std::string& local_id) {
    registry::NewPatient p;
    p.name = "山田　太郎";
    p.kana = "ヤマダ　タロウ";
    p.birth_date = "1948-05-03";
    p.sex = registry::Sex::kMale;
    p.local_id = local_id;
    auto created = patients_->Register(p, registry::Viewer{facility_id, false});
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.has_value() ? *created : registry::Patient{};
  }

  // An open-ended clinical-sharing consent from `source` (0 = any) to `viewer`.
  int64_t Consent(const registry::Patient& p, int64_t source, int64_t viewer,
                  consent::Scope scope = consent::Scope::kClinicalSharing) {
    consent::NewConsent c;
    c.patient_id = p.id;
    c.scope = scope;
    c.source_facility_id = source;
    c.viewer_facility_id = viewer;
    c.valid_from = "2025-01-01";
    auto created = consents_->Create(c, 1);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.has_value() ? created->id : 0;
  }

  WriteStats Write(const std::vector<ResourceRecord>& records) {
    auto stats = resources_->Write(records);
    EXPECT_TRUE(stats.has_value()) << stats.error().ToString();
    return stats.value_or(WriteStats{});
  }

  core::FakeClock clock_;
  std::unique_ptr<tsunagu::testing::TestDatabase> tdb_;
  std::unique_ptr<audit::AuditSigner> signer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<registry::FacilityService> facilities_;
  std::unique_ptr<registry::PatientService> patients_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<consent::ConsentService> consents_;
  std::unique_ptr<consent::AccessPolicy> policy_;
  std::unique_ptr<ResourceStore> resources_;
  int facility_seq_ = 0;
};

}  // namespace tsunagu::clinical
