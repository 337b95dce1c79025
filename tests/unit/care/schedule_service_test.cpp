// ScheduleService on SQLite and PostgreSQL: timed and all-day events in Japan
// time, day/week/month ranges, validation, editing and deleting, family
// read-only access, leaving, archived groups and the audit trail.
#include "care/schedule_service.hpp"

#include <gtest/gtest.h>

#include "unit/care/care_team_fixture.hpp"

namespace tsunagu::care {
namespace {

class ScheduleServiceTest : public CareTeamTest {
 protected:
  static NewScheduleEvent Timed(const std::string& title, const std::string& starts,
                                const std::string& ends, EventKind kind = EventKind::kOther) {
    NewScheduleEvent e;
    e.title = title;
    e.kind = kind;
    e.starts_at = starts;
    e.ends_at = ends;
    return e;
  }

  static NewScheduleEvent AllDay(const std::string& title, const std::string& first,
                                 const std::string& last, EventKind kind = EventKind::kOther) {
    NewScheduleEvent e = Timed(title, first, last, kind);
    e.all_day = true;
    return e;
  }

  ScheduleEvent MustCreate(const auth::User& who, const NewScheduleEvent& e) {
    auto created = schedule_->Create(As(who), group_, e);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.value_or(ScheduleEvent{});
  }

  std::vector<std::string> Titles(const auth::User& viewer, const std::string& from,
                                  const std::string& to) {
    auto list = schedule_->List(As(viewer), group_, {from, to});
    EXPECT_TRUE(list.has_value()) << list.error().ToString();
    std::vector<std::string> out;
    if (list) {
      for (const auto& e : *list) out.push_back(e.title);
    }
    return out;
  }

  std::string CreateError(const NewScheduleEvent& e) {
    auto created = schedule_->Create(As(nurse_), group_, e);
    EXPECT_FALSE(created.has_value());
    if (created) return "created";
    EXPECT_EQ(created.error().code(), core::Code::kInvalidInput);
    return created.error().message();
  }

