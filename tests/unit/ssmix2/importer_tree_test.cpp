// Ssmix2Importer on SQLite and PostgreSQL: generated trees, re-import,
// resume, updates, cancellations and quarantine.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clinical/resource_store.hpp"
#include "core/clock.hpp"
#include "core/text.hpp"
#include "ssmix2/importer.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"
#include "tools/ssmix2_gen/generator.hpp"

namespace tsunagu::ssmix2 {
namespace {

namespace fs = std::filesystem;
using testing::Backend;

constexpr int64_t kFacility = 7;
constexpr const char* kCode = "0711234569";

int64_t CountFiles(const fs::path& root) {
  int64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// One prescription order (OMP-01), ISO-2022-JP, as an EHR writes it.
std::string Prescription(const std::string& pid, const std::string& order, const std::string& when,
                         const std::string& yj, const std::string& drug) {
  std::string utf8 =
      "MSH|^~\\&|HIS|" + std::string(kCode) + "|SSMIX2||" + when + "||RDE^O11^RDE_O11|C" + order +
      when +
      "|P|2.5||||||~ISO IR87||ISO 2022-1994\r"
      "PID|0001||" +
      pid +
      "^^^^PI||山田^太郎^^^^^L^I~ヤマダ^タロウ^^^^^L^P||19600115|M\r"
      "PV1|0001|O|01^^^^^C\r"
      "ORC|NW|" +
      order + "|||||||" + when + "|||110^鈴木^一郎^^^^^^^L^^^^^I|||" + when +
      "||01^内科^99Z01\r"
      "RXE||" +
      yj + "^" + drug +
      "^YJ|1||TAB^錠^MR9P|TAB^錠^MR9P||||21|TAB^錠^MR9P\r"
      "TQ1|1||1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01|||7^D&日&ISO+|" +
      when.substr(0, 8) +
      "\r"
      "RXR|PO^口^HL70162\r";
  return *core::EncodeIso2022Jp(utf8);
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

class ImporterTreeTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TSUNAGU_SKIP_IF_UNAVAILABLE(GetParam());
    tdb_ = std::make_unique<testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(tdb_->db(), {clinical::ResourceStore::Migrations(),
                                                    Ssmix2Importer::Migrations()})
                    .ok());
    resources_ = std::make_unique<clinical::ResourceStore>(tdb_->db(), clock_);
    importer_ = std::make_unique<Ssmix2Importer>(tdb_->db(), *resources_, clock_);
    root_ = fs::path(tdb_->dir()) / "ssmix2";
    quarantine_ = fs::path(tdb_->dir()) / "quarantine";
  }

  ImportOptions Options() const {
    ImportOptions o;
    o.facility_id = kFacility;
    o.facility_code = kCode;
    o.quarantine_dir = quarantine_.string();
    o.batch_records = 50;  // several batches even for small trees
    return o;
  }

  ssmix2gen::GeneratorStats Generate(int64_t patients, int64_t messages, uint64_t seed) {
    ssmix2gen::GeneratorOptions g;
    g.patients = patients;
    g.messages = messages;
    g.seed = seed;
    g.out = root_.string();
    g.facility_code = kCode;
    g.update_percent = 15;
    g.cancel_percent = 10;
    auto stats = ssmix2gen::GenerateTree(g);
    EXPECT_TRUE(stats.has_value()) << stats.error().message();
    return stats.value_or(ssmix2gen::GeneratorStats{});
  }

  ImportSummary Import(const ImportOptions& o) {
    auto s = importer_->Import(root_.string(), o);
    EXPECT_TRUE(s.has_value()) << s.error().message() << " " << s.error().detail();
    return s.value_or(ImportSummary{});
  }

  std::vector<clinical::StoredResource> Find(const std::string& type, const std::string& pid) {
    clinical::ResourceQuery q;
    q.patients = {{kFacility, pid}};
    q.resource_types = {type};
    q.limit = 1000;
    auto page = resources_->Search(q);
    EXPECT_TRUE(page.has_value());
    return page ? page->items : std::vector<clinical::StoredResource>{};
  }

