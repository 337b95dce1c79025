#pragma once
// Content-addressed blob store: files under <root>/ab/cd/<sha256-hex>.
// Writes go to a temporary file, are fsync'ed and renamed, so a blob is
// either whole or absent (also across kill -9). Thread-safe; several
// processes may share one root. Hashes are 64 lowercase hex characters;
// anything else is treated as unknown (NotFound / false / nullopt), so a hash
// taken from a request can never name a path outside the root.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::store {

class BlobStore {
 public:
  explicit BlobStore(std::string root);
  // Stores the bytes; returns the lowercase hex SHA-256. Idempotent.
  // Errors: Internal (disk full, permissions; detail names the path).
  core::Result<std::string> Put(std::string_view bytes);
  // NotFound for an unknown or malformed hash; Internal if the stored bytes
  // no longer match their hash (damaged disk).
  core::Result<std::string> Get(std::string_view sha256_hex) const;
  bool Exists(std::string_view sha256_hex) const;
  // NotFound for an unknown or malformed hash.
  core::Status Remove(std::string_view sha256_hex);
  // Filesystem path of a stored blob (for streaming), or nullopt.
  std::optional<std::string> PathOf(std::string_view sha256_hex) const;

 private:
  std::string root_;
};

}  // namespace tsunagu::store
