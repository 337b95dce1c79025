#include "app/app_config.hpp"

#include <filesystem>
#include <functional>
#include <map>

#include "core/config.hpp"
#include "store/database.hpp"

namespace tsunagu::app {
namespace {

core::Status SetInt(const std::string& key, const std::string& v, int64_t lo, int64_t hi,
                    int64_t& out) {
  try {
    size_t pos = 0;
    int64_t n = std::stoll(v, &pos);
    if (pos != v.size() || n < lo || n > hi) throw std::out_of_range(key);
    out = n;
    return core::Status::Ok();
  } catch (const std::exception&) {
    return core::InvalidInput(key + " must be a number between " + std::to_string(lo) + " and " +
                              std::to_string(hi));
  }
}

bool Truthy(const std::string& v) { return v == "1" || v == "true" || v == "yes" || v == "on"; }

using Setter = std::function<core::Status(AppConfig&, const std::string&)>;

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"data",
       [](AppConfig& c, const std::string& v) {
         c.data_dir = v;
         return core::Status::Ok();
       }},
      {"db",
       [](AppConfig& c, const std::string& v) {
         c.db_url = v;
         return core::Status::Ok();
       }},
      {"address",
       [](AppConfig& c, const std::string& v) {
         c.server.address = v;
         return core::Status::Ok();
       }},
      {"port",
       [](AppConfig& c, const std::string& v) {
         int64_t n = 0;
         TSUNAGU_RETURN_IF_ERROR(SetInt("port", v, 0, 65535, n));
         c.server.port = static_cast<uint16_t>(n);
         return core::Status::Ok();
       }},
      {"threads",
       [](AppConfig& c, const std::string& v) {
         int64_t n = 0;
         TSUNAGU_RETURN_IF_ERROR(SetInt("threads", v, 1, 256, n));
         c.server.threads = static_cast<int>(n);
         return core::Status::Ok();
       }},
      {"static",
       [](AppConfig& c, const std::string& v) {
         c.server.static_root = v;
         return core::Status::Ok();
       }},
      {"tls-cert",
       [](AppConfig& c, const std::string& v) {
         c.server.tls_cert = v;
         return core::Status::Ok();
       }},
      {"tls-key",
       [](AppConfig& c, const std::string& v) {
         c.server.tls_key = v;
         return core::Status::Ok();
       }},
      {"allow-plain-http",
       [](AppConfig& c, const std::string& v) {
         c.server.allow_plain_http_on_public = Truthy(v);
         return core::Status::Ok();
       }},
      {"secure-cookies",
       [](AppConfig& c, const std::string& v) {
         c.secure_cookies = Truthy(v);
         return core::Status::Ok();
       }},
      {"public-url",
       [](AppConfig& c, const std::string& v) {
         c.public_url = v;
         return core::Status::Ok();
       }},
      {"smtp-url",
       [](AppConfig& c, const std::string& v) {
         c.smtp.url = v;
         return core::Status::Ok();
       }},
      {"smtp-from",
       [](AppConfig& c, const std::string& v) {
         c.smtp.from = v;
         return core::Status::Ok();
       }},
      {"smtp-user",
       [](AppConfig& c, const std::string& v) {
         c.smtp.username = v;
         return core::Status::Ok();
       }},
      {"smtp-password",
       [](AppConfig& c, const std::string& v) {
         c.smtp.password = v;
         return core::Status::Ok();
       }},
      {"smtp-starttls",
       [](AppConfig& c, const std::string& v) {
         c.smtp.starttls = Truthy(v);
         return core::Status::Ok();
       }},
      {"log-file",
       [](AppConfig& c, const std::string& v) {
         c.log_file = v;
         return core::Status::Ok();
       }},
      {"log-level",
       [](AppConfig& c, const std::string& v) {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return core::InvalidInput("log-level must be debug, info, warn or error");
         }
         c.log_level = v;
         return core::Status::Ok();
       }},
      {"read-timeout-ms",
       [](AppConfig& c, const std::string& v) {
         int64_t n = 0;
         TSUNAGU_RETURN_IF_ERROR(SetInt("read-timeout-ms", v, 100, 600000, n));
         c.server.read_timeout_ms = static_cast<int>(n);
         return core::Status::Ok();
       }},
      {"idle-timeout-ms",
       [](AppConfig& c, const std::string& v) {
         int64_t n = 0;
         TSUNAGU_RETURN_IF_ERROR(SetInt("idle-timeout-ms", v, 100, 3600000, n));
         c.server.idle_timeout_ms = static_cast<int>(n);
         return core::Status::Ok();
       }},
      {"mllp-port",
       [](AppConfig& c, const std::string& v) {
         int64_t n = 0;
         TSUNAGU_RETURN_IF_ERROR(SetInt("mllp-port", v, 1, 65535, n));
         c.mllp_port = static_cast<uint16_t>(n);
         return core::Status::Ok();
       }},
      {"mllp-address",
       [](AppConfig& c, const std::string& v) {
         c.mllp_address = v;
         return core::Status::Ok();
       }},
      {"access-log",
       [](AppConfig& c, const std::string& v) {
         c.server.access_log = Truthy(v);
         return core::Status::Ok();
       }},
      {"directory-cache-ms",
       [](AppConfig& c, const std::string& v) {
         TSUNAGU_RETURN_IF_ERROR(SetInt("directory-cache-ms", v, 0, 60000, c.directory_cache_ms));
         return core::Status::Ok();
       }},
      {"care-file-max-mb",
       [](AppConfig& c, const std::string& v) {
         int64_t n = 0;
         TSUNAGU_RETURN_IF_ERROR(SetInt("care-file-max-mb", v, 1, 200, n));
         c.care_file_max_bytes = n * 1024 * 1024;
         return core::Status::Ok();
       }},
      {"care-group-approval",
       [](AppConfig& c, const std::string& v) {
         c.care_group_approval = Truthy(v);
         return core::Status::Ok();
       }},
      {"care-digest-minutes",
       [](AppConfig& c, const std::string& v) {
         // Fractions allow short intervals for tests and trials (0.05 = 3 s).
         try {
           size_t pos = 0;
           double minutes = std::stod(v, &pos);
           if (pos != v.size() || !(minutes >= 0.01 && minutes <= 10080)) {
             throw std::out_of_range(v);
           }
           c.care_digest_ms = static_cast<int64_t>(minutes * 60000 + 0.5);
           return core::Status::Ok();
         } catch (const std::exception&) {
           return core::InvalidInput("care-digest-minutes must be a number between 0.01 and 10080");
         }
       }},
  };
  return kSetters;
}

