#include "http/internal/static_files.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace tsunagu::http::internal {
namespace fs = std::filesystem;
namespace {

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when Accept-Encoding lists `coding` with a non-zero q value.
bool Accepts(std::string_view accept_encoding, std::string_view coding) {
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    size_t semi = item.find(';');
    std::string name = LowerAscii(Trim(item.substr(0, semi)));
    if (name != coding) continue;
    if (semi == std::string_view::npos) return true;
    std::string params = LowerAscii(item.substr(semi + 1));
    size_t q = params.find("q=");
    if (q == std::string::npos) return true;
    std::string qv(Trim(std::string_view(params).substr(q + 2)));
    return std::strtod(qv.c_str(), nullptr) > 0.0;  // q=0 refuses the coding
  }
  return false;
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (Trim(if_none_match) == "*") return true;
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view tag = Trim(if_none_match.substr(0, comma));
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // weak comparison
    if (tag == etag) return true;
  }
  return false;
}

bool IsRegularFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The resolved file must stay under the root even through symlinks.
bool InsideRoot(const fs::path& root, const fs::path& p) {
  std::error_code ec;
  fs::path canonical = fs::canonical(p, ec);
  if (ec) return false;
  auto r = root.begin();
  auto c = canonical.begin();
  for (; r != root.end(); ++r, ++c) {
    if (c == canonical.end() || *r != *c) return false;
  }
  return true;
}

}  // namespace

StaticFiles::StaticFiles(const std::string& root) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec) root_ = fs::absolute(root);
}

std::string StaticFiles::ContentTypeFor(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string ext = LowerAscii(path.substr(dot + 1));
  struct Entry {
    const char* ext;
    const char* type;
  };
  static constexpr Entry kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
  };
  for (const Entry& e : kTypes) {
    if (ext == e.ext) return e.type;
  }
  return "application/octet-stream";
}

Response StaticFiles::Serve(const Request& request) const {
  // Split the decoded path; refuse anything that could step outside the root
  // or reveal dot-files (.env, .git).
  std::vector<std::string> parts;
  std::string_view path = request.path;
  size_t i = 0;
  while (i < path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(i, slash - i);
    i = slash + 1;
    if (seg.empty()) continue;
    if (seg.front() == '.' || seg.find('\\') != std::string_view::npos ||
        seg.find('\0') != std::string_view::npos) {
      return Response::Error(core::NotFound("not found"));
    }
    parts.emplace_back(seg);
  }

  fs::path file = root_;
  for (const auto& p : parts) file /= p;
  bool spa_fallback = false;
  if (parts.empty() || (!IsRegularFile(file) && fs::is_directory(file))) {
    file /= "index.html";
  }
  if (!IsRegularFile(file)) {
    bool has_extension = !parts.empty() && parts.back().find('.') != std::string::npos;
    if (has_extension) return Response::Error(core::NotFound("not found"));
    file = root_ / "index.html";
    spa_fallback = true;
    if (!IsRegularFile(file)) return Response::Error(core::NotFound("not found"));
  }
  if (!InsideRoot(root_, file)) return Response::Error(core::NotFound("not found"));

  const std::string content_type = ContentTypeFor(file.filename().string());
  std::string accept = std::string(request.Header("accept-encoding").value_or(""));
  fs::path chosen = file;
  std::string encoding;
  fs::path br = file.string() + ".br";
  fs::path gz = file.string() + ".gz";
  bool has_sibling = IsRegularFile(br) || IsRegularFile(gz);
  if (Accepts(accept, "br") && IsRegularFile(br) && InsideRoot(root_, br)) {
    chosen = br;
    encoding = "br";
  } else if (Accepts(accept, "gzip") && IsRegularFile(gz) && InsideRoot(root_, gz)) {
    chosen = gz;
    encoding = "gzip";
  }

  std::error_code ec;
  uintmax_t size = fs::file_size(chosen, ec);
  if (ec) return Response::Error(core::NotFound("not found"));
  auto mtime = fs::last_write_time(chosen, ec);
  if (ec) return Response::Error(core::NotFound("not found"));
  char etag[96];
  std::snprintf(etag, sizeof etag, "\"%jx-%llx%s%s\"", size,
                static_cast<unsigned long long>(mtime.time_since_epoch().count()),
                encoding.empty() ? "" : "-", encoding.c_str());

  Response r;
  r.headers.Set("etag", etag);
  bool immutable = !spa_fallback && !parts.empty() && parts.front() == "assets";
  r.headers.Set("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (has_sibling) r.headers.Set("vary", "Accept-Encoding");
  if (!encoding.empty()) r.headers.Set("content-encoding", encoding);

  auto inm = request.Header("if-none-match");
  if (inm && EtagMatches(*inm, etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.headers.Set("content-type", content_type);
  r.file_path = chosen.string();
  return r;
}

}  // namespace tsunagu::http::internal
