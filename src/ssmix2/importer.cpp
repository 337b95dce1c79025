#include "ssmix2/importer.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/fd.hpp"
#include "core/log.hpp"
#include "hl7v2/message.hpp"
#include "ssmix2/storage_path.hpp"
#include "ssmix2/tree_listing.hpp"

namespace tsunagu::ssmix2 {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kWatchSettleMillis = 1000;
// Patient directories read at once, and how far the readers may run ahead
// of the importing thread (bounds the memory held by finished results).
constexpr size_t kDirReaderThreads = 6;
// The readers' CPU priority (nice value, per thread on Linux). The one
// writing thread bounds the throughput; at the same priority the six
// readers took five sevenths of the CPU time while it waited to run (a
// warm 50,000-message tree: 4.8 s at 0, 3.8 s at 19). Readers still use
// whatever CPU the writer leaves, and on a cold tree they mostly wait for
// the disk. In the server they also yield to the requests.
constexpr int kDirReaderNice = 19;
constexpr size_t kDirWindow = 24;
// Files of one directory opened (and read ahead) at a time.
constexpr size_t kReadAheadFiles = 64;

struct FileInfo {
  std::string relative;  // '/'-separated, below the root
  std::string dir;       // patient directory (state lookup key) or ""
  int64_t size = 0;
  int64_t mtime = 0;  // ns since the epoch
};

struct FileWork {
  FileInfo info;
  size_t first = 0;  // records [first, first + count) of the batch
  size_t count = 0;
  std::string reason;  // non-empty: quarantine
};

struct Batch {
  std::vector<clinical::CheckedRecord> records;
  std::vector<FileWork> files;
};

constexpr size_t kStateRows = 64;
constexpr size_t kStateFewRows = 8;
constexpr size_t kStateColumns = 8;

const std::string& StateSql(size_t rows) {
  static const auto build = [](size_t n) {
    std::string sql =
        "INSERT INTO ssmix2_import_state (facility_id, dir, path, size, mtime, status, reason, "
        "imported_at) VALUES " +
        store::RowPlaceholders(n, kStateColumns);
    sql +=
        " ON CONFLICT (facility_id, path) DO UPDATE SET dir = excluded.dir, size = "
        "excluded.size, mtime = excluded.mtime, status = excluded.status, reason = "
        "excluded.reason, imported_at = excluded.imported_at";
    return sql;
  };
  static const std::string one = build(1), few = build(kStateFewRows), many = build(kStateRows);
  return rows == 1 ? one : rows == kStateFewRows ? few : many;
}

int64_t MtimeNanos(const fs::directory_entry& e) {
  std::error_code ec;
  auto t = e.last_write_time(ec);
  if (ec) return 0;
  auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(sys.time_since_epoch()).count();
}

// CPU time of the calling thread (the timing log's *_cpu_ms: wall-clock busy
// times count time spent waiting for a core too).
int64_t ThreadCpuNanos() {
  struct timespec t {};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::string Relative(const fs::path& p, const fs::path& root) {
  return p.lexically_relative(root).generic_string();
}

// What a patient-directory reader found: the files to import (read, parsed
// and mapped, or with the reason they are bad), in path order, and how many
// were skipped.
struct DirResult {
  std::vector<FileWork> files;  // first/count index records
  std::vector<clinical::CheckedRecord> records;
  int64_t unchanged = 0;
  int64_t deferred = 0;
  int64_t messages = 0;
  core::Status status;  // storage failed while looking up the import state
};

// Runs patient-directory readers on a few threads ahead of the importing
// thread, which takes their results in walk order. On a tree that is not in
// the page cache most of the time goes to waiting for directory blocks,
// inodes and file data: several directories at once keep several disk
// requests in flight, and the parsing and mapping use both cores.
// Destruction drops what has not started and waits for what has.
class DirReaders {
 public:
  DirReaders(size_t threads, std::function<DirResult(const fs::path&)> work)
      : work_(std::move(work)) {
    for (size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] {
        // Best effort: an unchanged priority only costs speed.
        (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kDirReaderNice);
        Loop();
      });
    }
  }
  ~DirReaders() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      tasks_.clear();
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  std::future<DirResult> Submit(fs::path dir) {
    std::packaged_task<DirResult()> task([this, dir = std::move(dir)] { return work_(dir); });
    auto result = task.get_future();
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return result;
  }

