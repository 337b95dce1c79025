// BoardService on SQLite and PostgreSQL: the five sections, optimistic
// concurrency, staff-only access, leaving, archived groups and the audit
// trail.
#include "care/board_service.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "unit/care/care_team_fixture.hpp"

namespace tsunagu::care {
namespace {

class BoardServiceTest : public CareTeamTest {
 protected:
  BoardItem MustUpdate(const auth::User& who, const std::string& section, const std::string& body,
                       int64_t version) {
    auto item = board_->Update(As(who), group_, section, body, version);
    EXPECT_TRUE(item.has_value()) << item.error().ToString();
    return item.value_or(BoardItem{});
  }
};

TEST_P(BoardServiceTest, ShowsAllFiveSectionsEvenWhenEmpty) {
  auto items = board_->Read(As(nurse_), group_);
  ASSERT_TRUE(items.has_value()) << items.error().ToString();
  ASSERT_EQ(items->size(), 5u);
  std::vector<std::string> keys, labels;
  for (const auto& i : *items) {
    keys.emplace_back(ToString(i.section));
    labels.emplace_back(LabelOf(i.section));
    EXPECT_EQ(i.version, 0);
    EXPECT_EQ(i.body, "");
    EXPECT_EQ(i.updated_by, 0);
    EXPECT_EQ(i.updated_at, 0);
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"condition", "living", "care_plan", "providers", "memo"}));
  EXPECT_EQ(labels, (std::vector<std::string>{"身体状況", "生活状況", "ケアプラン",
                                              "サービス提供事業者", "メモ"}));
  auto reads = Events("care.board.read");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].object, "care_board:" + std::to_string(group_));
  EXPECT_EQ(reads[0].patient_id, patient_.regional_id);
  EXPECT_EQ(reads[0].outcome, "success");
}

TEST_P(BoardServiceTest, UpdatesCarryWhoAndWhenAndBumpTheVersion) {
  clock_.Advance(60'000);
  BoardItem first = MustUpdate(nurse_, "condition", "  右下肢に浮腫あり。\n歩行は杖で自立。 ", 0);
  EXPECT_EQ(first.section, BoardSection::kCondition);
  EXPECT_EQ(first.body, "右下肢に浮腫あり。\n歩行は杖で自立。");
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.updated_by, nurse_.id);
  EXPECT_EQ(first.updated_by_name, "nurseさん");
  EXPECT_EQ(first.updated_at, clock_.NowMillis());

  clock_.Advance(60'000);
  BoardItem second = MustUpdate(doctor_, "condition", "浮腫は軽快", 1);
  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(second.updated_by_name, "doctorさん");
  MustUpdate(helper_, "memo", "鍵はキーボックス（番号は事業所に確認）", 0);

  auto items = board_->Read(As(helper_), group_);
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(items->at(0).body, "浮腫は軽快");
  EXPECT_EQ(items->at(0).version, 2);
  EXPECT_EQ(items->at(0).updated_by, doctor_.id);
  EXPECT_EQ(items->at(0).updated_at, clock_.NowMillis());
  EXPECT_EQ(items->at(4).updated_by_name, "helperさん");
  EXPECT_EQ(items->at(1).version, 0);

  // An empty text clears a section; it keeps its history of versions.
  BoardItem cleared = MustUpdate(doctor_, "memo", "", 1);
  EXPECT_EQ(cleared.body, "");
  EXPECT_EQ(cleared.version, 2);

  auto updates = Events("care.board.update");
  ASSERT_EQ(updates.size(), 4u);
  EXPECT_EQ(updates[0].object, "care_board:" + std::to_string(group_) + "/memo");
  EXPECT_EQ(updates[0].reason, "version 2");
  EXPECT_EQ(updates[3].object, "care_board:" + std::to_string(group_) + "/condition");
  EXPECT_TRUE(AuditNeverMentions("care.board", "浮腫"));
}

TEST_P(BoardServiceTest, AStaleVersionIsRefused) {
  MustUpdate(nurse_, "care_plan", "週2回の訪問看護", 0);
  // Two editors opened version 1; the first to save wins.
  MustUpdate(doctor_, "care_plan", "週3回の訪問看護", 1);
  auto late = board_->Update(As(nurse_), group_, "care_plan", "週2回＋デイサービス", 1);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), core::Code::kConflict);
  EXPECT_NE(late.error().message().find("updated by someone else"), std::string::npos);
  // Creating a section someone else created meanwhile is stale too.
  auto twice = board_->Update(As(helper_), group_, "care_plan", "x", 0);
  EXPECT_EQ(twice.error().code(), core::Code::kConflict);
  auto ahead = board_->Update(As(helper_), group_, "care_plan", "x", 7);
  EXPECT_EQ(ahead.error().code(), core::Code::kConflict);

  auto items = board_->Read(As(nurse_), group_);
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(items->at(2).body, "週3回の訪問看護");
  EXPECT_EQ(items->at(2).version, 2);
  auto updates = Events("care.board.update");
  ASSERT_EQ(updates.size(), 5u);
  EXPECT_EQ(updates[0].outcome, "failure");
  EXPECT_EQ(updates[0].reason, "stale version 7");
}

