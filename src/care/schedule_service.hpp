#pragma once
// The shared schedule of a care group (docs/care.md, "Messages, board and
// schedule"): the patient's visits and services (visiting doctor, nurse,
// helper, rehabilitation, pharmacist, day service, short stay, outpatient
// visits, other) as a calendar with day, week and month views. Owns the
// table care_events.
//
// Times: timed events take ISO 8601 date-times with an offset and are stored
// as UTC milliseconds; all-day events take dates, read in Japan time
// (00:00 JST of the first day to 00:00 JST of the day after the last day).
// View ranges take either form too; a date as `to` includes that day.
//
// Access: every call goes through CareService::Authorize (current membership
// and consent, refusals audited). All members, family included, read the
// schedule; only staff members create, change and delete events (family:
// Forbidden). Archived groups are read-only (Conflict on writes).
//
// Audit: each successful call appends one entry through CareService::Record:
// care.schedule.read (object "care_group:<id>", reason "N events"),
// care.schedule.create / update / delete (object "care_event:<id>"); never
// titles or notes.
//
// Errors: InvalidInput (bad title, kind, times, range over 100 days; the
// message names the field), NotFound (unknown group or event), Forbidden
// (not a member, no consent, family writing), Conflict (archived group),
// Internal/Unavailable from storage. A failed call stores nothing.
//
// Ownership: borrows every reference; they must outlive the service.
// Thread-safety: stateless over the Database; safe to share between threads.
#include <cstdint>
#include <string>
#include <vector>

#include "care/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::auth {
class AccountService;
}

namespace tsunagu::care {

class CareService;

class ScheduleService {
 public:
  static constexpr size_t kMaxTitleChars = 200;
  static constexpr size_t kMaxLocationChars = 200;
  static constexpr size_t kMaxNoteChars = 2000;
  static constexpr int64_t kMaxRangeDays = 100;
  static constexpr int64_t kMaxEventDays = 366;

  ScheduleService(store::Database& db, const core::Clock& clock, CareService& care,
                  const auth::AccountService& accounts);
  ScheduleService(const ScheduleService&) = delete;
  ScheduleService& operator=(const ScheduleService&) = delete;
  // Migration set "care_schedule"; apply after CareService::Migrations().
  static store::MigrationSet Migrations();

  // Events overlapping the range, by start time.
  core::Result<std::vector<ScheduleEvent>> List(const Actor& actor, int64_t group_id,
                                                const EventRange& range);
  core::Result<ScheduleEvent> Create(const Actor& actor, int64_t group_id,
                                     const NewScheduleEvent& event);
  // Replaces every field of the event.
  core::Result<ScheduleEvent> Update(const Actor& actor, int64_t event_id,
                                     const NewScheduleEvent& event);
  // Takes the event off the schedule (kept in storage for the audit trail).
  core::Status Delete(const Actor& actor, int64_t event_id);

 private:
  core::Result<GroupAccess> AuthorizeEvent(const Actor& actor, int64_t event_id,
                                           const std::string& action);
  core::Result<GroupAccess> RequireStaff(const Actor& actor, GroupAccess access,
                                         const std::string& action, const std::string& object);
  core::Result<ScheduleEvent> Load(const GroupAccess& access, int64_t event_id) const;
  std::string NameOf(const GroupAccess& access, int64_t user_id) const;

  store::Database& db_;
  const core::Clock& clock_;
  CareService& care_;
  const auth::AccountService& accounts_;
};

// How an event's times are shown: ISO 8601 UTC for timed events; for all-day
// events the first and the last day (Japan time, "YYYY-MM-DD").
std::string EventStartText(const ScheduleEvent& event);
std::string EventEndText(const ScheduleEvent& event);

}  // namespace tsunagu::care
