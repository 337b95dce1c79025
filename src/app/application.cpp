#include "app/application.hpp"

#include <filesystem>
#include <thread>

#include "audit/audit_head_signer.hpp"
#include "audit/audit_log.hpp"
#include "audit/audit_routes.hpp"
#include "audit/audit_signer.hpp"
#include "auth/account_service.hpp"
#include "auth/auth_routes.hpp"
#include "auth/password_hasher.hpp"
#include "auth/session_service.hpp"
#include "auth/totp.hpp"
#include "care/board_routes.hpp"
#include "care/board_service.hpp"
#include "care/care_notifier.hpp"
#include "care/care_routes.hpp"
#include "care/care_service.hpp"
#include "care/conversation_routes.hpp"
#include "care/conversation_service.hpp"
#include "care/invitation_routes.hpp"
#include "care/invitation_service.hpp"
#include "care/notification_routes.hpp"
#include "care/notification_settings.hpp"
#include "care/schedule_service.hpp"
#include "clinical/clinical_routes.hpp"
#include "clinical/resource_store.hpp"
#include "clinical/timeline_service.hpp"
#include "consent/access_policy.hpp"
#include "consent/consent_routes.hpp"
#include "consent/consent_service.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "documents/document_routes.hpp"
#include "documents/document_service.hpp"
#include "fhir/fhir_routes.hpp"
#include "fhir/fhir_service.hpp"
#include "fhir/fhir_writer.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/websocket_hub.hpp"
#include "jahis/dispensing_import.hpp"
#include "jahis/jahis_routes.hpp"
#include "mail/mailer.hpp"
#include "oauth/client_registry.hpp"
#include "oauth/oauth_routes.hpp"
#include "oauth/token_service.hpp"
#include "registry/facility_service.hpp"
#include "registry/mpi_routes.hpp"
#include "registry/patient_matcher.hpp"
#include "registry/patient_service.hpp"
#include "registry/registry_routes.hpp"
#include "ssmix2/importer.hpp"
#include "ssmix2/mllp_listener.hpp"
#include "store/blob_store.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::app {

struct Application::Impl {
  AppConfig config;
  const core::Clock& clock = core::SystemClock::Instance();
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::Database> audit_db;         // null: the audit log is in db
  std::unique_ptr<store::Database> audit_lookup_db;  // null: in audit_db()
  std::unique_ptr<audit::AuditSigner> signer;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<auth::PasswordHasher> hasher;
  std::unique_ptr<auth::Totp> totp;
  std::unique_ptr<auth::AccountService> accounts;
  std::unique_ptr<registry::FacilityService> facilities;
  std::unique_ptr<registry::PatientService> patients;
  std::unique_ptr<auth::SessionService> sessions;
  std::unique_ptr<mail::Mailer> mailer;
  std::unique_ptr<store::BlobStore> blobs;
  std::unique_ptr<registry::PatientMatcher> matcher;
  std::unique_ptr<consent::ConsentService> consents;
  std::unique_ptr<consent::AccessPolicy> access;
  std::unique_ptr<clinical::ResourceStore> resources;
  std::unique_ptr<clinical::TimelineService> timeline;
  std::unique_ptr<jahis::DispensingImport> dispensing_import;
  std::unique_ptr<documents::DocumentService> documents;
  std::unique_ptr<store::BlobStore> care_files;  // the care module's own blobs
  std::unique_ptr<care::CareService> care;
  std::unique_ptr<care::ConversationService> care_conversations;
  std::unique_ptr<care::BoardService> care_board;
  std::unique_ptr<care::ScheduleService> care_schedule;
  std::unique_ptr<care::CareInvitationService> care_invitations;
  std::unique_ptr<care::NotificationSettings> care_notify_settings;
  std::unique_ptr<fhir::FhirService> fhir;
  std::unique_ptr<fhir::FhirWriter> fhir_writer;
  std::unique_ptr<oauth::ClientRegistry> system_clients;
  std::unique_ptr<oauth::TokenService> oauth_tokens;
};

Application::Application() : impl_(std::make_unique<Impl>()) {}
Application::~Application() = default;

