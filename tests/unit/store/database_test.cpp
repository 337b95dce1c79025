// Conformance suite: every backend of store::Database behaves the same.
#include "store/database.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "support/test_database.hpp"

namespace tsunagu::store {
namespace {

using testing::Backend;
using testing::TestDatabase;

const MigrationSet kSchema{"conformance",
                           {
                               "CREATE TABLE items (\n"
                               "  id {{ID}},\n"
                               "  name TEXT NOT NULL UNIQUE,\n"
                               "  qty BIGINT,\n"
                               "  price DOUBLE PRECISION,\n"
                               "  data {{BLOB}}\n"
                               ");\n"
                               "CREATE TABLE item_notes (\n"
                               "  id {{ID}},\n"
                               "  item_id BIGINT NOT NULL REFERENCES items (id),\n"
                               "  note TEXT\n"
                               ");\n",
                               "CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);\n"
                               "INSERT INTO counter (id, n) VALUES (1, 0);\n"
                               "CREATE TABLE seen (n BIGINT PRIMARY KEY);\n",
                           }};

TEST(PlaceholdersTest, InListsAndMultiRowValues) {
  EXPECT_EQ(Placeholders(0), "");
  EXPECT_EQ(Placeholders(1), "?");
  EXPECT_EQ(Placeholders(3), "?, ?, ?");
  EXPECT_EQ(RowPlaceholders(0, 3), "");
  EXPECT_EQ(RowPlaceholders(1, 2), "(?, ?)");
  EXPECT_EQ(RowPlaceholders(3, 2), "(?, ?), (?, ?), (?, ?)");
}

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<TestDatabase>(GetParam());
    Status migrated = ApplyMigrations(db(), {kSchema});
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  }

  Database& db() { return tdb_->db(); }

  int64_t CountItems() {
    auto rs = db().Query("SELECT COUNT(*) FROM items");
    EXPECT_TRUE(rs.has_value()) << rs.error().ToString();
    return rs ? rs->rows.at(0).Int(0) : -1;
  }

  std::unique_ptr<TestDatabase> tdb_;
};

TEST_P(DatabaseTest, InsertThenSelectReturnsTheRowWithColumnNames) {
  auto inserted = db().Execute("INSERT INTO items (name, qty, price) VALUES (?, ?, ?)",
                               {Value{"aspirin"}, Value{int64_t{30}}, Value{12.5}});
  ASSERT_TRUE(inserted.has_value()) << inserted.error().ToString();
  EXPECT_EQ(*inserted, 1);

  auto rs = db().Query("SELECT name, qty, price FROM items WHERE name = ?", {Value{"aspirin"}});
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ(rs->columns, (std::vector<std::string>{"name", "qty", "price"}));
  const Row& row = rs->rows[0];
  EXPECT_EQ(row.Text(0), "aspirin");
  EXPECT_EQ(row.Int(1), 30);
  EXPECT_DOUBLE_EQ(row.Real(2), 12.5);
}

TEST_P(DatabaseTest, EmptyResultKeepsColumnNames) {
  auto rs = db().Query("SELECT id, name FROM items WHERE qty > ?", {Value{int64_t{1000}}});
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  EXPECT_TRUE(rs->empty());
  EXPECT_EQ(rs->columns, (std::vector<std::string>{"id", "name"}));
}

TEST_P(DatabaseTest, ValuesRoundTripExactly) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::string japanese = "山田 太郎（ﾔﾏﾀﾞ ﾀﾛｳ）𠮷野家 ①";
  struct Case {
    std::string name;
    Value qty, price, data;
  };
  const std::vector<Case> cases = {
      {"max", Value{std::numeric_limits<int64_t>::max()}, Value{0.1}, Value{Bytes{all_bytes}}},
      {"min", Value{std::numeric_limits<int64_t>::min()}, Value{-1e-300},
       Value{Bytes{std::string("\0\0a\0", 4)}}},
      {japanese, Value{int64_t{0}}, Value{3.141592653589793}, Value{Bytes{""}}},
      {"nulls", Value{}, Value{}, Value{}},
  };
  for (const Case& c : cases) {
    auto inserted = db().Execute("INSERT INTO items (name, qty, price, data) VALUES (?, ?, ?, ?)",
                                 {Value{c.name}, c.qty, c.price, c.data});
    ASSERT_TRUE(inserted.has_value()) << c.name << ": " << inserted.error().ToString();
  }
  for (const Case& c : cases) {
    auto rs =
        db().Query("SELECT name, qty, price, data FROM items WHERE name = ?", {Value{c.name}});
    ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
    ASSERT_EQ(rs->size(), 1u) << c.name;
    const Row& row = rs->rows[0];
    EXPECT_EQ(row.at(0), Value{c.name});
    EXPECT_EQ(row.at(1), c.qty) << c.name;
    EXPECT_EQ(row.at(2), c.price) << c.name;
    ASSERT_EQ(row.at(3).index(), c.data.index()) << c.name;
    if (const auto* bytes = std::get_if<Bytes>(&c.data)) {
      EXPECT_EQ(std::get<Bytes>(row.at(3)).data, bytes->data) << c.name;
    }
  }
  auto nulls = db().Query("SELECT qty, name FROM items WHERE name = 'nulls'");
  ASSERT_TRUE(nulls.has_value());
  EXPECT_TRUE(nulls->rows[0].IsNull(0));
  EXPECT_EQ(nulls->rows[0].OptInt(0), std::nullopt);
  EXPECT_EQ(nulls->rows[0].OptText(1), "nulls");
}

