#include "store/postgres/placeholders.hpp"

#include <gtest/gtest.h>

namespace tsunagu::store::internal {
namespace {

TEST(PlaceholdersTest, NumbersEachQuestionMark) {
  auto r = RewritePlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)");
  EXPECT_EQ(r.sql, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(r.parameter_count, 3);
}

TEST(PlaceholdersTest, NoPlaceholders) {
  auto r = RewritePlaceholders("SELECT 1");
  EXPECT_EQ(r.sql, "SELECT 1");
  EXPECT_EQ(r.parameter_count, 0);
}

TEST(PlaceholdersTest, QuestionMarksInLiteralsAndIdentifiersStay) {
  auto r = RewritePlaceholders(
      "SELECT '?', 'it''s ?', \"col?\", \"a\"\"?\" FROM t WHERE x = ? AND y = 'z?'");
  EXPECT_EQ(r.sql, "SELECT '?', 'it''s ?', \"col?\", \"a\"\"?\" FROM t WHERE x = $1 AND y = 'z?'");
  EXPECT_EQ(r.parameter_count, 1);
}

TEST(PlaceholdersTest, EscapeStringsHonourBackslash) {
  auto r = RewritePlaceholders("SELECT E'\\'?', ?, e'\\\\', ?");
  EXPECT_EQ(r.sql, "SELECT E'\\'?', $1, e'\\\\', $2");
  EXPECT_EQ(r.parameter_count, 2);
  // An identifier ending in e is not an escape-string prefix.
  auto plain = RewritePlaceholders("SELECT name'\\', ?");
  EXPECT_EQ(plain.parameter_count, 1);
}

TEST(PlaceholdersTest, CommentsAreSkipped) {
  auto r = RewritePlaceholders("SELECT ? -- why? because\n, /* outer /* nested? */ still? */ ?");
  EXPECT_EQ(r.sql, "SELECT $1 -- why? because\n, /* outer /* nested? */ still? */ $2");
  EXPECT_EQ(r.parameter_count, 2);
}

TEST(PlaceholdersTest, DollarQuotedBodiesAreSkipped) {
  auto r = RewritePlaceholders("SELECT $$a?b$$, $tag$ ? $$ ? $tag$, ?, x$y");
  EXPECT_EQ(r.sql, "SELECT $$a?b$$, $tag$ ? $$ ? $tag$, $1, x$y");
  EXPECT_EQ(r.parameter_count, 1);
}

TEST(PlaceholdersTest, UnterminatedLiteralDoesNotCrash) {
  auto r = RewritePlaceholders("SELECT 'open ? ");
  EXPECT_EQ(r.sql, "SELECT 'open ? ");
  EXPECT_EQ(r.parameter_count, 0);
}

TEST(PlaceholdersTest, MultibyteTextIsCopiedVerbatim) {
  auto r = RewritePlaceholders("SELECT '患者？' AS 名前, ?");
  EXPECT_EQ(r.sql, "SELECT '患者？' AS 名前, $1");
  EXPECT_EQ(r.parameter_count, 1);
}

}  // namespace
}  // namespace tsunagu::store::internal
