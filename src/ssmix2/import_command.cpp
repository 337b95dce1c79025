#include "ssmix2/import_command.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "ssmix2/importer.hpp"

namespace tsunagu::ssmix2 {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxHl7FileBytes = 16ull << 20;

// Options of the application's configuration parser that take no value.
bool IsValuelessConfigFlag(std::string_view name) {
  return name == "allow-plain-http" || name == "secure-cookies" || name == "smtp-starttls";
}

struct Taken {
  std::vector<std::pair<std::string, std::string>> ours;  // name, value ("" for switches)
  std::vector<std::string> positional;
};

// Removes our flags and every positional argument from args.
core::Result<Taken> Take(std::vector<std::string>& args, const std::vector<std::string>& with_value,
                         const std::vector<std::string>& switches) {
  Taken t;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      t.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
      t.ours.emplace_back(name, inline_value ? value : "true");
      continue;
    }
    if (std::find(with_value.begin(), with_value.end(), name) != with_value.end()) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return core::InvalidInput("--" + name + " needs a value");
        value = args[++i];
      }
      t.ours.emplace_back(name, value);
      continue;
    }
    // The application's option: keep it and its value.
    rest.push_back(a);
    if (!inline_value && !IsValuelessConfigFlag(name) && i + 1 < args.size()) {
      rest.push_back(args[++i]);
    }
  }
  args = std::move(rest);
  return t;
}

bool ParseNumber(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool Truthy(const std::string& v) { return v == "true" || v == "1" || v == "yes" || v == "on"; }

std::string Thousands(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return n < 0 ? "-" + s : s;
}

std::string Duration(int64_t seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return buf;
}

std::string ProgressText(const ImportProgress& p) {
  std::ostringstream s;
  s << Thousands(p.files_done) << "/" << (p.total_final ? "" : "~")
    << Thousands(p.files_total_estimate) << " files  "
    << Thousands(static_cast<int64_t>(p.messages_per_second)) << " msg/s  ETA "
    << (p.eta_seconds < 0 ? std::string("--:--") : Duration(p.eta_seconds));
  return s.str();
}

std::string Bar(const ImportProgress& p) {
  constexpr int kWidth = 30;
  int filled = p.files_total_estimate > 0
                   ? static_cast<int>(kWidth * p.files_done / p.files_total_estimate)
                   : 0;
  filled = std::clamp(filled, 0, kWidth);
  return "[" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(kWidth - filled), '-') + "]";
}

int Fail(std::ostream& err, const core::Status& s) {
  err << "error: " << s.message();
  if (!s.detail().empty() && s.detail() != s.message()) err << " (" << s.detail() << ")";
  err << "\n";
  return s.code() == core::Code::kInvalidInput || s.code() == core::Code::kNotFound ||
                 s.code() == core::Code::kForbidden
             ? 2
             : 1;
}

void PrintRecords(std::ostream& out, const clinical::WriteStats& r) {
  out << "  records            inserted " << Thousands(r.inserted) << ", updated "
      << Thousands(r.updated) << ", unchanged " << Thousands(r.unchanged) << ", retracted "
      << Thousands(r.retracted) << ", older ignored " << Thousands(r.older_ignored) << "\n";
}

}  // namespace

const char* const kImportUsage =
    "usage: tsunagu import ss-mix2 --facility CODE [--watch] [--poll SECONDS] [--rescan]\n"
    "                              [--quarantine DIR] [--max-file-mb N] [options] DIR\n"
    "       tsunagu import hl7 --facility CODE [options] FILE...\n";

