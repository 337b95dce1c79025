#include "support/test_database.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "core/random.hpp"

namespace tsunagu::testing {
namespace {

std::string PgAdminUrl() {
  const char* url = std::getenv("TSUNAGU_TEST_PG_URL");
  return url != nullptr ? url : "";
}

// Replaces the database name of a libpq URI ("postgresql://u@h:p/db?x=y").
std::string WithDatabase(const std::string& url, const std::string& name) {
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t query = url.find('?', authority);
  const size_t path = url.find('/', authority);
  const std::string tail = query == std::string::npos ? "" : url.substr(query);
  const size_t end_of_authority =
      path != std::string::npos && (query == std::string::npos || path < query)
          ? path
          : (query == std::string::npos ? url.size() : query);
  return url.substr(0, end_of_authority) + "/" + name + tail;
}

[[noreturn]] void Fail(const std::string& what) {
  ADD_FAILURE() << what;
  // Stops the fixture's SetUp; gtest reports the exception as a failure.
  throw std::runtime_error(what);
}

}  // namespace

std::string BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "sqlite" : "postgres";
}

bool BackendAvailable(Backend backend) {
  return backend == Backend::kSqlite || !PgAdminUrl().empty();
}

TestDatabase::TestDatabase(Backend backend) : backend_(backend) {
  std::string pattern = (std::filesystem::temp_directory_path() / "tsunagu-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) Fail("cannot create a temporary directory");
  const std::string root = pattern;
  // The destructor does not run when the constructor throws.
  auto fail = [&](const std::string& what) {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
    Fail(what);
  };
  dir_ = root + "/scratch";
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) fail("cannot create " + dir_ + ": " + ec.message());

  if (backend == Backend::kSqlite) {
    url_ = "sqlite:" + root + "/db/test.db";
  } else {
    pg_admin_url_ = PgAdminUrl();
    if (pg_admin_url_.empty()) fail("TSUNAGU_TEST_PG_URL is not set");
    pg_name_ = "t_" + core::RandomHex(8);
    auto admin = store::OpenDatabase(pg_admin_url_);
    if (!admin) fail("cannot connect to PostgreSQL: " + admin.error().ToString());
    auto created = (*admin)->Execute("CREATE DATABASE " + pg_name_);
    if (!created) fail("CREATE DATABASE failed: " + created.error().ToString());
    url_ = WithDatabase(pg_admin_url_, pg_name_);
  }
  auto db = store::OpenDatabase(url_);
  if (!db) {
    if (!pg_name_.empty()) {
      auto admin = store::OpenDatabase(pg_admin_url_);
      if (admin) (void)(*admin)->Execute("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
    }
    fail("cannot open the test database: " + db.error().ToString());
  }
  db_ = std::move(*db);
}

TestDatabase::~TestDatabase() {
  db_.reset();  // closes every pooled connection before the drop
  if (!pg_name_.empty()) {
    auto admin = store::OpenDatabase(pg_admin_url_);
    if (admin) {
      auto dropped = (*admin)->Execute("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
      if (!dropped) ADD_FAILURE() << "DROP DATABASE failed: " << dropped.error().ToString();
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path(), ec);
  }
}

}  // namespace tsunagu::testing
