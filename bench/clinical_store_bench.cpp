// ResourceStore throughput: batches as the SS-MIX2 importer sends them.
//   build-bench/bench/clinical_store_bench [--benchmark_filter=...]
// SQLite in a temporary directory (WAL, as in production); PostgreSQL too
// when TSUNAGU_BENCH_PG_URL names a scratch database. Target: at least
// 20,000 records/s on SQLite with batches of 1000.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "clinical/resource_store.hpp"
#include "core/clock.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace {

using tsunagu::clinical::Category;
using tsunagu::clinical::ResourceQuery;
using tsunagu::clinical::ResourceRecord;
using tsunagu::clinical::ResourceStore;

struct Env {
  std::string dir;
  std::unique_ptr<tsunagu::store::Database> db;
  tsunagu::core::SystemClock clock;
  std::unique_ptr<ResourceStore> store;
  ~Env() {
    store.reset();
    db.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

std::unique_ptr<Env> OpenEnv(bool postgres) {
  auto env = std::make_unique<Env>();
  std::string url;
  if (postgres) {
    const char* pg = std::getenv("TSUNAGU_BENCH_PG_URL");
    if (!pg) return nullptr;
    url = pg;
  } else {
    char tmpl[] = "/tmp/clinical-bench.XXXXXX";
    if (!mkdtemp(tmpl)) return nullptr;
    env->dir = tmpl;
    url = env->dir + "/bench.db";
  }
  auto db = tsunagu::store::OpenDatabase(url);
  if (!db) return nullptr;
  env->db = std::move(*db);
  if (postgres) (void)env->db->Execute("DROP TABLE IF EXISTS resources");
  if (postgres)
    (void)env->db->Execute("DELETE FROM schema_migrations WHERE module = 'clinical.resources'");
  if (!tsunagu::store::ApplyMigrations(*env->db, {ResourceStore::Migrations()}).ok()) {
    return nullptr;
  }
  env->store = std::make_unique<ResourceStore>(*env->db, env->clock);
  return env;
}

// A lab result as the SS-MIX2 mapping writes it (~700 bytes of JSON).
ResourceRecord Lab(int64_t n, int64_t version) {
  ResourceRecord r;
  r.resource_type = "Observation";
  r.source_facility_id = 1 + n % 3;
  r.local_patient_id = "P" + std::to_string(n / 40);
  r.source_key = "OML-11|" + std::to_string(n / 20) + "|" + std::to_string(n % 20);
  r.category = Category::kLabResult;
  r.code_system = "urn:oid:1.2.392.200119.4.504";
  r.code = "3B0350000023272" + std::to_string(n % 20);
  r.display = "AST(GOT)";
  char date[32];
  std::snprintf(date, sizeof date, "2025-%02d-%02dT09:00:00+09:00", int(1 + n / 28 % 12),
                int(1 + n % 28));
  r.effective = date;
  r.source_time = 1'700'000'000'000 + version;
  r.json = std::string(
               "{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{"
               "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
               "observation-category\",\"code\":\"laboratory\"}]}],\"code\":{\"coding\":[{"
               "\"system\":\"urn:oid:1.2.392.200119.4.504\",\"code\":\"") +
           r.code +
           "\",\"display\":\"AST(GOT)\"}]},\"subject\":{\"identifier\":{\"system\":\"urn:oid:1."
           "2.392.100495.20.3.51.1\",\"value\":\"" +
           r.local_patient_id + "\"}},\"effectiveDateTime\":\"" + r.effective +
           "\",\"valueQuantity\":{\"value\":" + std::to_string(20 + (n + version) % 30) +
           ",\"unit\":\"U/L\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"U/L\"},"
           "\"referenceRange\":[{\"low\":{\"value\":13,\"unit\":\"U/L\"},\"high\":{\"value\":30,"
           "\"unit\":\"U/L\"},\"text\":\"13-30\"}],\"interpretation\":[{\"coding\":[{\"system\":"
           "\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\",\"code\":\"N\"}"
           "]}]}";
  return r;
}

std::vector<ResourceRecord> Batch(int64_t first, int64_t size, int64_t version) {
  std::vector<ResourceRecord> batch;
  batch.reserve(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) batch.push_back(Lab(first + i, version));
  return batch;
}

// New records, one transaction per batch.
void BM_WriteNewRecords(benchmark::State& state, bool postgres) {
  auto env = OpenEnv(postgres);
  if (!env) {
    state.SkipWithError("database not available");
    return;
  }
  const int64_t size = state.range(0);
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = Batch(next, size, 0);
    next += size;
    state.ResumeTiming();
    auto stats = env->store->Write(batch);
    if (!stats || stats->inserted != size) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * size);
}

// The same batch again (idempotent re-import) and a newer version of it.
void BM_ReimportAndSupersede(benchmark::State& state, bool postgres) {
  auto env = OpenEnv(postgres);
  if (!env) {
    state.SkipWithError("database not available");
    return;
  }
  const int64_t size = state.range(0);
  const bool supersede = state.range(1) != 0;
  (void)env->store->Write(Batch(0, size, 0));
  int64_t version = 0;
  for (auto _ : state) {
    state.PauseTiming();
    if (supersede) ++version;
    auto batch = Batch(0, size, version);
    state.ResumeTiming();
    auto stats = env->store->Write(batch);
    if (!stats) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * size);
}

// One timeline page (50 newest items) of one patient in a store of 100,000
// records of 2,500 patients.
void BM_TimelinePage(benchmark::State& state, bool postgres) {
  auto env = OpenEnv(postgres);
  if (!env) {
    state.SkipWithError("database not available");
    return;
  }
  for (int64_t first = 0; first < 100'000; first += 2000)
    (void)env->store->Write(Batch(first, 2000, 0));
  int64_t patient = 0;
  for (auto _ : state) {
    ResourceQuery q;
    int64_t n = (patient++ % 2500) * 40;
    q.patients = {{1, "P" + std::to_string(n / 40)},
                  {2, "P" + std::to_string(n / 40)},
                  {3, "P" + std::to_string(n / 40)}};
    q.limit = 50;
    auto page = env->store->Search(q);
    if (!page || page->items.empty()) state.SkipWithError("search failed");
    benchmark::DoNotOptimize(page);
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_WriteNewRecords, sqlite, false)
    ->Arg(500)
    ->Arg(1000)
    ->Arg(2000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ReimportAndSupersede, sqlite, false)
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TimelinePage, sqlite, false)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_WriteNewRecords, postgres, true)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ReimportAndSupersede, postgres, true)
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TimelinePage, postgres, true)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