 private:
  void Loop() {
    while (true) {
      std::packaged_task<DirResult()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        if (stop_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::function<DirResult(const fs::path&)> work_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<DirResult()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Reads what the page cache holds of the first `size` bytes of a file
// without waiting for the disk (0 when nothing, or where the file system
// cannot tell).
size_t ReadCached(int fd, std::string& bytes, size_t size) {
  bytes.resize(size);
  if (size == 0) return 0;
  struct iovec iov {
    bytes.data(), size
  };
  const ssize_t n = ::preadv2(fd, &iov, 1, 0, RWF_NOWAIT);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

// Reads the rest of a file of `size` bytes, of which `done` are in `bytes`
// already; false if it is shorter or unreadable.
bool ReadWhole(int fd, std::string& bytes, size_t size, size_t done) {
  bytes.resize(size);
  while (done < size) {
    ssize_t n = ::pread(fd, bytes.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Bounded single-producer / single-consumer queue.
class BatchQueue {
 public:
  explicit BatchQueue(size_t bound) : bound_(std::max<size_t>(1, bound)) {}
  // False when the consumer gave up (fatal error).
  bool Push(Batch b) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < bound_ || aborted_; });
    if (aborted_) return false;
    q_.push_back(std::move(b));
    not_empty_.notify_one();
    return true;
  }
  std::optional<Batch> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    Batch b = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void Abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    not_full_.notify_all();
  }

 private:
  size_t bound_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> q_;
  bool closed_ = false;
  bool aborted_ = false;
};

void Add(clinical::WriteStats& a, const clinical::WriteStats& b) {
  a.inserted += b.inserted;
  a.updated += b.updated;
  a.unchanged += b.unchanged;
  a.retracted += b.retracted;
  a.older_ignored += b.older_ignored;
}

std::string ReasonOf(const core::Status& s) {
  std::string r = s.message();
  if (!s.detail().empty() && s.detail() != s.message()) r += " (" + s.detail() + ")";
  return r;
}

// One run: the reader (calling thread), the writer and the counting walk.
class Run {
 public:
  Run(store::Database& db, clinical::ResourceStore& resources, const core::Clock& clock,
      const fs::path& root, const ImportOptions& o, int64_t settle_millis)
      : db_(db),
        resources_(resources),
        clock_(clock),
        root_(root),
        o_(o),
        settle_millis_(settle_millis),
        queue_(o.queue_batches) {
    Reserve(current_);
  }

  core::Result<ImportSummary> Execute() {
    start_ = Clock::now();
    last_progress_ = start_;
    std::thread counter([this] { Count(); });
    std::thread writer([this] { WriteLoop(); });
    core::Status walk = Walk();
    if (walk.ok() && !current_.files.empty()) queue_.Push(std::move(current_));
    queue_.Close();
    writer.join();
    stop_count_ = true;
    counter.join();
    summary_.elapsed_millis = ElapsedMillis();
    Report(true);
    // Which side limits the throughput: the importing thread waits either
    // for the readers (reading/parsing/mapping) or for room in the writer's
    // queue (storing). read_map_ms is summed over the reader threads; the
    // *_cpu_ms figures are the CPU time of the same work.
    core::LogInfo("ssmix2.import_timing",
                  {{"elapsed_ms", std::to_string(summary_.elapsed_millis)},
                   {"wait_for_readers_ms", std::to_string(readers_wait_nanos_ / 1'000'000)},
                   {"wait_for_writer_ms", std::to_string(writer_wait_nanos_ / 1'000'000)},
                   {"read_map_ms", std::to_string(read_nanos_.load() / 1'000'000)},
                   {"read_map_cpu_ms", std::to_string(read_cpu_nanos_.load() / 1'000'000)},
                   {"store_ms", std::to_string(store_nanos_.load() / 1'000'000)},
                   {"store_cpu_ms", std::to_string(store_cpu_nanos_.load() / 1'000'000)},
                   {"state_ms", std::to_string(state_nanos_.load() / 1'000'000)}});
    if (!walk.ok()) return walk;
    std::lock_guard lock(mu_);
    if (!fatal_.ok()) return fatal_;
    return summary_;
  }

 private:
  int64_t ElapsedMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
  }

  // Counts the patient directories (and stray files) for the progress
  // estimate: only the top three levels, so it costs little next to the
  // readers, who list each patient directory anyway.
  void Count() {
    std::error_code ec;
    fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (stop_count_) return;
      if (it->is_directory(ec)) {
        if (it.depth() == 2) {
          it.disable_recursion_pending();
          dirs_total_.fetch_add(1);
        }
      } else if (it->is_regular_file(ec)) {
        strays_total_.fetch_add(1);
      }
    }
    count_final_ = true;
  }

  // Files done plus the patient directories still to come at the average
  // number of files of those taken so far.
  int64_t TotalEstimate() const {
    int64_t dirs = dirs_total_.load();
    int64_t left = std::max<int64_t>(0, dirs - dirs_taken_);
    double per_dir = dirs_taken_ > 0
                         ? static_cast<double>(dir_files_taken_) / static_cast<double>(dirs_taken_)
                         : 0.0;
    int64_t strays_left = std::max<int64_t>(0, strays_total_.load() - strays_taken_);
    return files_done_ + static_cast<int64_t>(static_cast<double>(left) * per_dir) + strays_left;
  }

  bool Failed() {
    std::lock_guard lock(mu_);
    return !fatal_.ok();
  }

  core::Status Walk() {
    std::error_code ec;
    fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec);
    if (ec) return core::InvalidInput("cannot read the storage root", ec.message());
    // Destroyed after `inflight` (declared first): results not taken when
    // the walk stops early are dropped.
    DirReaders readers(kDirReaderThreads, [this](const fs::path& dir) { return ReadDir(dir); });
    std::deque<std::future<DirResult>> inflight;
    auto take_one = [&]() -> core::Status {
      auto t0 = Clock::now();
      DirResult r = inflight.front().get();
      readers_wait_nanos_ += (Clock::now() - t0).count();
      inflight.pop_front();
      TSUNAGU_RETURN_IF_ERROR(r.status);
      return Take(r);
    };
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return core::Internal("cannot walk the storage tree", ec.message());
      if (Failed()) return core::Status::Ok();
      const fs::directory_entry& e = *it;
      if (e.is_directory(ec)) {
        if (it.depth() == 2) {
          it.disable_recursion_pending();
          inflight.push_back(readers.Submit(e.path()));
          if (inflight.size() >= kDirWindow) TSUNAGU_RETURN_IF_ERROR(take_one());
        }
        continue;
      }
      if (!e.is_regular_file(ec)) continue;
      ++strays_taken_;
      FileInfo f{Relative(e.path(), root_), "", static_cast<int64_t>(e.file_size(ec)),
                 MtimeNanos(e)};
      if (!o_.rescan) {
        // Stray files are rare: look each up on its own.
        auto rs = db_.Query(
            "SELECT size, mtime FROM ssmix2_import_state WHERE facility_id = ? AND path = ?",
            {o_.facility_id, f.relative});
        if (!rs) return rs.error();
        if (!rs->empty() && rs->rows[0].Int(0) == f.size && rs->rows[0].Int(1) == f.mtime) {
          ++summary_.files_seen;
          ++summary_.files_unchanged;
          ++files_done_;
          MaybeReport();
          continue;
        }
      }
      ++summary_.files_seen;
      ++files_done_;
      FileWork w{std::move(f), current_.records.size(), 0,
                 "not inside a patient directory <3>/<3>/<patient ID>"};
      if (Deferred(w.info)) {
        ++summary_.files_deferred;
      } else {
        current_.files.push_back(std::move(w));
        TSUNAGU_RETURN_IF_ERROR(MaybePush());
      }
      MaybeReport();
    }
    while (!inflight.empty() && !Failed()) TSUNAGU_RETURN_IF_ERROR(take_one());
    return core::Status::Ok();
  }

