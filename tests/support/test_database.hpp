#pragma once
// Fresh databases for storage tests on every backend.
//
//   class FooTest : public ::testing::TestWithParam<tsunagu::testing::Backend> {
//    protected:
//     void SetUp() override {
//       TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
//       tdb_ = std::make_unique<tsunagu::testing::TestDatabase>(GetParam());
//       ...tdb_->db()...
//     }
//     std::unique_ptr<tsunagu::testing::TestDatabase> tdb_;
//   };
//   INSTANTIATE_TEST_SUITE_P(Backends, FooTest, tsunagu::testing::AllBackends(),
//                            tsunagu::testing::BackendParamName);
//
// SQLite: a new file in a temporary directory. PostgreSQL: a new database
// (CREATE DATABASE t_<random>) on the server of $TSUNAGU_TEST_PG_URL, dropped
// on destruction, so parallel test processes never share tables.
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>

#include "store/database.hpp"

namespace tsunagu::testing {

enum class Backend { kSqlite, kPostgres };

std::string BackendName(Backend backend);  // "sqlite" / "postgres"
bool BackendAvailable(Backend backend);    // postgres: $TSUNAGU_TEST_PG_URL set
inline auto AllBackends() { return ::testing::Values(Backend::kSqlite, Backend::kPostgres); }
inline std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}
// Readable parameter in gtest output and CTest names ("GetParam() = sqlite").
inline void PrintTo(Backend backend, std::ostream* os) { *os << BackendName(backend); }

class TestDatabase {
 public:
  // If the database cannot be created: records a test failure and throws
  // (gtest reports it; call from SetUp or the test body).
  explicit TestDatabase(Backend backend);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  store::Database& db() { return *db_; }
  // URL/path accepted by store::OpenDatabase for the same database.
  const std::string& url() const { return url_; }
  // A scratch directory removed with the object (blobs, keys, ...).
  const std::string& dir() const { return dir_; }

 private:
  Backend backend_;
  std::string url_;
  std::string dir_;
  std::string pg_admin_url_;
  std::string pg_name_;
  std::unique_ptr<store::Database> db_;
};

}  // namespace tsunagu::testing

#define TSUNAGU_SKIP_IF_UNAVAILABLE(backend)                                 \
  do {                                                                       \
    if (!::tsunagu::testing::BackendAvailable(backend))                      \
      GTEST_SKIP() << "PostgreSQL not configured (set TSUNAGU_TEST_PG_URL)"; \
  } while (0)
