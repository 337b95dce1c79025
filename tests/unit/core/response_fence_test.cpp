#include "core/response_fence.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <thread>

namespace tsunagu::core {
namespace {

TEST(ResponseFenceTest, NothingHeldSettlesAtOnceWithOk) {
  ResponseFence fence;
  EXPECT_FALSE(fence.pending());
  std::optional<Status> got;
  fence.WhenSettled([&](const Status& s) { got = s; });
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok());
}

TEST(ResponseFenceTest, SettlesOnlyAfterTheLastReleaseAndKeepsTheFirstFailure) {
  ResponseFence fence;
  fence.Hold();
  fence.Hold();
  fence.Hold();
  std::optional<Status> got;
  fence.WhenSettled([&](const Status& s) { got = s; });
  fence.Release(Status::Ok());
  fence.Release(Internal("disk full"));
  EXPECT_TRUE(fence.pending());
  EXPECT_FALSE(got.has_value());
  fence.Release(Unavailable("later failure"));
  EXPECT_FALSE(fence.pending());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), Code::kInternal);
  EXPECT_EQ(got->message(), "disk full");
}

TEST(ResponseFenceTest, ReleasedBeforeWhenSettledStillReportsTheOutcome) {
  ResponseFence fence;
  fence.Hold();
  fence.Release(Internal("could not write"));
  std::optional<Status> got;
  fence.WhenSettled([&](const Status& s) { got = s; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), Code::kInternal);
}

TEST(ResponseFenceTest, ReleaseFromAnotherThreadRunsTheContinuationThere) {
  auto fence = std::make_shared<ResponseFence>();
  fence->Hold();
  std::thread::id ran_on;
  fence->WhenSettled([&](const Status&) { ran_on = std::this_thread::get_id(); });
  std::thread other([fence] { fence->Release(Status::Ok()); });
  const std::thread::id other_id = other.get_id();
  other.join();
  EXPECT_EQ(ran_on, other_id);
}

TEST(ResponseFenceTest, ScopeInstallsAndRestoresTheCurrentFence) {
  EXPECT_EQ(CurrentResponseFence(), nullptr);
  auto outer = std::make_shared<ResponseFence>();
  {
    ScopedResponseFence a(outer);
    EXPECT_EQ(CurrentResponseFence(), outer);
    auto inner = std::make_shared<ResponseFence>();
    {
      ScopedResponseFence b(inner);
      EXPECT_EQ(CurrentResponseFence(), inner);
      std::shared_ptr<ResponseFence> seen_elsewhere = outer;
      std::thread([&] { seen_elsewhere = CurrentResponseFence(); }).join();
      EXPECT_EQ(seen_elsewhere, nullptr);  // per thread
    }
    EXPECT_EQ(CurrentResponseFence(), outer);
  }
  EXPECT_EQ(CurrentResponseFence(), nullptr);
}

}  // namespace
}  // namespace tsunagu::core