  bool Deferred(const FileInfo& info) const {
    return settle_millis_ > 0 && info.mtime / 1'000'000 > clock_.NowMillis() - settle_millis_;
  }

  // Room for a full batch at once: growing a vector of a few MB page by
  // page faults in fresh memory at every doubling.
  void Reserve(Batch& b) const {
    b.records.reserve(o_.batch_records + 64);
    b.files.reserve(1024);
  }

  // Hands the batch to the writer once it is full.
  core::Status MaybePush() {
    if (current_.records.size() >= o_.batch_records || current_.files.size() >= 4096) {
      auto t0 = Clock::now();
      bool accepted = queue_.Push(std::move(current_));
      writer_wait_nanos_ += (Clock::now() - t0).count();
      if (!accepted) return core::Status::Ok();  // the writer failed
      current_ = Batch{};
      Reserve(current_);
    }
    return core::Status::Ok();
  }

  // Importing thread: adds one directory's results to the batches, file by
  // file, so that a batch never grows past its bound.
  core::Status Take(DirResult& r) {
    int64_t seen = r.unchanged + r.deferred + static_cast<int64_t>(r.files.size());
    summary_.files_seen += seen;
    summary_.files_unchanged += r.unchanged;
    summary_.files_deferred += r.deferred;
    summary_.messages += r.messages;
    messages_ += r.messages;
    files_done_ += seen;
    ++dirs_taken_;
    dir_files_taken_ += seen;
    for (FileWork& w : r.files) {
      size_t first = w.first;
      w.first = current_.records.size();
      for (size_t i = first; i < first + w.count; ++i) {
        current_.records.push_back(std::move(r.records[i]));
      }
      current_.files.push_back(std::move(w));
      TSUNAGU_RETURN_IF_ERROR(MaybePush());
    }
    MaybeReport();
    return core::Status::Ok();
  }

