#include "audit/audit_signer.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/log.hpp"

namespace tsunagu::audit {
namespace {

bool EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string ToHex(const unsigned char* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.resize(size * 2);
  return out;
}

// Exactly `size` bytes from exactly 2*size hex digits.
bool FromHex(std::string_view hex, unsigned char* out, size_t size) {
  if (hex.size() != size * 2) return false;
  size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out, size, hex.data(), hex.size(), nullptr, &written, &end) != 0) {
    return false;
  }
  return written == size && end == hex.data() + hex.size();
}

std::string ErrnoText() { return std::strerror(errno); }

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void FsyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Creates `path` holding `content` with mode 0600 without ever exposing a
// partially written file: write a private temporary, fsync, link() into place
// (fails with EEXIST rather than replacing a key somebody else just created).
core::Status CreateKeyFileAtomically(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      return core::Internal("cannot create the audit key",
                            "mkdir " + dir.string() + ": " + ec.message());
  }
  std::string tmp_template = (dir.empty() ? fs::path(".") : dir).string() + "/.audit-key-XXXXXX";
  std::vector<char> tmp_name(tmp_template.begin(), tmp_template.end());
  tmp_name.push_back('\0');
  int fd = ::mkstemp(tmp_name.data());  // mkstemp creates with 0600
  if (fd < 0)
    return core::Internal("cannot create the audit key",
                          "mkstemp in " + dir.string() + ": " + ErrnoText());
  std::string tmp_path(tmp_name.data());
  bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0 && WriteAll(fd, content) && ::fsync(fd) == 0;
  std::string error = ok ? "" : ErrnoText();
  ::close(fd);
  if (!ok) {
    ::unlink(tmp_path.c_str());
    return core::Internal("cannot create the audit key", "write " + tmp_path + ": " + error);
  }
  int rc = ::link(tmp_path.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp_path.c_str());
  if (rc != 0) {
    if (link_errno == EEXIST) return core::Conflict("audit key already exists");
    return core::Internal("cannot create the audit key",
                          "link " + path + ": " + std::strerror(link_errno));
  }
  FsyncDirectory(dir);
  return core::Status::Ok();
}

}  // namespace

AuditSigner::~AuditSigner() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

core::Result<std::unique_ptr<AuditSigner>> AuditSigner::FromSeedHex(std::string_view seed_hex) {
  if (!EnsureSodium()) return core::Internal("cryptography unavailable", "sodium_init failed");
  std::array<unsigned char, kSeedBytes> seed{};
  if (!FromHex(seed_hex, seed.data(), seed.size())) {
    return core::InvalidInput("the audit key must be 64 hexadecimal digits");
  }
  std::unique_ptr<AuditSigner> signer(new AuditSigner());
  crypto_sign_seed_keypair(signer->public_key_.data(), signer->secret_key_.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  return signer;
}

core::Result<std::unique_ptr<AuditSigner>> AuditSigner::OpenOrCreate(const std::string& key_path) {
  if (!EnsureSodium()) return core::Internal("cryptography unavailable", "sodium_init failed");
  if (key_path.empty()) return core::InvalidInput("no audit key file given");
  // Two attempts: if another process creates the file between our failed
  // open and our link(), we load theirs.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(key_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st {};
      if (::fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        core::LogWarn(
            "audit.key_permissions",
            {{"path", key_path}, {"detail", "key file is readable by others; chmod 600"}});
      }
      std::string text(256, '\0');
      ssize_t n = ::read(fd, text.data(), text.size());
      ::close(fd);
      if (n < 0) return core::Internal("cannot read the audit key", key_path + ": " + ErrnoText());
      text.resize(static_cast<size_t>(n));
      std::string_view line(text);
      line = line.substr(0, line.find('\n'));
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      auto signer = FromSeedHex(line);
      sodium_memzero(text.data(), text.size());
      if (!signer) {
        return core::InvalidInput("the audit key file is malformed",
                                  key_path + ": expected 64 hex digits on the first line");
      }
      return signer;
    }
    if (errno != ENOENT) {
      return core::Internal("cannot read the audit key", key_path + ": " + ErrnoText());
    }
    std::array<unsigned char, kSeedBytes> seed{};
    randombytes_buf(seed.data(), seed.size());
    std::string content = ToHex(seed.data(), seed.size()) + "\n";
    sodium_memzero(seed.data(), seed.size());
    core::Status created = CreateKeyFileAtomically(key_path, content);
    std::string seed_hex = content.substr(0, kSeedBytes * 2);
    sodium_memzero(content.data(), content.size());
    if (created.code() == core::Code::kConflict) continue;  // lost the race: load theirs
    if (!created.ok()) return created;
    auto signer = FromSeedHex(seed_hex);
    sodium_memzero(seed_hex.data(), seed_hex.size());
    if (signer)
      core::LogInfo("audit.key_created",
                    {{"path", key_path}, {"public_key", (*signer)->PublicKeyHex()}});
    return signer;
  }
  return core::Internal("cannot create the audit key",
                        key_path + ": created concurrently but unreadable");
}

std::string AuditSigner::Sign(std::string_view message) const {
  std::array<unsigned char, kSignatureBytes> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_key_.data());
  return ToHex(sig.data(), sig.size());
}

bool AuditSigner::Verify(std::string_view message, std::string_view signature_hex) const {
  return VerifyWithPublicKey(PublicKeyHex(), message, signature_hex);
}

bool AuditSigner::VerifyWithPublicKey(std::string_view public_key_hex, std::string_view message,
                                      std::string_view signature_hex) {
  if (!EnsureSodium()) return false;
  std::array<unsigned char, kPublicKeyBytes> pk{};
  std::array<unsigned char, kSignatureBytes> sig{};
  if (!FromHex(public_key_hex, pk.data(), pk.size())) return false;
  if (!FromHex(signature_hex, sig.data(), sig.size())) return false;
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), pk.data()) == 0;
}

std::string AuditSigner::PublicKeyHex() const {
  return ToHex(public_key_.data(), public_key_.size());
}

}  // namespace tsunagu::audit
