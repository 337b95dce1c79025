#pragma once
// The bulletin board of a care group (docs/care.md, "Messages, board and
// schedule"): standing information in five sections (physical condition,
// living situation, care plan, service providers, memo), each with who
// updated it last and when. Owns the table care_board_items.
//
// Access: staff members of the group only (CareService::Authorize: current
// membership and consent, refusals audited); family members are refused
// (Forbidden). Archived groups are read-only (Conflict on writes).
//
// Concurrency: optimistic. Every item carries a version (0 = never written);
// an update names the version it was based on and is refused (Conflict
// "updated by someone else") when the item has moved on since.
//
// Audit: each successful call appends one entry through CareService::Record:
// care.board.read (object "care_board:<group id>") and care.board.update
// (object "care_board:<group id>/<section>", reason "version N"); never the
// text.
//
// Errors: InvalidInput (over-long or invalid body, negative version),
// NotFound (unknown group or section), Forbidden (not a member, no consent,
// family), Conflict (archived group, stale version), Internal/Unavailable
// from storage. A failed call stores nothing.
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

class BoardService {
 public:
  static constexpr size_t kMaxBodyChars = 10000;

  BoardService(store::Database& db, const core::Clock& clock, CareService& care,
               const auth::AccountService& accounts);
  BoardService(const BoardService&) = delete;
  BoardService& operator=(const BoardService&) = delete;
  // Migration set "care_board"; apply after CareService::Migrations().
  static store::MigrationSet Migrations();

  // All five sections in board order; sections never written have version 0.
  core::Result<std::vector<BoardItem>> Read(const Actor& actor, int64_t group_id);
  // Replaces the section's text (trimmed; may be empty) when `version` is
  // still the current one; returns the item with version + 1.
  core::Result<BoardItem> Update(const Actor& actor, int64_t group_id, std::string_view section,
                                 const std::string& body, int64_t version);

 private:
  core::Result<GroupAccess> AuthorizeStaff(const Actor& actor, int64_t group_id,
                                           const std::string& action, const std::string& object);
  std::string NameOf(const GroupAccess& access, int64_t user_id) const;

  store::Database& db_;
  const core::Clock& clock_;
  CareService& care_;
  const auth::AccountService& accounts_;
};

}  // namespace tsunagu::care