TEST_P(BoardServiceTest, OfTwoEditorsRacingOnOneVersionExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    int64_t version = round;  // each round starts from the version the last one left
    core::Code first = core::Code::kOk, second = core::Code::kOk;
    std::thread a([&] {
      auto r = board_->Update(As(nurse_), group_, "memo", "看護師の更新", version);
      first = r ? core::Code::kOk : r.error().code();
    });
    std::thread b([&] {
      auto r = board_->Update(As(doctor_), group_, "memo", "医師の更新", version);
      second = r ? core::Code::kOk : r.error().code();
    });
    a.join();
    b.join();
    EXPECT_TRUE((first == core::Code::kOk) != (second == core::Code::kOk))
        << "round " << round << ": exactly one of the two saves succeeds";
    EXPECT_TRUE(first == core::Code::kConflict || second == core::Code::kConflict);
  }
  auto items = board_->Read(As(nurse_), group_);
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(items->at(4).version, 5);
}

TEST_P(BoardServiceTest, BadInputChangesNothing) {
  MustUpdate(nurse_, "living", "独居。長女が週末に来訪。", 0);
  auto unknown = board_->Update(As(nurse_), group_, "diagnosis", "x", 1);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);
  EXPECT_EQ(unknown.error().message(), "unknown board section");
  std::string too_long(10001, 'a');
  auto big = board_->Update(As(nurse_), group_, "living", too_long, 1);
  EXPECT_EQ(big.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(big.error().message(), "body must be at most 10000 characters");
  EXPECT_EQ(board_->Update(As(nurse_), group_, "living", "\xc3\x28", 1).error().code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(board_->Update(As(nurse_), group_, "living", "x", -1).error().code(),
            core::Code::kInvalidInput);
  EXPECT_TRUE(board_->Update(As(nurse_), group_, "living", std::string(10000, 'a'), 1).has_value());
  auto items = board_->Read(As(nurse_), group_);
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(items->at(1).version, 2);
  EXPECT_EQ(Count("care_board_items"), 1);
  // The unknown section name never reaches the audit trail.
  EXPECT_TRUE(AuditNeverMentions("care.board", "diagnosis"));
}

TEST_P(BoardServiceTest, FamilyAndOutsidersDoNotSeeTheBoard) {
  MustUpdate(nurse_, "condition", "褥瘡あり", 0);
  auto family = board_->Read(As(family_), group_);
  ASSERT_FALSE(family.has_value());
  EXPECT_EQ(family.error().code(), core::Code::kForbidden);
  EXPECT_EQ(board_->Update(As(family_), group_, "memo", "x", 0).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(board_->Read(As(outsider_), group_).error().code(), core::Code::kForbidden);
  EXPECT_EQ(board_->Update(As(outsider_), group_, "memo", "x", 0).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(board_->Read(As(doctor_), 9999).error().code(), core::Code::kNotFound);
  EXPECT_EQ(Count("care_board_items"), 1);
  auto reads = Events("care.board.read");
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads[2].outcome, "denied");
  EXPECT_EQ(reads[2].reason, "family member");
  EXPECT_EQ(reads[1].outcome, "denied");
  EXPECT_EQ(reads[1].user_id, outsider_.id);
  EXPECT_EQ(reads[0].outcome, "failure");
}

TEST_P(BoardServiceTest, LeavingEndsAccessAndArchivingFreezesTheBoard) {
  BoardItem item = MustUpdate(helper_, "providers", "ふくしま訪問看護ステーション", 0);
  Leave(helper_);
  EXPECT_EQ(board_->Read(As(helper_), group_).error().code(), core::Code::kForbidden);
  EXPECT_EQ(board_->Update(As(helper_), group_, "providers", "x", 1).error().code(),
            core::Code::kForbidden);
  // The former member's name stays on what they wrote.
  auto items = board_->Read(As(nurse_), group_);
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(items->at(3).updated_by_name, "helperさん");

  Archive();
  auto frozen = board_->Update(As(nurse_), group_, "providers", "x", item.version);
  ASSERT_FALSE(frozen.has_value());
  EXPECT_EQ(frozen.error().code(), core::Code::kConflict);
  items = board_->Read(As(nurse_), group_);
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(items->at(3).body, "ふくしま訪問看護ステーション");
}

INSTANTIATE_TEST_SUITE_P(Backends, BoardServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
