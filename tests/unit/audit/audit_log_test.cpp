#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_signer.hpp"
#include "core/response_fence.hpp"
#include "unit/audit/audit_fixture.hpp"

namespace tsunagu::audit {
namespace {

using store::Value;

class AuditLogTest : public AuditDbTest {};

TEST_P(AuditLogTest, AppendAssignsContiguousSeqsAndLinksHashes) {
  std::vector<AuditEvent> stored;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1000);
    AuditEvent e = Event("patient.read", 7, "P" + std::to_string(i));
    e.seq = 99;  // caller values are ignored
    e.time = 5;
    auto appended = log().Append(e);
    ASSERT_TRUE(appended.has_value()) << appended.error().ToString();
    stored.push_back(*appended);
  }
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(stored[i].time, 1'767'225'600'000 + 1000 * static_cast<int64_t>(i + 1));
    EXPECT_EQ(stored[i].prev_hash,
              i == 0 ? std::string(AuditLog::kGenesisHash) : stored[i - 1].hash);
    EXPECT_EQ(stored[i].hash, AuditLog::ComputeHash(stored[i].prev_hash, stored[i]));
    EXPECT_EQ(stored[i].hash.size(), 64u);
  }
  // What is in the table is what Append returned.
  auto rows =
      db().Query("SELECT seq, time, patient_id, prev_hash, hash FROM audit_events ORDER BY seq");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(rows->rows[i].Int(0), stored[i].seq);
    EXPECT_EQ(rows->rows[i].Int(1), stored[i].time);
    EXPECT_EQ(rows->rows[i].Text(2), "P" + std::to_string(i));
    EXPECT_EQ(rows->rows[i].Text(3), stored[i].prev_hash);
    EXPECT_EQ(rows->rows[i].Text(4), stored[i].hash);
  }
}

TEST_P(AuditLogTest, AppendRejectsEventWithoutActionAndStoresNothing) {
  AuditEvent e = Event("");
  auto appended = log().Append(e);
  ASSERT_FALSE(appended.has_value());
  EXPECT_EQ(appended.error().code(), core::Code::kInvalidInput);
  AuditEvent bad = Event("patient.read");
  bad.reason = std::string("\xff\xfe", 2);
  EXPECT_EQ(log().Append(bad).error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(CountRows("audit_events"), 0);
}

TEST_P(AuditLogTest, HashSeparatesFieldsUnambiguously) {
  AuditEvent a = Event("patient.read");
  AuditEvent b = a;
  a.user_name = "ab";
  a.occupation = "c";
  b.user_name = "a";
  b.occupation = "bc";
  EXPECT_NE(AuditLog::ComputeHash(AuditLog::kGenesisHash, a),
            AuditLog::ComputeHash(AuditLog::kGenesisHash, b));
}

TEST_P(AuditLogTest, VerifyOkOnEmptyAndIntactChain) {
  VerifyReport empty = log().Verify();
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.checked, 0);

  AppendMany(10);
  ASSERT_TRUE(log().SignHead().ok());
  AppendMany(3);  // entries after the signed head are fine
  VerifyReport report = log().Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, 13);
  EXPECT_FALSE(report.first_bad_seq.has_value());
  EXPECT_TRUE(report.problem.empty());
}

TEST_P(AuditLogTest, VerifyStreamsLongChainsAcrossBatches) {
  // Written directly in one transaction (fast), hashed exactly like Append.
  auto tx = db().Begin();
  ASSERT_TRUE(tx.has_value());
  std::string prev(AuditLog::kGenesisHash);
  for (int64_t seq = 1; seq <= 2345; ++seq) {
    AuditEvent e = Event("patient.read", seq % 5, "P" + std::to_string(seq));
    e.seq = seq;
    e.time = 1'767'225'600'000 + seq;
    e.hash = AuditLog::ComputeHash(prev, e);
    ASSERT_TRUE(
        (*tx)
            ->Execute("INSERT INTO audit_events (seq, time, user_id, user_name, "
                      "facility_id, occupation, action, patient_id, object, outcome, "
                      "client_address, reason, prev_hash, hash) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      {Value{e.seq}, Value{e.time}, Value{e.user_id}, Value{e.user_name},
                       Value{e.facility_id}, Value{e.occupation}, Value{e.action},
                       Value{e.patient_id}, Value{e.object}, Value{e.outcome},
                       Value{e.client_address}, Value{e.reason}, Value{prev}, Value{e.hash}})
            .has_value());
    prev = e.hash;
  }
  ASSERT_TRUE((*tx)->Commit().ok());
  ASSERT_TRUE(log().SignHead().ok());
  // Append continues the externally written chain.
  auto next = log().Append(Event("auth.login"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->seq, 2346);
  EXPECT_EQ(next->prev_hash, prev);

  VerifyReport report = log().Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, 2346);

  ASSERT_TRUE(db().Execute("UPDATE audit_events SET user_id = 99 WHERE seq = 1500").has_value());
  report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 1500);
  EXPECT_EQ(report.checked, 1499);
}

