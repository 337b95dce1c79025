#include "http/internal/metrics.hpp"

#include <unistd.h>

#include <cstdio>

namespace tsunagu::http::internal {
namespace {

std::string_view KnownMethod(std::string_view m) {
  static constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view k : kMethods) {
    if (m == k) return k;
  }
  return "OTHER";
}

void AppendNumber(std::string& out, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

}  // namespace

Metrics::Metrics() : started_(std::chrono::steady_clock::now()) {}

void Metrics::RecordRequest(std::string_view method, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(KnownMethod(method)), status}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  }
  ++duration_count_;
  duration_sum_ += seconds;
}

uint64_t Metrics::ResidentMemoryBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size_pages = 0, resident_pages = 0;
  int n = std::fscanf(f, "%llu %llu", &size_pages, &resident_pages);
  std::fclose(f);
  if (n != 2) return 0;
  long page = sysconf(_SC_PAGESIZE);
  return resident_pages * static_cast<uint64_t>(page > 0 ? page : 4096);
}

std::string Metrics::Render(size_t websocket_connections) const {
  std::string out;
  out.reserve(2048);
  out +=
      "# HELP tsunagu_http_requests_total HTTP requests served, by method and status code.\n"
      "# TYPE tsunagu_http_requests_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [key, count] : requests_) {
    out += "tsunagu_http_requests_total{method=\"" + key.first + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
  }
  out +=
      "# HELP tsunagu_http_request_duration_seconds Time from a complete request to the "
      "handler's response.\n"
      "# TYPE tsunagu_http_request_duration_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    out += "tsunagu_http_request_duration_seconds_bucket{le=\"";
    AppendNumber(out, kBuckets[i]);
    out += "\"} " + std::to_string(bucket_counts_[i]) + "\n";
  }
  out += "tsunagu_http_request_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(duration_count_) + "\n";
  out += "tsunagu_http_request_duration_seconds_sum ";
  AppendNumber(out, duration_sum_);
  out += "\ntsunagu_http_request_duration_seconds_count " + std::to_string(duration_count_) + "\n";
  out +=
      "# HELP tsunagu_http_open_connections Open HTTP connections (including WebSocket).\n"
      "# TYPE tsunagu_http_open_connections gauge\n"
      "tsunagu_http_open_connections " +
      std::to_string(open_connections_.load()) +
      "\n"
      "# HELP tsunagu_websocket_connections Open WebSocket connections.\n"
      "# TYPE tsunagu_websocket_connections gauge\n"
      "tsunagu_websocket_connections " +
      std::to_string(websocket_connections) + "\n";
  double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  out +=
      "# HELP process_uptime_seconds Seconds since the server started.\n"
      "# TYPE process_uptime_seconds gauge\n"
      "process_uptime_seconds ";
  AppendNumber(out, uptime);
  out +=
      "\n# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\n"
      "process_resident_memory_bytes " +
      std::to_string(ResidentMemoryBytes()) + "\n";
  return out;
}

}  // namespace tsunagu::http::internal