  std::string ListError(const std::string& from, const std::string& to) {
    auto list = schedule_->List(As(nurse_), group_, {from, to});
    EXPECT_FALSE(list.has_value());
    return list ? "listed" : list.error().message();
  }
};

TEST_P(ScheduleServiceTest, TimedAndAllDayEventsInJapanTime) {
  clock_.Advance(1000);
  ScheduleEvent visit =
      MustCreate(nurse_, Timed(" 訪問看護（清拭） ", "2026-01-05T10:00:00+09:00",
                               "2026-01-05T11:00:00+09:00", EventKind::kVisitNursing));
  EXPECT_EQ(visit.title, "訪問看護（清拭）");
  EXPECT_EQ(visit.kind, EventKind::kVisitNursing);
  EXPECT_EQ(visit.group_id, group_);
  EXPECT_EQ(EventStartText(visit), "2026-01-05T01:00:00.000Z");
  EXPECT_EQ(EventEndText(visit), "2026-01-05T02:00:00.000Z");
  EXPECT_FALSE(visit.all_day);
  EXPECT_EQ(visit.created_by, nurse_.id);
  EXPECT_EQ(visit.created_by_name, "nurseさん");
  EXPECT_EQ(visit.updated_by_name, "nurseさん");
  EXPECT_EQ(visit.updated_at, clock_.NowMillis());

  ScheduleEvent day = MustCreate(
      doctor_, AllDay("デイサービス", "2026-01-06", "2026-01-06", EventKind::kDayService));
  EXPECT_TRUE(day.all_day);
  EXPECT_EQ(EventStartText(day), "2026-01-06");
  EXPECT_EQ(EventEndText(day), "2026-01-06");
  EXPECT_EQ(day.starts_at, visit.starts_at - 10 * 3'600'000 + 86'400'000);  // 00:00 JST
  EXPECT_EQ(day.ends_at - day.starts_at, 86'400'000);
  MustCreate(doctor_, AllDay("ショートステイ", "2026-01-10", "2026-01-14", EventKind::kShortStay));
  // 08:00 on the 6th in Japan is still the 5th in UTC: it belongs to the 6th.
  MustCreate(nurse_, Timed("訪問診療", "2026-01-05T23:00:00Z", "2026-01-05T23:30:00Z",
                           EventKind::kVisitMedical));

  EXPECT_EQ(Titles(nurse_, "2026-01-05", "2026-01-05"),
            std::vector<std::string>{"訪問看護（清拭）"});
  EXPECT_EQ(Titles(nurse_, "2026-01-06", "2026-01-06"),
            (std::vector<std::string>{"デイサービス", "訪問診療"}));
  EXPECT_EQ(
      Titles(nurse_, "2026-01-04", "2026-01-10"),
      (std::vector<std::string>{"訪問看護（清拭）", "デイサービス", "訪問診療", "ショートステイ"}));
  EXPECT_EQ(Titles(nurse_, "2026-01-11", "2026-01-11"), std::vector<std::string>{"ショートステイ"});
  EXPECT_EQ(Titles(nurse_, "2026-01-15", "2026-01-31"), std::vector<std::string>{});
  // Instants bound the range exactly: [from, to).
  EXPECT_TRUE(Titles(nurse_, "2026-01-05T11:00:00+09:00", "2026-01-05T12:00:00+09:00").empty());
  EXPECT_TRUE(Titles(nurse_, "2026-01-05T09:00:00+09:00", "2026-01-05T10:00:00+09:00").empty());
  EXPECT_EQ(Titles(nurse_, "2026-01-05T10:59:00+09:00", "2026-01-05T12:00:00+09:00"),
            std::vector<std::string>{"訪問看護（清拭）"});
  // A month view (with the neighbouring weeks of a calendar grid).
  EXPECT_EQ(Titles(family_, "2025-12-28", "2026-02-07").size(), 4u);

  auto created = Events("care.schedule.create");
  ASSERT_EQ(created.size(), 4u);
  EXPECT_EQ(created[3].object, "care_event:" + std::to_string(visit.id));
  EXPECT_EQ(created[3].reason, "visit_nursing");
  EXPECT_EQ(created[3].patient_id, patient_.regional_id);
  auto reads = Events("care.schedule.read");
  ASSERT_EQ(reads.size(), 9u);
  EXPECT_EQ(reads[0].object, "care_group:" + std::to_string(group_));
  EXPECT_EQ(reads[0].reason, "4 events");
  EXPECT_EQ(reads[0].user_id, family_.id);
  EXPECT_TRUE(AuditNeverMentions("care.schedule", "訪問"));
}

TEST_P(ScheduleServiceTest, AcceptedTimeForms) {
  ScheduleEvent z = MustCreate(nurse_, Timed("a", "2026-01-05T01:00Z", "2026-01-05T01:00:30.5Z"));
  EXPECT_EQ(EventStartText(z), "2026-01-05T01:00:00.000Z");
  EXPECT_EQ(EventEndText(z), "2026-01-05T01:00:30.500Z");
  ScheduleEvent compact =
      MustCreate(nurse_, Timed("b", "2026-01-05T10:00+0900", "2026-01-04T20:00:00-05:00"));
  EXPECT_EQ(EventStartText(compact), "2026-01-05T01:00:00.000Z");
  EXPECT_EQ(EventEndText(compact), "2026-01-05T01:00:00.000Z");
  // An event of no length shows where it starts (same start: the shorter first).
  EXPECT_EQ(Titles(nurse_, "2026-01-05T10:00:00+09:00", "2026-01-05T10:01:00+09:00"),
            (std::vector<std::string>{"b", "a"}));
}

TEST_P(ScheduleServiceTest, BadEventsAreRefusedAndStoreNothing) {
  const std::string t0 = "2026-01-05T10:00:00+09:00", t1 = "2026-01-05T11:00:00+09:00";
  EXPECT_EQ(CreateError(Timed("　", t0, t1)), "title is required");
  std::string long_title;
  for (int i = 0; i < 201; ++i) long_title += "訪";
  EXPECT_EQ(CreateError(Timed(long_title, t0, t1)), "title must be at most 200 characters");
  EXPECT_EQ(CreateError(Timed("x", "", t1)), "starts_at is required");
  EXPECT_EQ(CreateError(Timed("x", t0, "")), "ends_at is required");
  EXPECT_EQ(CreateError(Timed("x", "2026-01-05T10:00:00", t1)),
            "starts_at must be an ISO 8601 date-time with an offset, e.g. "
            "2026-11-24T10:00:00+09:00");
  EXPECT_NE(CreateError(Timed("x", "2026-01-05", t1)).find("starts_at must be"), std::string::npos);
  EXPECT_NE(CreateError(Timed("x", t0, "2026-01-05T25:00:00+09:00")).find("ends_at must be"),
            std::string::npos);
  EXPECT_NE(CreateError(Timed("x", "2026-02-30T10:00:00Z", t1)).find("starts_at"),
            std::string::npos);
  EXPECT_EQ(CreateError(Timed("x", t1, t0)), "ends_at must not be before starts_at");
  EXPECT_EQ(CreateError(AllDay("x", t0, "2026-01-05")),
            "starts_at must be a date (YYYY-MM-DD) for all-day events");
  EXPECT_EQ(CreateError(AllDay("x", "2026-01-05", "2026-13-01")),
            "ends_at must be a date (YYYY-MM-DD) for all-day events");
  EXPECT_EQ(CreateError(AllDay("x", "2026-01-05", "2026-01-04")),
            "ends_at must not be before starts_at");
  EXPECT_EQ(CreateError(AllDay("x", "2026-01-01", "2027-01-02")),
            "an event may last at most 366 days");
  NewScheduleEvent note = Timed("x", t0, t1);
  note.note = std::string(2001, 'n');
  EXPECT_EQ(CreateError(note), "note must be at most 2000 characters");
  NewScheduleEvent location = Timed("x", t0, t1);
  location.location = std::string(201, 'l');
  EXPECT_EQ(CreateError(location), "location must be at most 200 characters");
  EXPECT_EQ(Count("care_events"), 0);
  EXPECT_TRUE(Events("care.schedule.create").empty());

  EXPECT_EQ(ListError("", "2026-01-31"), "from is required");
  EXPECT_EQ(ListError("2026-01-01", "tomorrow"),
            "to must be a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset");
  EXPECT_EQ(ListError("2026-01-31", "2026-01-01"), "to must be after from");
  EXPECT_EQ(ListError("2026-01-01", "2026-04-11"), "the range may span at most 100 days");
  // 100 days exactly are fine.
  EXPECT_TRUE(Titles(nurse_, "2026-01-01", "2026-04-10").empty());
}

TEST_P(ScheduleServiceTest, MembersEditAndDeleteEvents) {
  ScheduleEvent e =
      MustCreate(nurse_, Timed("訪問看護", "2026-01-05T10:00:00+09:00", "2026-01-05T11:00:00+09:00",
                               EventKind::kVisitNursing));
  clock_.Advance(5000);
  NewScheduleEvent moved = Timed("訪問看護（時間変更）", "2026-01-05T14:00:00+09:00",
                                 "2026-01-05T15:00:00+09:00", EventKind::kVisitNursing);
  moved.location = "自宅";
  moved.note = "玄関の鍵は開いています";
  auto updated = schedule_->Update(As(doctor_), e.id, moved);
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_EQ(updated->title, "訪問看護（時間変更）");
  EXPECT_EQ(updated->location, "自宅");
  EXPECT_EQ(updated->note, "玄関の鍵は開いています");
  EXPECT_EQ(EventStartText(*updated), "2026-01-05T05:00:00.000Z");
  EXPECT_EQ(updated->created_by, nurse_.id);
  EXPECT_EQ(updated->updated_by, doctor_.id);
  EXPECT_EQ(updated->updated_by_name, "doctorさん");
  EXPECT_EQ(updated->updated_at, clock_.NowMillis());

  // A bad update changes nothing.
  auto bad = schedule_->Update(As(doctor_), e.id, Timed("", "x", "y"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), core::Code::kInvalidInput);
  auto list = schedule_->List(As(nurse_), group_, {"2026-01-05", "2026-01-05"});
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).title, "訪問看護（時間変更）");