  // Reader thread: lists one patient directory, skips what the import state
  // says is unchanged, and reads, parses and maps the rest.
  DirResult ReadDir(const fs::path& dir) {
    DirResult out;
    auto t0 = Clock::now();
    const int64_t cpu0 = ThreadCpuNanos();
    const std::string dir_rel = Relative(dir, root_);
    // Files are listed, stated and opened relative to the directory's
    // descriptor: no path walk from the root per file.
    const core::Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0) {
      // Skipped like any directory without permission (it holds no file we
      // can read); gone meanwhile: nothing to import.
      if (errno != EACCES && errno != ENOENT) {
        out.status = core::Internal("cannot walk a patient directory",
                                    dir_rel + ": " + std::strerror(errno));
      }
      return out;
    }
    std::vector<ListedFile> listed;
    if (core::Status s = ListFilesBelow(dir_fd.get(), listed); !s.ok()) {
      out.status = s;
      return out;
    }
    // Path order, as a walk of the tree gives (the prefix is common).
    std::sort(listed.begin(), listed.end(),
              [](const ListedFile& a, const ListedFile& b) { return a.path < b.path; });
    std::unordered_map<std::string, std::pair<int64_t, int64_t>> known;
    if (!o_.rescan && !listed.empty()) {
      auto rs = db_.Query(
          "SELECT path, size, mtime FROM ssmix2_import_state WHERE facility_id = ? AND dir = ?",
          {o_.facility_id, dir_rel});
      if (!rs) {
        out.status = rs.error();
        return out;
      }
      for (const auto& r : rs->rows) known[r.Text(0)] = {r.Int(1), r.Int(2)};
    }
    std::vector<std::pair<FileWork, const std::string*>> todo;  // with the path below dir
    for (const ListedFile& f : listed) {
      FileInfo info{dir_rel + "/" + f.path, dir_rel, f.size, f.mtime};
      auto k = known.find(info.relative);
      if (k != known.end() && k->second.first == info.size && k->second.second == info.mtime) {
        ++out.unchanged;
      } else if (Deferred(info)) {
        ++out.deferred;
      } else {
        todo.push_back({FileWork{std::move(info), 0, 0, ""}, &f.path});
      }
    }
    // A few files at a time: open them all, take what the page cache holds
    // of each and ask the kernel to read the others ahead, then read the
    // rest and map them one by one. (A file read from the page cache at
    // once costs one call, not a read-ahead request and a read.)
    std::vector<int> fds;
    std::vector<std::string> contents(kReadAheadFiles);
    std::vector<size_t> cached(kReadAheadFiles);
    for (size_t at = 0; at < todo.size(); at += kReadAheadFiles) {
      size_t end = std::min(todo.size(), at + kReadAheadFiles);
      fds.assign(end - at, -1);
      for (size_t i = at; i < end; ++i) {
        const auto size = static_cast<uint64_t>(todo[i].first.info.size);
        if (size > o_.max_file_bytes) continue;
        int fd = ::openat(dir_fd.get(), todo[i].second->c_str(), O_RDONLY | O_CLOEXEC);
        fds[i - at] = fd;
        if (fd < 0) continue;
        cached[i - at] = ReadCached(fd, contents[i - at], static_cast<size_t>(size));
        if (cached[i - at] < size) (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
      }
      for (size_t i = at; i < end; ++i) {
        FileWork& w = todo[i].first;
        w.first = out.records.size();
        ReadFile(w, fds[i - at], contents[i - at], cached[i - at], out);
        if (fds[i - at] >= 0) ::close(fds[i - at]);
        out.files.push_back(std::move(w));
      }
    }
    read_nanos_ += (Clock::now() - t0).count();
    read_cpu_nanos_ += ThreadCpuNanos() - cpu0;
    return out;
  }