TEST_P(AuditLogTest, ModifiedMiddleRowIsReported) {
  AppendMany(10);
  ASSERT_TRUE(log().SignHead().ok());
  ASSERT_TRUE(
      db().Execute("UPDATE audit_events SET patient_id = ? WHERE seq = 5", {Value{"P-other"}})
          .has_value());
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.first_bad_seq.has_value());
  EXPECT_EQ(*report.first_bad_seq, 5);
  EXPECT_EQ(report.checked, 4);
  EXPECT_NE(report.problem.find("entry 5 was modified"), std::string::npos) << report.problem;
}

TEST_P(AuditLogTest, ModifiedRowWithRecomputedHashBreaksTheNextLink) {
  AppendMany(6);
  auto rows = db().Query(
      "SELECT seq, time, user_id, user_name, facility_id, occupation, action, "
      "patient_id, object, outcome, client_address, reason, prev_hash, hash "
      "FROM audit_events WHERE seq = 3");
  ASSERT_TRUE(rows.has_value());
  AuditEvent e;
  e.seq = 3;
  e.time = rows->rows[0].Int(1);
  e.user_id = rows->rows[0].Int(2);
  e.user_name = rows->rows[0].Text(3);
  e.facility_id = rows->rows[0].Int(4);
  e.occupation = rows->rows[0].Text(5);
  e.action = "patient.search";  // the forgery
  e.patient_id = rows->rows[0].Text(7);
  e.object = rows->rows[0].Text(8);
  e.outcome = rows->rows[0].Text(9);
  e.client_address = rows->rows[0].Text(10);
  e.reason = rows->rows[0].Text(11);
  std::string forged_hash = AuditLog::ComputeHash(rows->rows[0].Text(12), e);
  ASSERT_TRUE(db().Execute("UPDATE audit_events SET action = ?, hash = ? WHERE seq = 3",
                           {Value{e.action}, Value{forged_hash}})
                  .has_value());
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  EXPECT_NE(report.problem.find("does not link"), std::string::npos) << report.problem;
}

TEST_P(AuditLogTest, RewrittenChainIsCaughtBySignedHead) {
  AppendMany(5);
  ASSERT_TRUE(log().SignHead().ok());
  // Rewrite the whole chain consistently from entry 2 on (an attacker with
  // database access but without the signing key).
  auto rows = db().Query(
      "SELECT seq, time, user_id, user_name, facility_id, occupation, action, "
      "patient_id, object, outcome, client_address, reason, prev_hash, hash "
      "FROM audit_events ORDER BY seq");
  ASSERT_TRUE(rows.has_value());
  std::string prev = rows->rows[0].Text(13);
  for (size_t i = 1; i < rows->size(); ++i) {
    const auto& r = rows->rows[i];
    AuditEvent e;
    e.seq = r.Int(0);
    e.time = r.Int(1);
    e.user_id = r.Int(2);
    e.user_name = r.Text(3);
    e.facility_id = r.Int(4);
    e.occupation = r.Text(5);
    e.action = r.Text(6);
    e.patient_id = i == 1 ? "P-hidden" : r.Text(7);
    e.object = r.Text(8);
    e.outcome = r.Text(9);
    e.client_address = r.Text(10);
    e.reason = r.Text(11);
    std::string hash = AuditLog::ComputeHash(prev, e);
    ASSERT_TRUE(db().Execute("UPDATE audit_events SET patient_id = ?, prev_hash = ?, hash = ? "
                             "WHERE seq = ?",
                             {Value{e.patient_id}, Value{prev}, Value{hash}, Value{e.seq}})
                    .has_value());
    prev = hash;
  }
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.checked, 5);  // the chain itself is consistent
  EXPECT_EQ(report.first_bad_seq, 5);
  EXPECT_NE(report.problem.find("rewritten"), std::string::npos) << report.problem;
  // And the rewritten chain is never signed.
  EXPECT_FALSE(log().SignHead().ok());
}

