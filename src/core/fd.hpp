#pragma once
// A file descriptor closed on scope exit (files, directories). Not
// copyable; not thread-safe.
#include <unistd.h>

namespace tsunagu::core {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  // Closes now; returns close()'s result (0 when there was nothing to close).
  int Close() {
    int rc = 0;
    if (fd_ >= 0) rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace tsunagu::core