core::Result<std::unique_ptr<Application>> Application::Open(const AppConfig& config) {
  std::unique_ptr<Application> app(new Application());
  Impl& m = *app->impl_;
  m.config = config;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir + "/keys", ec);
  if (ec) return core::Unavailable("cannot create the data directory " + config.data_dir);
  std::filesystem::permissions(config.data_dir + "/keys", std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);

  store::OpenOptions main_options;
  main_options.sqlite_page_size = kMainPageSize;
  TSUNAGU_ASSIGN_OR_RETURN(m.db, store::OpenDatabase(config.DatabaseUrl(), main_options));
  TSUNAGU_RETURN_IF_ERROR(store::ApplyMigrations(
      *m.db, {audit::AuditLog::Migrations(), auth::AccountService::Migrations(),
              registry::FacilityService::Migrations(), registry::PatientService::Migrations(),
              consent::ConsentService::Migrations(), clinical::ResourceStore::Migrations(),
              ssmix2::Ssmix2Importer::Migrations(), documents::DocumentService::Migrations(),
              care::CareService::Migrations(), care::ConversationService::Migrations(),
              care::BoardService::Migrations(), care::ScheduleService::Migrations(),
              care::CareNotifier::Migrations(), care::CareInvitationService::Migrations()}));
  TSUNAGU_ASSIGN_OR_RETURN(
      m.signer, audit::AuditSigner::OpenOrCreate(config.data_dir + "/keys/audit_ed25519.key"));
  if (std::string url = config.AuditDatabaseUrl(); !url.empty()) {
    // The trail is appended to: its writer touches only the last pages, and
    // a large cache would only keep every page written since the start.
    store::OpenOptions trail_options;
    trail_options.sqlite_page_size = kAuditTrailPageSize;
    trail_options.sqlite_writer_cache_kib = kAuditTrailWriterCacheKib;
    TSUNAGU_ASSIGN_OR_RETURN(m.audit_db, store::OpenDatabase(url, trail_options));
    TSUNAGU_RETURN_IF_ERROR(store::ApplyMigrations(*m.audit_db, {audit::AuditLog::Migrations()}));
    // A data dir of an earlier version keeps its log in the main file.
    TSUNAGU_ASSIGN_OR_RETURN(int64_t moved, audit::MoveAuditTrail(*m.db, *m.audit_db));
    if (moved > 0) {
      core::LogInfo("audit.moved", {{"entries", std::to_string(moved)}, {"to", url}});
    }
    // The search lookup in a third file: filling it never holds the audit
    // file's writer, which every audited request waits for.
    store::OpenOptions lookup_options;
    lookup_options.sqlite_page_size = kAuditLookupPageSize;
    TSUNAGU_ASSIGN_OR_RETURN(m.audit_lookup_db,
                             store::OpenDatabase(config.AuditLookupDatabaseUrl(), lookup_options));
    TSUNAGU_RETURN_IF_ERROR(
        store::ApplyMigrations(*m.audit_lookup_db, {audit::AuditLog::LookupMigrations()}));
  }
  m.audit = std::make_unique<audit::AuditLog>(app->audit_db(), m.clock, *m.signer,
                                              m.audit_lookup_db.get());
  m.audit->StartLookupIndexer();
  m.hasher = std::make_unique<auth::PasswordHasher>();
  m.totp = std::make_unique<auth::Totp>(m.clock);
  m.accounts = std::make_unique<auth::AccountService>(*m.db, m.clock, *m.hasher);
  m.facilities = std::make_unique<registry::FacilityService>(*m.db, m.clock);
  m.facilities->SetCacheMillis(config.directory_cache_ms);
  m.patients = std::make_unique<registry::PatientService>(*m.db, m.clock, *m.facilities);
  auto* facilities = m.facilities.get();
  m.sessions = std::make_unique<auth::SessionService>(
      *m.db, m.clock, *m.accounts, *m.hasher, *m.totp,
      [facilities](int64_t fid) { return facilities->RequiresMfa(fid); });
  m.mailer = config.smtp.url.empty() ? mail::MakeLogMailer() : mail::MakeSmtpMailer(config.smtp);
  m.blobs = std::make_unique<store::BlobStore>(config.data_dir + "/blobs");
  m.matcher = std::make_unique<registry::PatientMatcher>(*m.db);
  m.consents = std::make_unique<consent::ConsentService>(*m.db, m.clock, *m.blobs, *m.patients,
                                                         *m.facilities);
  m.access = std::make_unique<consent::AccessPolicy>(*m.consents);
  // System clients (OAuth client credentials, docs/oauth.md): bound to a
  // registry facility; the token endpoint URL is the assertions' audience.
  TSUNAGU_RETURN_IF_ERROR(store::ApplyMigrations(*m.db, {oauth::ClientRegistry::Migrations()}));
  m.system_clients = std::make_unique<oauth::ClientRegistry>(
      *m.db, m.clock, [facilities](int64_t id) -> std::optional<oauth::FacilityInfo> {
        auto f = facilities->Get(id);
        if (!f) return std::nullopt;
        return oauth::FacilityInfo{f->id, f->name, std::string(registry::ToString(f->type)),
                                   f->status == "active"};
      });
  std::string public_url = config.PublicUrl();
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  m.oauth_tokens = std::make_unique<oauth::TokenService>(*m.db, m.clock, *m.system_clients,
                                                         public_url + "/oauth/token");
  m.resources = std::make_unique<clinical::ResourceStore>(*m.db, m.clock);
  m.timeline = std::make_unique<clinical::TimelineService>(*m.resources, *m.patients, *m.facilities,
                                                           *m.access, *m.audit);
  m.dispensing_import = std::make_unique<jahis::DispensingImport>(
      *m.resources, *m.timeline, *m.patients, *m.facilities, *m.audit);
  m.documents = std::make_unique<documents::DocumentService>(*m.resources, *m.blobs, *m.timeline,
                                                             *m.audit, *m.db, m.clock, *m.patients);
  m.care = std::make_unique<care::CareService>(*m.db, m.clock, *m.patients, *m.consents,
                                               *m.accounts, *m.audit);
  m.care_conversations =
      std::make_unique<care::ConversationService>(*m.db, m.clock, *m.care, *m.accounts);
  m.care_board = std::make_unique<care::BoardService>(*m.db, m.clock, *m.care, *m.accounts);
  m.care_schedule = std::make_unique<care::ScheduleService>(*m.db, m.clock, *m.care, *m.accounts);
  m.care_invitations = std::make_unique<care::CareInvitationService>(
      *m.db, m.clock, *m.care, *m.accounts, *m.facilities, *m.consents, *m.mailer, public_url);
  m.care_notify_settings = std::make_unique<care::NotificationSettings>(*m.db, m.clock);
  // Post files live apart from the shared blobs so that the care module alone
  // decides when one is garbage (docs/care.md).
  m.care_files = std::make_unique<store::BlobStore>(config.data_dir + "/blobs/care");
  m.care->SetFileStore(m.care_files.get(), static_cast<size_t>(config.care_file_max_bytes));
  m.care->SetGroupApprovalRequired(config.care_group_approval);
  m.fhir = std::make_unique<fhir::FhirService>(*m.timeline, *m.patients, *m.facilities, *m.access,
                                               *m.audit, public_url + "/fhir");
  m.fhir_writer = std::make_unique<fhir::FhirWriter>(*m.resources, *m.patients, *m.facilities,
                                                     *m.documents, *m.audit, m.clock);
  return app;
}

