#include "audit/audit_head_signer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "unit/audit/audit_fixture.hpp"

namespace tsunagu::audit {
namespace {

using namespace std::chrono_literals;

class AuditHeadSignerTest : public AuditDbTest {
 protected:
  // Waits up to 5 s for the signed head to reach `seq`.
  bool WaitForSignedSeq(int64_t seq) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto head = log().LatestSignedHead();
      if (head.has_value() && head->has_value() && (*head)->seq == seq) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

TEST_P(AuditHeadSignerTest, SignsAtStartAndStopsPromptly) {
  AppendMany(3);
  AuditHeadSigner signer(log());  // hourly
  signer.Start();
  EXPECT_TRUE(signer.running());
  ASSERT_TRUE(WaitForSignedSeq(3));

  AppendMany(2);
  auto before = std::chrono::steady_clock::now();
  signer.Stop();
  auto took = std::chrono::steady_clock::now() - before;
  EXPECT_LT(took, 100ms);
  EXPECT_FALSE(signer.running());
  // Stopping signs the final head.
  auto head = log().LatestSignedHead();
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, 5);
  EXPECT_EQ(signer.signed_count(), 2);
  EXPECT_TRUE(log().Verify().ok);
  signer.Stop();  // idempotent
}

TEST_P(AuditHeadSignerTest, SignsEveryInterval) {
  AuditHeadSigner signer(log(), 20ms);
  signer.Start();
  AppendMany(2);
  ASSERT_TRUE(WaitForSignedSeq(2));
  AppendMany(2);
  ASSERT_TRUE(WaitForSignedSeq(4));
  signer.Stop();
  EXPECT_GE(signer.signed_count(), 3);
}

TEST_P(AuditHeadSignerTest, DestructorStops) {
  AppendMany(1);
  auto before = std::chrono::steady_clock::now();
  {
    AuditHeadSigner signer(log());
    signer.Start();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  auto head = log().LatestSignedHead();
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditHeadSignerTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::audit