// A text bound by reference is stored as the same text as its copy would
// be, in a single statement and in a batch of several rows.
TEST_P(DatabaseTest, TextBoundByReferenceIsStoredAsText) {
  const std::string long_text = std::string(5000, 'x') + "山田 太郎 \"quoted\" \\ end";
  const std::string empty;
  ASSERT_TRUE(db().Execute("INSERT INTO items (name, qty) VALUES (?, ?)",
                           {Value{TextRef{&long_text}}, Value{int64_t{1}}})
                  .has_value());
  const std::string second = "二件目", third = "third";
  auto tx = db().Begin(Database::Mode::kWrite);
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE((*tx)
                  ->Execute("INSERT INTO items (name, qty) VALUES (?, ?), (?, ?), (?, ?)",
                            {Value{TextRef{&second}}, Value{int64_t{2}}, Value{TextRef{&third}},
                             Value{int64_t{3}}, Value{TextRef{&empty}}, Value{int64_t{4}}})
                  .has_value());
  ASSERT_TRUE((*tx)->Commit().ok());
  auto rs = db().Query("SELECT name, qty FROM items ORDER BY qty");
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  ASSERT_EQ(rs->size(), 4u);
  EXPECT_EQ(rs->rows[0].Text(0), long_text);
  EXPECT_EQ(rs->rows[1].Text(0), second);
  EXPECT_EQ(rs->rows[2].Text(0), third);
  EXPECT_FALSE(rs->rows[3].IsNull(0));
  EXPECT_EQ(rs->rows[3].Text(0), "");
  // And it finds rows as a parameter of a query.
  auto found = db().Query("SELECT qty FROM items WHERE name = ?", {Value{TextRef{&third}}});
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->rows[0].Int(0), 3);
  EXPECT_EQ(Row({Value{TextRef{&second}}}).Text(0), second);
}

TEST_P(DatabaseTest, EmptyTextIsNotNull) {
  ASSERT_TRUE(db().Execute("INSERT INTO items (name) VALUES (?)", {Value{""}}).has_value());
  auto rs = db().Query("SELECT name FROM items WHERE name = ?", {Value{""}});
  ASSERT_TRUE(rs.has_value());
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_FALSE(rs->rows[0].IsNull(0));
  EXPECT_EQ(rs->rows[0].OptText(0), "");
}

TEST_P(DatabaseTest, CommittedTransactionIsVisible) {
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value()) << tx.error().ToString();
  ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name) VALUES (?)", {Value{"a"}}).has_value());
  ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name) VALUES (?)", {Value{"b"}}).has_value());
  auto inside = (*tx)->Query("SELECT COUNT(*) FROM items");
  ASSERT_TRUE(inside.has_value());
  EXPECT_EQ(inside->rows[0].Int(0), 2);
  ASSERT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ(CountItems(), 2);
  // A finished transaction accepts nothing more.
  EXPECT_FALSE((*tx)->Execute("INSERT INTO items (name) VALUES ('c')").has_value());
  EXPECT_FALSE((*tx)->Commit().ok());
  tx->reset();
  EXPECT_EQ(CountItems(), 2);
}

TEST_P(DatabaseTest, UncommittedTransactionRollsBackOnDestruction) {
  {
    auto tx = db().Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name) VALUES (?)", {Value{"gone"}}).has_value());
  }
  EXPECT_EQ(CountItems(), 0);
  // The writer is free again.
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value()) << tx.error().ToString();
  ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name) VALUES (?)", {Value{"kept"}}).has_value());
  ASSERT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ(CountItems(), 1);
}

TEST_P(DatabaseTest, DuplicateKeyIsConflictAndChangesNothing) {
  ASSERT_TRUE(
      db().Execute("INSERT INTO items (name, qty) VALUES (?, ?)", {Value{"dup"}, Value{int64_t{1}}})
          .has_value());
  auto again = db().Execute("INSERT INTO items (name, qty) VALUES (?, ?)",
                            {Value{"dup"}, Value{int64_t{2}}});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), core::Code::kConflict) << again.error().ToString();
  auto rs = db().Query("SELECT qty FROM items WHERE name = 'dup'");
  ASSERT_TRUE(rs.has_value());
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ(rs->rows[0].Int(0), 1);
}

TEST_P(DatabaseTest, MissingForeignKeyIsConflict) {
  auto orphan = db().Execute("INSERT INTO item_notes (item_id, note) VALUES (?, ?)",
                             {Value{int64_t{424242}}, Value{"x"}});
  ASSERT_FALSE(orphan.has_value());
  EXPECT_EQ(orphan.error().code(), core::Code::kConflict) << orphan.error().ToString();
}

TEST_P(DatabaseTest, FailedStatementAbortsTheTransaction) {
  ASSERT_TRUE(db().Execute("INSERT INTO items (name) VALUES ('dup')").has_value());
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name) VALUES ('fresh')").has_value());
  auto dup = (*tx)->Execute("INSERT INTO items (name) VALUES ('dup')");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), core::Code::kConflict);
  EXPECT_FALSE((*tx)->Query("SELECT COUNT(*) FROM items").has_value());
  EXPECT_FALSE((*tx)->Commit().ok());
  tx->reset();
  EXPECT_EQ(CountItems(), 1);  // 'fresh' was rolled back with the rest
}