TEST_P(AuditLogTest, DeletingTheTailAfterSignHeadIsTruncation) {
  AppendMany(10);
  ASSERT_TRUE(log().SignHead().ok());
  ASSERT_TRUE(db().Execute("DELETE FROM audit_events WHERE seq > 7").has_value());
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.checked, 7);
  EXPECT_EQ(report.first_bad_seq, 8);
  EXPECT_NE(report.problem.find("truncated"), std::string::npos) << report.problem;
  // Signing again does not paper over the truncation.
  EXPECT_FALSE(log().SignHead().ok());
  EXPECT_EQ(CountRows("audit_heads"), 1);
  EXPECT_FALSE(log().Verify().ok);
  // Nor does appending new entries: this log goes on after the entries it
  // wrote, so the deleted ones show as a gap.
  AppendMany(5);
  report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 8);
  // Nor does a log opened afresh (a restarted server), which goes on after
  // the last entry left.
  AuditLog reopened(db(), clock_, *signer_);
  ASSERT_TRUE(db().Execute("DELETE FROM audit_events WHERE seq > 7").has_value());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(reopened.Append(Event("patient.read", 1)).has_value());
  report = reopened.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 10);
  EXPECT_NE(report.problem.find("rewritten"), std::string::npos) << report.problem;
}

TEST_P(AuditLogTest, DeletingAMiddleRowIsAGap) {
  AppendMany(8);
  ASSERT_TRUE(db().Execute("DELETE FROM audit_events WHERE seq = 4").has_value());
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  EXPECT_EQ(report.checked, 3);
  EXPECT_NE(report.problem.find("entry 4 is missing"), std::string::npos) << report.problem;
}

TEST_P(AuditLogTest, DeletingTheFirstRowIsAGap) {
  AppendMany(3);
  ASSERT_TRUE(db().Execute("DELETE FROM audit_events WHERE seq = 1").has_value());
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 1);
}

TEST_P(AuditLogTest, ForgedHeadSignatureFails) {
  AppendMany(4);
  ASSERT_TRUE(log().SignHead().ok());
  auto other = AuditSigner::FromSeedHex(kOtherSeed);
  ASSERT_TRUE(other.has_value());
  auto head = log().LatestSignedHead();
  ASSERT_TRUE(head.has_value() && head->has_value());
  EXPECT_EQ((*head)->seq, 4);
  // A signature made with another key over the right message.
  std::string forged = (*other)->Sign("4|" + (*head)->hash);
  ASSERT_TRUE(db().Execute("UPDATE audit_heads SET signature = ?", {Value{forged}}).has_value());
  VerifyReport report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  EXPECT_NE(report.problem.find("signature"), std::string::npos) << report.problem;

  // A made-up head claiming more entries than exist, not signed by our key.
  ASSERT_TRUE(db().Execute("DELETE FROM audit_heads").has_value());
  std::string fake_hash(64, 'a');
  ASSERT_TRUE(db().Execute("INSERT INTO audit_heads (seq, hash, signed_at, signature) VALUES "
                           "(?, ?, ?, ?)",
                           {Value{int64_t{9}}, Value{fake_hash}, Value{int64_t{0}},
                            Value{(*other)->Sign("9|" + fake_hash)}})
                  .has_value());
  report = log().Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("signature"), std::string::npos) << report.problem;
}

TEST_P(AuditLogTest, ForgedHeadOverRewrittenChainIsNotSigned) {
  AppendMany(5);
  ASSERT_TRUE(log().SignHead().ok());
  // Rewrite entry 5 consistently and plant a head for it with a bogus signature.
  AuditEvent e = Event("patient.read", 7, "P-hidden");
  auto prev = db().Query("SELECT hash, time FROM audit_events WHERE seq = 4");
  ASSERT_TRUE(prev.has_value());
  e.seq = 5;
  e.time = clock_.NowMillis();
  std::string hash = AuditLog::ComputeHash(prev->rows[0].Text(0), e);
  ASSERT_TRUE(db().Execute("UPDATE audit_events SET patient_id = ?, time = ?, hash = ?, "
                           "object = ? WHERE seq = 5",
                           {Value{e.patient_id}, Value{e.time}, Value{hash}, Value{e.object}})
                  .has_value());
  auto other = AuditSigner::FromSeedHex(kOtherSeed);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(db().Execute("INSERT INTO audit_heads (seq, hash, signed_at, signature) VALUES "
                           "(5, ?, 0, ?)",
                           {Value{hash}, Value{(*other)->Sign("5|" + hash)}})
                  .has_value());
  EXPECT_FALSE(log().SignHead().ok());
  EXPECT_FALSE(log().Verify().ok);
}

