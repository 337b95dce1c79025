#pragma once
// The composition root: opens the database, applies every module's
// migrations, builds the services and wires the HTTP routes. Owns everything
// it builds; single instance per process.
#include <memory>
#include <string>

#include "app/app_config.hpp"
#include "core/status.hpp"

namespace tsunagu::store {
class Database;
}
namespace tsunagu::auth {
class AccountService;
class PasswordHasher;
class SessionService;
class Totp;
}  // namespace tsunagu::auth
namespace tsunagu::audit {
class AuditLog;
class AuditSigner;
}  // namespace tsunagu::audit
namespace tsunagu::registry {
class FacilityService;
class PatientService;
}  // namespace tsunagu::registry
namespace tsunagu::consent {
class ConsentService;
}
namespace tsunagu::clinical {
class ResourceStore;
}
namespace tsunagu::documents {
class DocumentService;
}
namespace tsunagu::mail {
class Mailer;
}
namespace tsunagu::care {
class CareService;
}  // namespace tsunagu::care
namespace tsunagu::oauth {
class ClientRegistry;
}

namespace tsunagu::app {

class Application {
 public:
  // Opens storage (creating the data dir) and applies migrations.
  static core::Result<std::unique_ptr<Application>> Open(const AppConfig& config);
  ~Application();

  // Serves HTTP until SIGTERM/SIGINT. Returns the process exit code.
  int Serve();

  store::Database& db();
  // Page size of a new SQLite main file. A resource's list summary (up to
  // 1,800 bytes) is a column of the timeline index: with 4 KiB pages an
  // index entry over about 1,000 bytes spills to an overflow page, with 8
  // KiB one up to about 2,000 bytes stays in its leaf. A file created
  // earlier keeps its page size.
  static constexpr int kMainPageSize = 8192;
  // The database holding the audit log: the main one with PostgreSQL, a file
  // of its own with SQLite (AppConfig::AuditDatabaseUrl), created with pages
  // of kAuditTrailPageSize bytes. The trail is only appended to: a commit of
  // 20 entries writes two 4 KiB pages where it wrote eight of 1 KiB (each
  // page is a WAL frame: two writes, and a read and a write more when it is
  // checkpointed). The search lookup (AppConfig::AuditLookupDatabaseUrl)
  // takes each entry at a random leaf of its patient and user indexes: its
  // pages of kAuditLookupPageSize make each such write a quarter of the
  // default's.
  store::Database& audit_db();
  static constexpr int kAuditTrailPageSize = 4096;
  static constexpr int kAuditLookupPageSize = 1024;
  // Writer page cache of the audit trail, in KiB (the main file's and the
  // lookup's writers keep the default 64 MiB: with 16 the lookup's indexer
  // read its random leaves back from the file and took the CPU the requests
  // needed, care search in a group 1,758-1,936 instead of 2,731-2,775 req/s).
  static constexpr int kAuditTrailWriterCacheKib = 4096;
  audit::AuditLog& audit();
  audit::AuditSigner& signer();
  auth::AccountService& accounts();
  auth::SessionService& sessions();
  auth::Totp& totp();
  registry::FacilityService& facilities();
  registry::PatientService& patients();
  clinical::ResourceStore& resources();
  consent::ConsentService& consents();
  documents::DocumentService& documents();
  oauth::ClientRegistry& system_clients();
  care::CareService& care();
  const AppConfig& config() const;

 private:
  Application();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::app