  core::FakeClock clock_{1'767'225'600'000};
  std::unique_ptr<testing::TestDatabase> tdb_;
  std::unique_ptr<clinical::ResourceStore> resources_;
  std::unique_ptr<Ssmix2Importer> importer_;
  fs::path root_, quarantine_;
};

TEST_P(ImporterTreeTest, ImportsAGeneratedTreeAndReportsProgress) {
  auto gen = Generate(6, 120, 11);
  ASSERT_GT(gen.files, 100);
  std::vector<ImportProgress> reports;
  ImportOptions o = Options();
  o.progress_interval_millis = 0;
  o.on_progress = [&](const ImportProgress& p) { reports.push_back(p); };
  ImportSummary s = Import(o);
  for (const auto& q : s.quarantined) ADD_FAILURE() << q.path << ": " << q.reason;
  EXPECT_EQ(s.files_seen, gen.files);
  EXPECT_EQ(s.files_imported, gen.files);
  EXPECT_EQ(s.files_quarantined, 0);
  EXPECT_EQ(s.messages, gen.files);
  EXPECT_GT(s.records.inserted, gen.files / 2);
  ASSERT_FALSE(reports.empty());
  EXPECT_TRUE(reports.back().finished);
  EXPECT_EQ(reports.back().files_done, gen.files);
  EXPECT_EQ(reports.back().messages, gen.files);
  // Patient demographics of the first generated patient are there.
  EXPECT_EQ(Find("Patient", "0001000000").size(), 1u);
}

// More patient directories than are read ahead at once: every patient is
// imported, a bad file in the middle is reported alone, and progress only
// moves forward.
TEST_P(ImporterTreeTest, ManyPatientDirectoriesAreReadAheadAndAllImported) {
  auto gen = Generate(60, 600, 21);
  std::vector<std::string> patients;
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
       ++it) {
    if (it.depth() != 2) continue;
    it.disable_recursion_pending();
    patients.push_back(it->path().filename().string());
  }
  ASSERT_EQ(patients.size(), 60u);
  std::sort(patients.begin(), patients.end());
  // Break one file of the 40th patient (not the demographics).
  fs::path broken;
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    std::string path = e.path().string();
    if (e.is_regular_file() && path.find(patients[39]) != std::string::npos &&
        path.find("ADT-00") == std::string::npos) {
      broken = e.path();
      break;
    }
  }
  ASSERT_FALSE(broken.empty());
  WriteFile(broken, "this is not HL7");
  std::vector<int64_t> done;
  ImportProgress last;
  bool eta_shown = false;
  ImportOptions o = Options();
  o.progress_interval_millis = 0;
  o.on_progress = [&](const ImportProgress& p) {
    done.push_back(p.files_done);
    last = p;
    if (!p.finished && p.eta_seconds >= 0) eta_shown = true;
    // The estimate (extrapolated from the patient directories done) never
    // promises fewer files than are already done.
    EXPECT_GE(p.files_total_estimate, p.files_done);
  };
  ImportSummary s = Import(o);
  EXPECT_EQ(s.files_seen, gen.files);
  EXPECT_EQ(s.files_imported, gen.files - 1);
  ASSERT_EQ(s.files_quarantined, 1);
  ASSERT_EQ(s.quarantined.size(), 1u);
  EXPECT_EQ(root_ / s.quarantined[0].path, broken);
  EXPECT_EQ(s.messages, gen.files - 1);
  for (const auto& pid : patients) EXPECT_EQ(Find("Patient", pid).size(), 1u) << pid;
  ASSERT_FALSE(done.empty());
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
  EXPECT_EQ(done.back(), gen.files);
  EXPECT_TRUE(last.finished);
  EXPECT_TRUE(last.total_final);
  EXPECT_TRUE(eta_shown) << "a remaining time once the patient directories are counted";
  EXPECT_EQ(last.files_total_estimate, gen.files);
}

TEST_P(ImporterTreeTest, ReimportSkipsUnchangedFilesAndARescanChangesNothing) {
  auto gen = Generate(4, 80, 5);
  ImportSummary first = Import(Options());
  ASSERT_EQ(first.files_imported, gen.files);

  ImportSummary second = Import(Options());
  EXPECT_EQ(second.files_imported, 0);
  EXPECT_EQ(second.files_unchanged, gen.files);
  EXPECT_EQ(second.records, clinical::WriteStats{});

  ImportOptions rescan = Options();
  rescan.rescan = true;
  ImportSummary third = Import(rescan);
  EXPECT_EQ(third.files_imported, gen.files);
  EXPECT_EQ(third.records.inserted, 0);
  EXPECT_EQ(third.records.updated, 0);
  EXPECT_GT(third.records.unchanged + third.records.retracted + third.records.older_ignored, 0);
  EXPECT_EQ(third.records.unchanged + third.records.retracted + third.records.older_ignored,
            first.records.inserted + first.records.updated + first.records.unchanged +
                first.records.retracted + first.records.older_ignored);
}

