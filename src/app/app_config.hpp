#pragma once
// Configuration of `tsunagu serve` and the other subcommands: defaults, then
// the INI file (--config), then command-line flags. Documented in
// docs/configuration.md.
#include <string>
#include <vector>

#include "core/status.hpp"
#include "http/server.hpp"
#include "mail/mailer.hpp"

namespace tsunagu::app {

struct AppConfig {
  std::string data_dir = "data";
  std::string db_url;  // empty: sqlite:<data_dir>/tsunagu.db
  http::ServerOptions server;
  std::string public_url;   // empty: http(s)://<address>:<port>
  mail::SmtpSettings smtp;  // smtp.url empty: mails go to the log
  std::string log_file;
  std::string log_level = "info";
  bool secure_cookies = false;  // forced on with TLS
  uint16_t mllp_port = 0;       // 0 = no HL7 MLLP listener
  // How long facility records are served from memory (0 = read every time).
  int64_t directory_cache_ms = 1000;
  std::string mllp_address = "127.0.0.1";
  // Largest file a care post may carry (bytes; flag in MB).
  int64_t care_file_max_bytes = 20 * 1024 * 1024;
  // New care groups wait for the secretariat's approval (network setting).
  bool care_group_approval = false;
  // How long care notifications wait for a user's digest mail (ms; flag in
  // minutes, fractions allowed).
  int64_t care_digest_ms = int64_t{60} * 60 * 1000;

  std::string DatabaseUrl() const;
  // Where the audit log lives: with SQLite, a file of its own next to the
  // main one (tsunagu.db -> tsunagu-audit.db), so that the audit entry
  // written for every read does not invalidate the readers' page caches of
  // the main file; empty with PostgreSQL (the same database).
  std::string AuditDatabaseUrl() const;
  // The audit log's search lookup (tsunagu-audit-lookup.db next to the audit
  // file; derived data, rebuilt when missing); empty with PostgreSQL.
  std::string AuditLookupDatabaseUrl() const;
  std::string PublicUrl() const;
};

// Parses "--flag value" / "--flag=value" arguments (after the subcommand).
// InvalidInput for unknown flags or bad values.
core::Result<AppConfig> ParseConfig(const std::vector<std::string>& args);
std::string ConfigUsage();

}  // namespace tsunagu::app