  ASSERT_TRUE(schedule_->Delete(As(helper_), e.id).ok());
  EXPECT_TRUE(Titles(nurse_, "2026-01-05", "2026-01-05").empty());
  EXPECT_EQ(schedule_->Delete(As(helper_), e.id).code(), core::Code::kNotFound);
  EXPECT_EQ(schedule_->Update(As(doctor_), e.id, moved).error().code(), core::Code::kNotFound);
  EXPECT_EQ(schedule_->Update(As(doctor_), 9999, moved).error().code(), core::Code::kNotFound);
  EXPECT_EQ(Count("care_events"), 1);  // kept for the audit trail

  auto updates = Events("care.schedule.update");
  ASSERT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[2].outcome, "success");
  EXPECT_EQ(updates[2].object, "care_event:" + std::to_string(e.id));
  EXPECT_EQ(updates[1].outcome, "failure");  // the deleted event
  auto deletes = Events("care.schedule.delete");
  ASSERT_EQ(deletes.size(), 2u);
  EXPECT_EQ(deletes[1].outcome, "success");
  EXPECT_EQ(deletes[1].user_id, helper_.id);
  EXPECT_TRUE(AuditNeverMentions("care.schedule", "玄関"));
}

TEST_P(ScheduleServiceTest, FamilyReadsButDoesNotEdit) {
  ScheduleEvent e = MustCreate(
      nurse_, AllDay("通院（県北中央病院）", "2026-01-08", "2026-01-08", EventKind::kOutpatient));
  EXPECT_EQ(Titles(family_, "2026-01-01", "2026-01-31"),
            std::vector<std::string>{"通院（県北中央病院）"});
  auto create = schedule_->Create(As(family_), group_, AllDay("x", "2026-01-09", "2026-01-09"));
  ASSERT_FALSE(create.has_value());
  EXPECT_EQ(create.error().code(), core::Code::kForbidden);
  EXPECT_EQ(
      schedule_->Update(As(family_), e.id, AllDay("x", "2026-01-09", "2026-01-09")).error().code(),
      core::Code::kForbidden);
  EXPECT_EQ(schedule_->Delete(As(family_), e.id).code(), core::Code::kForbidden);
  EXPECT_EQ(Count("care_events"), 1);
  auto denied = Events("care.schedule.delete");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].outcome, "denied");
  EXPECT_EQ(denied[0].reason, "family member");
  EXPECT_EQ(denied[0].object, "care_event:" + std::to_string(e.id));

  // Outsiders see and change nothing.
  auto outside = schedule_->List(As(outsider_), group_, {"2026-01-01", "2026-01-31"});
  EXPECT_EQ(outside.error().code(), core::Code::kForbidden);
  EXPECT_EQ(schedule_->Delete(As(outsider_), e.id).code(), core::Code::kForbidden);
  EXPECT_EQ(schedule_->Create(As(outsider_), group_, AllDay("x", "2026-01-09", "2026-01-09"))
                .error()
                .code(),
            core::Code::kForbidden);
  EXPECT_EQ(Count("care_events"), 1);
}