TEST_P(ImporterTreeTest, AnInterruptedImportContinuesWithTheRest) {
  auto gen = Generate(6, 90, 3);
  // "Interrupt" after some patients: hide the others (rename keeps mtimes).
  fs::path hold = fs::path(tdb_->dir()) / "hold";
  std::vector<std::pair<fs::path, fs::path>> hidden;
  int i = 0;
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
       ++it) {
    if (it.depth() != 2) continue;
    it.disable_recursion_pending();
    if (i++ % 2 == 0) continue;
    hidden.emplace_back(it->path(), hold / it->path().filename());
  }
  ASSERT_FALSE(hidden.empty());
  fs::create_directories(hold);
  for (const auto& [from, to] : hidden) fs::rename(from, to);
  int64_t part = CountFiles(root_);
  ImportSummary a = Import(Options());
  EXPECT_EQ(a.files_imported, part);

  for (const auto& [from, to] : hidden) fs::rename(to, from);
  ImportSummary b = Import(Options());
  EXPECT_EQ(b.files_unchanged, part);
  EXPECT_EQ(b.files_imported, gen.files - part);
  EXPECT_EQ(b.files_quarantined, 0);
}

TEST_P(ImporterTreeTest, ANewerVersionSupersedesAndFlagZeroRetracts) {
  const std::string pid = "0012345678";
  fs::path dir = root_ / "001/234/0012345678/20240401/OMP-01";
  fs::path v1 = dir / "0012345678_20240401_OMP-01_0000000077_20240401100000000_01_1";
  WriteFile(v1, Prescription(pid, "0000000077", "20240401100000", "1149019F1560",
                             "ロキソニン錠６０ｍｇ"));
  ImportSummary s1 = Import(Options());
  ASSERT_EQ(s1.files_imported, 1);
  auto before = Find("MedicationRequest", pid);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].record.code, "1149019F1560");

  fs::path v2 = dir / "0012345678_20240401_OMP-01_0000000077_20240401113000000_01_1";
  WriteFile(
      v2, Prescription(pid, "0000000077", "20240401113000", "1141007F1063", "カロナール錠２００"));
  ImportSummary s2 = Import(Options());
  EXPECT_EQ(s2.files_imported, 1);
  EXPECT_EQ(s2.files_unchanged, 1);
  EXPECT_GE(s2.records.updated, 1);
  auto after = Find("MedicationRequest", pid);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].record.code, "1141007F1063");

  // The EHR cancels the order: the newest file gets condition flag 0.
  fs::path cancelled = dir / "0012345678_20240401_OMP-01_0000000077_20240401113000000_01_0";
  fs::rename(v2, cancelled);
  ImportSummary s3 = Import(Options());
  EXPECT_EQ(s3.files_imported, 1);
  EXPECT_GE(s3.records.retracted, 1);
  EXPECT_TRUE(Find("MedicationRequest", pid).empty());
}