  // `bytes` holds the first `cached` bytes of the file already.
  void ReadFile(FileWork& w, int fd, std::string& bytes, size_t cached, DirResult& out) {
    auto parsed = ParseStoragePath(w.info.relative);
    if (!parsed) {
      w.reason = "path: " + parsed.error().message();
      return;
    }
    if (static_cast<uint64_t>(w.info.size) > o_.max_file_bytes) {
      w.reason = "too large: " + std::to_string(w.info.size) + " bytes (limit " +
                 std::to_string(o_.max_file_bytes) + ")";
      return;
    }
    if (fd < 0 || !ReadWhole(fd, bytes, static_cast<size_t>(w.info.size), cached)) {
      w.reason = "cannot read the file";
      return;
    }
    SourceContext ctx;
    ctx.facility_id = o_.facility_id;
    ctx.facility_code = o_.facility_code;
    ctx.patient_id = parsed->patient_id;
    ctx.data_type = parsed->data_type;
    ctx.order_number = parsed->order_number == "-" ? "" : parsed->order_number;
    ctx.file_time = parsed->time_millis;
    ctx.cancelled = parsed->cancelled;
    auto records = ParseAndMap(bytes, ctx);
    if (!records) {
      w.reason = ReasonOf(records.error());
      return;
    }
    ++out.messages;
    // Checked and summarized here, on the reader threads: the writer thread
    // then only writes. A record the store would refuse quarantines its
    // file, and nothing of the file is stored.
    for (auto& r : *records) out.records.push_back(std::move(r));
    w.count = records->size();
  }

  void MaybeReport() {
    if (!o_.on_progress) return;
    auto now = Clock::now();
    if (now - last_progress_ < std::chrono::milliseconds(o_.progress_interval_millis)) return;
    last_progress_ = now;
    Report(false);
  }

  void Report(bool finished) {
    if (!o_.on_progress) return;
    ImportProgress p;
    p.files_done = files_done_;
    p.total_final = finished || (count_final_.load() && dirs_taken_ == dirs_total_.load() &&
                                 strays_taken_ == strays_total_.load());
    p.files_total_estimate = finished ? files_done_ : TotalEstimate();
    p.messages = messages_;
    p.elapsed_millis = ElapsedMillis();
    p.finished = finished;
    double secs = static_cast<double>(p.elapsed_millis) / 1000.0;
    if (secs > 0) p.messages_per_second = static_cast<double>(p.messages) / secs;
    double files_per_second = secs > 0 ? static_cast<double>(files_done_) / secs : 0;
    if (finished) {
      p.eta_seconds = 0;
    } else if (count_final_.load() && dirs_taken_ > 0 && files_per_second > 0) {
      // Every patient directory is counted: the estimate only extrapolates
      // the files per directory, good enough for a remaining time.
      p.eta_seconds = static_cast<int64_t>(
          static_cast<double>(p.files_total_estimate - files_done_) / files_per_second);
    }
    o_.on_progress(p);
  }