core::Result<Ssmix2ImportArgs> TakeSsmix2ImportArgs(std::vector<std::string>& args) {
  TSUNAGU_ASSIGN_OR_RETURN(
      Taken t, Take(args, {"facility", "quarantine", "poll", "max-file-mb"}, {"watch", "rescan"}));
  Ssmix2ImportArgs a;
  for (const auto& [name, value] : t.ours) {
    int64_t n = 0;
    if (name == "facility") {
      a.facility_code = value;
    } else if (name == "quarantine") {
      a.quarantine_dir = value;
    } else if (name == "watch") {
      a.watch = Truthy(value);
    } else if (name == "rescan") {
      a.rescan = Truthy(value);
    } else if (name == "poll") {
      if (!ParseNumber(value, n) || n < 1 || n > 3600) {
        return core::InvalidInput("--poll must be 1..3600 seconds");
      }
      a.poll_seconds = static_cast<int>(n);
    } else if (name == "max-file-mb") {
      if (!ParseNumber(value, n) || n < 1 || n > 1024) {
        return core::InvalidInput("--max-file-mb must be 1..1024");
      }
      a.max_file_bytes = static_cast<uint64_t>(n) << 20;
    }
  }
  if (a.facility_code.empty()) {
    return core::InvalidInput(std::string("--facility CODE is required\n") + kImportUsage);
  }
  if (t.positional.size() != 1) {
    return core::InvalidInput(std::string("give exactly one SS-MIX2 storage directory\n") +
                              kImportUsage);
  }
  a.root = t.positional[0];
  return a;
}

core::Result<Hl7ImportArgs> TakeHl7ImportArgs(std::vector<std::string>& args) {
  TSUNAGU_ASSIGN_OR_RETURN(Taken t, Take(args, {"facility"}, {}));
  Hl7ImportArgs a;
  for (const auto& [name, value] : t.ours) {
    if (name == "facility") a.facility_code = value;
  }
  if (a.facility_code.empty()) {
    return core::InvalidInput(std::string("--facility CODE is required\n") + kImportUsage);
  }
  if (t.positional.empty()) {
    return core::InvalidInput(std::string("give at least one HL7 file\n") + kImportUsage);
  }
  a.files = std::move(t.positional);
  return a;
}

core::Result<registry::Facility> FindFacilityByCode(registry::FacilityService& facilities,
                                                    std::string_view code) {
  if (code.empty()) return core::InvalidInput("a medical institution code is required");
  auto f = facilities.FindByCode(code);
  if (!f) return core::NotFound("no facility has this medical institution code");
  if (f->status != "active") return core::Forbidden("the facility is suspended");
  return f;
}

int RunImportSsmix2(const ImportDeps& deps, const Ssmix2ImportArgs& args, std::ostream& out,
                    std::ostream& err) {
  auto facility = FindFacilityByCode(deps.facilities, args.facility_code);
  if (!facility) return Fail(err, facility.error());

  ImportOptions o;
  o.facility_id = facility->id;
  o.facility_code = facility->code;
  o.quarantine_dir =
      args.quarantine_dir.empty()
          ? (fs::path(deps.data_dir) / "quarantine" / "ss-mix2" / facility->code).string()
          : args.quarantine_dir;
  o.max_file_bytes = args.max_file_bytes;
  o.rescan = args.rescan;
  bool tty = deps.progress_tty;
  o.progress_interval_millis = tty ? 250 : 10000;
  bool bar_shown = false;
  o.on_progress = [&](const ImportProgress& p) {
    if (tty) {
      out << "\r" << Bar(p) << " " << ProgressText(p) << "   " << std::flush;
      bar_shown = true;
      if (p.finished) {
        out << "\n";
        bar_shown = false;
      }
    } else if (!p.finished) {
      out << "progress: " << ProgressText(p) << "\n" << std::flush;
    }
  };
  o.on_quarantine = [&](const QuarantinedFile& q) {
    if (bar_shown) out << "\n" << std::flush;
    bar_shown = false;
    err << "quarantined: " << q.path << ": " << q.reason << "\n";
  };

  out << "Importing SS-MIX2 storage " << args.root << " for facility " << facility->code
      << (args.watch ? " (watching for new files; stop with Ctrl-C)" : "") << "\n";
  Ssmix2Importer importer(deps.db, deps.resources, deps.clock);
  core::Result<ImportSummary> summary = core::Internal("not run");
  if (args.watch) {
    static const std::atomic<bool> kNever{false};
    summary = importer.Watch(args.root, o, std::chrono::seconds(args.poll_seconds),
                             deps.stop ? *deps.stop : kNever);
  } else {
    summary = importer.Import(args.root, o);
  }
  if (!summary) return Fail(err, summary.error());
  const ImportSummary& s = *summary;
  out << "  files imported     " << Thousands(s.files_imported) << "\n"
      << "  files unchanged    " << Thousands(s.files_unchanged) << "\n"
      << "  files quarantined  " << Thousands(s.files_quarantined);
  if (s.files_quarantined > 0) out << " (copies and reasons in " << o.quarantine_dir << ")";
  out << "\n";
  if (s.files_deferred > 0) {
    out << "  files deferred     " << Thousands(s.files_deferred)
        << " (modified within the last second; picked up by the next run)\n";
  }
  out << "  messages           " << Thousands(s.messages) << "\n";
  PrintRecords(out, s.records);
  double secs = static_cast<double>(s.elapsed_millis) / 1000.0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f s", secs);
  out << "  elapsed            " << buf;
  if (secs > 0) {
    out << " (" << Thousands(static_cast<int64_t>(static_cast<double>(s.messages) / secs))
        << " messages/s)";
  }
  out << "\n";
  return 0;
}

