#pragma once
// Serving the built web app from a directory (no Beast here: the answer is a
// plain Response whose file_path the server streams).
// Thread-safety: immutable after construction; Serve may run concurrently.
#include <filesystem>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace tsunagu::http::internal {

class StaticFiles {
 public:
  // `root` must exist; it is canonicalised once.
  explicit StaticFiles(const std::string& root);

  // For GET/HEAD. Resolves request.path under the root (".." segments,
  // dot-files and anything resolving outside the root -> 404), picks a
  // precompressed sibling (.br / .gz) when Accept-Encoding allows, answers
  // 304 on a matching If-None-Match, and falls back to /index.html for paths
  // whose last segment has no extension (SPA routing).
  Response Serve(const Request& request) const;

  // "text/html; charset=utf-8" etc. from the file extension.
  static std::string ContentTypeFor(std::string_view path);

 private:
  std::filesystem::path root_;
};

}  // namespace tsunagu::http::internal