TEST_P(AuditLogTest, NewKeyResignsAfterCheckingTheWholeChain) {
  AppendMany(4);
  ASSERT_TRUE(log().SignHead().ok());
  auto other = AuditSigner::FromSeedHex(kOtherSeed);
  ASSERT_TRUE(other.has_value());
  AuditLog with_new_key(db(), clock_, **other);
  VerifyReport before = with_new_key.Verify();
  EXPECT_FALSE(before.ok);  // the old head is not signed by the new key
  ASSERT_TRUE(with_new_key.SignHead().ok());
  VerifyReport after = with_new_key.Verify();
  EXPECT_TRUE(after.ok) << after.problem;
  EXPECT_EQ(after.checked, 4);
}

TEST_P(AuditLogTest, SignHeadStoresVerifiableSignatureOnce) {
  EXPECT_TRUE(log().SignHead().ok());  // empty log: nothing to sign
  EXPECT_EQ(CountRows("audit_heads"), 0);
  AppendMany(3);
  clock_.Advance(60'000);
  ASSERT_TRUE(log().SignHead().ok());
  ASSERT_TRUE(log().SignHead().ok());  // unchanged head: not signed twice
  EXPECT_EQ(CountRows("audit_heads"), 1);
  auto head = log().LatestSignedHead();
  ASSERT_TRUE(head.has_value() && head->has_value());
  auto last = db().Query("SELECT hash FROM audit_events WHERE seq = 3");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ((*head)->seq, 3);
  EXPECT_EQ((*head)->hash, last->rows[0].Text(0));
  EXPECT_EQ((*head)->signed_at, clock_.NowMillis());
  EXPECT_TRUE(signer_->Verify("3|" + (*head)->hash, (*head)->signature));
  EXPECT_TRUE(AuditSigner::VerifyWithPublicKey(signer_->PublicKeyHex(), "3|" + (*head)->hash,
                                               (*head)->signature));
  AppendMany(2);
  ASSERT_TRUE(log().SignHead().ok());
  EXPECT_EQ(CountRows("audit_heads"), 2);
  EXPECT_EQ((*log().LatestSignedHead())->seq, 5);
}

TEST_P(AuditLogTest, ConcurrentAppendsFormOneChain) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!log().Append(Event("patient.read", t + 1, "P" + std::to_string(i)))) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CountRows("audit_events"), kThreads * kPerThread);
  auto range = db().Query("SELECT MIN(seq), MAX(seq) FROM audit_events");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->rows[0].Int(0), 1);
  EXPECT_EQ(range->rows[0].Int(1), kThreads * kPerThread);
  ASSERT_TRUE(log().SignHead().ok());
  VerifyReport report = log().Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, kThreads * kPerThread);
}

TEST_P(AuditLogTest, TwoWritersOnOneDatabaseStillFormOneChain) {
  // Two AuditLog objects do not share a mutex, like two server processes on
  // one database: the storage-level serialisation (and retry on a seq
  // conflict) must keep the chain intact.
  AuditLog second(db(), clock_, *signer_);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AuditLog& target = t % 2 == 0 ? log() : second;
      for (int i = 0; i < 50; ++i) {
        if (!target.Append(Event("patient.read", t + 1))) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(CountRows("audit_events"), 200);
  VerifyReport report = log().Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, 200);
}

