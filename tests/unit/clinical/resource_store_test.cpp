// ResourceStore on SQLite and PostgreSQL: supersede / older / retract /
// idempotent re-import, access scope in SQL, filters and paging.
#include "clinical/resource_store.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <span>

#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::clinical {
namespace {

using ResourceStoreTest = ClinicalDbTest;

ResourceQuery For(std::vector<LocalPatient> patients) {
  ResourceQuery q;
  q.patients = std::move(patients);
  return q;
}

std::vector<std::string> Displays(const ResourcePage& page) {
  std::vector<std::string> out;
  for (const auto& item : page.items) out.push_back(item.record.display);
  return out;
}

ResourcePage MustSearch(ResourceStore& store, const ResourceQuery& q) {
  auto page = store.Search(q);
  EXPECT_TRUE(page.has_value()) << page.error().ToString();
  return page.value_or(ResourcePage{});
}

TEST_P(ResourceStoreTest, FirstWriteInsertsAndReadReturnsJsonWithId) {
  auto stats = Write({LabRecord(1, "P1", "OML-11|0001|1", "3B035000002327201", "AST", 25, "U/L", 13,
                                30, "2025-06-01T09:00:00+09:00")});
  EXPECT_EQ(stats, (WriteStats{.inserted = 1}));
  ResourcePage page = MustSearch(*resources_, For({{1, "P1"}}));
  ASSERT_EQ(page.items.size(), 1u);
  const std::string id = page.items[0].record.id;
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);

  auto json = resources_->Read("Observation", id);
  ASSERT_TRUE(json.has_value()) << json.error().ToString();
  auto v = boost::json::parse(*json).as_object();
  EXPECT_EQ(v.at("id").as_string(), id);
  EXPECT_EQ(v.at("resourceType").as_string(), "Observation");
  EXPECT_EQ(v.at("valueQuantity").at("value").to_number<double>(), 25);
  EXPECT_TRUE(v.at("meta").as_object().contains("lastUpdated"));

  EXPECT_EQ(resources_->Read("Condition", id).error().code(), core::Code::kNotFound);
  EXPECT_EQ(resources_->Read("Observation", "0123").error().code(), core::Code::kNotFound);
}

TEST_P(ResourceStoreTest, NewerRecordSupersedesAndKeepsId) {
  auto v1 = SimpleRecord(1, "P1", "PPR-01|D1", Category::kCondition, "Condition", "高血圧症",
                         "2025-01-10");
  v1.source_time = 100;
  Write({v1});
  std::string id = MustSearch(*resources_, For({{1, "P1"}})).items.at(0).record.id;

  auto v2 = v1;
  v2.display = "本態性高血圧症";
  v2.json = SimpleRecord(1, "P1", "PPR-01|D1", Category::kCondition, "Condition", "本態性高血圧症",
                         "2025-01-10")
                .json;
  v2.source_time = 200;
  EXPECT_EQ(Write({v2}), (WriteStats{.updated = 1}));

  ResourcePage page = MustSearch(*resources_, For({{1, "P1"}}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].record.id, id);
  EXPECT_EQ(page.items[0].record.display, "本態性高血圧症");
  EXPECT_NE(resources_->Read("Condition", id)->find("本態性高血圧症"), std::string::npos);

  // The older version arriving late changes nothing.
  EXPECT_EQ(Write({v1}), (WriteStats{.older_ignored = 1}));
  EXPECT_EQ(MustSearch(*resources_, For({{1, "P1"}})).items.at(0).record.display, "本態性高血圧症");
}

