#pragma once
// A small in-memory cache of access-related lookups (a token's grant, a
// consent decision, the owner of a local patient ID) that forgets
// everything as soon as the access epoch moves (core/access_epoch.hpp) and
// each entry after `ttl_millis`, which covers changes made by other
// processes sharing the database.
//
// Usage, with the epoch read *before* the database:
//   const uint64_t epoch = core::AccessEpoch();
//   if (auto hit = cache.Find(key, epoch, now)) return *hit;
//   auto value = ReadFromDatabase();
//   cache.Store(key, value, epoch, now);  // dropped if the epoch moved
// A change committed between the read of the epoch and the Store moves the
// epoch, so a value read before that change is never kept. Thread-safe.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/access_epoch.hpp"

namespace tsunagu::core {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class EpochCache {
 public:
  // At most `max_entries` (the cache is emptied when full).
  EpochCache(int64_t ttl_millis, size_t max_entries)
      : ttl_millis_(ttl_millis), max_entries_(max_entries) {}
  EpochCache(const EpochCache&) = delete;
  EpochCache& operator=(const EpochCache&) = delete;

  // The value stored for `key` in `epoch` less than ttl_millis before `now`.
  // A newer epoch than the cache's empties it.
  std::optional<Value> Find(const Key& key, uint64_t epoch, int64_t now) const {
    std::lock_guard lock(mu_);
    if (epoch != epoch_) {
      if (epoch > epoch_) {
        entries_.clear();
        epoch_ = epoch;
      }
      return std::nullopt;
    }
    auto it = entries_.find(key);
    if (it == entries_.end() || now < it->second.at || now - it->second.at >= ttl_millis_) {
      return std::nullopt;
    }
    return it->second.value;
  }

  // Keeps `value`, read from the database after `epoch` was read, unless
  // the epoch has moved since.
  void Store(const Key& key, Value value, uint64_t epoch, int64_t now) const {
    std::lock_guard lock(mu_);
    if (epoch > epoch_) {
      entries_.clear();
      epoch_ = epoch;
    }
    if (epoch != epoch_ || epoch != AccessEpoch()) return;
    if (entries_.size() >= max_entries_) entries_.clear();
    entries_.insert_or_assign(key, Entry{std::move(value), now});
  }

 private:
  struct Entry {
    Value value;
    int64_t at = 0;
  };
  const int64_t ttl_millis_;
  const size_t max_entries_;
  mutable std::mutex mu_;  // guards the fields below
  mutable uint64_t epoch_ = 0;
  mutable std::unordered_map<Key, Entry, Hash> entries_;
};

}  // namespace tsunagu::core
