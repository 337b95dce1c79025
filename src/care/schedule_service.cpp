#include "care/schedule_service.hpp"

#include <algorithm>
#include <cctype>

#include "auth/account_service.hpp"
#include "care/care_service.hpp"
#include "core/text.hpp"

namespace tsunagu::care {

using core::Result;
using core::Status;
using store::Value;

namespace {

constexpr int64_t kDayMillis = 86'400'000;
constexpr int64_t kJstOffsetMillis = int64_t{9} * 3'600'000;

struct KindName {
  EventKind kind;
  std::string_view key;
  std::string_view label;
};
constexpr KindName kKindNames[] = {
    {EventKind::kVisitMedical, "visit_medical", "訪問診療"},
    {EventKind::kVisitNursing, "visit_nursing", "訪問看護"},
    {EventKind::kVisitCare, "visit_care", "訪問介護"},
    {EventKind::kVisitRehab, "visit_rehab", "訪問リハ"},
    {EventKind::kVisitPharmacy, "visit_pharmacy", "訪問薬剤"},
    {EventKind::kDayService, "day_service", "デイサービス"},
    {EventKind::kShortStay, "short_stay", "ショートステイ"},
    {EventKind::kOutpatient, "outpatient", "通院"},
    {EventKind::kOther, "other", "その他"},
};

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

Result<std::string> CleanText(const std::string& field, const std::string& value,
                              size_t max_chars) {
  std::string text = core::Trim(value);
  if (!core::IsValidUtf8(text)) return core::InvalidInput(field + " must be valid UTF-8");
  if (CodePoints(text) > max_chars) {
    return core::InvalidInput(field + " must be at most " + std::to_string(max_chars) +
                              " characters");
  }
  return text;
}

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD" (years 1900-2199, a real calendar day) -> days since 1970-01-01.
std::optional<int64_t> ParseDay(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  int64_t days = core::DaysFromCivil(y, m, d);
  int yy = 0, mm = 0, dd = 0;
  core::CivilFromDays(days, yy, mm, dd);
  if (yy != y || mm != m || dd != d) return std::nullopt;  // 2026-02-30
  return days;
}

// "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)" -> ms UTC. The
// offset is required: a bare local time would be ambiguous.
std::optional<int64_t> ParseInstant(std::string_view s) {
  if (s.size() < 17 || (s[10] != 'T' && s[10] != 't')) return std::nullopt;
  auto day = ParseDay(s.substr(0, 10));
  int hour = 0, minute = 0, second = 0, millis = 0;
  if (!day || !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute)) {
    return std::nullopt;
  }
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &second)) return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      size_t start = ++pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
        ++pos;
      }
      if (pos == start) return std::nullopt;
      for (size_t n = std::min<size_t>(pos - start, 3); n < 3; ++n) millis *= 10;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int64_t offset_minutes = 0;
  std::string_view zone = s.substr(std::min(pos, s.size()));
  if (zone == "Z" || zone == "z") {
    offset_minutes = 0;
  } else if (!zone.empty() && (zone[0] == '+' || zone[0] == '-')) {
    int oh = 0, om = 0;
    bool colon = zone.size() == 6 && zone[3] == ':';
    if (!(zone.size() == 5 || colon) || !Digits(zone, 1, 2, &oh) ||
        !Digits(zone, colon ? 4 : 3, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = int64_t{zone[0] == '-' ? -1 : 1} * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  return *day * kDayMillis + ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
}

// 00:00 Japan time of a day.
int64_t JstMidnight(int64_t days) { return days * kDayMillis - kJstOffsetMillis; }
// The Japan-time day an instant falls on.
int64_t JstDay(int64_t millis) {
  int64_t shifted = millis + kJstOffsetMillis;
  return shifted >= 0 ? shifted / kDayMillis : -((-shifted + kDayMillis - 1) / kDayMillis);
}

struct CleanEvent {
  std::string title;
  std::string kind;
  int64_t starts_at = 0;
  int64_t ends_at = 0;
  bool all_day = false;
  std::string location;
  std::string note;
};

Result<CleanEvent> Validate(const NewScheduleEvent& e) {
  CleanEvent c;
  TSUNAGU_ASSIGN_OR_RETURN(c.title, CleanText("title", e.title, ScheduleService::kMaxTitleChars));
  if (c.title.empty()) return core::InvalidInput("title is required");
  c.kind = std::string(ToString(e.kind));
  TSUNAGU_ASSIGN_OR_RETURN(c.location,
                           CleanText("location", e.location, ScheduleService::kMaxLocationChars));
  TSUNAGU_ASSIGN_OR_RETURN(c.note, CleanText("note", e.note, ScheduleService::kMaxNoteChars));
  c.all_day = e.all_day;
  std::string starts = core::Trim(e.starts_at), ends = core::Trim(e.ends_at);
  if (starts.empty()) return core::InvalidInput("starts_at is required");
  if (ends.empty()) return core::InvalidInput("ends_at is required");
  if (e.all_day) {
    auto first = ParseDay(starts);
    if (!first)
      return core::InvalidInput("starts_at must be a date (YYYY-MM-DD) for all-day events");
    auto last = ParseDay(ends);
    if (!last) return core::InvalidInput("ends_at must be a date (YYYY-MM-DD) for all-day events");
    if (*last < *first) return core::InvalidInput("ends_at must not be before starts_at");
    c.starts_at = JstMidnight(*first);
    c.ends_at = JstMidnight(*last + 1);
  } else {
    auto start = ParseInstant(starts);
    if (!start) {
      return core::InvalidInput(
          "starts_at must be an ISO 8601 date-time with an offset, e.g. "
          "2026-11-24T10:00:00+09:00");
    }
    auto end = ParseInstant(ends);
    if (!end) {
      return core::InvalidInput(
          "ends_at must be an ISO 8601 date-time with an offset, e.g. 2026-11-24T11:00:00+09:00");
    }
    if (*end < *start) return core::InvalidInput("ends_at must not be before starts_at");
    c.starts_at = *start;
    c.ends_at = *end;
  }
  if (c.ends_at - c.starts_at > ScheduleService::kMaxEventDays * kDayMillis) {
    return core::InvalidInput("an event may last at most " +
                              std::to_string(ScheduleService::kMaxEventDays) + " days");
  }
  return c;
}

// A view bound: an instant, or a date (Japan time; as `to` the day is
// included, so the bound is the next midnight).
Result<int64_t> ParseBound(const std::string& field, const std::string& text, bool is_end) {
  std::string s = core::Trim(text);
  if (s.empty()) return core::InvalidInput(field + " is required");
  if (auto day = ParseDay(s)) return JstMidnight(*day + (is_end ? 1 : 0));
  if (auto instant = ParseInstant(s)) return *instant;
  return core::InvalidInput(field +
                            " must be a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset");
}

std::string EventObject(int64_t id) { return "care_event:" + std::to_string(id); }
std::string GroupObject(int64_t id) { return "care_group:" + std::to_string(id); }

constexpr const char* kEventColumns =
    "id, group_id, title, kind, starts_at, ends_at, all_day, location, note, created_by, "
    "created_at, updated_by, updated_at";

}  // namespace

std::string_view ToString(EventKind k) { return kKindNames[static_cast<int>(k)].key; }
std::string_view LabelOf(EventKind k) { return kKindNames[static_cast<int>(k)].label; }
std::optional<EventKind> ParseEventKind(std::string_view s) {
  for (const auto& n : kKindNames) {
    if (n.key == s) return n.kind;
  }
  return std::nullopt;
}

std::string EventStartText(const ScheduleEvent& e) {
  return e.all_day ? core::DateFromDays(JstDay(e.starts_at)) : core::FormatIsoUtc(e.starts_at);
}

std::string EventEndText(const ScheduleEvent& e) {
  return e.all_day ? core::DateFromDays(JstDay(e.ends_at) - 1) : core::FormatIsoUtc(e.ends_at);
}

ScheduleService::ScheduleService(store::Database& db, const core::Clock& clock, CareService& care,
                                 const auth::AccountService& accounts)
    : db_(db), clock_(clock), care_(care), accounts_(accounts) {}

store::MigrationSet ScheduleService::Migrations() {
  return {"care_schedule", {R"sql(
CREATE TABLE care_events (
  id {{ID}},
  group_id BIGINT NOT NULL REFERENCES care_groups (id),
  patient_id BIGINT NOT NULL,
  title TEXT NOT NULL,
  kind TEXT NOT NULL,
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  all_day INTEGER NOT NULL,
  location TEXT NOT NULL,
  note TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_by BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT NOT NULL DEFAULT 0,
  deleted_by BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX care_events_range ON care_events (group_id, starts_at)
)sql"}};
}

std::string ScheduleService::NameOf(const GroupAccess& access, int64_t user_id) const {
  for (const auto& m : access.members) {
    if (m.user_id == user_id) return m.display_name;
  }
  auto u = accounts_.Get(user_id);
  return u ? u->display_name : std::string();
}

namespace {

ScheduleEvent EventFromRow(const store::Row& r) {
  ScheduleEvent e;
  e.id = r.Int(0);
  e.group_id = r.Int(1);
  e.title = r.Text(2);
  e.kind = ParseEventKind(r.Text(3)).value_or(EventKind::kOther);
  e.starts_at = r.Int(4);
  e.ends_at = r.Int(5);
  e.all_day = r.Int(6) != 0;
  e.location = r.Text(7);
  e.note = r.Text(8);
  e.created_by = r.Int(9);
  e.created_at = r.Int(10);
  e.updated_by = r.Int(11);
  e.updated_at = r.Int(12);
  return e;
}

}  // namespace

Result<ScheduleEvent> ScheduleService::Load(const GroupAccess& access, int64_t event_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(auto rs,
                           db_.Query(std::string("SELECT ") + kEventColumns +
                                         " FROM care_events WHERE id = ? AND deleted_at = 0",
                                     {Value{event_id}}));
  if (rs.empty()) return core::NotFound("event not found");
  ScheduleEvent e = EventFromRow(rs.rows[0]);
  e.created_by_name = NameOf(access, e.created_by);
  e.updated_by_name = NameOf(access, e.updated_by);
  return e;
}

Result<GroupAccess> ScheduleService::RequireStaff(const Actor& actor, GroupAccess access,
                                                  const std::string& action,
                                                  const std::string& object) {
  if (actor.IsFamily()) {
    care_.Record(actor, action, object, access.group.regional_id, "denied", "family member");
    return core::Forbidden("family members can read the schedule but not change it");
  }
  if (access.group.archived()) return core::Conflict("the care group is archived");
  return access;
}

// The event's group access; unknown and deleted events are NotFound (audited).
Result<GroupAccess> ScheduleService::AuthorizeEvent(const Actor& actor, int64_t event_id,
                                                    const std::string& action) {
  std::string object = EventObject(event_id);
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query("SELECT group_id FROM care_events WHERE id = ? AND deleted_at = 0",
                         {Value{event_id}}));
  if (rs.empty()) {
    care_.Record(actor, action, object, "", "failure", "event not found");
    return core::NotFound("event not found");
  }
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access,
                           care_.Authorize(actor, rs.rows[0].Int(0), action, object));
  return RequireStaff(actor, std::move(access), action, object);
}

Result<std::vector<ScheduleEvent>> ScheduleService::List(const Actor& actor, int64_t group_id,
                                                         const EventRange& range) {
  const std::string action = "care.schedule.read";
  TSUNAGU_ASSIGN_OR_RETURN(int64_t from, ParseBound("from", range.from, false));
  TSUNAGU_ASSIGN_OR_RETURN(int64_t to, ParseBound("to", range.to, true));
  if (to <= from) return core::InvalidInput("to must be after from");
  if (to - from > kMaxRangeDays * kDayMillis) {
    return core::InvalidInput("the range may span at most " + std::to_string(kMaxRangeDays) +
                              " days");
  }
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, group_id, action, object));
  // Overlap with [from, to); an event of no length counts where it starts.
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query(std::string("SELECT ") + kEventColumns +
                             " FROM care_events WHERE group_id = ? AND deleted_at = 0 AND "
                             "starts_at < ? AND (ends_at > ? OR starts_at >= ?) "
                             "ORDER BY starts_at, ends_at, id",
                         {Value{group_id}, Value{to}, Value{from}, Value{from}}));
  std::vector<ScheduleEvent> out;
  for (const auto& r : rs.rows) {
    ScheduleEvent e = EventFromRow(r);
    e.created_by_name = NameOf(access, e.created_by);
    e.updated_by_name = NameOf(access, e.updated_by);
    out.push_back(std::move(e));
  }
  care_.Record(actor, action, object, access.group.regional_id, "success",
               std::to_string(out.size()) + " events");
  return out;
}