TEST_P(ResourceStoreTest, ReimportingTheSameBatchChangesNothing) {
  std::vector<ResourceRecord> batch;
  for (int i = 0; i < 20; ++i) {
    batch.push_back(LabRecord(1, "P1", "OML-11|0001|" + std::to_string(i), "C" + std::to_string(i),
                              "test " + std::to_string(i), i, "mg/dL", 0, 100, "2025-06-01"));
  }
  EXPECT_EQ(Write(batch), (WriteStats{.inserted = 20}));
  auto first = MustSearch(*resources_, For({{1, "P1"}}));
  clock_.Advance(60'000);
  EXPECT_EQ(Write(batch), (WriteStats{.unchanged = 20}));
  // The same content under a newer message time is still unchanged.
  for (auto& r : batch) r.source_time += 5;
  EXPECT_EQ(Write(batch), (WriteStats{.unchanged = 20}));
  auto second = MustSearch(*resources_, For({{1, "P1"}}));
  ASSERT_EQ(first.items.size(), second.items.size());
  for (size_t i = 0; i < first.items.size(); ++i) {
    EXPECT_EQ(first.items[i].record.id, second.items[i].record.id);
    EXPECT_EQ(first.items[i].stored_at, second.items[i].stored_at);
  }
  // ...and the newer time counts: a record between the two times is older.
  auto between = batch[0];
  between.source_time -= 2;
  between.json = LabRecord(1, "P1", "x", "C0", "test 0", 99, "mg/dL", 0, 100, "2025-06-01").json;
  EXPECT_EQ(Write({between}), (WriteStats{.older_ignored = 1}));
}

TEST_P(ResourceStoreTest, RetractionHidesTheRowAndOlderRecordsCannotRevive) {
  auto rec = SimpleRecord(1, "P1", "OMP-01|R1|1", Category::kPrescription, "MedicationRequest",
                          "ロキソニン錠60mg", "2025-06-01");
  rec.source_time = 100;
  Write({rec});
  std::string id = MustSearch(*resources_, For({{1, "P1"}})).items.at(0).record.id;

  ResourceRecord cancel = rec;
  cancel.retracted = true;
  cancel.json.clear();
  cancel.source_time = 300;
  EXPECT_EQ(Write({cancel}), (WriteStats{.retracted = 1}));
  EXPECT_TRUE(MustSearch(*resources_, For({{1, "P1"}})).items.empty());
  EXPECT_EQ(resources_->Read("MedicationRequest", id).error().code(), core::Code::kNotFound);
  EXPECT_EQ(Write({cancel}), (WriteStats{.unchanged = 1}));

  auto late = rec;
  late.source_time = 200;
  EXPECT_EQ(Write({late}), (WriteStats{.older_ignored = 1}));
  EXPECT_TRUE(MustSearch(*resources_, For({{1, "P1"}})).items.empty());

  // A newer order with the same key brings it back, under the same id.
  auto reissued = rec;
  reissued.source_time = 400;
  EXPECT_EQ(Write({reissued}), (WriteStats{.updated = 1}));
  auto page = MustSearch(*resources_, For({{1, "P1"}}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].record.id, id);
}

TEST_P(ResourceStoreTest, RetractionBeforeTheRecordIsRemembered) {
  auto rec = SimpleRecord(1, "P1", "OMP-01|R9|1", Category::kPrescription, "MedicationRequest",
                          "アムロジピン錠5mg", "2025-06-01");
  ResourceRecord cancel = rec;
  cancel.retracted = true;
  cancel.json.clear();
  cancel.source_time = 500;
  rec.source_time = 400;
  EXPECT_EQ(Write({cancel, rec}), (WriteStats{.retracted = 1, .older_ignored = 1}));
  EXPECT_TRUE(MustSearch(*resources_, For({{1, "P1"}})).items.empty());
}

TEST_P(ResourceStoreTest, LaterRecordOfTheSameKeyInOneBatchWins) {
  auto a = SimpleRecord(1, "P1", "K", Category::kCondition, "Condition", "v1", "2025-01-01");
  auto b = SimpleRecord(1, "P1", "K", Category::kCondition, "Condition", "v2", "2025-01-01");
  b.source_time = a.source_time + 1;
  EXPECT_EQ(Write({a, b}), (WriteStats{.inserted = 1, .updated = 1}));
  EXPECT_EQ(Displays(MustSearch(*resources_, For({{1, "P1"}}))), (std::vector<std::string>{"v2"}));
}

// A batch whose keys repeat, interleaved (a patient's messages in file
// order): the same rows and the same counts as writing its records one at a
// time, in order.
TEST_P(ResourceStoreTest, ABatchWithRepeatedKeysEndsAsItsRecordsWrittenOneByOne) {
  auto rec = [](const std::string& key, const std::string& display, int64_t time) {
    auto r = SimpleRecord(1, "P1", key, Category::kCondition, "Condition", display, "2025-01-01");
    r.source_time = time;
    return r;
  };
  auto cancel = [&](const std::string& key, int64_t time) {
    auto r = rec(key, "", time);
    r.retracted = true;
    r.json.clear();
    return r;
  };
  const std::vector<ResourceRecord> batch = {
      rec("A", "a1", 10), rec("B", "b1", 10), rec("A", "a2", 20), cancel("A", 30),
      rec("C", "c1", 10), rec("A", "a0", 5),  rec("B", "b1", 10), rec("A", "a3", 40),
      rec("B", "b0", 1),  cancel("D", 10),    rec("D", "d1", 5),  rec("A", "a3", 50),
      rec("E", "e1", 10), rec("E", "e2", 10), rec("A", "a4", 45),
  };
  const WriteStats together = Write(batch);

  // The same records one by one, into a second store of the same database:
  // facility 2 instead of 1.
  WriteStats alone;
  for (ResourceRecord r : batch) {
    r.source_facility_id = 2;
    const WriteStats s = Write({r});
    alone.inserted += s.inserted;
    alone.updated += s.updated;
    alone.unchanged += s.unchanged;
    alone.retracted += s.retracted;
    alone.older_ignored += s.older_ignored;
  }
  EXPECT_EQ(together, alone);
  // A, B, C and E new; A twice and E once replaced; B and A again the same;
  // A and D retracted; A twice, B and D older than what was stored.
  EXPECT_EQ(together,
            (WriteStats{
                .inserted = 4, .updated = 3, .unchanged = 2, .retracted = 2, .older_ignored = 4}));
  ResourceQuery one = For({{1, "P1"}});
  ResourceQuery two = For({{2, "P1"}});
  EXPECT_EQ(Displays(MustSearch(*resources_, one)), Displays(MustSearch(*resources_, two)));
  // Same date: newest row first (E was stored last, A first).
  EXPECT_EQ(Displays(MustSearch(*resources_, one)),
            (std::vector<std::string>{"e2", "c1", "b1", "a3"}));
}

TEST_P(ResourceStoreTest, BadRecordRejectsTheWholeBatch) {
  auto good = SimpleRecord(1, "P1", "K1", Category::kCondition, "Condition", "ok", "2025-01-01");
  struct Case {
    const char* name;
    std::function<void(ResourceRecord&)> spoil;
    const char* message_part;
  };
  std::vector<Case> cases = {
      {"no type", [](ResourceRecord& r) { r.resource_type.clear(); }, "resource_type"},
      {"no facility", [](ResourceRecord& r) { r.source_facility_id = 0; }, "source_facility_id"},
      {"no patient", [](ResourceRecord& r) { r.local_patient_id.clear(); }, "local_patient_id"},
      {"no key", [](ResourceRecord& r) { r.source_key.clear(); }, "source_key"},
      {"not json", [](ResourceRecord& r) { r.json = "{broken"; }, "JSON object"},
      {"array", [](ResourceRecord& r) { r.json = "[]"; }, "JSON object"},
      {"wrong type", [](ResourceRecord& r) { r.resource_type = "Observation"; }, "resourceType"},
      {"empty json", [](ResourceRecord& r) { r.json.clear(); }, "json is required"},
  };
  for (const auto& c : cases) {
    auto bad = SimpleRecord(1, "P1", "K2", Category::kCondition, "Condition", "bad", "2025-01-01");
    c.spoil(bad);
    auto result = resources_->Write(std::vector<ResourceRecord>{good, bad});
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_EQ(result.error().code(), core::Code::kInvalidInput) << c.name;
    EXPECT_NE(result.error().message().find("record 1"), std::string::npos) << c.name;
    EXPECT_NE(result.error().message().find(c.message_part), std::string::npos)
        << c.name << ": " << result.error().message();
  }
  EXPECT_TRUE(MustSearch(*resources_, For({{1, "P1"}})).items.empty());
}

TEST_P(ResourceStoreTest, CheckedRecordsWriteAsTheRecordsThemselvesDo) {
  // Check does the JSON work on any thread; the checked write stores the
  // same rows with the same outcome as Write on the records.
  auto a = SimpleRecord(1, "P1", "K1", Category::kCondition, "Condition", "高血圧症", "2025-01-01");
  auto b = SimpleRecord(1, "P1", "K2", Category::kCondition, "Condition", "糖尿病", "2025-02-01");
  std::vector<CheckedRecord> checked;
  for (const auto& r : {a, b}) {
    auto c = ResourceStore::Check(r);
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    EXPECT_EQ(c->record().source_key, r.source_key);
    EXPECT_FALSE(c->summary().empty());
    checked.push_back(std::move(*c));
  }
  auto stats = resources_->Write(std::span<const CheckedRecord>(checked));
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_EQ(*stats, (WriteStats{.inserted = 2}));
  // The same records again, unchecked: unchanged.
  EXPECT_EQ(Write({a, b}), (WriteStats{.unchanged = 2}));
  ResourceQuery q = For({{1, "P1"}});
  q.summaries = true;
  ResourcePage page = MustSearch(*resources_, q);
  ASSERT_EQ(page.items.size(), 2u);
  for (const auto& item : page.items) {
    ASSERT_TRUE(item.summary.has_value()) << item.record.display;
    EXPECT_EQ(*item.summary, Summarize(item.record.display == "糖尿病" ? b : a));
  }
  EXPECT_EQ(Displays(page), (std::vector<std::string>{"糖尿病", "高血圧症"}));

  // A bad record is refused by Check, named by the index given.
  auto bad = a;
  bad.json = "{broken";
  auto refused = ResourceStore::Check(bad, 7);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), core::Code::kInvalidInput);
  EXPECT_NE(refused.error().message().find("record 7"), std::string::npos);
}