class AuditSearchTest : public AuditDbTest {
 protected:
  void SetUp() override {
    AuditDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // seq 1..6, one minute apart, starting 2026-01-01T00:01:00Z.
    Add(Event("auth.login", 1, "", 10));
    Add(Event("patient.read", 1, "P1", 10));
    Add(Event("patient.create", 2, "P2", 20));
    Add(Event("patient.read", 2, "P1", 20));
    Add(Event("user.create", 3, "", 10));
    Add(Event("patients_export", 3, "", 30));
  }
  void Add(AuditEvent e) {
    clock_.Advance(60'000);
    ASSERT_TRUE(log().Append(std::move(e)).has_value());
  }
  std::vector<int64_t> Seqs(const AuditQuery& q, int64_t* total = nullptr) {
    auto page = log().Find(q);
    EXPECT_TRUE(page.has_value()) << page.error().ToString();
    std::vector<int64_t> out;
    if (!page) return out;
    if (total != nullptr) *total = page->total;
    for (const auto& e : page->items) out.push_back(e.seq);
    return out;
  }
  static constexpr int64_t kStart = 1'767'225'600'000;
};

TEST_P(AuditSearchTest, NoFilterGivesEverythingNewestFirst) {
  int64_t total = 0;
  EXPECT_EQ(Seqs({}, &total), (std::vector<int64_t>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(total, 6);
  auto page = log().Find({});
  ASSERT_TRUE(page.has_value());
  const AuditEvent& newest = page->items.front();
  EXPECT_EQ(newest.action, "patients_export");
  EXPECT_EQ(newest.user_id, 3);
  EXPECT_EQ(newest.user_name, "user 3");
  EXPECT_EQ(newest.facility_id, 30);
  EXPECT_EQ(newest.occupation, "physician");
  EXPECT_EQ(newest.outcome, "success");
  EXPECT_EQ(newest.client_address, "192.0.2.10");
  EXPECT_EQ(newest.time, kStart + 6 * 60'000);
}

TEST_P(AuditSearchTest, FiltersByUserPatientFacility) {
  AuditQuery by_user;
  by_user.user_id = 2;
  EXPECT_EQ(Seqs(by_user), (std::vector<int64_t>{4, 3}));
  AuditQuery by_patient;
  by_patient.patient_id = "P1";
  EXPECT_EQ(Seqs(by_patient), (std::vector<int64_t>{4, 2}));
  AuditQuery by_facility;
  by_facility.facility_id = 10;
  EXPECT_EQ(Seqs(by_facility), (std::vector<int64_t>{5, 2, 1}));
  AuditQuery combined;
  combined.facility_id = 20;
  combined.patient_id = "P1";
  EXPECT_EQ(Seqs(combined), (std::vector<int64_t>{4}));
  AuditQuery none;
  none.user_id = 42;
  int64_t total = -1;
  EXPECT_TRUE(Seqs(none, &total).empty());
  EXPECT_EQ(total, 0);
}

TEST_P(AuditSearchTest, ActionIsAPrefixMatch) {
  AuditQuery q;
  q.action = "patient.";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{4, 3, 2}));
  q.action = "patient";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{6, 4, 3, 2}));
  q.action = "patient.read";
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{4, 2}));
  q.action = "Patient.";  // case-sensitive
  EXPECT_TRUE(Seqs(q).empty());
  q.action = "patient_";  // '_' is not a wildcard
  EXPECT_TRUE(Seqs(q).empty());
  q.action = "%";
  EXPECT_TRUE(Seqs(q).empty());
}

TEST_P(AuditSearchTest, TimeRangeIsInclusive) {
  AuditQuery q;
  q.from = kStart + 2 * 60'000;
  q.to = kStart + 4 * 60'000;
  EXPECT_EQ(Seqs(q), (std::vector<int64_t>{4, 3, 2}));
  AuditQuery after;
  after.from = kStart + 5 * 60'000 + 1;
  EXPECT_EQ(Seqs(after), (std::vector<int64_t>{6}));
}

TEST_P(AuditSearchTest, LimitAndOffsetPageWithTotal) {
  AuditQuery q;
  q.limit = 2;
  q.offset = 1;
  int64_t total = 0;
  EXPECT_EQ(Seqs(q, &total), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(total, 6);
  q.offset = 10;
  EXPECT_TRUE(Seqs(q, &total).empty());
  EXPECT_EQ(total, 6);
}

TEST_P(AuditSearchTest, InvalidLimitIsRejectedByFindAndClampedBySearch) {
  AuditQuery q;
  q.limit = 0;
  EXPECT_EQ(log().Find(q).error().code(), core::Code::kInvalidInput);
  q.limit = 201;
  EXPECT_EQ(log().Find(q).error().code(), core::Code::kInvalidInput);
  q.limit = 10;
  q.offset = -1;
  EXPECT_EQ(log().Find(q).error().code(), core::Code::kInvalidInput);
  AuditQuery lenient;
  lenient.limit = 1000;
  int64_t total = 0;
  EXPECT_EQ(log().Search(lenient, &total).size(), 6u);
  EXPECT_EQ(total, 6);
}

// Inside an HTTP request the entry is queued and the response fence waits
// for it: many requests' entries share commits, in order, one chain.
TEST_P(AuditLogTest, FencedAppendsAreStoredBeforeTheirFenceSettles) {
  constexpr int kThreads = 4, kPerThread = 40;
  std::atomic<int> settled_ok{0}, stored_before_settle{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto fence = std::make_shared<core::ResponseFence>();
        std::string patient = "P" + std::to_string(t) + "-" + std::to_string(i);
        {
          core::ScopedResponseFence scope(fence);
          auto accepted = log().Append(Event("patient.read", t + 1, patient));
          ASSERT_TRUE(accepted.has_value());
          EXPECT_EQ(accepted->seq, 0);  // not stored yet
        }
        std::promise<core::Status> done;
        fence->WhenSettled([&](const core::Status& s) {
          AuditQuery q;
          q.patient_id = patient;
          if (auto page = log().Find(q); page && page->total == 1) ++stored_before_settle;
          done.set_value(s);
        });
        if (done.get_future().get().ok()) ++settled_ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(settled_ok.load(), kThreads * kPerThread);
  EXPECT_EQ(stored_before_settle.load(), kThreads * kPerThread);
  VerifyReport report = log().Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, kThreads * kPerThread);
}

TEST_P(AuditLogTest, FencedAppendStillRejectsBadEventsAtOnce) {
  auto fence = std::make_shared<core::ResponseFence>();
  core::ScopedResponseFence scope(fence);
  auto bad = log().Append(Event(""));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kInvalidInput);
  EXPECT_FALSE(fence->pending());
}

