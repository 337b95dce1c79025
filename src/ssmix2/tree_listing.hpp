#pragma once
// Lists the files below a directory of a storage tree with plain POSIX
// calls, relative to the directory's descriptor: per directory one openat,
// the getdents64 calls (one where the file system fills a read to the end
// of a small directory) and one close; per file one fstatat.
// std::filesystem's recursive iterator costs seven calls per directory and
// two stats by full path per file, and an SS-MIX2 tree holds one or two
// files per directory: that was a third of the importer's reading time.
//
// Thread-safety: stateless; distinct calls may run on distinct threads.
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::ssmix2 {

struct ListedFile {
  std::string path;   // relative to the listed directory, '/'-separated
  int64_t size = 0;   // bytes
  int64_t mtime = 0;  // ns since the epoch
};

// Appends the regular files below `dir_fd` (an open directory: it stays
// open, read to its end), recursing into subdirectories, in no particular
// order. A symbolic link to a regular file counts as that file (its target's
// size and time); symbolic links to directories are not followed.
// Directories without permission, entries removed meanwhile and anything
// more than 32 directory levels down are skipped.
// Errors: Internal naming the failing call for anything else.
core::Status ListFilesBelow(int dir_fd, std::vector<ListedFile>& out);

}  // namespace tsunagu::ssmix2