Result<ScheduleEvent> ScheduleService::Create(const Actor& actor, int64_t group_id,
                                              const NewScheduleEvent& event) {
  const std::string action = "care.schedule.create";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, group_id, action, object));
  TSUNAGU_ASSIGN_OR_RETURN(access, RequireStaff(actor, std::move(access), action, object));
  TSUNAGU_ASSIGN_OR_RETURN(CleanEvent c, Validate(event));
  int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs,
      db_.Query("INSERT INTO care_events (group_id, patient_id, title, kind, starts_at, ends_at, "
                "all_day, location, note, created_by, created_at, updated_by, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                {Value{group_id}, Value{access.group.patient_id}, Value{c.title}, Value{c.kind},
                 Value{c.starts_at}, Value{c.ends_at}, Value{int64_t{c.all_day ? 1 : 0}},
                 Value{c.location}, Value{c.note}, Value{actor.user_id}, Value{now},
                 Value{actor.user_id}, Value{now}}));
  int64_t id = rs.rows.at(0).Int(0);
  care_.Record(actor, action, EventObject(id), access.group.regional_id, "success", c.kind);
  return Load(access, id);
}

Result<ScheduleEvent> ScheduleService::Update(const Actor& actor, int64_t event_id,
                                              const NewScheduleEvent& event) {
  const std::string action = "care.schedule.update";
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, AuthorizeEvent(actor, event_id, action));
  TSUNAGU_ASSIGN_OR_RETURN(CleanEvent c, Validate(event));
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE care_events SET title = ?, kind = ?, starts_at = ?, ends_at = ?, "
                  "all_day = ?, location = ?, note = ?, updated_by = ?, updated_at = ? "
                  "WHERE id = ? AND deleted_at = 0",
                  {Value{c.title}, Value{c.kind}, Value{c.starts_at}, Value{c.ends_at},
                   Value{int64_t{c.all_day ? 1 : 0}}, Value{c.location}, Value{c.note},
                   Value{actor.user_id}, Value{clock_.NowMillis()}, Value{event_id}}));
  if (changed == 0) return core::NotFound("event not found");  // deleted meanwhile
  care_.Record(actor, action, EventObject(event_id), access.group.regional_id, "success", c.kind);
  return Load(access, event_id);
}

Status ScheduleService::Delete(const Actor& actor, int64_t event_id) {
  const std::string action = "care.schedule.delete";
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, AuthorizeEvent(actor, event_id, action));
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE care_events SET deleted_at = ?, deleted_by = ? "
                  "WHERE id = ? AND deleted_at = 0",
                  {Value{clock_.NowMillis()}, Value{actor.user_id}, Value{event_id}}));
  if (changed == 0) return core::NotFound("event not found");
  care_.Record(actor, action, EventObject(event_id), access.group.regional_id);
  return Status::Ok();
}

}  // namespace tsunagu::care