TEST_P(AuditLogTest, QueuedEntriesAreStoredWhenTheLogIsClosed) {
  auto fence = std::make_shared<core::ResponseFence>();
  {
    core::ScopedResponseFence scope(fence);
    for (int i = 0; i < 25; ++i) ASSERT_TRUE(log().Append(Event("patient.read")).has_value());
  }
  log_.reset();  // the destructor drains the queue
  EXPECT_FALSE(fence->pending());
  EXPECT_EQ(CountRows("audit_events"), 25);
}

TEST_P(AuditLogTest, AFailedCommitFailsTheFence) {
  auto fence = std::make_shared<core::ResponseFence>();
  ASSERT_TRUE(db().Execute("DROP TABLE audit_events").has_value());
  {
    core::ScopedResponseFence scope(fence);
    ASSERT_TRUE(log().Append(Event("patient.read")).has_value());
  }
  std::promise<core::Status> done;
  fence->WhenSettled([&](const core::Status& s) { done.set_value(s); });
  core::Status s = done.get_future().get();
  EXPECT_EQ(s.code(), core::Code::kInternal);
}

// An older data dir kept its log in the main database; the log now lives in
// a database of its own (SQLite) and is moved there once, intact.
class MoveAuditTrailTest : public AuditDbTest {
 protected:
  void SetUp() override {
    AuditDbTest::SetUp();
    if (::testing::Test::IsSkipped()) return;
    target_ = std::make_unique<tsunagu::testing::TestDatabase>(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(target_->db(), {AuditLog::Migrations()}).ok());
  }
  std::unique_ptr<tsunagu::testing::TestDatabase> target_;
};

TEST_P(MoveAuditTrailTest, MovesEntriesAndSignedHeadsThatStillVerify) {
  AppendMany(1203);  // more than one read batch
  ASSERT_TRUE(log().SignHead().ok());
  ASSERT_TRUE(log().Append(Event("patient.update", 9, "P-last")).has_value());

  auto moved = MoveAuditTrail(db(), target_->db());
  ASSERT_TRUE(moved.has_value()) << moved.error().ToString();
  EXPECT_EQ(*moved, 1204);
  EXPECT_EQ(CountRows("audit_events"), 0);
  EXPECT_EQ(CountRows("audit_heads"), 0);

  AuditLog moved_log(target_->db(), clock_, *signer_);
  VerifyReport report = moved_log.Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checked, 1204);
  auto head = moved_log.LatestSignedHead();
  ASSERT_TRUE(head.has_value());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->seq, 1203);
  AuditQuery q;
  q.patient_id = "P-last";
  auto page = moved_log.Find(q);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].action, "patient.update");
  // The chain goes on where it ended.
  auto next = moved_log.Append(Event("patient.read"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->seq, 1205);
  EXPECT_TRUE(moved_log.Verify().ok);

  // A second start finds nothing to move and changes nothing.
  auto again = MoveAuditTrail(db(), target_->db());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(moved_log.Verify().checked, 1205);
}

TEST_P(MoveAuditTrailTest, DivergingLogsAreReportedAndNothingIsDeleted) {
  AppendMany(3);
  AuditLog other(target_->db(), clock_, *signer_);
  ASSERT_TRUE(other.Append(Event("patient.read", 5)).has_value());
  auto moved = MoveAuditTrail(db(), target_->db());
  ASSERT_FALSE(moved.has_value());
  EXPECT_EQ(moved.error().code(), core::Code::kInternal);
  EXPECT_EQ(CountRows("audit_events"), 3);
  auto rows = target_->db().Query("SELECT COUNT(*) FROM audit_events");
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->rows[0].Int(0), 1);
}