TEST_P(ScheduleServiceTest, LeavingEndsAccessAndArchivingFreezesTheSchedule) {
  ScheduleEvent e = MustCreate(helper_, Timed("訪問介護", "2026-01-05T09:00:00+09:00",
                                              "2026-01-05T10:00:00+09:00", EventKind::kVisitCare));
  Leave(helper_);
  EXPECT_EQ(schedule_->List(As(helper_), group_, {"2026-01-05", "2026-01-05"}).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(schedule_->Delete(As(helper_), e.id).code(), core::Code::kForbidden);
  auto list = schedule_->List(As(nurse_), group_, {"2026-01-05", "2026-01-05"});
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->at(0).created_by_name, "helperさん");

  Archive();
  EXPECT_EQ(
      schedule_->Create(As(nurse_), group_, AllDay("x", "2026-01-09", "2026-01-09")).error().code(),
      core::Code::kConflict);
  EXPECT_EQ(
      schedule_->Update(As(nurse_), e.id, AllDay("x", "2026-01-09", "2026-01-09")).error().code(),
      core::Code::kConflict);
  EXPECT_EQ(schedule_->Delete(As(nurse_), e.id).code(), core::Code::kConflict);
  EXPECT_EQ(Titles(nurse_, "2026-01-05", "2026-01-05"), std::vector<std::string>{"訪問介護"});
}

TEST(EventKindTest, NamesAndLabels) {
  EXPECT_EQ(ToString(EventKind::kVisitPharmacy), "visit_pharmacy");
  EXPECT_EQ(LabelOf(EventKind::kVisitRehab), "訪問リハ");
  EXPECT_EQ(ParseEventKind("short_stay"), EventKind::kShortStay);
  EXPECT_EQ(ParseEventKind("other"), EventKind::kOther);
  EXPECT_FALSE(ParseEventKind("visit").has_value());
  EXPECT_EQ(ParseBoardSection("care_plan"), BoardSection::kCarePlan);
  EXPECT_FALSE(ParseBoardSection("Memo").has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, ScheduleServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