TEST_P(DatabaseTest, InsertReturningGivesIncreasingIds) {
  auto first = db().Query("INSERT INTO items (name) VALUES (?) RETURNING id", {Value{"one"}});
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_EQ(first->size(), 1u);
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value());
  auto second = (*tx)->Query("INSERT INTO items (name) VALUES (?) RETURNING id", {Value{"two"}});
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  ASSERT_TRUE((*tx)->Commit().ok());
  const int64_t id1 = first->rows[0].Int(0);
  const int64_t id2 = second->rows[0].Int(0);
  EXPECT_GT(id1, 0);
  EXPECT_GT(id2, id1);
  auto rs = db().Query("SELECT name FROM items WHERE id = ?", {Value{id2}});
  ASSERT_TRUE(rs.has_value());
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "two");
}

TEST_P(DatabaseTest, ConcurrentWriteTransactionsLoseNoUpdate) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        auto tx = db().Begin(Database::Mode::kWrite);
        if (!tx) {
          ++failures;
          continue;
        }
        auto n = (*tx)->Query("UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n");
        if (!n || n->size() != 1 ||
            !(*tx)->Execute("INSERT INTO seen (n) VALUES (?)", {Value{n->rows[0].Int(0)}}) ||
            !(*tx)->Commit().ok()) {
          ++failures;
        }
        // Readers run alongside the writers.
        if (!db().Query("SELECT n FROM counter WHERE id = 1")) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto rs = db().Query("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows[0].Int(0), kThreads * kIncrements);
  auto seen = db().Query("SELECT COUNT(*), MIN(n), MAX(n) FROM seen");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->rows[0].Int(0), kThreads * kIncrements);
  EXPECT_EQ(seen->rows[0].Int(1), 1);
  EXPECT_EQ(seen->rows[0].Int(2), kThreads * kIncrements);
}

TEST_P(DatabaseTest, ReadersSeeCommittedDataAndCannotWrite) {
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name) VALUES ('committed')").has_value());
  ASSERT_TRUE((*tx)->Commit().ok());
  tx->reset();

  auto reader = db().Begin(Database::Mode::kRead);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto rs = (*reader)->Query("SELECT name FROM items");
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "committed");
  EXPECT_FALSE((*reader)->Execute("INSERT INTO items (name) VALUES ('sneaky')").has_value());
  reader->reset();
  EXPECT_EQ(CountItems(), 1);

  // Concurrent readers while a write transaction is open see the old state.
  auto writer = db().Begin();
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE((*writer)->Execute("INSERT INTO items (name) VALUES ('pending')").has_value());
  std::thread other([&] { EXPECT_EQ(CountItems(), 1); });
  other.join();
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(CountItems(), 2);
}

TEST_P(DatabaseTest, QuestionMarkInsideLiteralIsNotAPlaceholder) {
  auto rs = db().Query("SELECT '?' AS q, 'it''s ?' AS r, ? AS p", {Value{int64_t{5}}});
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  EXPECT_EQ(rs->rows[0].Text(0), "?");
  EXPECT_EQ(rs->rows[0].Text(1), "it's ?");
  EXPECT_EQ(rs->rows[0].Int(2), 5);
}

TEST_P(DatabaseTest, NullParameterWithoutTypeContextWorks) {
  ASSERT_TRUE(db().Execute("INSERT INTO items (name) VALUES ('x')").has_value());
  const char* sql = "SELECT COUNT(*) FROM items WHERE ? IS NULL OR name = ?";
  auto all = db().Query(sql, {Value{}, Value{"nothing"}});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_EQ(all->rows[0].Int(0), 1);
  auto none = db().Query(sql, {Value{"set"}, Value{"nothing"}});
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_EQ(none->rows[0].Int(0), 0);
}

TEST_P(DatabaseTest, WrongParameterCountIsInternalError) {
  auto rs = db().Query("SELECT name FROM items WHERE name = ?", {});
  ASSERT_FALSE(rs.has_value());
  EXPECT_EQ(rs.error().code(), core::Code::kInternal);
  EXPECT_NE(rs.error().detail().find("parameters"), std::string::npos);
}

TEST_P(DatabaseTest, SqlErrorIsInternalWithDriverDetail) {
  auto rs = db().Query("SELECT nope FROM no_such_table");
  ASSERT_FALSE(rs.has_value());
  EXPECT_EQ(rs.error().code(), core::Code::kInternal);
  EXPECT_EQ(rs.error().message(), "database error");
  EXPECT_NE(rs.error().detail().find("no_such_table"), std::string::npos) << rs.error().detail();
}