TEST_P(ResourceStoreTest, ARecordCheckedWithItsProducersSummaryStoresThatSummary) {
  // A producer that summarized the document it wrote (the SS-MIX2 mapping)
  // hands the summary over; the row stores it as if the JSON had been read.
  auto a = SimpleRecord(1, "P1", "K1", Category::kLabResult, "Observation", "HbA1c", "2025-01-01",
                        R"(,"valueQuantity":{"value":6.8,"unit":"%"},"status":"final")");
  const ResourceSummary from_json = Summarize(a);
  ASSERT_TRUE(from_json.lab.has_value());
  auto checked = ResourceStore::Check(a, from_json, 0);
  ASSERT_TRUE(checked.has_value()) << checked.error().ToString();
  auto parsed = ResourceStore::Check(a, 0);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(checked->summary(), parsed->summary());
  std::vector<CheckedRecord> batch;
  batch.push_back(std::move(*checked));
  ASSERT_TRUE(resources_->Write(std::span<const CheckedRecord>(batch)).has_value());
  ResourceQuery q = For({{1, "P1"}});
  q.summaries = true;
  ResourcePage page = MustSearch(*resources_, q);
  ASSERT_EQ(page.items.size(), 1u);
  ASSERT_TRUE(page.items[0].summary.has_value());
  EXPECT_EQ(*page.items[0].summary, from_json);
  EXPECT_EQ(page.items[0].summary->lab->value, 6.8);

  // The keys are checked as always, and the JSON must name the record's type.
  auto no_patient = a;
  no_patient.local_patient_id.clear();
  auto refused = ResourceStore::Check(no_patient, from_json, 3);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("record 3"), std::string::npos);
  auto other_type = a;
  other_type.resource_type = "Condition";
  refused = ResourceStore::Check(other_type, from_json, 4);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), core::Code::kInvalidInput);
  EXPECT_NE(refused.error().message().find("resourceType"), std::string::npos);
  auto longer_type = a;
  longer_type.json = R"({"resourceType":"ObservationX","status":"final"})";
  EXPECT_FALSE(ResourceStore::Check(longer_type, from_json, 5).has_value());
  // A retraction without content keeps no summary, whatever was given.
  auto retraction = a;
  retraction.json.clear();
  retraction.retracted = true;
  auto retracted = ResourceStore::Check(retraction, from_json, 6);
  ASSERT_TRUE(retracted.has_value());
  EXPECT_EQ(retracted->summary(), ResourceStore::Check(retraction, 6)->summary());
}

