#include "store/migrations.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "support/test_database.hpp"

namespace tsunagu::store {
namespace {

using testing::Backend;
using testing::TestDatabase;

class MigrationsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<TestDatabase>(GetParam());
  }

  Database& db() { return tdb_->db(); }

  std::vector<int64_t> AppliedVersions(const std::string& module) {
    auto rs = db().Query("SELECT version FROM schema_migrations WHERE module = ? ORDER BY version",
                         {Value{module}});
    EXPECT_TRUE(rs.has_value()) << rs.error().ToString();
    std::vector<int64_t> versions;
    if (rs) {
      for (const Row& row : rs->rows) versions.push_back(row.Int(0));
    }
    return versions;
  }

  std::unique_ptr<TestDatabase> tdb_;
};

const MigrationSet kPatients{
    "patients",
    {
        "CREATE TABLE patients (id {{ID}}, card TEXT NOT NULL UNIQUE, photo {{BLOB}});",
        "CREATE INDEX patients_card ON patients (card);\n"
        "-- a comment; with a semicolon\n"
        "INSERT INTO patients (card) VALUES ('seed;\n still one value');\n",
    }};

TEST_P(MigrationsTest, AppliesStepsInOrderAndRecordsThem) {
  Status s = ApplyMigrations(db(), {kPatients});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(AppliedVersions("patients"), (std::vector<int64_t>{1, 2}));
  auto rs = db().Query("SELECT card FROM patients");
  ASSERT_TRUE(rs.has_value()) << rs.error().ToString();
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ(rs->rows[0].Text(0), "seed;\n still one value");
  auto stamp = db().Query("SELECT applied_at FROM schema_migrations WHERE module = 'patients'");
  ASSERT_TRUE(stamp.has_value());
  EXPECT_GT(stamp->rows[0].Int(0), 1'600'000'000'000);  // milliseconds, not seconds
}

TEST_P(MigrationsTest, ApplyingTwiceChangesNothing) {
  ASSERT_TRUE(ApplyMigrations(db(), {kPatients}).ok());
  ASSERT_TRUE(db().Execute("INSERT INTO patients (card) VALUES ('C-1')").has_value());
  Status again = ApplyMigrations(db(), {kPatients});
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(AppliedVersions("patients"), (std::vector<int64_t>{1, 2}));
  auto rs = db().Query("SELECT COUNT(*) FROM patients");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows[0].Int(0), 2);  // the seed row was not inserted twice
}