int RunImportHl7(const ImportDeps& deps, const Hl7ImportArgs& args, std::ostream& out,
                 std::ostream& err) {
  auto facility = FindFacilityByCode(deps.facilities, args.facility_code);
  if (!facility) return Fail(err, facility.error());
  SourceContext ctx;
  ctx.facility_id = facility->id;
  ctx.facility_code = facility->code;
  int64_t messages = 0, bad = 0, files = 0;
  clinical::WriteStats total;
  for (const auto& file : args.files) {
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    if (ec) {
      err << file << ": cannot read (" << ec.message() << ")\n";
      ++bad;
      continue;
    }
    if (size > kMaxHl7FileBytes) {
      err << file << ": too large (" << size << " bytes, limit " << kMaxHl7FileBytes << ")\n";
      ++bad;
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    std::string bytes(static_cast<size_t>(size), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in) {
      err << file << ": cannot read\n";
      ++bad;
      continue;
    }
    ++files;
    std::vector<clinical::CheckedRecord> records;
    auto parts = SplitMessages(bytes);
    if (parts.empty()) {
      err << file << ": no HL7 message (no MSH segment)\n";
      ++bad;
      continue;
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      auto mapped = ParseAndMap(parts[i], ctx);
      if (!mapped) {
        err << file << ": message " << (i + 1) << ": " << mapped.error().message() << "\n";
        ++bad;
        continue;
      }
      ++messages;
      for (auto& r : *mapped) records.push_back(std::move(r));
    }
    for (size_t at = 0; at < records.size(); at += clinical::ResourceStore::kMaxBatch) {
      size_t n = std::min(clinical::ResourceStore::kMaxBatch, records.size() - at);
      auto stats =
          deps.resources.Write(std::span<const clinical::CheckedRecord>(records.data() + at, n));
      if (!stats) {
        if (stats.error().code() == core::Code::kInvalidInput) {
          err << file << ": rejected by the store: " << stats.error().message() << "\n";
          ++bad;
          break;
        }
        return Fail(err, stats.error());
      }
      total.inserted += stats->inserted;
      total.updated += stats->updated;
      total.unchanged += stats->unchanged;
      total.retracted += stats->retracted;
      total.older_ignored += stats->older_ignored;
    }
  }
  out << "HL7 import for facility " << facility->code << "\n"
      << "  files              " << Thousands(files) << "\n"
      << "  messages imported  " << Thousands(messages) << "\n"
      << "  messages rejected  " << Thousands(bad) << "\n";
  PrintRecords(out, total);
  return 0;
}

}  // namespace tsunagu::ssmix2