TEST_P(ResourceStoreTest, OnlyThePatientsLinkedLocalIdsAreSearched) {
  Write(
      {SimpleRecord(1, "P1", "a", Category::kCondition, "Condition", "A at 1", "2025-01-01"),
       SimpleRecord(2, "P1", "b", Category::kCondition, "Condition", "same id at 2", "2025-01-02"),
       SimpleRecord(2, "X9", "c", Category::kCondition, "Condition", "B at 2", "2025-01-03")});
  EXPECT_EQ(Displays(MustSearch(*resources_, For({{1, "P1"}}))),
            (std::vector<std::string>{"A at 1"}));
  EXPECT_EQ(Displays(MustSearch(*resources_, For({{1, "P1"}, {2, "X9"}}))),
            (std::vector<std::string>{"B at 2", "A at 1"}));
  EXPECT_TRUE(MustSearch(*resources_, For({})).items.empty());
  ResourceQuery all;
  all.all_patients = true;
  EXPECT_EQ(MustSearch(*resources_, all).items.size(), 3u);
}

TEST_P(ResourceStoreTest, AccessScopeIsAppliedInTheQuery) {
  Write({SimpleRecord(1, "P1", "a", Category::kCondition, "Condition", "cond 1", "2025-01-01"),
         SimpleRecord(1, "P1", "b", Category::kLabResult, "Observation", "lab 1", "2025-01-02"),
         SimpleRecord(2, "P2", "c", Category::kCondition, "Condition", "cond 2", "2025-01-03"),
         SimpleRecord(2, "P2", "d", Category::kPrescription, "MedicationRequest", "rx 2",
                      "2025-01-04"),
         SimpleRecord(3, "P3", "e", Category::kPrescription, "MedicationRequest", "rx 3",
                      "2025-01-05")});
  ResourceQuery q = For({{1, "P1"}, {2, "P2"}, {3, "P3"}});
  q.with_total = true;
  // Everything from 1; only prescriptions from 2 and 3.
  q.scope = AccessScope{
      {AccessRule{
           {Category::kCondition, Category::kLabResult, Category::kPrescription}, {1}, false},
       AccessRule{{Category::kPrescription}, {2, 3}, false}}};
  auto page = MustSearch(*resources_, q);
  EXPECT_EQ(Displays(page), (std::vector<std::string>{"rx 3", "rx 2", "lab 1", "cond 1"}));
  EXPECT_EQ(page.total, 4);
  EXPECT_TRUE(q.scope->Allows(2, Category::kPrescription));
  EXPECT_FALSE(q.scope->Allows(2, Category::kCondition));

  // Asked-for categories are narrowed to the scope.
  q.categories = {Category::kCondition};
  EXPECT_EQ(Displays(MustSearch(*resources_, q)), (std::vector<std::string>{"cond 1"}));
  q.categories = {Category::kReport};
  page = MustSearch(*resources_, q);
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 0);

  // any_source
  q.categories.clear();
  q.scope = AccessScope{{AccessRule{{Category::kCondition}, {}, true}}};
  EXPECT_EQ(Displays(MustSearch(*resources_, q)), (std::vector<std::string>{"cond 2", "cond 1"}));
  // An empty scope sees nothing.
  q.scope = AccessScope{};
  EXPECT_TRUE(MustSearch(*resources_, q).items.empty());
}

