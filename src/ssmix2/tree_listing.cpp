#include "ssmix2/tree_listing.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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

// The largest entry getdents64 returns: its header and a 255-byte name
// with its NUL, rounded up to 8 bytes.
constexpr size_t kMaxDirentSize = 280;

// Whether the file system under `fd` fills a getdents64 buffer until it is
// full or the directory has ended: ext2/3/4, XFS, Btrfs and tmpfs do (their
// readdir loops until the kernel's fill callback refuses an entry). There a
// read that left room for one more entry was the last one, and the call
// that would return 0 is spared: one call of four per directory, and an
// SS-MIX2 tree holds more directories than files. Elsewhere (NFS, SMB,
// FUSE: a storage tree on a file server) a read may return less, and the
// directory is read until a read returns nothing.
bool FillsWholeReads(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0xEF53:      // ext2, ext3, ext4
    case 0x58465342:  // XFS
    case 0x9123683E:  // Btrfs
    case 0x01021994:  // tmpfs
      return true;
    default:
      return false;
  }
}

core::Status ListInto(int dfd, const std::string& prefix, int depth, bool fills_whole_reads,
                      std::vector<ListedFile>& out) {
  alignas(struct dirent64) char buf[16384];
  std::vector<std::string> subdirs;
  for (bool end = false; !end;) {
    const ssize_t n = ::getdents64(dfd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Failed("getdents64", prefix, errno);
    }
    if (n == 0) break;
    end = fills_whole_reads && static_cast<size_t>(n) + kMaxDirentSize <= sizeof buf;
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
    TSUNAGU_RETURN_IF_ERROR(
        ListInto(sub.get(), prefix + name + "/", depth + 1, fills_whole_reads, out));
  }
  return core::Status::Ok();
}

}  // namespace

core::Status ListFilesBelow(int dir_fd, std::vector<ListedFile>& out) {
  return ListInto(dir_fd, "", 0, FillsWholeReads(dir_fd), out);
}

}  // namespace tsunagu::ssmix2
