// SS-MIX2 standardized storage paths and file names.
#include "ssmix2/storage_path.hpp"

#include <gtest/gtest.h>

namespace tsunagu::ssmix2 {
namespace {

constexpr const char* kPath =
    "001/234/0012345678/20240401/OMP-01/"
    "0012345678_20240401_OMP-01_0000001234_20240401103015123_01_1";

TEST(StoragePath, ParsesEveryPartOfAStandardPath) {
  auto p = ParseStoragePath(kPath);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->patient_id, "0012345678");
  EXPECT_EQ(p->date, "20240401");
  EXPECT_EQ(p->data_type, "OMP-01");
  EXPECT_EQ(p->order_number, "0000001234");
  EXPECT_EQ(p->timestamp, "20240401103015123");
  EXPECT_EQ(p->department, "01");
  EXPECT_FALSE(p->cancelled);
  // 2024-04-01 10:30:15.123 JST = 01:30:15.123 UTC.
  EXPECT_EQ(p->time_millis, 1711935015123);
  EXPECT_EQ(p->PatientDir(), "001/234/0012345678");
  EXPECT_EQ(StandardRelativePath(*p), kPath);
}

TEST(StoragePath, FlagZeroIsACancellationAndDashDateIsAccepted) {
  auto p =
      ParseStoragePath("001/234/0012345678/-/ADT-00/0012345678_-_ADT-00_-_20240401103015123_-_0");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_TRUE(p->cancelled);
  EXPECT_EQ(p->date, "-");
  EXPECT_EQ(p->order_number, "-");
}

struct BadCase {
  const char* path;
  const char* reason_part;
};

class StoragePathRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(StoragePathRejects, WithAReasonNamingThePart) {
  auto p = ParseStoragePath(GetParam().path);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), core::Code::kInvalidInput);
  EXPECT_NE(p.error().message().find(GetParam().reason_part), std::string::npos)
      << p.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StoragePathRejects,
    ::testing::Values(
        BadCase{"001/234/0012345678/20240401/OMP-01/readme.txt", "7 fields"},
        BadCase{"0012345678_20240401_OMP-01_1_20240401103015123_01_1", "below the root"},
        BadCase{"001/234/0012345678/20240401/OMP-01/"
                "0012345678_20240401_OMP-01_1_20240401103015123_01_2",
                "condition flag"},
        BadCase{"001/234/0012345678/20240431/OMP-01/"
                "0012345678_20240431_OMP-01_1_20240431103015123_01_1",
                "calendar date"},
        BadCase{"001/234/0012345678/20240401/OMP-01/"
                "0012345678_20240401_OMP-01_1_2024040110301512_01_1",
                "timestamp"},
        BadCase{"001/234/0012345678/20240401/OMP-01/"
                "0012345678_20240401_OMP-01_1_20240401253015123_01_1",
                "timestamp"},
        BadCase{"001/234/0012345678/20240401/omp-01/"
                "0012345678_20240401_omp-01_1_20240401103015123_01_1",
                "data type"},
        BadCase{"001/234/0012345679/20240401/OMP-01/"
                "0012345678_20240401_OMP-01_1_20240401103015123_01_1",
                "patient directory"},
        BadCase{"009/234/0012345678/20240401/OMP-01/"
                "0012345678_20240401_OMP-01_1_20240401103015123_01_1",
                "prefix directories"},
        BadCase{"001/234/0012345678/20240402/OMP-01/"
                "0012345678_20240401_OMP-01_1_20240401103015123_01_1",
                "date directory"},
        BadCase{"001/234/0012345678/20240401/OMP-02/"
                "0012345678_20240401_OMP-01_1_20240401103015123_01_1",
                "data type directory"},
        BadCase{"123/45/12345/20240401/OMP-01/12345_20240401_OMP-01_1_20240401103015123_01_1",
                "at least 6"},
        BadCase{"001/234/001234567$/20240401/OMP-01/"
                "001234567$_20240401_OMP-01_1_20240401103015123_01_1",
                "letters and digits"},
        BadCase{"001/234/0012345678/20240401/OMP-01/"
                "0012345678_20240401_OMP-01__20240401103015123_01_1",
                "order number"}));

TEST(StoragePath, JstTimestampsAcceptSecondsOrMilliseconds) {
  auto a = ParseJstTimestamp("20240101090000");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, 1704067200000);  // 2024-01-01T00:00:00Z
  auto b = ParseJstTimestamp("20240229235959999");
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(ParseJstTimestamp("20230229000000").has_value());
  EXPECT_FALSE(ParseJstTimestamp("2024010109000x").has_value());
}

TEST(StoragePath, DataTypeShape) {
  EXPECT_TRUE(IsDataTypeShape("OML-11"));
  EXPECT_TRUE(IsDataTypeShape("ADT-00"));
  EXPECT_FALSE(IsDataTypeShape("OML11"));
  EXPECT_FALSE(IsDataTypeShape("OML-1A"));
  EXPECT_FALSE(IsDataTypeShape("OM-011"));
}

}  // namespace
}  // namespace tsunagu::ssmix2
