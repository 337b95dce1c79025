#include "store/blob_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/fd.hpp"
#include "core/random.hpp"

namespace tsunagu::store {

using core::Result;
using core::Status;
namespace {

constexpr size_t kHashHexLength = 64;

std::string DirOf(const std::string& root, std::string_view hex) {
  return root + "/" + std::string(hex.substr(0, 2)) + "/" + std::string(hex.substr(2, 2));
}

bool IsValidHash(std::string_view hex) {
  if (hex.size() != kHashHexLength) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return core::Internal("cannot store the file", "SHA-256 computation failed");
  }
  return core::HexEncode(digest, length);
}

std::string ErrnoText(const std::string& what, const std::string& path, int error) {
  return what + " " + path + ": " + std::strerror(error);
}

using core::Fd;

Status SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return core::Internal("cannot store the file", ErrnoText("fsync", dir, errno));
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t written = ::write(fd, p, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return core::Internal("cannot store the file", ErrnoText("write", path, errno));
    }
    p += written;
    left -= static_cast<size_t>(written);
  }
  return Status::Ok();
}

}  // namespace

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

Result<std::string> BlobStore::Put(std::string_view bytes) {
  TSUNAGU_ASSIGN_OR_RETURN(std::string hex, Sha256Hex(bytes));
  const std::string dir = DirOf(root_, hex);
  const std::string path = dir + "/" + hex;

  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) == bytes.size()) {
    return hex;  // content-addressed: same name, same bytes
  }

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::Internal("cannot store the file", "mkdir " + dir + ": " + ec.message());

  // Same directory as the target, so rename() is atomic. A dot-name is never
  // mistaken for a blob.
  const std::string temp = dir + "/.tmp-" + core::RandomHex(8);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    return core::Internal("cannot store the file", ErrnoText("create", temp, errno));
  }
  auto fail = [&](Status status) {
    fd.Close();
    ::unlink(temp.c_str());
    return status;
  };
  if (Status written = WriteAll(fd.get(), bytes, temp); !written.ok()) return fail(written);
  if (::fsync(fd.get()) != 0) {
    return fail(core::Internal("cannot store the file", ErrnoText("fsync", temp, errno)));
  }
  if (fd.Close() != 0) {
    return fail(core::Internal("cannot store the file", ErrnoText("close", temp, errno)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return fail(core::Internal("cannot store the file", ErrnoText("rename", temp, errno)));
  }
  TSUNAGU_RETURN_IF_ERROR(SyncDirectory(dir));
  return hex;
}

Result<std::string> BlobStore::Get(std::string_view sha256_hex) const {
  if (!IsValidHash(sha256_hex)) return core::NotFound("no such file");
  const std::string path = DirOf(root_, sha256_hex) + "/" + std::string(sha256_hex);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return core::NotFound("no such file");
    return core::Internal("cannot read the file", ErrnoText("open", path, errno));
  }
  std::string data;
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0) data.reserve(st.st_size);
  char buffer[64 * 1024];
  for (;;) {
    ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return core::Internal("cannot read the file", ErrnoText("read", path, errno));
    }
    if (got == 0) break;
    data.append(buffer, static_cast<size_t>(got));
  }
  // Disk corruption must not pass silently as clinical content.
  TSUNAGU_ASSIGN_OR_RETURN(std::string actual, Sha256Hex(data));
  if (actual != sha256_hex) {
    return core::Internal("the stored file is damaged", "hash mismatch for " + path);
  }
  return data;
}

bool BlobStore::Exists(std::string_view sha256_hex) const { return PathOf(sha256_hex).has_value(); }

Status BlobStore::Remove(std::string_view sha256_hex) {
  if (!IsValidHash(sha256_hex)) return core::NotFound("no such file");
  const std::string dir = DirOf(root_, sha256_hex);
  const std::string path = dir + "/" + std::string(sha256_hex);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return core::NotFound("no such file");
    return core::Internal("cannot remove the file", ErrnoText("unlink", path, errno));
  }
  return SyncDirectory(dir);
}

std::optional<std::string> BlobStore::PathOf(std::string_view sha256_hex) const {
  if (!IsValidHash(sha256_hex)) return std::nullopt;
  std::string path = DirOf(root_, sha256_hex) + "/" + std::string(sha256_hex);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return path;
}

}  // namespace tsunagu::store