// The search lookup is filled behind the appends (IndexPending or its
// thread): whatever it holds at the moment, a search gives the same answer.
class AuditLookupTest : public AuditDbTest {
 protected:
  void Add(AuditEvent e, AuditLog* log = nullptr) {
    clock_.Advance(60'000);
    auto stored = (log != nullptr ? *log : this->log()).Append(std::move(e));
    ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
    added_.push_back(*stored);
  }
  // Twelve entries: three users, three patients (and none), two facilities.
  void AddVaried(int n) {
    static const char* kActions[] = {"patient.read", "patient.update", "auth.login", "patient.read",
                                     "consent.create"};
    for (int i = 0; i < n; ++i) {
      const int k = static_cast<int>(added_.size());
      Add(Event(kActions[k % 5], 1 + k % 3, k % 4 == 3 ? "" : "P" + std::to_string(k % 3),
                k % 2 == 0 ? 10 : 20));
    }
  }
  // What Find must answer, from the entries as appended.
  std::vector<int64_t> Model(const AuditQuery& q, int64_t* total) const {
    std::vector<int64_t> all;
    for (auto it = added_.rbegin(); it != added_.rend(); ++it) {
      const AuditEvent& e = *it;
      if (q.user_id && e.user_id != *q.user_id) continue;
      if (q.facility_id && e.facility_id != *q.facility_id) continue;
      if (q.patient_id && e.patient_id != *q.patient_id) continue;
      if (q.action && e.action.rfind(*q.action, 0) != 0) continue;
      if (q.from && e.time < *q.from) continue;
      if (q.to && e.time > *q.to) continue;
      all.push_back(e.seq);
    }
    *total = static_cast<int64_t>(all.size());
    std::vector<int64_t> page;
    for (size_t i = static_cast<size_t>(q.offset);
         i < all.size() && page.size() < static_cast<size_t>(q.limit); ++i) {
      page.push_back(all[i]);
    }
    return page;
  }
  std::vector<AuditQuery> Queries() const {
    std::vector<AuditQuery> out(12);
    out[1].user_id = 2;
    out[2].patient_id = "P1";
    out[3].facility_id = 20;
    out[4].action = "patient.";
    out[5].action = "auth.login";
    out[6].from = added_.at(3).time;
    out[6].to = added_.at(added_.size() - 2).time;
    out[7].user_id = 1;
    out[7].action = "patient.read";
    out[8].patient_id = "P0";
    out[8].facility_id = 10;
    out[9].patient_id = "nobody";
    out[10].user_id = 3;
    out[10].from = added_.at(5).time;
    out[11].facility_id = 10;
    out[11].action = "consent";
    return out;
  }
  // Every query, whole and in pages of 2 and 5.
  void ExpectModelAnswers(AuditLog& log, const std::string& when) {
    for (AuditQuery q : Queries()) {
      for (int limit : {50, 2, 5}) {
        for (q.limit = limit, q.offset = 0; q.offset < static_cast<int>(added_.size()) + 2;
             q.offset += limit) {
          int64_t expected_total = 0;
          std::vector<int64_t> expected = Model(q, &expected_total);
          auto page = log.Find(q);
          ASSERT_TRUE(page.has_value()) << page.error().ToString();
          std::vector<int64_t> got;
          for (const auto& e : page->items) got.push_back(e.seq);
          EXPECT_EQ(got, expected) << when << ": limit " << limit << " offset " << q.offset;
          EXPECT_EQ(page->total, expected_total) << when;
          if (limit == 50) break;
        }
      }
    }
  }
  int64_t IndexedUpto(store::Database& db) {
    auto rows = db.Query("SELECT indexed_upto FROM audit_lookup_state WHERE id = 1");
    EXPECT_TRUE(rows.has_value());
    return rows.has_value() && !rows->empty() ? rows->rows[0].Int(0) : -1;
  }
  std::vector<AuditEvent> added_;
};

TEST_P(AuditLookupTest, SearchesGiveTheSameAnswerWhateverTheLookupHolds) {
  AddVaried(12);
  ExpectModelAnswers(log(), "nothing copied yet");
  auto copied = log().IndexPending();
  ASSERT_TRUE(copied.has_value()) << copied.error().ToString();
  EXPECT_EQ(*copied, 12);
  EXPECT_EQ(CountRows("audit_lookup"), 12);
  ExpectModelAnswers(log(), "all copied");
  AddVaried(7);  // pages now span copied and newer entries
  ExpectModelAnswers(log(), "twelve copied, seven newer");
  copied = log().IndexPending();
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(*copied, 7);
  ExpectModelAnswers(log(), "all copied again");
  copied = log().IndexPending();
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(*copied, 0);  // nothing new: nothing copied twice
  EXPECT_EQ(CountRows("audit_lookup"), 19);
  // The entries themselves carry no search index any more.
  auto indexes = db().dialect() == store::Dialect::kSqlite
                     ? db().Query(
                           "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name = 'audit_events' AND sql IS NOT NULL")
                     : db().Query(
                           "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'audit_events' "
                           "AND indexname <> 'audit_events_pkey'");
  ASSERT_TRUE(indexes.has_value());
  EXPECT_EQ(indexes->rows[0].Int(0), 0);
}

TEST_P(AuditLookupTest, CopiesInBatchesAndTheChainStillVerifies) {
  AppendMany(AuditLog::kLookupBatch + 5);  // two batches
  auto copied = log().IndexPending();
  ASSERT_TRUE(copied.has_value()) << copied.error().ToString();
  EXPECT_EQ(*copied, AuditLog::kLookupBatch + 5);
  EXPECT_EQ(IndexedUpto(db()), AuditLog::kLookupBatch + 5);
  AuditQuery q;
  q.patient_id = "P" + std::to_string(AuditLog::kLookupBatch + 1);
  auto page = log().Find(q);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->items.at(0).seq, AuditLog::kLookupBatch + 2);
  VerifyReport report = log().Verify();
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_P(AuditLookupTest, LookupInADatabaseOfItsOwn) {
  tsunagu::testing::TestDatabase lookup_db(GetParam());
  ASSERT_TRUE(store::ApplyMigrations(lookup_db.db(), {AuditLog::LookupMigrations()}).ok());
  AuditLog split(db(), clock_, *signer_, &lookup_db.db());
  for (int i = 0; i < 12; ++i) {
    Add(Event(i % 2 == 0 ? "patient.read" : "auth.login", 1 + i % 3, "P" + std::to_string(i % 3),
              10),
        &split);
  }
  ExpectModelAnswers(split, "separate lookup, nothing copied");
  auto copied = split.IndexPending();
  ASSERT_TRUE(copied.has_value()) << copied.error().ToString();
  EXPECT_EQ(*copied, 12);
  ExpectModelAnswers(split, "separate lookup, all copied");
  auto rows = lookup_db.db().Query("SELECT COUNT(*) FROM audit_lookup");
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->rows[0].Int(0), 12);
  EXPECT_EQ(CountRows("audit_lookup"), 0);  // the audit database's own stays empty
}