TEST_P(MigrationsTest, AppendedStepIsAppliedAlone) {
  ASSERT_TRUE(ApplyMigrations(db(), {kPatients}).ok());
  MigrationSet extended = kPatients;
  extended.steps.push_back("ALTER TABLE patients ADD COLUMN kana TEXT");
  Status s = ApplyMigrations(db(), {extended});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(AppliedVersions("patients"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(db().Query("SELECT kana FROM patients").has_value());
}

TEST_P(MigrationsTest, FailingStepLeavesNoTraceAndIsReported) {
  MigrationSet broken{"broken",
                      {
                          "CREATE TABLE first_ok (x INTEGER)",
                          "CREATE TABLE half_done (x INTEGER);\n"
                          "INSERT INTO half_done (x) VALUES (1);\n"
                          "INSERT INTO no_such_table (x) VALUES (1);\n",
                          "CREATE TABLE never_reached (x INTEGER)",
                      }};
  Status s = ApplyMigrations(db(), {broken});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), core::Code::kInternal);
  EXPECT_NE(s.message().find("broken"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
  EXPECT_NE(s.detail().find("no_such_table"), std::string::npos) << s.detail();

  EXPECT_EQ(AppliedVersions("broken"), (std::vector<int64_t>{1}));
  EXPECT_TRUE(db().Query("SELECT x FROM first_ok").has_value());
  EXPECT_FALSE(db().Query("SELECT x FROM half_done").has_value());
  EXPECT_FALSE(db().Query("SELECT x FROM never_reached").has_value());

  // Once fixed, the remaining steps apply.
  broken.steps[1] = "CREATE TABLE half_done (x INTEGER)";
  Status fixed = ApplyMigrations(db(), {broken});
  ASSERT_TRUE(fixed.ok()) << fixed.ToString();
  EXPECT_EQ(AppliedVersions("broken"), (std::vector<int64_t>{1, 2, 3}));
}

TEST_P(MigrationsTest, ModulesAreIndependent) {
  MigrationSet other{"consent", {"CREATE TABLE consents (id {{ID}}, patient_id BIGINT)"}};
  ASSERT_TRUE(ApplyMigrations(db(), {kPatients, other}).ok());
  EXPECT_EQ(AppliedVersions("patients"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(AppliedVersions("consent"), (std::vector<int64_t>{1}));
}

TEST_P(MigrationsTest, BadModuleListIsRejectedBeforeAnyChange) {
  Status twice = ApplyMigrations(db(), {kPatients, kPatients});
  EXPECT_EQ(twice.code(), core::Code::kInvalidInput);
  Status unnamed = ApplyMigrations(db(), {MigrationSet{"", {"CREATE TABLE x (y INTEGER)"}}});
  EXPECT_EQ(unnamed.code(), core::Code::kInvalidInput);
  EXPECT_FALSE(db().Query("SELECT card FROM patients").has_value());
}

TEST_P(MigrationsTest, ConcurrentProcessesApplyEachStepOnce) {
  // Plain CREATE TABLE (no IF NOT EXISTS): a double application would fail.
  MigrationSet set{"race",
                   {"CREATE TABLE r1 (x INTEGER)", "CREATE TABLE r2 (x INTEGER)",
                    "INSERT INTO r1 (x) VALUES (1)"}};
  constexpr int kProcesses = 4;
  std::vector<Status> results(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      auto own = OpenDatabase(tdb_->url());  // a separate pool, as another process has
      results[i] = own ? ApplyMigrations(**own, {set}) : own.error();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(AppliedVersions("race"), (std::vector<int64_t>{1, 2, 3}));
  auto rs = db().Query("SELECT COUNT(*) FROM r1");
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->rows[0].Int(0), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, MigrationsTest, testing::AllBackends(),
                         testing::BackendParamName);

TEST(SqlMacrosTest, ExpandPerDialect) {
  const std::string sql = "CREATE TABLE t (id {{ID}}, b {{BLOB}}, c {{BLOB}}, d TEXT DEFAULT '{')";
  EXPECT_EQ(ExpandSqlMacros(sql, Dialect::kSqlite),
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, b BLOB, c BLOB, "
            "d TEXT DEFAULT '{')");
  EXPECT_EQ(ExpandSqlMacros(sql, Dialect::kPostgres),
            "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, b BYTEA, c BYTEA, d TEXT DEFAULT '{')");
}

TEST(SqlMacrosTest, DialectOnlyTextIsKeptOnItsDialect) {
  const std::string sql =
      "CREATE TABLE t (id {{ID}});\n{{SQLITE:CREATE INDEX t_x ON t (id, x)}}"
      "{{POSTGRES:CREATE INDEX t_y ON t (id)}};";
  EXPECT_EQ(
      ExpandSqlMacros(sql, Dialect::kSqlite),
      "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);\nCREATE INDEX t_x ON t (id, x);");
  EXPECT_EQ(ExpandSqlMacros(sql, Dialect::kPostgres),
            "CREATE TABLE t (id BIGSERIAL PRIMARY KEY);\nCREATE INDEX t_y ON t (id);");
  // A step that is empty on one dialect applies nothing there.
  EXPECT_TRUE(
      SplitSqlStatements(ExpandSqlMacros("{{SQLITE:CREATE INDEX i ON t (id)}}", Dialect::kPostgres))
          .empty());
  // Unterminated: left as written (and the statement then fails loudly).
  EXPECT_EQ(ExpandSqlMacros("{{SQLITE:x", Dialect::kSqlite), "{{SQLITE:x");
}

TEST(SplitSqlStatementsTest, SplitsAtTopLevelSemicolonsOnly) {
  const std::string step =
      "CREATE TABLE a (x TEXT DEFAULT ';');\n"
      "-- comment; not a statement\n"
      "CREATE TABLE \"we;ird\" (y INTEGER);\n"
      "/* block; comment */\n"
      "CREATE TRIGGER a_t AFTER INSERT ON a BEGIN\n"
      "  UPDATE a SET x = CASE WHEN x = '' THEN 'empty' ELSE x END;\n"
      "  DELETE FROM a WHERE x IS NULL;\n"
      "END;\n"
      "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\n"
      "  \n-- trailing comment only\n";
  const std::vector<std::string> parts = SplitSqlStatements(step);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "CREATE TABLE a (x TEXT DEFAULT ';')");
  EXPECT_EQ(parts[1], "-- comment; not a statement\nCREATE TABLE \"we;ird\" (y INTEGER)");
  EXPECT_EQ(parts[2].substr(0, 22), "/* block; comment */\nC");
  EXPECT_NE(parts[2].find("DELETE FROM a WHERE x IS NULL;\nEND"), std::string::npos);
  EXPECT_EQ(parts[3],
            "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE "
            "plpgsql");
}

TEST(SplitSqlStatementsTest, SingleStatementWithoutSemicolon) {
  EXPECT_EQ(SplitSqlStatements("  SELECT 1  "), (std::vector<std::string>{"SELECT 1"}));
  EXPECT_TRUE(SplitSqlStatements(" ;\n ; -- nothing\n").empty());
}

}  // namespace
}  // namespace tsunagu::store
