#include "audit/verify_command.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "unit/audit/audit_fixture.hpp"

namespace tsunagu::audit {
namespace {

class RunAuditVerifyTest : public AuditDbTest {};

TEST_P(RunAuditVerifyTest, IntactLogExitsZero) {
  AppendMany(4);
  ASSERT_TRUE(log().SignHead().ok());
  std::ostringstream out;
  EXPECT_EQ(RunAuditVerify(db(), *signer_, out), 0);
  EXPECT_NE(out.str().find("OK"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("entries checked: 4"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(signer_->PublicKeyHex()), std::string::npos);
}

TEST_P(RunAuditVerifyTest, TamperedLogExitsOneAndNamesTheEntry) {
  AppendMany(4);
  ASSERT_TRUE(db().Execute("UPDATE audit_events SET outcome = 'denied' WHERE seq = 2").has_value());
  std::ostringstream out;
  EXPECT_EQ(RunAuditVerify(db(), *signer_, out), 1);
  EXPECT_NE(out.str().find("TAMPERED"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("first bad seq:   2"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("entry 2 was modified"), std::string::npos) << out.str();
}

INSTANTIATE_TEST_SUITE_P(Backends, RunAuditVerifyTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::audit