TEST_P(DatabaseTest, QueryBatchReturnsEachStatementsRowsInOrder) {
  for (int64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(db().Execute("INSERT INTO items (name, qty, data) VALUES (?, ?, ?)",
                             {Value{"b" + std::to_string(i)}, Value{i * 10},
                              Value{Bytes{std::string("\0x", 2)}}})
                    .has_value());
  }
  const std::vector<Statement> batch = {
      {"SELECT name, qty FROM items WHERE qty >= ? ORDER BY qty", {Value{int64_t{30}}}},
      {"SELECT COUNT(*) AS n FROM items", {}},
      {"SELECT name FROM items WHERE name = ?", {Value{"nobody"}}},
      // No type context for the first parameter (a typed variant is prepared).
      {"SELECT data FROM items WHERE ? IS NULL AND name = ?", {Value{}, Value{"b2"}}},
  };
  // Twice: the second run finds its statements prepared.
  for (int round = 0; round < 2; ++round) {
    auto rs = db().QueryBatch(batch);
    ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
    ASSERT_EQ(rs->size(), 4u);
    ASSERT_EQ((*rs)[0].size(), 3u);
    EXPECT_EQ((*rs)[0].columns, (std::vector<std::string>{"name", "qty"}));
    EXPECT_EQ((*rs)[0].rows[0].Text(0), "b3");
    EXPECT_EQ((*rs)[0].rows[2].Int(1), 50);
    EXPECT_EQ((*rs)[1].rows.at(0).Int(0), 5);
    EXPECT_TRUE((*rs)[2].empty());
    EXPECT_EQ((*rs)[2].columns, (std::vector<std::string>{"name"}));
    ASSERT_EQ((*rs)[3].size(), 1u);
    EXPECT_EQ((*rs)[3].rows[0].at(0), (Value{Bytes{std::string("\0x", 2)}}));
  }
  auto none = db().QueryBatch({});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_P(DatabaseTest, PostgresPlansABatchGenericallyAndOnlyThatBatch) {
  if (GetParam() != Backend::kPostgres) GTEST_SKIP() << "a PostgreSQL planner setting";
  // More rounds than the pool has connections: each connection runs a batch
  // and then a statement of its own.
  for (int round = 0; round < 12; ++round) {
    auto rs = db().QueryBatch(std::vector<Statement>{
        {"SELECT current_setting('plan_cache_mode')", {}}, {"SELECT 1 + ?", {Value{int64_t{1}}}}});
    ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
    ASSERT_EQ(rs->size(), 2u);
    EXPECT_EQ((*rs)[0].rows.at(0).Text(0), "force_generic_plan");
    EXPECT_EQ((*rs)[1].rows.at(0).Int(0), 2);
    auto after = db().Query("SELECT current_setting('plan_cache_mode')");
    ASSERT_TRUE(after.has_value()) << after.error().ToString();
    EXPECT_EQ(after->rows.at(0).Text(0), "auto");
  }
}

TEST_P(DatabaseTest, QueryBatchWithAFailingStatementFailsAndTheConnectionsStayUsable) {
  ASSERT_TRUE(db().Execute("INSERT INTO items (name, qty) VALUES ('x', 1)").has_value());
  const std::vector<Statement> bad_sql = {
      {"SELECT name FROM items", {}},
      {"SELECT nope FROM no_such_table", {}},
      {"SELECT qty FROM items", {}},
  };
  // A division by zero fails at run time, after the statement was prepared.
  const std::vector<Statement> bad_value = {
      {"SELECT name FROM items", {}},
      {"SELECT qty / ? FROM items", {Value{int64_t{0}}}},
      {"SELECT qty FROM items", {}},
  };
  for (const auto* batch : {&bad_sql, &bad_value}) {
    // More rounds than the pool has connections: none is left broken.
    for (int round = 0; round < 20; ++round) {
      auto rs = db().QueryBatch(*batch);
      if (batch == &bad_value && GetParam() == Backend::kSqlite) {
        // SQLite's division by zero is NULL, not an error.
        ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
        EXPECT_TRUE((*rs)[1].rows.at(0).IsNull(0));
        continue;
      }
      ASSERT_FALSE(rs.has_value());
      EXPECT_EQ(rs.error().code(), core::Code::kInternal);
      EXPECT_EQ(rs.error().message(), "database error");
      auto after = db().QueryBatch(
          std::vector<Statement>{{"SELECT name FROM items", {}}, {"SELECT qty FROM items", {}}});
      ASSERT_TRUE(after.has_value()) << after.error().ToString();
      EXPECT_EQ((*after)[0].rows.at(0).Text(0), "x");
      EXPECT_EQ((*after)[1].rows.at(0).Int(0), 1);
      auto single = db().Query("SELECT COUNT(*) FROM items");
      ASSERT_TRUE(single.has_value()) << single.error().ToString();
      EXPECT_EQ(single->rows.at(0).Int(0), 1);
    }
  }
}

TEST_P(DatabaseTest, QueryBatchWorksWhenTheStatementCacheIsFull) {
  // A connection caches about a thousand statements and then starts afresh;
  // a batch must not lose the statements prepared for its own first part.
  // Batches of three sizes make the cache fill up in the middle of some.
  int n = 0;
  for (int size : {5, 6, 7}) {
    for (int round = 0; round < 180; ++round) {
      std::vector<Statement> batch;
      for (int i = 0; i < size; ++i) {
        batch.push_back({"SELECT COUNT(*) + " + std::to_string(n++) + " FROM items", {}});
      }
      auto rs = db().QueryBatch(batch);
      ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
      ASSERT_EQ(rs->size(), static_cast<size_t>(size));
      EXPECT_EQ(rs->back().rows.at(0).Int(0), n - 1);
    }
  }
}

TEST_P(DatabaseTest, QueryBatchInsideATransactionSeesItsWrites) {
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value()) << tx.error().ToString();
  ASSERT_TRUE((*tx)->Execute("INSERT INTO items (name, qty) VALUES ('t', 7)").has_value());
  auto rs = (*tx)->QueryBatch(
      std::vector<Statement>{{"SELECT qty FROM items", {}}, {"SELECT COUNT(*) FROM items", {}}});
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  EXPECT_EQ((*rs)[0].rows.at(0).Int(0), 7);
  EXPECT_EQ((*rs)[1].rows.at(0).Int(0), 1);
  tx->reset();
  EXPECT_EQ(CountItems(), 0);
}