// The total of a patient linked at several facilities is counted link by
// link: each visible row once, retracted ones and other patients' never.
TEST_P(ResourceStoreTest, TheTotalOfSeveralLinksCountsEachVisibleRowOnce) {
  auto gone = SimpleRecord(2, "P2", "g", Category::kLabResult, "Observation", "lab 2 (cancelled)",
                           "2025-02-03");
  Write({SimpleRecord(1, "P1", "a", Category::kLabResult, "Observation", "lab 1", "2025-01-01"),
         SimpleRecord(1, "P1", "b", Category::kCondition, "Condition", "cond 1", "2025-02-01"),
         SimpleRecord(2, "P2", "c", Category::kLabResult, "Observation", "lab 2", "2025-02-02"),
         gone,
         SimpleRecord(2, "P9", "d", Category::kLabResult, "Observation", "other", "2025-02-04"),
         SimpleRecord(3, "P3", "e", Category::kAllergy, "AllergyIntolerance", "penicillin",
                      "2024-12-01")});
  gone.retracted = true;
  gone.json.clear();
  gone.source_time += 1;
  Write({gone});
  ResourceQuery q = For({{1, "P1"}, {2, "P2"}, {3, "P3"}});
  q.with_total = true;
  q.limit = 1;
  auto page = MustSearch(*resources_, q);
  EXPECT_EQ(Displays(page), (std::vector<std::string>{"lab 2"}));
  EXPECT_EQ(page.total, 4);
  q.categories = {Category::kLabResult};
  EXPECT_EQ(MustSearch(*resources_, q).total, 2);
  q.from = "2025-02-01";
  EXPECT_EQ(MustSearch(*resources_, q).total, 1);
  q.categories.clear();
  q.from.clear();
  q.scope = AccessScope{{AccessRule{{Category::kLabResult, Category::kAllergy}, {2, 3}, false}}};
  EXPECT_EQ(MustSearch(*resources_, q).total, 2);
  q.summaries = true;
  page = MustSearch(*resources_, q);
  EXPECT_EQ(page.total, 2);
  EXPECT_EQ(Displays(page), (std::vector<std::string>{"lab 2"}));
}

