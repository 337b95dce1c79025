#include "ssmix2/tree_listing.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "core/fd.hpp"

namespace tsunagu::ssmix2 {
namespace {

// Deeper than any storage tree; bounds the recursion on a pathological one.
constexpr int kMaxDepth = 32;

core::Status Failed(const char* call, const std::string& path, int error) {
  return core::Internal(
      "cannot walk a patient directory",
      std::string(call) + " " + (path.empty() ? "." : path) + ": " + std::strerror(error));
}

int64_t Nanos(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + static_cast<int64_t>(t.tv_nsec);
}

core::Status ListInto(int dfd, const std::string& prefix, int depth, std::vector<ListedFile>& out) {
  alignas(struct dirent64) char buf[16384];
  std::vector<std::string> subdirs;
  for (;;) {
    const ssize_t n = ::getdents64(dfd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Failed("getdents64", prefix, errno);
    }
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* d = reinterpret_cast<const struct dirent64*>(buf + at);
      at += d->d_reclen;
      const std::string_view name(d->d_name);
      if (name == "." || name == "..") continue;
      unsigned char type = d->d_type;
      struct stat st {};
      if (type == DT_UNKNOWN || type == DT_REG || type == DT_LNK) {
        // A link counts as what it points to, as for is_regular_file().
        const int flags = type == DT_LNK ? 0 : AT_SYMLINK_NOFOLLOW;
        if (::fstatat(dfd, d->d_name, &st, flags) != 0) {
          if (errno == ENOENT || (type == DT_LNK && errno == ELOOP)) continue;
          return Failed("fstatat", prefix + std::string(name), errno);
        }
        if (S_ISREG(st.st_mode)) {
          out.push_back(
              {prefix + std::string(name), static_cast<int64_t>(st.st_size), Nanos(st.st_mtim)});
          continue;
        }
        if (type == DT_UNKNOWN && S_ISDIR(st.st_mode)) type = DT_DIR;
      }
      if (type == DT_DIR) subdirs.emplace_back(name);
    }
  }
  if (depth >= kMaxDepth) return core::Status::Ok();
  for (const std::string& name : subdirs) {
    const core::Fd sub(
        ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (sub.get() < 0) {
      if (errno == EACCES || errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      return Failed("openat", prefix + name, errno);
    }
    TSUNAGU_RETURN_IF_ERROR(ListInto(sub.get(), prefix + name + "/", depth + 1, out));
  }
  return core::Status::Ok();
}

}  // namespace

core::Status ListFilesBelow(int dir_fd, std::vector<ListedFile>& out) {
  return ListInto(dir_fd, "", 0, out);
}

}  // namespace tsunagu::ssmix2
