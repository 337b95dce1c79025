#pragma once
// Shared fixture: registry, consent and audit services on a fresh database of
// each backend, a blob store in the scratch directory and a FakeClock
// (2026-01-01 09:00 Japan time, so "today" is 2026-01-01).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "audit/audit_signer.hpp"
#include "consent/consent_service.hpp"
#include "core/clock.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"
#include "store/blob_store.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::consent {

class ConsentDbTest : public ::testing::TestWithParam<tsunagu::testing::Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<tsunagu::testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(
                    db(), {audit::AuditLog::Migrations(), registry::FacilityService::Migrations(),
                           registry::PatientService::Migrations(), ConsentService::Migrations()})
                    .ok());
    auto signer = audit::AuditSigner::FromSeedHex(
        "8a3c1e0f5b7d9a2c4e6f8091a3b5c7d9e1f30517293b4d5f6a7c8e9f0a1b2c3d");
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(signer).value();
    audit_ = std::make_unique<audit::AuditLog>(db(), clock_, *signer_);
    facilities_ = std::make_unique<registry::FacilityService>(db(), clock_);
    patients_ = std::make_unique<registry::PatientService>(db(), clock_, *facilities_);
    blobs_ = std::make_unique<store::BlobStore>(tdb_->dir() + "/blobs");
    consents_ = std::make_unique<ConsentService>(db(), clock_, *blobs_, *patients_, *facilities_);
    ASSERT_TRUE(facilities_->PutArea({"kenpoku", "県北"}).ok());
  }

  store::Database& db() { return tdb_->db(); }

  // A facility with a valid institution code; `table` '1' medical, '4' pharmacy.
  int64_t AddFacility(const std::string& name, char table = '1',
                      registry::FacilityType type = registry::FacilityType::kClinic) {
    std::string six = std::to_string(100000 + (++facility_seq_));
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

  // A patient registered at `facility_id` with a fresh local ID.
  registry::Patient AddPatient(int64_t facility_id, const std::string& kana = "ヤマダ　タロウ",
                               const std::string& birth = "1948-05-03") {
    registry::NewPatient p;
    p.name = "山田　太郎";
    p.kana = kana;
    p.birth_date = birth;
    p.sex = registry::Sex::kMale;
    p.phone = "024-500-0001";
    p.postcode = "960-8031";
    p.local_id = "L" + std::to_string(++patient_seq_);
    auto created = patients_->Register(p, registry::Viewer{facility_id, false});
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.has_value() ? *created : registry::Patient{};
  }

  int64_t CountRows(const std::string& table) {
    auto rows = db().Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.has_value());
    return rows.has_value() ? rows->rows.at(0).Int(0) : -1;
  }

  core::FakeClock clock_;  // 2026-01-01T00:00:00Z = 09:00 JST
  std::unique_ptr<tsunagu::testing::TestDatabase> tdb_;
  std::unique_ptr<audit::AuditSigner> signer_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<registry::FacilityService> facilities_;
  std::unique_ptr<registry::PatientService> patients_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<ConsentService> consents_;
  int facility_seq_ = 0;
  int patient_seq_ = 0;
};

}  // namespace tsunagu::consent
