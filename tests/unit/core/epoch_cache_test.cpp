#include "core/epoch_cache.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/access_epoch.hpp"

namespace tsunagu::core {
namespace {

TEST(EpochCacheTest, KeepsAValueForItsTimeToLive) {
  EpochCache<int, std::string> cache(1000, 10);
  const uint64_t epoch = AccessEpoch();
  EXPECT_FALSE(cache.Find(1, epoch, 5000).has_value());
  cache.Store(1, "K123", epoch, 5000);
  EXPECT_EQ(cache.Find(1, epoch, 5000).value_or(""), "K123");
  EXPECT_EQ(cache.Find(1, epoch, 5999).value_or(""), "K123");
  EXPECT_FALSE(cache.Find(1, epoch, 6000).has_value()) << "expired";
  EXPECT_FALSE(cache.Find(1, epoch, 4999).has_value()) << "a clock that went back";
  EXPECT_FALSE(cache.Find(2, epoch, 5000).has_value());
}

TEST(EpochCacheTest, AnAccessChangeForgetsEverythingAtOnce) {
  EpochCache<int, std::string> cache(60'000, 10);
  const uint64_t before = AccessEpoch();
  cache.Store(1, "K123", before, 0);
  BumpAccessEpoch();  // e.g. a consent withdrawn
  EXPECT_FALSE(cache.Find(1, AccessEpoch(), 1).has_value());
  // A reader that read the epoch before the change finds nothing either.
  EXPECT_FALSE(cache.Find(1, before, 1).has_value());
}

TEST(EpochCacheTest, AValueReadBeforeAnAccessChangeIsNotKept) {
  EpochCache<int, std::string> cache(60'000, 10);
  const uint64_t epoch = AccessEpoch();  // read before the database
  BumpAccessEpoch();                     // a change commits meanwhile
  cache.Store(1, "stale", epoch, 0);
  EXPECT_FALSE(cache.Find(1, epoch, 1).has_value());
  EXPECT_FALSE(cache.Find(1, AccessEpoch(), 1).has_value());
}

TEST(EpochCacheTest, AFullCacheStartsOver) {
  EpochCache<int, int> cache(60'000, 2);
  const uint64_t epoch = AccessEpoch();
  cache.Store(1, 10, epoch, 0);
  cache.Store(2, 20, epoch, 0);
  cache.Store(3, 30, epoch, 0);
  EXPECT_FALSE(cache.Find(1, epoch, 1).has_value());
  EXPECT_FALSE(cache.Find(2, epoch, 1).has_value());
  EXPECT_EQ(cache.Find(3, epoch, 1).value_or(0), 30);
}

}  // namespace
}  // namespace tsunagu::core