  // --- writer thread ---

  void WriteLoop() {
    while (auto batch = queue_.Pop()) {
      auto t0 = Clock::now();
      const int64_t cpu0 = ThreadCpuNanos();
      core::Status s = Store(*batch);
      store_nanos_ += (Clock::now() - t0).count();
      store_cpu_nanos_ += ThreadCpuNanos() - cpu0;
      state_nanos_ += (Clock::now() - state_start_).count();
      if (!s.ok()) {
        std::lock_guard lock(mu_);
        fatal_ = s;
        queue_.Abort();
        return;
      }
    }
  }

  core::Status Store(Batch& b) {
    std::vector<FileWork*> good;
    for (auto& f : b.files) {
      if (f.reason.empty()) good.push_back(&f);
    }
    if (!b.records.empty()) {
      auto stats = resources_.Write(b.records);
      if (stats) {
        AddStats(*stats);
      } else if (stats.error().code() == core::Code::kInvalidInput) {
        // The store refused the batch (records are checked by the readers,
        // so only its size can be refused): file by file.
        for (auto* f : good) {
          if (f->count == 0) continue;
          std::span<const clinical::CheckedRecord> part(b.records.data() + f->first, f->count);
          auto one = resources_.Write(part);
          if (one) {
            AddStats(*one);
          } else if (one.error().code() == core::Code::kInvalidInput) {
            f->reason = "rejected by the store: " + ReasonOf(one.error());
          } else {
            return one.error();
          }
        }
      } else {
        return stats.error();
      }
    }
    state_start_ = Clock::now();
    int64_t now = clock_.NowMillis();
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
    // The state rows go in multi-row statements of 64, 8 or 1 rows (three
    // entries in the statement cache), sent as one batch: one round trip on
    // PostgreSQL.
    std::vector<store::Statement> statements;
    std::vector<store::Value> params;
    auto add = [&](size_t rows) {
      const size_t n = rows * kStateColumns;
      statements.push_back(
          {StateSql(rows), std::vector<store::Value>(std::make_move_iterator(params.begin()),
                                                     std::make_move_iterator(params.begin() + n))});
      params.erase(params.begin(), params.begin() + n);
    };
    for (auto& f : b.files) {
      std::string copy;
      if (!f.reason.empty()) {
        std::string source = (root_ / fs::path(f.info.relative)).string();
        if (!o_.quarantine_dir.empty()) {
          auto c = QuarantineCopy(o_.quarantine_dir, source, f.info.relative, f.reason);
          if (c) {
            copy = *c;
          } else {
            core::LogWarn("ssmix2.quarantine_copy_failed",
                          {{"path", f.info.relative}, {"error", ReasonOf(c.error())}});
          }
        }
        core::LogWarn("ssmix2.quarantined", {{"path", f.info.relative}, {"reason", f.reason}});
        QuarantinedFile q{f.info.relative, f.reason, copy};
        {
          std::lock_guard lock(mu_);
          ++summary_.files_quarantined;
          if (summary_.quarantined.size() < ImportSummary::kMaxListed) {
            summary_.quarantined.push_back(q);
          }
        }
        if (o_.on_quarantine) {
          std::lock_guard lock(callback_mu_);
          o_.on_quarantine(q);
        }
      } else {
        std::lock_guard lock(mu_);
        ++summary_.files_imported;
      }
      params.insert(params.end(),
                    {o_.facility_id, f.info.dir, f.info.relative, f.info.size, f.info.mtime,
                     std::string(f.reason.empty() ? "imported" : "quarantined"), f.reason, now});
      if (params.size() == kStateRows * kStateColumns) add(kStateRows);
    }
    while (params.size() >= kStateFewRows * kStateColumns) add(kStateFewRows);
    while (!params.empty()) add(1);
    if (!statements.empty()) TSUNAGU_RETURN_IF_ERROR(tx->QueryBatch(statements).status());
    return tx->Commit();
  }

