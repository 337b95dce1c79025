#pragma once
// A process-wide counter bumped by every change that can alter who may see
// what (consents, local-ID links, patient merges, disabled system clients).
// Caches of access decisions remember the epoch they were filled in and drop
// an entry as soon as it moved, so such a change takes effect at once in this
// process; time-based expiry covers changes made by other processes.
// Thread-safe.
#include <atomic>
#include <cstdint>

namespace tsunagu::core {

inline std::atomic<uint64_t> g_access_epoch{0};

inline uint64_t AccessEpoch() { return g_access_epoch.load(std::memory_order_acquire); }
inline void BumpAccessEpoch() { g_access_epoch.fetch_add(1, std::memory_order_acq_rel); }

// Bumps the epoch when it goes out of scope: put one at the top of a method
// that changes access, so that the bump follows its commit on every path.
struct AccessEpochBump {
  AccessEpochBump() = default;
  AccessEpochBump(const AccessEpochBump&) = delete;
  AccessEpochBump& operator=(const AccessEpochBump&) = delete;
  ~AccessEpochBump() { BumpAccessEpoch(); }
};

}  // namespace tsunagu::core