// INI keys ("section.key") -> flag names.
const std::map<std::string, std::string>& IniKeys() {
  static const std::map<std::string, std::string> kKeys = {
      {"data.dir", "data"},
      {"database.url", "db"},
      {"server.address", "address"},
      {"server.port", "port"},
      {"server.threads", "threads"},
      {"server.static", "static"},
      {"server.public_url", "public-url"},
      {"server.allow_plain_http", "allow-plain-http"},
      {"server.secure_cookies", "secure-cookies"},
      {"server.read_timeout_ms", "read-timeout-ms"},
      {"server.idle_timeout_ms", "idle-timeout-ms"},
      {"server.access_log", "access-log"},
      {"server.directory_cache_ms", "directory-cache-ms"},
      {"tls.cert", "tls-cert"},
      {"tls.key", "tls-key"},
      {"smtp.url", "smtp-url"},
      {"smtp.from", "smtp-from"},
      {"smtp.username", "smtp-user"},
      {"smtp.password", "smtp-password"},
      {"smtp.starttls", "smtp-starttls"},
      {"mllp.port", "mllp-port"},
      {"mllp.address", "mllp-address"},
      {"log.file", "log-file"},
      {"log.level", "log-level"},
      {"care.file_max_mb", "care-file-max-mb"},
      {"care.digest_minutes", "care-digest-minutes"},
      {"care.group_approval", "care-group-approval"},
  };
  return kKeys;
}

}  // namespace

std::string AppConfig::DatabaseUrl() const {
  return db_url.empty() ? "sqlite:" + data_dir + "/tsunagu.db" : db_url;
}