TEST_P(AuditLookupTest, ALookupOfAnotherChainIsRebuilt) {
  tsunagu::testing::TestDatabase lookup_db(GetParam());
  ASSERT_TRUE(store::ApplyMigrations(lookup_db.db(), {AuditLog::LookupMigrations()}).ok());
  {
    // The lookup filled from one audit database ...
    tsunagu::testing::TestDatabase old_events(GetParam());
    ASSERT_TRUE(store::ApplyMigrations(old_events.db(), {AuditLog::Migrations()}).ok());
    AuditLog old_log(old_events.db(), clock_, *signer_, &lookup_db.db());
    for (int i = 0; i < 9; ++i) {
      ASSERT_TRUE(old_log.Append(Event("patient.read", 5, "P-old")).has_value());
    }
    ASSERT_TRUE(old_log.IndexPending().has_value());
    EXPECT_EQ(IndexedUpto(lookup_db.db()), 9);
  }
  // ... then used with another one (a restored audit file, say).
  AuditLog log2(db(), clock_, *signer_, &lookup_db.db());
  AddVaried(4);
  // Rebuilt on the next copy: only this chain's entries are found.
  auto copied = log2.IndexPending();
  ASSERT_TRUE(copied.has_value()) << copied.error().ToString();
  EXPECT_EQ(IndexedUpto(lookup_db.db()), 4);
  AuditQuery old_patient;
  old_patient.patient_id = "P-old";
  auto page = log2.Find(old_patient);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->total, 0);
  auto all = log2.Find({});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->total, 4);
}

TEST_P(AuditLookupTest, TheIndexerThreadCopiesNewEntriesWithinSeconds) {
  log().StartLookupIndexer();
  log().StartLookupIndexer();  // idempotent
  AddVaried(8);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (IndexedUpto(db()) < 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(IndexedUpto(db()), 8);
  ExpectModelAnswers(log(), "copied by the thread");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);
INSTANTIATE_TEST_SUITE_P(Backends, MoveAuditTrailTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);
INSTANTIATE_TEST_SUITE_P(Backends, AuditLookupTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);
INSTANTIATE_TEST_SUITE_P(Backends, AuditSearchTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::audit
