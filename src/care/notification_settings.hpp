#pragma once
// Per-user e-mail notification setting of the care SNS (docs/care.md,
// "Notifications"): "immediate" (one mail per new post or message), "digest"
// (one summary mail per digest interval) or "off". A user who never chose
// gets the default of their occupation: immediate for staff, digest for
// family members. Reads and writes care_notify_settings (migration set
// "care_notify", see CareNotifier::Migrations).
//
// Errors: Internal/Unavailable from storage.
// Ownership: borrows the database and clock; they must outlive it.
// Thread-safety: stateless over the Database; safe to share between threads.
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "auth/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/database.hpp"

namespace tsunagu::care {

enum class EmailMode { kImmediate, kDigest, kOff };
std::string_view ToString(EmailMode mode);
// "immediate", "digest", "off"; nullopt for anything else.
std::optional<EmailMode> ParseEmailMode(std::string_view s);

class NotificationSettings {
 public:
  NotificationSettings(store::Database& db, const core::Clock& clock);
  NotificationSettings(const NotificationSettings&) = delete;
  NotificationSettings& operator=(const NotificationSettings&) = delete;

  // Immediate for staff, digest for family members.
  static EmailMode DefaultFor(auth::Occupation occupation);

  // The user's mode (their choice, or the default of their occupation).
  core::Result<EmailMode> Get(int64_t user_id, auth::Occupation occupation) const;
  // The stored choices of these users (one query); users without a choice
  // are absent from the map.
  core::Result<std::map<int64_t, EmailMode>> Chosen(const std::vector<int64_t>& user_ids) const;
  // Stores the user's choice (replacing an earlier one).
  core::Status Set(int64_t user_id, EmailMode mode);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace tsunagu::care