std::string AppConfig::AuditDatabaseUrl() const {
  std::optional<std::string> sqlite = store::SqlitePathOf(DatabaseUrl());
  if (!sqlite || *sqlite == ":memory:") return "";
  std::string path = *sqlite;
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".db") == 0) {
    path.resize(path.size() - 3);
  }
  return "sqlite:" + path + "-audit.db";
}

std::string AppConfig::AuditLookupDatabaseUrl() const {
  std::string url = AuditDatabaseUrl();
  if (url.empty()) return url;
  url.resize(url.size() - 3);  // ".db"
  return url + "-lookup.db";
}

std::string AppConfig::PublicUrl() const {
  if (!public_url.empty()) return public_url;
  std::string host =
      server.address == "0.0.0.0" || server.address == "::" ? "localhost" : server.address;
  bool tls = !server.tls_cert.empty();
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(server.port);
}

core::Result<AppConfig> ParseConfig(const std::vector<std::string>& args) {
  AppConfig c;
  c.smtp.from = "Tsunagu <noreply@tsunagu.local>";
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) return core::InvalidInput("unexpected argument: " + a);
    std::string name = a.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name == "allow-plain-http" || name == "secure-cookies" || name == "smtp-starttls" ||
               name == "care-group-approval") {
      value = "true";
    } else {
      if (i + 1 >= args.size()) return core::InvalidInput("--" + name + " needs a value");
      value = args[++i];
    }
    if (name == "config") {
      config_path = value;
      continue;
    }
    if (!Setters().count(name)) return core::InvalidInput("unknown option --" + name);
    flags.emplace_back(name, value);
  }
  if (!config_path.empty()) {
    TSUNAGU_ASSIGN_OR_RETURN(core::ConfigFile file, core::ConfigFile::Load(config_path));
    for (const auto& [key, value] : file.values()) {
      auto it = IniKeys().find(key);
      if (it == IniKeys().end()) {
        return core::InvalidInput("unknown setting '" + key + "' in " + config_path);
      }
      TSUNAGU_RETURN_IF_ERROR(Setters().at(it->second)(c, value));
    }
  }
  for (const auto& [name, value] : flags) TSUNAGU_RETURN_IF_ERROR(Setters().at(name)(c, value));
  if (c.server.tls_cert.empty() != c.server.tls_key.empty()) {
    return core::InvalidInput("--tls-cert and --tls-key go together");
  }
  if (!c.server.tls_cert.empty()) c.secure_cookies = true;
  return c;
}

std::string ConfigUsage() {
  return R"(Options (also settable in an INI file given with --config FILE):
  --data DIR             data directory (default ./data)              [data] dir
  --db URL               postgresql://user@host:port/db or sqlite:PATH [database] url
                         (default sqlite:DATA/tsunagu.db)
  --address ADDR         listen address (default 127.0.0.1)            [server] address
  --port N               listen port (default 8080; 0 = any free)      [server] port
  --threads N            worker threads (default 2)                    [server] threads
  --static DIR           built web app (default ./web/dist if present) [server] static
  --public-url URL       external URL used in mails                    [server] public_url
  --allow-plain-http     allow plain HTTP on a non-loopback address    [server] allow_plain_http
  --tls-cert PEM --tls-key PEM   serve HTTPS (TLS 1.3 only)            [tls] cert / key
  --smtp-url URL         smtp://host:port or smtps://host:port         [smtp] url
  --smtp-from ADDR --smtp-user USER --smtp-password PW --smtp-starttls [smtp] from/username/password/starttls
  --mllp-port N --mllp-address A   HL7 v2 MLLP listener (default 127.0.0.1) [mllp] port / address
  --log-file PATH --log-level debug|info|warn|error                    [log] file / level
  --care-file-max-mb N   largest file on a care post (default 20)     [care] file_max_mb
  --care-digest-minutes M  care digest mail interval (default 60)   [care] digest_minutes
  --care-group-approval    new care groups need the secretariat's approval
                                                                   [care] group_approval
)";
}

}  // namespace tsunagu::app