TEST_P(DatabaseTest, QueryBatchWritesInATransactionCommitOrAbortWithIt) {
  {
    auto tx = db().Begin();
    ASSERT_TRUE(tx.has_value()) << tx.error().ToString();
    auto rs = (*tx)->QueryBatch(std::vector<Statement>{
        {"INSERT INTO items (name, qty) VALUES (?, ?), (?, ?) RETURNING name",
         {Value{"a"}, Value{int64_t{1}}, Value{"b"}, Value{int64_t{2}}}},
        {"INSERT INTO items (name, qty) VALUES (?, ?) RETURNING qty",
         {Value{"c"}, Value{int64_t{3}}}}});
    ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
    ASSERT_EQ(rs->size(), 2u);
    EXPECT_EQ((*rs)[0].size(), 2u);
    EXPECT_EQ((*rs)[1].rows.at(0).Int(0), 3);
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  EXPECT_EQ(CountItems(), 3);
  {
    // A failing statement aborts the transaction: nothing of it is stored.
    auto tx = db().Begin();
    ASSERT_TRUE(tx.has_value());
    auto rs = (*tx)->QueryBatch(
        std::vector<Statement>{{"INSERT INTO items (name, qty) VALUES (?, ?) RETURNING name",
                                {Value{"d"}, Value{int64_t{4}}}},
                               {"INSERT INTO no_such_table (x) VALUES (1) RETURNING x", {}}});
    EXPECT_FALSE(rs.has_value());
    EXPECT_FALSE((*tx)->Commit().ok());
  }
  EXPECT_EQ(CountItems(), 3);
  // The connection serves the next caller.
  auto after = db().Query("SELECT COUNT(*) FROM items");
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  EXPECT_EQ(after->rows.at(0).Int(0), 3);
}

TEST_P(DatabaseTest, CachedStatementsServeManyCalls) {
  for (int64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(db().Execute("INSERT INTO items (name, qty) VALUES (?, ?)",
                             {Value{"n" + std::to_string(i)}, Value{i}})
                    .has_value());
  }
  for (int64_t i = 0; i < 100; i += 7) {
    auto rs = db().Query("SELECT qty FROM items WHERE name = ?", {Value{"n" + std::to_string(i)}});
    ASSERT_TRUE(rs.has_value());
    ASSERT_EQ(rs->size(), 1u);
    EXPECT_EQ(rs->rows[0].Int(0), i);
  }
  auto updated =
      db().Execute("UPDATE items SET qty = qty + 1 WHERE qty >= ?", {Value{int64_t{90}}});
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(*updated, 10);
}

TEST_P(DatabaseTest, ManyThreadsShareThePool) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto tx = db().Begin(Database::Mode::kRead);
        if (!tx || !(*tx)->Query("SELECT COUNT(*) FROM items")) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(DatabaseTest, ReopenedDatabaseKeepsData) {
  ASSERT_TRUE(db().Execute("INSERT INTO items (name) VALUES ('durable')").has_value());
  auto second = OpenDatabase(tdb_->url());
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  auto rs = (*second)->Query("SELECT name FROM items");
  ASSERT_TRUE(rs.has_value());
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "durable");
  EXPECT_EQ((*second)->dialect(),
            GetParam() == Backend::kSqlite ? Dialect::kSqlite : Dialect::kPostgres);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, testing::AllBackends(), testing::BackendParamName);

// --- SQLite specifics -------------------------------------------------------

TEST(SqliteDatabaseTest, WriteOutsideOwnTransactionIsReportedNotDeadlocked) {
  TestDatabase tdb(Backend::kSqlite);
  ASSERT_TRUE(tdb.db().Execute("CREATE TABLE t (x INTEGER)").has_value());
  auto tx = tdb.db().Begin();
  ASSERT_TRUE(tx.has_value());
  auto direct = tdb.db().Execute("INSERT INTO t (x) VALUES (1)");
  ASSERT_FALSE(direct.has_value());
  EXPECT_EQ(direct.error().code(), core::Code::kInternal);
  auto nested = tdb.db().Begin();
  EXPECT_FALSE(nested.has_value());
  // Reads through the Database still work (reader connections).
  EXPECT_TRUE(tdb.db().Query("SELECT COUNT(*) FROM t").has_value());
}