TEST_P(ImporterTreeTest, BadFilesAreQuarantinedWithReasonsWhileTheRestImports) {
  auto gen = Generate(3, 30, 9);
  fs::path pdir = root_ / "000/100/0001000000";
  // Not an SS-MIX2 file name.
  WriteFile(pdir / "20240401/OMP-01/notes.txt", "hello");
  // Garbage under a valid name.
  WriteFile(pdir / "20240401/OMP-01/0001000000_20240401_OMP-01_9000000001_20240401100000000_01_1",
            "this is not HL7");
  // Valid HL7 of a type nobody maps.
  WriteFile(pdir / "20240401/OMP-01/0001000000_20240401_OMP-01_9000000002_20240401100000000_01_1",
            "MSH|^~\\&|HIS|0711234569|||20240401100000||ZZZ^Z99|X1|P|2.5\r"
            "PID|0001||0001000000^^^^PI\r");
  // Too large (sparse: never read).
  fs::path big =
      pdir / "20240401/OMP-01/0001000000_20240401_OMP-01_9000000003_20240401100000000_01_1";
  WriteFile(big, "");
  fs::resize_file(big, 200ull << 20);
  // A file outside any patient directory.
  WriteFile(root_ / "stray.dat", "x");

  ImportSummary s = Import(Options());
  EXPECT_EQ(s.files_imported, gen.files);
  EXPECT_EQ(s.files_quarantined, 5);
  std::map<std::string, std::string> reasons;
  for (const auto& q : s.quarantined) reasons[fs::path(q.path).filename().string()] = q.reason;
  ASSERT_EQ(reasons.size(), 5u);
  EXPECT_NE(reasons["notes.txt"].find("path:"), std::string::npos);
  EXPECT_NE(reasons["stray.dat"].find("patient directory"), std::string::npos);
  EXPECT_NE(
      reasons["0001000000_20240401_OMP-01_9000000001_20240401100000000_01_1"].find("unparseable"),
      std::string::npos);
  EXPECT_NE(reasons["0001000000_20240401_OMP-01_9000000002_20240401100000000_01_1"].find(
                "unsupported message type"),
            std::string::npos);
  EXPECT_NE(
      reasons["0001000000_20240401_OMP-01_9000000003_20240401100000000_01_1"].find("too large"),
      std::string::npos);
  // Copies with their reasons; the source tree is left as it was.
  fs::path copy = quarantine_ / "000/100/0001000000/20240401/OMP-01/notes.txt";
  EXPECT_TRUE(fs::exists(copy));
  std::ifstream note(copy.string() + ".reason.txt");
  std::string text((std::istreambuf_iterator<char>(note)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("reason: path:"), std::string::npos);
  EXPECT_TRUE(fs::exists(pdir / "20240401/OMP-01/notes.txt"));
  // Nothing of the bad files was stored.
  for (const auto& r : Find("MedicationRequest", "0001000000")) {
    EXPECT_EQ(r.record.source_key.find("9000000"), std::string::npos) << r.record.source_key;
  }
  // Unchanged bad files are not reported again.
  ImportSummary again = Import(Options());
  EXPECT_EQ(again.files_quarantined, 0);
  EXPECT_EQ(again.files_unchanged, gen.files + 5);
}

TEST_P(ImporterTreeTest, RejectsAMissingRootAndAMissingFacility) {
  auto s = importer_->Import((root_ / "nope").string(), Options());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::Code::kInvalidInput);
  fs::create_directories(root_);
  ImportOptions o = Options();
  o.facility_id = 0;
  EXPECT_EQ(importer_->Import(root_.string(), o).error().code(), core::Code::kInvalidInput);
}

int64_t RealNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_P(ImporterTreeTest, RecentlyModifiedFilesAreDeferred) {
  auto gen = Generate(2, 10, 1);
  clock_.Set(RealNowMillis());
  ImportOptions o = Options();
  o.settle_millis = 60'000;
  ImportSummary s = Import(o);
  EXPECT_EQ(s.files_deferred, gen.files);
  EXPECT_EQ(s.files_imported, 0);
  clock_.Advance(120'000);
  s = Import(o);
  EXPECT_EQ(s.files_deferred, 0);
  EXPECT_EQ(s.files_imported, gen.files);
}

TEST_P(ImporterTreeTest, WatchPicksUpFilesWrittenLater) {
  auto gen = Generate(2, 10, 1);
  // Everything written before the clock's "now" minus a second counts as settled.
  clock_.Set(RealNowMillis() + 3000);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    WriteFile(root_ /
                  "001/234/0012345678/20240401/OMP-01/"
                  "0012345678_20240401_OMP-01_0000000088_20240401100000000_01_1",
              Prescription("0012345678", "0000000088", "20240401100000", "1149019F1560",
                           "ロキソニン錠６０ｍｇ"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    stop = true;
  });
  auto s = importer_->Watch(root_.string(), Options(), std::chrono::milliseconds(200), stop);
  writer.join();
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->files_imported, gen.files + 1);
  EXPECT_EQ(Find("MedicationRequest", "0012345678").size(), 1u);
}

TEST(SplitMessages, SplitsAtEveryMshSegment) {
  auto parts = SplitMessages("MSH|a\rPID|1\rMSH|b\nPID|2\r\nMSH|c");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "MSH|a\rPID|1\r");
  EXPECT_EQ(parts[1], "MSH|b\nPID|2\r\n");
  EXPECT_EQ(parts[2], "MSH|c");
  EXPECT_EQ(SplitMessages("junk\rMSH|a").size(), 2u);
  EXPECT_TRUE(SplitMessages("  \r\n").empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ImporterTreeTest, testing::AllBackends(),
                         testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::ssmix2
