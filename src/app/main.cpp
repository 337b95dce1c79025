// tsunagu: the regional health and care information network server.
#include <unistd.h>

#ifdef TSUNAGU_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "app/app_config.hpp"
#include "app/application.hpp"
#include "app/demo.hpp"
#include "audit/audit_log.hpp"
#include "audit/verify_command.hpp"
#include "auth/account_service.hpp"
#include "core/log.hpp"
#include "oauth/client_registry.hpp"
#include "registry/facility_service.hpp"
#include "ssmix2/import_command.hpp"
#include "store/database.hpp"

namespace {

using tsunagu::app::AppConfig;
using tsunagu::app::Application;

constexpr const char* kUsage = R"(tsunagu — regional health and care information network

Usage:
  tsunagu serve [options]          start the server
  tsunagu demo [options]           seed the demo network into an empty database
  tsunagu audit verify [options]   check the audit chain and its signed head
  tsunagu admin init --login ID --name NAME --password PW --email MAIL [options]
                                   create the secretariat and its first network admin
  tsunagu admin reset-password --login ID [options]
                                   print a temporary password for a user
  tsunagu admin add-client --facility CODE --name NAME --public-key FILE
                           [--occupation X] [--scope "system/*.read ..."] [options]
                                   register a system client (OAuth, docs/oauth.md);
                                   prints its client_id
  tsunagu import ss-mix2 --facility CODE [--watch] [--quarantine DIR] [--rescan] DIR [options]
                                   import an SS-MIX2 standardized storage tree
  tsunagu import hl7 --facility CODE FILE... [options]
                                   import HL7 v2 message files
  tsunagu version

)";

int Fail(const tsunagu::core::Status& s) {
  std::cerr << "error: " << s.message();
  if (!s.detail().empty()) std::cerr << " (" << s.detail() << ")";
  std::cerr << "\n";
  return s.code() == tsunagu::core::Code::kInvalidInput ? 2 : 1;
}

// Splits off the flags a subcommand handles itself ("--login X").
std::string TakeFlag(std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--" + name) {
      std::string v = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      return v;
    }
  }
  return {};
}

tsunagu::core::Result<std::unique_ptr<Application>> OpenApp(const std::vector<std::string>& args) {
  auto config = tsunagu::app::ParseConfig(args);
  if (!config) return config.error();
  if (!config->log_file.empty()) tsunagu::core::SetLogFile(config->log_file);
  if (config->log_level == "debug") tsunagu::core::SetLogLevel(tsunagu::core::LogLevel::kDebug);
  if (config->log_level == "warn") tsunagu::core::SetLogLevel(tsunagu::core::LogLevel::kWarn);
  if (config->log_level == "error") tsunagu::core::SetLogLevel(tsunagu::core::LogLevel::kError);
  return Application::Open(*config);
}

int AdminInit(std::vector<std::string> args) {
  std::string login = TakeFlag(args, "login"), name = TakeFlag(args, "name"),
              password = TakeFlag(args, "password"), email = TakeFlag(args, "email"),
              facility_name = TakeFlag(args, "facility-name");
  if (login.empty() || name.empty() || password.empty()) {
    std::cerr << "admin init needs --login, --name and --password\n";
    return 2;
  }
  auto app = OpenApp(args);
  if (!app) return Fail(app.error());
  tsunagu::registry::Facility f;
  f.type = tsunagu::registry::FacilityType::kMunicipality;
  f.name = facility_name.empty() ? "地域医療連携ネットワーク事務局" : facility_name;
  f.kana = "ジムキョク";
  auto facility = (*app)->facilities().Create(f);
  if (!facility) return Fail(facility.error());
  tsunagu::auth::NewUser nu;
  nu.facility_id = facility->id;
  nu.login_id = login;
  nu.display_name = name;
  nu.email = email;
  nu.role = tsunagu::auth::Role::kNetworkAdmin;
  nu.password = password;
  nu.must_change_password = false;
  auto user = (*app)->accounts().Create(nu);
  if (!user) return Fail(user.error());
  tsunagu::audit::AuditEvent e;
  e.action = "admin.init";
  e.object = "user:" + std::to_string(user->id);
  e.outcome = "success";
  (void)(*app)->audit().Append(e);
  std::cout << "Created the secretariat (facility " << facility->id << ") and network admin '"
            << login << "'. Two-factor enrolment is asked at first login.\n";
  return 0;
}

int AdminResetPassword(std::vector<std::string> args) {
  std::string login = TakeFlag(args, "login");
  if (login.empty()) {
    std::cerr << "admin reset-password needs --login\n";
    return 2;
  }
  auto app = OpenApp(args);
  if (!app) return Fail(app.error());
  auto user = (*app)->accounts().FindByLogin(login);
  if (!user) return Fail(user.error());
  auto temp = (*app)->accounts().ResetPassword(user->id);
  if (!temp) return Fail(temp.error());
  tsunagu::audit::AuditEvent e;
  e.action = "user.reset_password";
  e.object = "user:" + std::to_string(user->id);
  e.outcome = "success";
  e.reason = "command line";
  (void)(*app)->audit().Append(e);
  std::cout << "Temporary password for " << login << ": " << *temp
            << "\n(must be changed at next login)\n";
  return 0;
}