// Readers keep their snapshot between reads (store/sqlite/sqlite_database.hpp):
// what this process commits is seen by the very next read, what another
// process commits within a few milliseconds, and an idle reader's snapshot
// does not keep the WAL from being copied back.
TEST(SqliteDatabaseTest, KeptSnapshotsSeeOwnCommitsAtOnceAndOthersSoon) {
  TestDatabase scratch(Backend::kSqlite);
  const std::string path = scratch.dir() + "/shared.db";
  auto here = OpenDatabase(path);
  auto other = OpenDatabase(path);  // as a second process would
  ASSERT_TRUE(here.has_value() && other.has_value());
  ASSERT_TRUE((*here)->Execute("CREATE TABLE t (x INTEGER)").has_value());
  auto count = [](Database& db) {
    auto rs = db.Query("SELECT COUNT(*) FROM t");
    return rs.has_value() ? rs->rows.at(0).Int(0) : int64_t{-1};
  };
  EXPECT_EQ(count(**here), 0);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE((*here)->Execute("INSERT INTO t (x) VALUES (?)", {Value{int64_t{i}}}).has_value());
    EXPECT_EQ(count(**here), i) << "an own commit is seen by the next read";
    auto tx = (*here)->Begin(Database::Mode::kRead);
    ASSERT_TRUE(tx.has_value());
    auto rs = (*tx)->Query("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(rs->rows.at(0).Int(0), i) << "and by a read transaction";
  }
  EXPECT_EQ(count(**other), 20);
  ASSERT_TRUE((*other)->Execute("INSERT INTO t (x) VALUES (21)").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(SqliteDatabase::kSnapshotMillis * 2 + 5));
  EXPECT_EQ(count(**here), 21) << "another process's commit, once the snapshot aged";
}

TEST(SqliteDatabaseTest, AnIdleReadersSnapshotDoesNotHoldBackTheCheckpoint) {
  TestDatabase scratch(Backend::kSqlite);
  const std::string path = scratch.dir() + "/idle.db";
  auto reader = OpenDatabase(path);
  auto writer = OpenDatabase(path);
  ASSERT_TRUE(reader.has_value() && writer.has_value());
  ASSERT_TRUE((*writer)->Execute("CREATE TABLE t (x TEXT)").has_value());
  ASSERT_TRUE((*reader)->Query("SELECT COUNT(*) FROM t").has_value());  // a kept snapshot
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE((*writer)
                    ->Execute("INSERT INTO t (x) VALUES (?)", {Value{std::string(2000, 'x')}})
                    .has_value());
  }
  // The reader's snapshot ends within about a second of idleness; then a
  // passive checkpoint copies every frame.
  bool complete = false;
  for (int attempt = 0; attempt < 40 && !complete; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto rs = (*writer)->Query("PRAGMA wal_checkpoint(PASSIVE)");
    ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
    complete = rs->rows.at(0).Int(1) == rs->rows.at(0).Int(2);
  }
  EXPECT_TRUE(complete);
}

// A steady stream of commits, each followed by a read (as an import or a
// busy server does): the WAL is copied back completely at 8,192 pages and
// starts over, instead of growing for as long as the stream lasts.
TEST(SqliteDatabaseTest, TheWalStartsOverUnderASteadyStreamOfCommitsAndReads) {
  TestDatabase scratch(Backend::kSqlite);
  const std::string path = scratch.dir() + "/stream.db";
  OpenOptions o;
  o.sqlite_page_size = 1024;  // 8,192 pages of WAL: 8 MiB
  auto db = OpenDatabase(path, o);
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  ASSERT_TRUE((*db)->Execute("CREATE TABLE t (x TEXT)").has_value());
  const std::string row(900, 'x');
  std::uintmax_t largest = 0;
  for (int commit = 0; commit < 1500; ++commit) {
    auto tx = (*db)->Begin(Database::Mode::kWrite);
    ASSERT_TRUE(tx.has_value());
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE((*tx)->Execute("INSERT INTO t (x) VALUES (?)", {Value{row}}).has_value());
    }
    ASSERT_TRUE((*tx)->Commit().ok());
    auto last = (*db)->Query("SELECT MAX(rowid) FROM t");  // a kept snapshot
    ASSERT_TRUE(last.has_value());
    ASSERT_EQ(last->rows.at(0).Int(0), 20 * (commit + 1));
    std::error_code ec;
    largest = std::max(largest, std::filesystem::file_size(path + "-wal", ec));
  }
  auto rs = (*db)->Query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows.at(0).Int(0), 30000);
  // 30,000 rows of 900 bytes went through the WAL: about 30 MiB.
  EXPECT_LT(largest, std::uintmax_t{(8192 + 1024) * (1024 + 24)});
}

TEST(SqliteDatabaseTest, OpenCreatesParentDirectoryAndAcceptsPlainPath) {
  TestDatabase scratch(Backend::kSqlite);
  const std::string path = scratch.dir() + "/nested/deeper/app.db";
  {
    auto db = OpenDatabase("sqlite:" + path);
    ASSERT_TRUE(db.has_value()) << db.error().ToString();
    ASSERT_TRUE((*db)->Execute("CREATE TABLE t (x INTEGER)").has_value());
    ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (7)").has_value());
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  auto plain = OpenDatabase(path);
  ASSERT_TRUE(plain.has_value());
  auto rs = (*plain)->Query("SELECT x FROM t");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows.at(0).Int(0), 7);
  auto mode = (*plain)->Query("PRAGMA journal_mode");
  ASSERT_TRUE(mode.has_value());
  EXPECT_EQ(mode->rows.at(0).Text(0), "wal");
}