  void AddStats(const clinical::WriteStats& s) {
    std::lock_guard lock(mu_);
    Add(summary_.records, s);
  }

  store::Database& db_;
  clinical::ResourceStore& resources_;
  const core::Clock& clock_;
  fs::path root_;
  const ImportOptions& o_;
  int64_t settle_millis_;
  BatchQueue queue_;
  Batch current_;

  // Shared between the reader and the writer.
  std::mutex mu_;
  std::mutex callback_mu_;
  ImportSummary summary_;
  core::Status fatal_;

  // Reader-only progress.
  int64_t files_done_ = 0;
  int64_t messages_ = 0;
  Clock::time_point start_, last_progress_;
  std::atomic<int64_t> dirs_total_{0};    // patient directories counted so far
  std::atomic<int64_t> strays_total_{0};  // files outside patient directories
  int64_t dirs_taken_ = 0;                // importing thread only
  int64_t dir_files_taken_ = 0;
  int64_t strays_taken_ = 0;
  int64_t readers_wait_nanos_ = 0;  // importing thread waiting for a directory
  int64_t writer_wait_nanos_ = 0;   // importing thread waiting for queue room
  std::atomic<bool> count_final_{false};
  std::atomic<bool> stop_count_{false};
  std::atomic<int64_t> read_nanos_{0};
  std::atomic<int64_t> store_nanos_{0};
  std::atomic<int64_t> read_cpu_nanos_{0};  // CPU time of the same work
  std::atomic<int64_t> store_cpu_nanos_{0};
  std::atomic<int64_t> state_nanos_{0};  // part of store_nanos_: the import state rows
  Clock::time_point state_start_;        // writer thread only
};

core::Status CheckOptions(const std::string& root, const ImportOptions& o) {
  if (o.facility_id <= 0) return core::InvalidInput("a source facility is required");
  if (o.batch_records < 1 || o.batch_records > clinical::ResourceStore::kMaxBatch) {
    return core::InvalidInput("batch size must be 1.." +
                              std::to_string(clinical::ResourceStore::kMaxBatch));
  }
  if (o.max_file_bytes == 0) return core::InvalidInput("the file size limit must be positive");
  std::error_code ec;
  if (root.empty() || !fs::is_directory(root, ec)) {
    return core::InvalidInput("the storage root is not a directory", root);
  }
  return core::Status::Ok();
}

void Merge(ImportSummary& total, const ImportSummary& s) {
  total.files_seen += s.files_seen;
  total.files_imported += s.files_imported;
  total.files_unchanged = s.files_unchanged;  // of the latest walk
  total.files_quarantined += s.files_quarantined;
  total.files_deferred = s.files_deferred;  // still waiting after the latest walk
  total.messages += s.messages;
  Add(total.records, s.records);
  for (const auto& q : s.quarantined) {
    if (total.quarantined.size() < ImportSummary::kMaxListed) total.quarantined.push_back(q);
  }
  total.elapsed_millis += s.elapsed_millis;
}

}  // namespace

Ssmix2Importer::Ssmix2Importer(store::Database& db, clinical::ResourceStore& resources,
                               const core::Clock& clock)
    : db_(db), resources_(resources), clock_(clock) {}

store::MigrationSet Ssmix2Importer::Migrations() {
  return {"ssmix2",
          {"CREATE TABLE ssmix2_import_state ("
           " facility_id BIGINT NOT NULL,"
           " dir TEXT NOT NULL,"
           " path TEXT NOT NULL,"
           " size BIGINT NOT NULL,"
           " mtime BIGINT NOT NULL,"
           " status TEXT NOT NULL,"
           " reason TEXT NOT NULL DEFAULT '',"
           " imported_at BIGINT NOT NULL,"
           " PRIMARY KEY (facility_id, path));"
           "CREATE INDEX ssmix2_import_state_dir ON ssmix2_import_state (facility_id, dir)"}};
}