int Application::Serve() {
  Impl& m = *impl_;
  http::Router router;
  auto* facilities = m.facilities.get();
  auth::AuthDeps auth_deps{*m.accounts,
                           *m.sessions,
                           *m.totp,
                           *m.audit,
                           [facilities](int64_t fid) { return facilities->NameOf(fid); },
                           m.config.secure_cookies};
  router.Use(auth::MakeSessionMiddleware(auth_deps));
  auth::RegisterAuthRoutes(router, auth_deps);
  oauth::OAuthDeps oauth_deps{*m.system_clients, *m.oauth_tokens, *m.audit};
  router.Use(oauth::MakeBearerMiddleware(oauth_deps));
  oauth::RegisterOAuthRoutes(router, oauth_deps);
  auto* accounts = m.accounts.get();
  audit::RegisterAuditRoutes(router, *m.audit, [accounts](int64_t uid) {
    auto u = accounts->Get(uid);
    return u ? u->display_name : std::string();
  });
  registry::RegistryDeps registry_deps{*m.facilities, *m.patients, *m.accounts,
                                       *m.audit,      *m.mailer,   m.config.PublicUrl()};
  registry::RegisterRegistryRoutes(router, registry_deps);
  registry::MpiDeps mpi_deps{*m.patients, *m.matcher, *m.facilities, *m.audit};
  registry::RegisterMpiRoutes(router, mpi_deps);
  consent::ConsentDeps consent_deps{*m.consents, *m.patients, *m.facilities, *m.audit};
  consent::RegisterConsentRoutes(router, consent_deps);
  clinical::ClinicalDeps clinical_deps{*m.timeline};
  clinical::RegisterClinicalRoutes(router, clinical_deps);
  jahis::JahisDeps jahis_deps{*m.dispensing_import};
  jahis::RegisterJahisRoutes(router, jahis_deps);
  documents::DocumentDeps document_deps{*m.documents, *m.facilities};
  documents::RegisterDocumentRoutes(router, document_deps);
  care::CareDeps care_deps{*m.care};
  care::InvitationDeps invitation_deps{*m.care_invitations};
  care::RegisterInvitationRoutes(router, invitation_deps);
  care::RegisterCareRoutes(router, care_deps);
  care::ConversationDeps conversation_deps{*m.care_conversations};
  care::RegisterConversationRoutes(router, conversation_deps);
  care::BoardDeps board_deps{*m.care_board, *m.care_schedule};
  care::RegisterBoardRoutes(router, board_deps);
  care::NotificationDeps notification_deps{*m.care_notify_settings, *m.accounts};
  care::RegisterNotificationRoutes(router, notification_deps);
  fhir::FhirDeps fhir_deps{*m.fhir, *m.fhir_writer, *m.documents};
  fhir::RegisterFhirRoutes(router, fhir_deps);

  http::ServerOptions options = m.config.server;
  if (options.static_root.empty() && std::filesystem::exists("web/dist/index.html")) {
    options.static_root = "web/dist";
  }
  http::Server server(options, router);
  auto* sessions = m.sessions.get();
  server.hub().SetAuthenticator([sessions](const http::Request& req) -> std::optional<int64_t> {
    auto token = req.Cookie("tsunagu_session");
    if (!token) return std::nullopt;
    auto s = sessions->Resolve(*token);
    if (!s) return std::nullopt;
    return s->principal.user_id;
  });
  if (auto st = server.Listen(); !st.ok()) {
    core::LogError("server.listen_failed", {{"error", st.ToString()}});
    return 1;
  }
  std::unique_ptr<ssmix2::MllpListener> mllp;
  if (m.config.mllp_port != 0) {
    ssmix2::MllpOptions mllp_options;
    mllp_options.address = m.config.mllp_address;
    mllp_options.port = m.config.mllp_port;
    mllp = std::make_unique<ssmix2::MllpListener>(*m.resources, *m.facilities, mllp_options);
    if (auto st = mllp->Start(); !st.ok()) {
      core::LogError("mllp.listen_failed", {{"error", st.ToString()}});
      return 1;
    }
    core::LogInfo("mllp.started", {{"port", std::to_string(mllp->port())}});
  }
  // Live care notifications over the hub; mail only with an SMTP server (the
  // log mailer would write group names to the log).
  care::NotifierOptions notify_options;
  notify_options.public_url = m.config.PublicUrl();
  notify_options.digest_interval_ms = m.config.care_digest_ms;
  care::CareNotifier notifier(*m.db, m.clock, *m.accounts, *m.care_notify_settings, server.hub(),
                              m.config.smtp.url.empty() ? nullptr : m.mailer.get(), notify_options);
  m.care->SetListener(&notifier);
  notifier.Start();
  audit::AuditHeadSigner head_signer(*m.audit);
  head_signer.Start();
  // Rows stored before summaries were (an upgraded database) get theirs in
  // the background; lists read correctly meanwhile, only slower.
  std::jthread summary_filler([&resources = *m.resources](std::stop_token stop) {
    std::string after;
    size_t filled = 0;
    while (!stop.stop_requested()) {
      auto n = resources.FillSummaries(after);
      if (!n.has_value()) {
        core::LogError("clinical.summaries_failed", {{"error", n.error().ToString()}});
        return;
      }
      if (*n == 0) break;
      if (filled == 0) core::LogInfo("clinical.summaries_filling");
      filled += *n;
    }
    if (filled > 0) {
      core::LogInfo("clinical.summaries_filled", {{"rows", std::to_string(filled)}});
    }
  });
  core::LogInfo(
      "server.started",
      {{"url", m.config.PublicUrl()},
       {"port", std::to_string(server.port())},
       {"database", m.db->dialect() == store::Dialect::kSqlite ? "sqlite" : "postgresql"}});
  server.Run();
  summary_filler.request_stop();
  summary_filler.join();
  m.care->SetListener(nullptr);
  notifier.Stop();
  if (mllp) mllp->Stop();
  head_signer.Stop();
  core::LogInfo("server.stopped");
  return 0;
}

store::Database& Application::db() { return *impl_->db; }
store::Database& Application::audit_db() { return impl_->audit_db ? *impl_->audit_db : *impl_->db; }
audit::AuditLog& Application::audit() { return *impl_->audit; }
audit::AuditSigner& Application::signer() { return *impl_->signer; }
auth::AccountService& Application::accounts() { return *impl_->accounts; }
auth::SessionService& Application::sessions() { return *impl_->sessions; }
auth::Totp& Application::totp() { return *impl_->totp; }
registry::FacilityService& Application::facilities() { return *impl_->facilities; }
registry::PatientService& Application::patients() { return *impl_->patients; }
clinical::ResourceStore& Application::resources() { return *impl_->resources; }
consent::ConsentService& Application::consents() { return *impl_->consents; }
documents::DocumentService& Application::documents() { return *impl_->documents; }
oauth::ClientRegistry& Application::system_clients() { return *impl_->system_clients; }
care::CareService& Application::care() { return *impl_->care; }
const AppConfig& Application::config() const { return impl_->config; }

}  // namespace tsunagu::app