// A category condition is written as the categories allowed, as the ones not
// allowed when those are fewer, or not at all for every category: each
// spelling lets through exactly the categories of the rule.
TEST_P(ResourceStoreTest, ScopesOfManyFewAndAllCategoriesSeeExactlyTheirs) {
  std::vector<ResourceRecord> records;
  std::vector<std::string> everything;  // newest first
  const auto all = AllCategories();
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string name(ToString(all[i]));
    records.push_back(
        SimpleRecord(1, "P1", name, all[i], "Basic", name,
                     "2025-01-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1)));
    everything.insert(everything.begin(), name);
  }
  Write(records);
  auto visible = [&](std::set<Category> categories, std::vector<Category> asked = {}) {
    ResourceQuery q = For({{1, "P1"}});
    q.with_total = true;
    q.categories = std::move(asked);
    q.scope = AccessScope{{AccessRule{std::move(categories), {1}, false}}};
    auto page = MustSearch(*resources_, q);
    EXPECT_EQ(page.total, static_cast<int64_t>(page.items.size()));
    return Displays(page);
  };
  const std::set<Category> every(all.begin(), all.end());
  EXPECT_EQ(visible(every), everything);
  std::set<Category> most = every;
  most.erase(Category::kReport);
  most.erase(Category::kOrder);
  std::vector<std::string> expected;
  for (const auto& name : everything) {
    if (name != "report" && name != "order") expected.push_back(name);
  }
  EXPECT_EQ(visible(most), expected);
  EXPECT_EQ(visible({Category::kAllergy, Category::kReport, Category::kDocument}),
            (std::vector<std::string>{"document", "report", "allergy"}));
  EXPECT_EQ(visible({Category::kCondition}), (std::vector<std::string>{"condition"}));
  // Asked for every category but patient information and allergies (the
  // timeline's page), within a scope of all but two.
  std::vector<Category> asked;
  for (Category c : all) {
    if (c != Category::kPatientInfo && c != Category::kAllergy) asked.push_back(c);
  }
  expected.erase(std::remove(expected.begin(), expected.end(), "patient_info"), expected.end());
  expected.erase(std::remove(expected.begin(), expected.end(), "allergy"), expected.end());
  EXPECT_EQ(visible(most, asked), expected);
  // And any source with every category: no condition at all.
  ResourceQuery q = For({{1, "P1"}});
  q.scope = AccessScope{{AccessRule{every, {}, true}}};
  EXPECT_EQ(Displays(MustSearch(*resources_, q)), everything);
}

TEST_P(ResourceStoreTest, FiltersByCategoryTypeCodeDateAndSource) {
  Write({LabRecord(1, "P1", "l1", "3B035", "AST", 20, "U/L", 13, 30, "2025-05-31T23:59:00+09:00"),
         LabRecord(1, "P1", "l2", "3B035", "AST", 40, "U/L", 13, 30, "2025-06-01T08:00:00+09:00"),
         LabRecord(2, "P2", "l3", "3B045", "ALT", 22, "U/L", 10, 42, "2025-06-15"),
         LabRecord(2, "P2", "l4", "3B035", "AST", 35, "U/L", 13, 30, "2025-06-30T18:00:00+09:00"),
         LabRecord(2, "P2", "l5", "3B035", "AST", 31, "U/L", 13, 30, "2025-07-01"),
         SimpleRecord(1, "P1", "c1", Category::kCondition, "Condition", "cond", "2025-06-10")});
  ResourceQuery base = For({{1, "P1"}, {2, "P2"}});
  base.order = SortOrder::kOldestFirst;

  ResourceQuery q = base;
  q.categories = {Category::kCondition};
  EXPECT_EQ(Displays(MustSearch(*resources_, q)), (std::vector<std::string>{"cond"}));

  q = base;
  q.resource_types = {"Observation"};
  EXPECT_EQ(MustSearch(*resources_, q).items.size(), 5u);

  q = base;
  q.code = "3B035";
  q.code_system = kJlac10;
  EXPECT_EQ(MustSearch(*resources_, q).items.size(), 4u);
  q.code_system = "urn:other";
  EXPECT_TRUE(MustSearch(*resources_, q).items.empty());

  // from/to are whole days, inclusive, with date-times and dates alike.
  q = base;
  q.resource_types = {"Observation"};
  q.from = "2025-06-01";
  q.to = "2025-06-30";
  auto page = MustSearch(*resources_, q);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].record.source_key, "l2");
  EXPECT_EQ(page.items[1].record.source_key, "l3");
  EXPECT_EQ(page.items[2].record.source_key, "l4");

  q = base;
  q.source_facilities = {2};
  EXPECT_EQ(MustSearch(*resources_, q).items.size(), 3u);

  q = base;
  q.from = "2025-13-01";
  EXPECT_EQ(resources_->Search(q).error().code(), core::Code::kInvalidInput);
  q = base;
  q.to = "June";
  EXPECT_EQ(resources_->Search(q).error().code(), core::Code::kInvalidInput);
}

