// ResourceStore::Write on SQLite and PostgreSQL: a large batch (written with
// multi-row statements) gives the same stats and the same stored rows as
// writing its records one at a time, whatever mix of new, newer, older,
// identical, repeated and retracted records it holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "clinical/resource_store.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::clinical {
namespace {

using ResourceStoreWriteTest = ClinicalDbTest;

WriteStats Sum(const WriteStats& a, const WriteStats& b) {
  return {a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged,
          a.retracted + b.retracted, a.older_ignored + b.older_ignored};
}

// A batch for facility `facility`: 300 keys, each written
// several times in an order that exercises every outcome.
std::vector<ResourceRecord> MixedBatch(int64_t facility) {
  std::vector<ResourceRecord> out;
  auto rec = [&](int key, const std::string& display, int64_t time) {
    auto r = SimpleRecord(facility, "P" + std::to_string(key % 7), "K" + std::to_string(key),
                          Category::kCondition, "Condition", display, "2025-01-01");
    r.source_time = time;
    return r;
  };
  for (int k = 0; k < 300; ++k) out.push_back(rec(k, "v1", 1000));
  for (int k = 0; k < 300; ++k) {
    switch (k % 6) {
      case 0:  // newer content
        out.push_back(rec(k, "v2", 2000));
        break;
      case 1:  // older content
        out.push_back(rec(k, "old", 500));
        break;
      case 2:  // identical, same time
        out.push_back(rec(k, "v1", 1000));
        break;
      case 3: {  // identical, newer time; then an older-than-that record
        out.push_back(rec(k, "v1", 3000));
        out.push_back(rec(k, "between", 2000));
        break;
      }
      case 4: {  // retracted, then an older record cannot revive it
        auto cancel = rec(k, "v1", 4000);
        cancel.retracted = true;
        cancel.json.clear();
        out.push_back(cancel);
        out.push_back(rec(k, "revived", 3500));
        break;
      }
      default:  // a retraction of a key never seen
        auto cancel = rec(k + 1000, "gone", 1000);
        cancel.retracted = true;
        cancel.json.clear();
        out.push_back(cancel);
    }
  }
  return out;
}

std::map<std::string, std::string> Stored(ResourceStore& store, int64_t facility) {
  std::map<std::string, std::string> out;
  ResourceQuery q;
  q.all_patients = true;
  q.source_facilities = {facility};
  q.limit = ResourceStore::kMaxLimit;
  auto page = store.Search(q);
  EXPECT_TRUE(page.has_value()) << page.error().ToString();
  if (!page) return out;
  for (const auto& item : page->items) {
    out[item.record.source_key] = item.record.local_patient_id + "/" + item.record.display;
  }
  return out;
}

TEST_P(ResourceStoreWriteTest, LargeBatchMatchesRecordByRecord) {
  std::vector<ResourceRecord> batch = MixedBatch(1);
  std::vector<ResourceRecord> single = MixedBatch(2);
  ASSERT_GT(batch.size(), 600u);

  WriteStats batched = Write(batch);
  WriteStats one_by_one;
  for (const auto& r : single) one_by_one = Sum(one_by_one, Write({r}));

  EXPECT_EQ(batched, one_by_one);
  EXPECT_EQ(batched, (WriteStats{.inserted = 300,
                                 .updated = 50,
                                 .unchanged = 100,
                                 .retracted = 100,
                                 .older_ignored = 150}));
  auto stored = Stored(*resources_, 1);
  EXPECT_EQ(stored, Stored(*resources_, 2));
  EXPECT_EQ(stored.size(), 250u);  // 300 keys, 50 retracted
  EXPECT_EQ(stored.at("K0"), "P0/v2");
  EXPECT_EQ(stored.at("K3"), "P3/v1");
  EXPECT_FALSE(stored.contains("K4"));

  // Re-importing the same batch changes nothing.
  WriteStats again = Write(batch);
  EXPECT_EQ(again.inserted + again.updated + again.retracted, 0);
  EXPECT_EQ(Stored(*resources_, 1), stored);
}

TEST_P(ResourceStoreWriteTest, JsonCheckReadsOnlyTheTopLevelType) {
  auto base = SimpleRecord(1, "P1", "J1", Category::kCondition, "Condition", "x", "2025-01-01");
  auto with = [&](const std::string& key, const std::string& json) {
    ResourceRecord r = base;
    r.source_key = key;
    r.json = json;
    return resources_->Write(std::vector<ResourceRecord>{r});
  };
  // An escaped key is the same key; a nested resourceType does not count.
  EXPECT_TRUE(with("J1", R"({"resource\u0054ype":"Condition","contained":[{"resourceType":"X"}]})")
                  .has_value());
  EXPECT_TRUE(with("J2", R"({"code":{"resourceType":"Observation"},"resourceType":"Condition"})")
                  .has_value());
  auto nested_only = with("J3", R"({"code":{"resourceType":"Condition"}})");
  ASSERT_FALSE(nested_only.has_value());
  EXPECT_NE(nested_only.error().message().find("resourceType"), std::string::npos);
  auto not_string = with("J4", R"({"resourceType":["Condition"]})");
  ASSERT_FALSE(not_string.has_value());
  EXPECT_EQ(not_string.error().code(), core::Code::kInvalidInput);
  auto trailing = with("J5", R"({"resourceType":"Condition"} x)");
  ASSERT_FALSE(trailing.has_value());
  EXPECT_NE(trailing.error().message().find("JSON object"), std::string::npos);
  auto deep = with("J6", R"({"resourceType":"Condition","a":)" + std::string(40, '[') +
                             std::string(40, ']') + "}");
  ASSERT_FALSE(deep.has_value());
  EXPECT_NE(deep.error().message().find("JSON object"), std::string::npos);
}

TEST_P(ResourceStoreWriteTest, NewIdsAreUniqueHex) {
  std::vector<ResourceRecord> batch;
  for (int k = 0; k < 500; ++k) {
    batch.push_back(SimpleRecord(1, "P1", "N" + std::to_string(k), Category::kCondition,
                                 "Condition", "n", "2025-01-01"));
  }
  EXPECT_EQ(Write(batch).inserted, 500);
  ResourceQuery q;
  q.patients = {{1, "P1"}};
  q.limit = ResourceStore::kMaxLimit;
  auto page = resources_->Search(q);
  ASSERT_TRUE(page.has_value());
  std::set<std::string> ids;
  for (const auto& item : page->items) {
    EXPECT_EQ(item.record.id.size(), 32u);
    EXPECT_EQ(item.record.id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(item.record.id);
  }
  EXPECT_EQ(ids.size(), 500u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceStoreWriteTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::clinical