TEST(SqliteDatabaseTest, PageSizeAppliesToANewFileOnly) {
  TestDatabase scratch(Backend::kSqlite);
  auto page_size = [](Database& db) {
    auto rs = db.Query("PRAGMA page_size");
    return rs.has_value() ? rs->rows.at(0).Int(0) : -1;
  };
  const std::string small = scratch.dir() + "/small.db";
  {
    OpenOptions o;
    o.sqlite_page_size = 1024;
    auto db = OpenDatabase(small, o);
    ASSERT_TRUE(db.has_value()) << db.error().ToString();
    ASSERT_TRUE((*db)->Execute("CREATE TABLE t (x TEXT)").has_value());
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (?)", {Value{std::string(300, 'a')}}));
    }
    EXPECT_EQ(page_size(**db), 1024);
    auto mode = (*db)->Query("PRAGMA journal_mode");
    ASSERT_TRUE(mode.has_value());
    EXPECT_EQ(mode->rows.at(0).Text(0), "wal");
  }
  {
    auto reopened = OpenDatabase(small);  // default options: still 1 KiB pages
    ASSERT_TRUE(reopened.has_value());
    EXPECT_EQ(page_size(**reopened), 1024);
    auto rs = (*reopened)->Query("SELECT COUNT(*) FROM t");
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(rs->rows.at(0).Int(0), 50);
  }
  // An existing file keeps its page size and its rows.
  const std::string existing = scratch.dir() + "/existing.db";
  {
    auto db = OpenDatabase(existing);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)->Execute("CREATE TABLE t (x INTEGER)").has_value());
    ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (5)").has_value());
    EXPECT_EQ(page_size(**db), 4096);
  }
  OpenOptions o;
  o.sqlite_page_size = 1024;
  auto again = OpenDatabase(existing, o);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(page_size(**again), 4096);
  auto rs = (*again)->Query("SELECT x FROM t");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows.at(0).Int(0), 5);
  // A size SQLite cannot use is refused before anything is created.
  for (int bad : {100, 1000, 131072}) {
    o.sqlite_page_size = bad;
    auto refused = OpenDatabase(scratch.dir() + "/bad.db", o);
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_EQ(refused.error().code(), core::Code::kInvalidInput);
  }
  EXPECT_FALSE(std::filesystem::exists(scratch.dir() + "/bad.db"));
}

TEST(SqliteDatabaseTest, WriterCacheSizeIsAnOpenOption) {
  TestDatabase scratch(Backend::kSqlite);
  auto writer_cache = [](Database& db) {
    auto tx = db.Begin(Database::Mode::kWrite);
    if (!tx.has_value()) return int64_t{0};
    auto rs = (*tx)->Query("PRAGMA cache_size");
    return rs.has_value() ? rs->rows.at(0).Int(0) : int64_t{0};
  };
  OpenOptions small;
  small.sqlite_writer_cache_kib = 4096;
  auto db = OpenDatabase(scratch.dir() + "/small-cache.db", small);
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  EXPECT_EQ(writer_cache(**db), -4096);  // negative: KiB
  auto plain = OpenDatabase(scratch.dir() + "/default-cache.db");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(writer_cache(**plain), -65536);
}

TEST(SqliteDatabaseTest, SqlitePathOfTellsFilesFromServers) {
  EXPECT_EQ(SqlitePathOf("sqlite:/var/lib/tsunagu/tsunagu.db"), "/var/lib/tsunagu/tsunagu.db");
  EXPECT_EQ(SqlitePathOf("data/tsunagu.db"), "data/tsunagu.db");
  EXPECT_EQ(SqlitePathOf("sqlite::memory:"), ":memory:");
  EXPECT_EQ(SqlitePathOf("postgresql://t@127.0.0.1:5432/t"), std::nullopt);
  EXPECT_EQ(SqlitePathOf("postgres://t@db/t"), std::nullopt);
}

TEST(SqliteDatabaseTest, InMemoryDatabaseWorksWithOneConnection) {
  auto db = OpenDatabase(":memory:");
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  ASSERT_TRUE((*db)->Execute("CREATE TABLE t (x INTEGER)").has_value());
  ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (1)").has_value());
  auto rs = (*db)->Query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows[0].Int(0), 1);
  auto reader = (*db)->Begin(Database::Mode::kRead);
  ASSERT_TRUE(reader.has_value());
  EXPECT_FALSE((*reader)->Execute("INSERT INTO t VALUES (2)").has_value());
}

TEST(SqliteDatabaseTest, TwoStatementsInOneCallAreRejected) {
  auto db = OpenDatabase(":memory:");
  ASSERT_TRUE(db.has_value());
  auto r = (*db)->Execute("CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER)");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), core::Code::kInternal);
}

