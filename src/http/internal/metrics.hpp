#pragma once
// Server metrics in the Prometheus text exposition format.
// Thread-safety: every method may be called concurrently.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tsunagu::http::internal {

class Metrics {
 public:
  Metrics();

  void ConnectionOpened() { ++open_connections_; }
  void ConnectionClosed() { --open_connections_; }
  // One served request; unusual methods are counted as "OTHER" so that a
  // client cannot grow the label set without bound.
  void RecordRequest(std::string_view method, int status, double seconds);

  std::string Render(size_t websocket_connections) const;

  // Resident set size of this process from /proc/self/statm (0 if unknown).
  static uint64_t ResidentMemoryBytes();

 private:
  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1.0,  2.5,   5.0,  10.0};
  std::chrono::steady_clock::time_point started_;
  std::atomic<int64_t> open_connections_{0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (method, status)
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};
  uint64_t duration_count_ = 0;
  double duration_sum_ = 0;
};

}  // namespace tsunagu::http::internal