TEST_P(ResourceStoreTest, CursorPagingVisitsEveryRowOnceNewestFirst) {
  std::vector<ResourceRecord> batch;
  // Two rows share each date: the id breaks the tie. The patient is linked
  // at two facilities; its rows alternate between them.
  for (int i = 0; i < 9; ++i) {
    const bool hospital = i % 2 == 0;
    batch.push_back(SimpleRecord(hospital ? 1 : 2, hospital ? "P1" : "Q1", "k" + std::to_string(i),
                                 Category::kEncounter, "Encounter", "visit " + std::to_string(i),
                                 "2025-06-0" + std::to_string(1 + i / 2)));
  }
  Write(batch);
  const std::vector<LocalPatient> links = {{1, "P1"}, {2, "Q1"}};
  for (bool summaries : {false, true}) {
    SCOPED_TRACE(summaries ? "summaries" : "whole resources");
    ResourceQuery q = For(links);
    q.limit = 4;
    q.with_total = true;
    q.summaries = summaries;
    std::vector<StoredResource> seen;
    int pages = 0;
    while (true) {
      auto page = MustSearch(*resources_, q);
      EXPECT_EQ(page.total, 9);
      ++pages;
      seen.insert(seen.end(), page.items.begin(), page.items.end());
      if (page.next_cursor.empty()) break;
      q.cursor = page.next_cursor;
      ASSERT_LT(pages, 10);
    }
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(seen.size(), 9u);
    std::set<std::string> ids;
    for (size_t i = 0; i < seen.size(); ++i) {
      ids.insert(seen[i].record.id);
      EXPECT_EQ(seen[i].record.json.empty(), summaries);
      if (i > 0) {
        const auto& prev = seen[i - 1].record;
        const auto& cur = seen[i].record;
        EXPECT_TRUE(prev.effective > cur.effective ||
                    (prev.effective == cur.effective && prev.id > cur.id));
      }
    }
    EXPECT_EQ(ids.size(), 9u);

    // Offset paging gives the same order, oldest first the reverse.
    ResourceQuery o = For(links);
    o.limit = 4;
    o.offset = 4;
    o.summaries = summaries;
    auto second = MustSearch(*resources_, o);
    ASSERT_EQ(second.items.size(), 4u);
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(second.items[i].record.id, seen[4 + i].record.id);
    o.order = SortOrder::kOldestFirst;
    o.offset = 0;
    o.limit = 3;
    auto oldest = MustSearch(*resources_, o);
    ASSERT_EQ(oldest.items.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(oldest.items[i].record.id, seen[8 - i].record.id);
  }

  ResourceQuery bad = For({{1, "P1"}});
  bad.cursor = "zz";
  EXPECT_EQ(resources_->Search(bad).error().code(), core::Code::kInvalidInput);
  bad.cursor.clear();
  bad.limit = 0;
  EXPECT_EQ(resources_->Search(bad).error().code(), core::Code::kInvalidInput);
  bad.limit = ResourceStore::kMaxLimit + 1;
  EXPECT_EQ(resources_->Search(bad).error().code(), core::Code::kInvalidInput);
}

TEST_P(ResourceStoreTest, SearchAllReadsSeveralSearchesAsSeparateSearchesWould) {
  Write({SimpleRecord(1, "P1", "a", Category::kAllergy, "AllergyIntolerance", "penicillin",
                      "2024-03-01"),
         SimpleRecord(1, "P1", "b", Category::kCondition, "Condition", "cond 1", "2025-01-01"),
         SimpleRecord(1, "P1", "c", Category::kEncounter, "Encounter", "visit 1", "2025-02-01"),
         SimpleRecord(1, "P1", "d", Category::kEncounter, "Encounter", "visit 2", "2025-03-01"),
         SimpleRecord(2, "P2", "e", Category::kCondition, "Condition", "other", "2025-04-01")});
  ResourceQuery allergies = For({{1, "P1"}});
  allergies.categories = {Category::kAllergy};
  ResourceQuery page = For({{1, "P1"}});
  page.categories = {Category::kCondition, Category::kEncounter};
  page.limit = 2;
  page.with_total = true;
  ResourceQuery nobody = For({});  // matches nothing: no statement, an empty page
  nobody.with_total = true;
  const ResourceQuery queries[] = {allergies, nobody, page};
  auto pages = resources_->SearchAll(queries);
  ASSERT_TRUE(pages.has_value()) << pages.error().ToString();
  ASSERT_EQ(pages->size(), 3u);
  EXPECT_EQ(Displays((*pages)[0]), (std::vector<std::string>{"penicillin"}));
  EXPECT_FALSE((*pages)[0].total.has_value());
  EXPECT_TRUE((*pages)[1].items.empty());
  EXPECT_EQ((*pages)[1].total, 0);
  EXPECT_EQ(Displays((*pages)[2]), (std::vector<std::string>{"visit 2", "visit 1"}));
  EXPECT_EQ((*pages)[2].total, 3);
  const ResourcePage alone = MustSearch(*resources_, page);
  EXPECT_EQ((*pages)[2].next_cursor, alone.next_cursor);
  EXPECT_FALSE(alone.next_cursor.empty());

  // A list of a patient linked at two facilities (read link by link and
  // merged) between two other searches.
  ResourceQuery both = For({{1, "P1"}, {2, "P2"}});
  both.summaries = true;
  both.with_total = true;
  both.limit = 3;
  const ResourceQuery mixed[] = {page, both, allergies};
  auto mixed_pages = resources_->SearchAll(mixed);
  ASSERT_TRUE(mixed_pages.has_value()) << mixed_pages.error().ToString();
  EXPECT_EQ(Displays((*mixed_pages)[0]), (std::vector<std::string>{"visit 2", "visit 1"}));
  EXPECT_EQ(Displays((*mixed_pages)[1]), (std::vector<std::string>{"other", "visit 2", "visit 1"}));
  EXPECT_EQ((*mixed_pages)[1].total, 5);
  EXPECT_FALSE((*mixed_pages)[1].next_cursor.empty());
  EXPECT_EQ(Displays((*mixed_pages)[2]), (std::vector<std::string>{"penicillin"}));

  // Served as read by default (with "id" and meta.lastUpdated); as stored
  // when asked for, for callers that only summarize.
  const std::string& served = (*pages)[0].items[0].record.json;
  EXPECT_NE(served.find("\"id\":\"" + (*pages)[0].items[0].record.id + "\""), std::string::npos);
  EXPECT_NE(served.find("lastUpdated"), std::string::npos);
  EXPECT_FALSE((*pages)[0].items[0].summary.has_value());
  // As lists show them: the index fields and the stored summary, no JSON.
  allergies.summaries = true;
  const ResourcePage listed = MustSearch(*resources_, allergies);
  ASSERT_EQ(listed.items.size(), 1u);
  const StoredResource& item = listed.items[0];
  EXPECT_TRUE(item.record.json.empty());
  EXPECT_EQ(item.record.id, (*pages)[0].items[0].record.id);
  EXPECT_EQ(item.record.display, "penicillin");
  EXPECT_EQ(item.record.code, "C-a");
  EXPECT_EQ(item.record.effective, "2024-03-01");
  EXPECT_EQ(item.record.category, Category::kAllergy);
  ASSERT_TRUE(item.summary.has_value());
  EXPECT_EQ(*item.summary, Summarize((*pages)[0].items[0].record));

  // One bad query fails the whole call.
  ResourceQuery bad = page;
  bad.from = "2025-13-01";
  const ResourceQuery with_bad[] = {allergies, bad};
  EXPECT_EQ(resources_->SearchAll(with_bad).error().code(), core::Code::kInvalidInput);
}

// What a list shows of a row: the fields and summary a reader of the whole
// resource would derive.
void ExpectListedAsWhole(ResourceStore& store, const ResourcePage& listed) {
  for (const StoredResource& item : listed.items) {
    auto whole = store.Get(item.record.resource_type, item.record.id);
    ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
    const ResourceRecord& r = whole->record;
    EXPECT_EQ(item.record.display, r.display);
    EXPECT_EQ(item.record.code_system, r.code_system);
    EXPECT_EQ(item.record.code, r.code);
    EXPECT_EQ(item.record.effective, r.effective);
    EXPECT_EQ(item.record.effective_end, r.effective_end);
    EXPECT_EQ(item.record.local_patient_id, r.local_patient_id);
    ASSERT_TRUE(item.summary.has_value()) << item.record.id;
    EXPECT_EQ(*item.summary, Summarize(r)) << item.record.id;
  }
}

int64_t RowsWithoutSummary(store::Database& db) {
  auto rs = db.Query("SELECT COUNT(*) FROM resources WHERE summary = ''");
  EXPECT_TRUE(rs.has_value());
  return rs.has_value() ? rs->rows[0].Int(0) : -1;
}

// Rows stored before summaries were (migration 3 adds the column empty):
// lists summarize them from their JSON until FillSummaries has written
// theirs, and a row rewritten in between keeps its own.
TEST_P(ResourceStoreTest, RowsStoredBeforeSummariesAreListedAndFilled) {
  Write({LabRecord(1, "P1", "OML-11|1|1", "3B035000002327201", "AST", 45, "U/L", 13, 30,
                   "2025-06-01T09:00:00+09:00", "H"),
         PrescriptionRecord(1, "P1", "OMP-01|2|1", "2149039F1020", "アムロジピン錠5mg",
                            "2025-05-01", "2025-05-28", 28),
         SimpleRecord(1, "P1", "c", Category::kCondition, "Condition", "高血圧症", "2024-04-01"),
         SimpleRecord(1, "P1", "e", Category::kEncounter, "Encounter", "外来", "2025-06-01")});
  ResourceQuery q = For({{1, "P1"}});
  q.summaries = true;
  const ResourcePage stored = MustSearch(*resources_, q);
  ASSERT_EQ(stored.items.size(), 4u);
  ExpectListedAsWhole(*resources_, stored);
  EXPECT_EQ(RowsWithoutSummary(db()), 0);

  ASSERT_TRUE(db().Execute("UPDATE resources SET summary = ''").has_value());
  const ResourcePage before = MustSearch(*resources_, q);
  ASSERT_EQ(before.items.size(), 4u);
  ExpectListedAsWhole(*resources_, before);
  for (size_t i = 0; i < before.items.size(); ++i) {
    EXPECT_EQ(before.items[i].record.id, stored.items[i].record.id);
  }

  // Filled in id order, a batch at a time; a row rewritten meanwhile (the
  // encounter, last in id order) gets its summary from the write.
  std::string after;
  auto filled = resources_->FillSummaries(after, 3);
  ASSERT_TRUE(filled.has_value()) << filled.error().ToString();
  EXPECT_EQ(*filled, 3u);
  EXPECT_EQ(RowsWithoutSummary(db()), 1);
  ResourceRecord revisit =
      SimpleRecord(1, "P1", "e", Category::kEncounter, "Encounter", "外来（再診）", "2025-06-01");
  revisit.source_time = 2000;
  EXPECT_EQ(Write({revisit}), (WriteStats{.updated = 1}));
  EXPECT_EQ(RowsWithoutSummary(db()), 0);
  filled = resources_->FillSummaries(after, 3);
  ASSERT_TRUE(filled.has_value());
  EXPECT_EQ(*filled, 0u);

  const ResourcePage filled_page = MustSearch(*resources_, q);
  ASSERT_EQ(filled_page.items.size(), 4u);
  ExpectListedAsWhole(*resources_, filled_page);
  EXPECT_EQ(Displays(filled_page),
            (std::vector<std::string>{"AST", "外来（再診）", "アムロジピン錠5mg", "高血圧症"}));
  std::string from_start;
  EXPECT_EQ(*resources_->FillSummaries(from_start), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceStoreTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::clinical