core::Result<ImportSummary> Ssmix2Importer::Import(const std::string& root,
                                                   const ImportOptions& options) {
  TSUNAGU_RETURN_IF_ERROR(CheckOptions(root, options));
  core::LogInfo("ssmix2.import_start", {{"facility_id", std::to_string(options.facility_id)}});
  Run run(db_, resources_, clock_, fs::path(root), options, options.settle_millis);
  auto summary = run.Execute();
  if (summary) {
    core::LogInfo("ssmix2.import_done",
                  {{"facility_id", std::to_string(options.facility_id)},
                   {"imported", std::to_string(summary->files_imported)},
                   {"unchanged", std::to_string(summary->files_unchanged)},
                   {"quarantined", std::to_string(summary->files_quarantined)}});
  }
  return summary;
}

core::Result<ImportSummary> Ssmix2Importer::Watch(const std::string& root,
                                                  const ImportOptions& options,
                                                  std::chrono::milliseconds poll,
                                                  const std::atomic<bool>& stop) {
  TSUNAGU_RETURN_IF_ERROR(CheckOptions(root, options));
  ImportSummary total;
  int64_t settle = std::max(options.settle_millis, kWatchSettleMillis);
  while (true) {
    Run run(db_, resources_, clock_, fs::path(root), options, settle);
    TSUNAGU_ASSIGN_OR_RETURN(ImportSummary s, run.Execute());
    Merge(total, s);
    auto until = Clock::now() + poll;
    while (!stop && Clock::now() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(200),
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now() +
                                                                std::chrono::milliseconds(1))));
    }
    if (stop) return total;
  }
}

std::vector<std::string_view> SplitMessages(std::string_view bytes) {
  std::vector<std::string_view> out;
  size_t start = std::string_view::npos;
  for (size_t i = 0; i + 3 <= bytes.size(); ++i) {
    bool at_segment = i == 0 || bytes[i - 1] == '\r' || bytes[i - 1] == '\n';
    if (at_segment && bytes.compare(i, 3, "MSH") == 0) {
      if (start != std::string_view::npos) out.push_back(bytes.substr(start, i - start));
      start = i;
    }
  }
  if (start != std::string_view::npos) out.push_back(bytes.substr(start));
  // Bytes before the first MSH (or no MSH at all) form a part of their own so
  // that the parser reports them.
  size_t first =
      out.empty() ? bytes.size() : static_cast<size_t>(out.front().data() - bytes.data());
  std::string_view head = bytes.substr(0, first);
  if (head.find_first_not_of(" \t\r\n") != std::string_view::npos) out.insert(out.begin(), head);
  return out;
}

core::Result<std::vector<clinical::CheckedRecord>> ParseAndMap(std::string_view raw,
                                                               const SourceContext& context) {
  auto message = hl7v2::Message::Parse(raw);
  if (!message) return core::InvalidInput("unparseable HL7: " + ReasonOf(message.error()));
  auto mapped = MapMessageSummarized(*message, context);
  if (!mapped) return core::InvalidInput("cannot map: " + ReasonOf(mapped.error()));
  std::vector<clinical::CheckedRecord> checked;
  checked.reserve(mapped->records.size());
  for (size_t i = 0; i < mapped->records.size(); ++i) {
    auto c = clinical::ResourceStore::Check(std::move(mapped->records[i]), mapped->summaries[i], i);
    if (!c) return core::InvalidInput("rejected by the store: " + ReasonOf(c.error()));
    checked.push_back(std::move(*c));
  }
  return checked;
}

core::Result<std::string> QuarantineCopy(const std::string& quarantine_dir,
                                         const std::string& source, const std::string& relative,
                                         const std::string& reason) {
  fs::path rel = fs::path(relative).lexically_normal();
  if (rel.is_absolute() || (!rel.empty() && *rel.begin() == "..")) rel = rel.filename();
  fs::path dest = fs::path(quarantine_dir) / rel;
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return core::Internal("cannot create the quarantine directory", ec.message());
  fs::copy_file(source, dest, fs::copy_options::overwrite_existing, ec);
  if (ec) return core::Internal("cannot copy the file to quarantine", ec.message());
  std::ofstream note(dest.string() + ".reason.txt", std::ios::trunc);
  note << "file: " << relative << "\nreason: " << reason << "\n";
  note.close();
  if (!note) return core::Internal("cannot write the reason file");
  return dest.string();
}

}  // namespace tsunagu::ssmix2