int AdminAddClient(std::vector<std::string> args) {
  std::string code = TakeFlag(args, "facility"), name = TakeFlag(args, "name"),
              key_file = TakeFlag(args, "public-key"), occupation = TakeFlag(args, "occupation"),
              scope = TakeFlag(args, "scope");
  if (code.empty() || name.empty() || key_file.empty()) {
    std::cerr << "admin add-client needs --facility, --name and --public-key\n";
    return 2;
  }
  std::ifstream in(key_file);
  if (!in) {
    std::cerr << "cannot read the public key file " << key_file << "\n";
    return 2;
  }
  std::stringstream key;
  key << in.rdbuf();
  tsunagu::oauth::NewSystemClient n;
  n.name = name;
  n.public_key = key.str();
  n.scopes = scope;
  if (!occupation.empty()) {
    n.occupation = tsunagu::auth::ParseOccupation(occupation);
    if (!n.occupation) {
      std::cerr << "unknown occupation " << occupation << "\n";
      return 2;
    }
  }
  auto app = OpenApp(args);
  if (!app) return Fail(app.error());
  auto facility = (*app)->facilities().FindByCode(code);
  if (!facility) return Fail(facility.error());
  n.facility_id = facility->id;
  auto client = (*app)->system_clients().Register(n);
  if (!client) return Fail(client.error());
  std::string scopes;
  for (const auto& s : client->scopes) scopes += (scopes.empty() ? "" : " ") + s;
  tsunagu::audit::AuditEvent e;
  e.action = "oauth.client_register";
  e.object = "client:" + client->client_id;
  e.facility_id = client->facility_id;
  e.outcome = "success";
  e.reason = "command line; occupation " +
             std::string(tsunagu::auth::ToString(client->occupation)) + ", scopes " + scopes;
  (void)(*app)->audit().Append(e);
  std::cout << client->client_id << "\n";
  return 0;
}

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop = true; }

int Import(std::vector<std::string> args) {
#ifdef TSUNAGU_WITH_MIMALLOC
  // An import process allocates and frees the same few hundred MB of
  // records over and over: freed pages stay committed instead of being
  // handed back and faulted in again (about 6 % of the reading threads'
  // CPU). The server keeps mimalloc's default and returns idle memory.
  mi_option_disable(mi_option_allow_decommit);
#endif
  if (args.empty() || (args[0] != "ss-mix2" && args[0] != "hl7")) {
    std::cerr << tsunagu::ssmix2::kImportUsage;
    return 2;
  }
  const bool ssmix2 = args[0] == "ss-mix2";
  args.erase(args.begin());
  tsunagu::core::Result<tsunagu::ssmix2::Ssmix2ImportArgs> tree = tsunagu::core::InvalidInput("");
  tsunagu::core::Result<tsunagu::ssmix2::Hl7ImportArgs> files = tsunagu::core::InvalidInput("");
  if (ssmix2) {
    tree = tsunagu::ssmix2::TakeSsmix2ImportArgs(args);
    if (!tree) return Fail(tree.error());
  } else {
    files = tsunagu::ssmix2::TakeHl7ImportArgs(args);
    if (!files) return Fail(files.error());
  }
  auto app = OpenApp(args);
  if (!app) return Fail(app.error());
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  tsunagu::ssmix2::ImportDeps deps{(*app)->db(),
                                   (*app)->resources(),
                                   (*app)->facilities(),
                                   (*app)->config().data_dir,
                                   tsunagu::core::SystemClock::Instance(),
                                   &g_stop,
                                   isatty(STDOUT_FILENO) != 0};
  return ssmix2 ? tsunagu::ssmix2::RunImportSsmix2(deps, *tree, std::cout, std::cerr)
                : tsunagu::ssmix2::RunImportHl7(deps, *files, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage << tsunagu::app::ConfigUsage();
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "version" || cmd == "--version") {
      std::cout << "tsunagu " << TSUNAGU_VERSION << "\n";
      return 0;
    }
    if (cmd == "serve") {
      auto app = OpenApp(args);
      if (!app) return Fail(app.error());
      return (*app)->Serve();
    }
    if (cmd == "demo") {
      auto app = OpenApp(args);
      if (!app) return Fail(app.error());
      auto sheet = tsunagu::app::SeedDemo(**app);
      if (!sheet) {
        if (sheet.error().code() == tsunagu::core::Code::kConflict) {
          std::cout << "The database already holds a network; nothing seeded.\n";
          return 0;
        }
        return Fail(sheet.error());
      }
      std::cout << "Seeded the demo network.\n" << *sheet;
      return 0;
    }
    if (cmd == "audit" && !args.empty() && args[0] == "verify") {
      args.erase(args.begin());
      auto app = OpenApp(args);
      if (!app) return Fail(app.error());
      return tsunagu::audit::RunAuditVerify((*app)->audit_db(), (*app)->signer(), std::cout);
    }
    if (cmd == "import") return Import(args);
    if (cmd == "admin" && !args.empty() && args[0] == "init") {
      return AdminInit({args.begin() + 1, args.end()});
    }
    if (cmd == "admin" && !args.empty() && args[0] == "add-client") {
      return AdminAddClient({args.begin() + 1, args.end()});
    }
    if (cmd == "admin" && !args.empty() && args[0] == "reset-password") {
      return AdminResetPassword({args.begin() + 1, args.end()});
    }
  } catch (const std::exception& e) {
    tsunagu::core::LogError("fatal", {{"error", e.what()}});
    return 1;
  }
  std::cerr << "unknown command: " << cmd << "\n\n" << kUsage;
  return 2;
}
