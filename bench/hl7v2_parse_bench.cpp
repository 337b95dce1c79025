// Messages per second for a typical SS-MIX2 lab result (OUL^R22, 20 OBX,
// ISO-2022-JP): decode + split, and decode + split + read every value.
#include <benchmark/benchmark.h>

#include <string>

#include "core/text.hpp"
#include "hl7v2/message.hpp"

namespace {

std::string LabResult() {
  std::string m =
      "MSH|^~\\&|LAB|SEND|GW|RCV|20240406153000||OUL^R22^OUL_R22|20240406000001|P|2.5||||||"
      "~ISO IR87||ISO 2022-1994\r"
      "PID|0001||0000123^^^^PI||山田^太郎^^^^^L^I~ヤマダ^タロウ^^^^^L^P||19700415|M\r"
      "PV1|0001|O\r"
      "SPM|1|||023^血清^JC10|||||||||||||20240406090000\r"
      "OBR|1|44440001||00001^生化学検査^99LAB|||20240406090000|||||||||||||||20240406150000|||F\r"
      "ORC|SC|44440001\r";
  for (int i = 1; i <= 20; ++i) {
    m += "OBX|" + std::to_string(i) + "|NM|3B0350000023272" + std::to_string(10 + i) + "^検査項目" +
         std::to_string(i) + "^JC10||" + std::to_string(40 + i) +
         ".5|U/L^^ISO+|10-40|H|||F|||20240406090000\r";
  }
  return *tsunagu::core::EncodeIso2022Jp(m);
}

void BM_ParseOulR22Iso2022Jp(benchmark::State& state) {
  const std::string raw = LabResult();
  for (auto _ : state) {
    auto m = tsunagu::hl7v2::Message::Parse(raw);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());  // items/s = messages/s
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(raw.size()));
}
BENCHMARK(BM_ParseOulR22Iso2022Jp);

void BM_ParseAndReadOulR22(benchmark::State& state) {
  const std::string raw = LabResult();
  for (auto _ : state) {
    auto m = tsunagu::hl7v2::Message::Parse(raw);
    size_t total = 0;
    for (const auto* obx : m->FindAll("OBX"))
      total += obx->Get(3, 1).size() + obx->Get(3, 2).size() + obx->Get(5).size() +
               obx->Get(6).size() + obx->Get(7).size() + obx->Get(8).size();
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAndReadOulR22);

void BM_ParseOulR22Utf8(benchmark::State& state) {
  auto decoded = tsunagu::core::DecodeIso2022Jp(LabResult());
  std::string raw = *decoded;
  raw.replace(raw.find("~ISO IR87"), 9, "UNICODE UTF-8");
  for (auto _ : state) {
    auto m = tsunagu::hl7v2::Message::Parse(raw);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOulR22Utf8);

}  // namespace

BENCHMARK_MAIN();
