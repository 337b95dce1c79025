#pragma once
// The hash-chained audit log. Every read or write of patient data and every
// admin action is appended here. Each entry's hash = SHA-256(previous hash ||
// canonical entry); the chain head is signed with Ed25519 (at least hourly,
// and on demand) so truncation is detected too. Owns the "audit_events" and
// "audit_heads" tables, and the search lookup "audit_lookup" (with
// "audit_lookup_state"). Thread-safe: appends are serialised.
//
// audit_events carries no secondary index: an append writes the end of one
// B-tree, so the commit every audited request waits for stays short. Search
// by user, patient, facility and time goes through audit_lookup, a copy of
// those columns with its indexes, filled behind the appends in large batches
// (IndexPending, or the thread StartLookupIndexer runs) and kept in a
// database of its own where possible (a SQLite file: its writes never hold
// the audit file's writer). Find combines the lookup with the entries not
// yet copied, so an entry is found as soon as its append returned. The
// lookup is derived data: when it does not match the chain (another audit
// file restored, a lookup file deleted) it is rebuilt from the entries.
//
// The hash of entry n is the lower-case hex SHA-256 of
//   prev_hash (64 hex digits; 64 '0' for entry 1) ||
//   "tsunagu.audit.v1\n" || for each field in the order seq, time, user_id,
//   user_name, facility_id, occupation, action, patient_id, object, outcome,
//   client_address, reason: <byte length in decimal> ":" <bytes> "\n"
// (integers as decimal text), so no two different entries serialise alike.
// docs/audit.md describes the chain and its verification for operators.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::audit {

struct AuditEvent {
  int64_t seq = 0;      // assigned on append
  int64_t time = 0;     // ms UTC, assigned on append from the clock
  int64_t user_id = 0;  // 0 = anonymous / system
  std::string user_name;
  int64_t facility_id = 0;
  std::string occupation;
  std::string action;      // "patient.read", "user.create", "auth.login", ...
  std::string patient_id;  // regional patient id or ""
  std::string object;      // e.g. "user:12", "facility:3"
  std::string outcome;     // "success", "denied", "failure"
  std::string client_address;
  std::string reason;  // free text (no medical details)
  // Chain links, assigned on append (lower-case hex SHA-256).
  std::string prev_hash;
  std::string hash;
};

struct AuditQuery {
  std::optional<int64_t> user_id, facility_id, from, to;  // from/to: ms UTC
  std::optional<std::string> patient_id, action;          // action: prefix match
  int limit = 50;
  int offset = 0;
};

struct VerifyReport {
  bool ok = true;
  int64_t checked = 0;
  std::optional<int64_t> first_bad_seq;  // first entry whose hash does not match
  std::string problem;                   // human-readable (no patient data)
};

// A signature over "seq|hash" of the chain head at the time of signing.
struct SignedHead {
  int64_t seq = 0;
  std::string hash;
  int64_t signed_at = 0;  // ms UTC
  std::string signature;  // Ed25519, hex
};

struct AuditPage {
  std::vector<AuditEvent> items;  // newest first
  int64_t total = 0;              // matching entries ignoring limit/offset
};

class AuditSigner;  // Ed25519 key holder (audit/audit_signer.hpp)

// Moves an audit trail kept in `from` (entries and signed heads, as earlier
// versions kept it in the main SQLite file) into `to`, when `to` holds no
// entry yet, then empties `from`'s audit tables. The entries keep their seq,
// times and hashes, so the chain and its signed heads verify as before. Both
// databases must carry the audit migrations. Returns how many entries moved
// (0 when there was nothing to move). Internal when `to` already holds a
// chain and `from` has entries `to` lacks (two diverging logs: nothing is
// changed then, and the operator must decide).
core::Result<int64_t> MoveAuditTrail(store::Database& from, store::Database& to);

// Ownership: borrows the database, clock and signer; they must outlive it.
class AuditLog {
 public:
  static constexpr int kMaxLimit = 200;
  // prev_hash of entry 1.
  static constexpr std::string_view kGenesisHash =
      "0000000000000000000000000000000000000000000000000000000000000000";

  // Entries copied into the lookup per transaction.
  static constexpr int kLookupBatch = 8192;

  // `lookup`: the database holding audit_lookup (it must carry
  // LookupMigrations()); null = `db` (whose Migrations() include it).
  AuditLog(store::Database& db, const core::Clock& clock, AuditSigner& signer,
           store::Database* lookup = nullptr);
  ~AuditLog();  // stores what is still queued first, stops the lookup indexer
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  static store::MigrationSet Migrations();
  // The lookup tables alone, for a lookup database of its own.
  static store::MigrationSet LookupMigrations();