TEST(SqliteDatabaseTest, ContainsAnswersAsInstrDoes) {
  auto db = OpenDatabase(":memory:");
  ASSERT_TRUE(db.has_value());
  ASSERT_TRUE((*db)->Execute("CREATE TABLE t (id INTEGER, text TEXT)").has_value());
  const std::vector<std::string> texts = {"仙骨部ニ褥瘡ノ疑イ", "デイサービスカラ帰宅", "abc", "",
                                          "ababc"};
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (?, ?)", {int64_t(i), texts[i]}).has_value());
  }
  ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (99, NULL)").has_value());
  for (std::string needle :
       {"褥瘡", "サービス", "abc", "bc", "", "ｻ", "abd", "仙骨部ニ褥瘡ノ疑イ!"}) {
    auto rs = (*db)->Query(
        "SELECT group_concat(id) FROM (SELECT id FROM t WHERE contains(text, ?) ORDER BY id)",
        {needle});
    auto want = (*db)->Query(
        "SELECT group_concat(id) FROM (SELECT id FROM t WHERE instr(text, ?) > 0 ORDER BY id)",
        {needle});
    ASSERT_TRUE(rs.has_value() && want.has_value()) << needle;
    EXPECT_EQ(rs->rows[0].Text(0), want->rows[0].Text(0)) << needle;
  }
  auto found = (*db)->Query("SELECT id FROM t WHERE contains(text, ?) ORDER BY id", {"褥瘡"});
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->rows.size(), 1u);
  EXPECT_EQ(found->rows[0].Int(0), 0);
  auto null = (*db)->Query("SELECT contains(NULL, 'a'), contains('a', NULL)");
  ASSERT_TRUE(null.has_value());
  EXPECT_TRUE(null->rows[0].IsNull(0));
  EXPECT_TRUE(null->rows[0].IsNull(1));
}

// --- PostgreSQL specifics ---------------------------------------------------

TEST(PostgresDatabaseTest, BrokenConnectionIsResetForTheNextCaller) {
  TSUNAGU_SKIP_IF_UNAVAILABLE(Backend::kPostgres);
  TestDatabase tdb(Backend::kPostgres);
  // Single-threaded use keeps reusing one pooled connection.
  auto pid = tdb.db().Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.has_value()) << pid.error().ToString();
  auto other = OpenDatabase(tdb.url());
  ASSERT_TRUE(other.has_value());
  auto killed = (*other)->Query("SELECT pg_terminate_backend(?)", {Value{pid->rows[0].Int(0)}});
  ASSERT_TRUE(killed.has_value()) << killed.error().ToString();
  ASSERT_EQ(killed->rows[0].Int(0), 1);

  auto lost = tdb.db().Query("SELECT 1");
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code(), core::Code::kUnavailable) << lost.error().ToString();
  auto again = tdb.db().Query("SELECT ? + 1", {Value{int64_t{41}}});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->rows[0].Int(0), 42);
}

TEST(PostgresDatabaseTest, ResultTypesFollowColumnTypes) {
  TSUNAGU_SKIP_IF_UNAVAILABLE(Backend::kPostgres);
  TestDatabase tdb(Backend::kPostgres);
  auto rs = tdb.db().Query(
      "SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::numeric, true, false, "
      "'\\x00ff'::bytea, 'text'::text, NULL::int8, SUM(x) FROM (VALUES (1), (2)) AS v(x)");
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  const Row& row = rs->rows.at(0);
  EXPECT_EQ(row.at(0), Value{int64_t{1}});
  EXPECT_EQ(row.at(1), Value{int64_t{2}});
  EXPECT_EQ(row.at(2), Value{int64_t{3}});
  EXPECT_EQ(row.at(3), Value{1.5});
  EXPECT_EQ(row.at(4), Value{2.25});
  EXPECT_EQ(row.at(5), Value{int64_t{1}});
  EXPECT_EQ(row.at(6), Value{int64_t{0}});
  EXPECT_EQ(row.at(7), Value{Bytes{std::string("\0\xff", 2)}});
  EXPECT_EQ(row.at(8), Value{std::string("text")});
  EXPECT_TRUE(row.IsNull(9));
  EXPECT_EQ(row.Int(10), 3);  // SUM of bigint is numeric
}

TEST(OpenDatabaseTest, EmptyUrlIsInvalidInput) {
  auto db = OpenDatabase("");
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), core::Code::kInvalidInput);
}

TEST(OpenDatabaseTest, UnreachablePostgresIsUnavailable) {
  // Port 1 on localhost: nothing listens there.
  auto db = OpenDatabase("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), core::Code::kUnavailable);
}

// --- Row accessors ----------------------------------------------------------

TEST(RowTest, AccessorsAreLenient) {
  Row row({Value{}, Value{int64_t{42}}, Value{2.75}, Value{"17"}, Value{"4.5"}, Value{"abc"},
           Value{Bytes{"raw"}}});
  EXPECT_EQ(row.size(), 7u);
  EXPECT_TRUE(row.IsNull(0));
  EXPECT_EQ(row.Int(0), 0);
  EXPECT_EQ(row.Text(0), "");
  EXPECT_EQ(row.OptInt(0), std::nullopt);
  EXPECT_EQ(row.OptText(0), std::nullopt);
  EXPECT_EQ(row.Int(1), 42);
  EXPECT_EQ(row.Text(1), "42");
  EXPECT_DOUBLE_EQ(row.Real(1), 42.0);
  EXPECT_EQ(row.Int(2), 2);
  EXPECT_EQ(row.Text(2), "2.75");
  EXPECT_EQ(row.Int(3), 17);
  EXPECT_EQ(row.OptInt(3), 17);
  EXPECT_DOUBLE_EQ(row.Real(4), 4.5);
  EXPECT_EQ(row.Int(4), 4);
  EXPECT_EQ(row.Int(5), 0);
  EXPECT_EQ(row.Text(6), "raw");
  EXPECT_THROW(row.Int(7), std::out_of_range);
}

}  // namespace
}  // namespace tsunagu::store
