#pragma once
// Shared fixture: a migrated database on each backend, a fixed signing key
// and a FakeClock.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "audit/audit_signer.hpp"
#include "core/clock.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace tsunagu::audit {

inline constexpr const char* kTestSeed =
    "8a3c1e0f5b7d9a2c4e6f8091a3b5c7d9e1f30517293b4d5f6a7c8e9f0a1b2c3d";
inline constexpr const char* kOtherSeed =
    "1111111111111111111111111111111111111111111111111111111111111111";

class AuditDbTest : public ::testing::TestWithParam<tsunagu::testing::Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<tsunagu::testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(db(), {AuditLog::Migrations()}).ok());
    auto signer = AuditSigner::FromSeedHex(kTestSeed);
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(signer).value();
    log_ = std::make_unique<AuditLog>(db(), clock_, *signer_);
  }

  store::Database& db() { return tdb_->db(); }
  AuditLog& log() { return *log_; }

  static AuditEvent Event(std::string action, int64_t user_id = 7, std::string patient_id = "",
                          int64_t facility_id = 3) {
    AuditEvent e;
    e.user_id = user_id;
    e.user_name = "user " + std::to_string(user_id);
    e.facility_id = facility_id;
    e.occupation = "physician";
    e.action = std::move(action);
    e.patient_id = std::move(patient_id);
    e.object = "patient:" + e.patient_id;
    e.outcome = "success";
    e.client_address = "192.0.2.10";
    return e;
  }

  // Appends `n` events "patient.read" (one transaction each).
  void AppendMany(int n) {
    for (int i = 0; i < n; ++i) {
      auto appended = log().Append(Event("patient.read", 7, "P" + std::to_string(i)));
      ASSERT_TRUE(appended.has_value()) << appended.error().ToString();
    }
  }

  int64_t CountRows(const std::string& table) {
    auto rows = db().Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.has_value());
    return rows.has_value() ? rows->rows.at(0).Int(0) : -1;
  }

  core::FakeClock clock_;
  std::unique_ptr<tsunagu::testing::TestDatabase> tdb_;
  std::unique_ptr<AuditSigner> signer_;
  std::unique_ptr<AuditLog> log_;
};

}  // namespace tsunagu::audit