  // Copies every entry not yet in the lookup into it, kLookupBatch per
  // transaction, and returns how many were copied. Rebuilds the lookup first
  // when it does not match the chain. Internal on storage failure (what was
  // committed stays).
  core::Result<int64_t> IndexPending();
  // Starts a thread that calls IndexPending after kLookupBatch / 2 new
  // entries or a second after the last call, at a lower CPU priority than
  // the request threads. Stopped by the destructor; idempotent.
  void StartLookupIndexer();

  // Appends (durably: returns after the commit) and returns the stored event
  // with seq, time and hashes filled in; the caller's seq/time/hash values are
  // ignored. Concurrent callers are group-committed: one transaction may hold
  // several entries, in the order the calls arrived. Errors: InvalidInput when
  // action is empty or a field is not valid UTF-8; Internal on storage failure
  // (nothing is appended then).
  // Inside an HTTP request (a core::ResponseFence is current on this thread)
  // the entry is checked, queued and the event returned as given (seq 0):
  // a writer thread stores it, batched with other requests' entries, and the
  // response is sent only after that commit (a 500 if it fails).
  core::Result<AuditEvent> Append(AuditEvent event);

  // Entries matching `query`, newest first. Errors: InvalidInput when limit is
  // outside 1..kMaxLimit or offset < 0; Internal on storage failure.
  core::Result<AuditPage> Find(const AuditQuery& query) const;
  // Lenient form of Find: limit/offset are clamped, storage errors are logged
  // and give an empty answer.
  std::vector<AuditEvent> Search(const AuditQuery& query, int64_t* total = nullptr) const;

  // Signs the current head (seq, hash) and stores the signature. Before
  // signing it re-checks the entries appended since the newest head carrying
  // a valid signature of this key (all entries if there is none), so a
  // tampered chain is never signed (Internal then, and nothing stored).
  // An empty log, or a head that is already signed, is a no-op.
  core::Status SignHead();
  // The most recent signed head, if any (Internal on storage failure).
  core::Result<std::optional<SignedHead>> LatestSignedHead() const;

  // Recomputes the whole chain in seq order (in batches, constant memory) and
  // checks the latest signed head: its signature must verify and the entry at
  // its seq must still exist with the same hash. Reports the first problem.
  VerifyReport Verify() const;

  // The hash of `event` chained after `prev_hash` (see the file comment).
  static std::string ComputeHash(std::string_view prev_hash, const AuditEvent& event);

  const AuditSigner& signer() const { return signer_; }

 private:
  struct PendingAppend;
  core::Status WriteBatch(const std::vector<PendingAppend*>& batch);
  std::vector<store::Value> ChainBatch(const std::vector<PendingAppend*>& batch, int64_t* seq,
                                       std::string* prev) const;
  core::Status InsertAfterKnownHead(std::span<const store::Value> params);
  // Writes the head of the queue as one batch and completes its entries;
  // `lock` (on mu_) is held on entry and on return, released while writing.
  void WriteQueued(std::unique_lock<std::mutex>& lock);
  void RunWriter();  // the writer thread of queued (fenced) entries
  core::Result<std::optional<SignedHead>> LatestHeadWithValidSignature() const;
  // One lookup batch: copies up to kLookupBatch entries after the lookup's
  // mark; returns how many (0: nothing pending).
  core::Result<int64_t> IndexBatch();
  void RunLookupIndexer();

  store::Database& db_;
  store::Database& lookup_;
  const core::Clock& clock_;
  AuditSigner& signer_;

  std::mutex mu_;  // guards queue_ and writing_
  std::condition_variable cv_;
  std::deque<PendingAppend*> queue_;
  bool writing_ = false;
  // The chain head as the writer last wrote it (the writer's own state:
  // touched only while writing_).
  bool head_known_ = false;
  int64_t head_seq_ = 0;
  std::string head_hash_;
  bool stopping_ = false;
  std::condition_variable writer_cv_;  // wakes the writer thread
  std::thread writer_;                 // started at the first fenced append
  // The writer thread's linger (RunWriter), guarded by mu_: whether it is
  // waiting for more entries, and when its last commit ended.
  bool lingering_ = false;
  std::chrono::steady_clock::time_point last_commit_;
  std::mutex sign_mu_;  // one SignHead at a time

  std::mutex index_mu_;    // one IndexPending at a time
  std::mutex indexer_mu_;  // guards the fields below
  std::condition_variable indexer_cv_;
  int64_t appended_since_index_ = 0;
  bool indexer_stopping_ = false;
  std::thread indexer_;
};

}  // namespace tsunagu::audit
