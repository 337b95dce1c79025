// Application::Open on a new SQLite data directory: the three files and how
// they are laid out.
#include "app/application.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "app/app_config.hpp"
#include "audit/audit_log.hpp"
#include "store/database.hpp"

namespace tsunagu::app {
namespace {

int64_t PageSize(store::Database& db) {
  auto rs = db.Query("PRAGMA page_size");
  return rs.has_value() ? rs->rows.at(0).Int(0) : -1;
}

TEST(ApplicationTest, ANewDataDirectoryKeepsTheAuditLookupInSmallPagesAndTheRestInLargerOnes) {
  const std::string dir = ::testing::TempDir() + "/tsunagu-app-" +
                          std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                          std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto config = ParseConfig({"--data", dir});
  ASSERT_TRUE(config) << config.error().ToString();
  {
    auto app = Application::Open(*config);
    ASSERT_TRUE(app) << app.error().ToString();
    EXPECT_EQ(PageSize((*app)->audit_db()), Application::kAuditTrailPageSize);
    EXPECT_EQ(PageSize((*app)->db()), Application::kMainPageSize);
    audit::AuditEvent e;
    e.user_id = 1;
    e.user_name = "事務局";
    e.action = "patient.read";
    e.patient_id = "R-1";
    auto stored = (*app)->audit().Append(e);
    ASSERT_TRUE(stored) << stored.error().ToString();
    EXPECT_EQ(stored->seq, 1);
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/tsunagu-audit.db"));
  // The search lookup is a file of its own, filled behind the appends.
  EXPECT_TRUE(std::filesystem::exists(dir + "/tsunagu-audit-lookup.db"));
  {
    auto again = Application::Open(*config);
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_EQ(PageSize((*again)->audit_db()), Application::kAuditTrailPageSize);
    EXPECT_EQ(PageSize((*again)->db()), Application::kMainPageSize);
    audit::AuditQuery q;
    q.patient_id = "R-1";
    auto page = (*again)->audit().Find(q);
    ASSERT_TRUE(page) << page.error().ToString();
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].user_name, "事務局");
    // Copied into the lookup (by the indexer thread or here): still found once.
    ASSERT_TRUE((*again)->audit().IndexPending().has_value());
    auto indexed = (*again)->audit().Find(q);
    ASSERT_TRUE(indexed) << indexed.error().ToString();
    EXPECT_EQ(indexed->total, 1);
    ASSERT_EQ(indexed->items.size(), 1u);
    EXPECT_EQ(indexed->items[0].seq, 1);
  }
  {
    auto lookup = store::OpenDatabase("sqlite:" + dir + "/tsunagu-audit-lookup.db");
    ASSERT_TRUE(lookup) << lookup.error().ToString();
    EXPECT_EQ(PageSize(**lookup), Application::kAuditLookupPageSize);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tsunagu::app
