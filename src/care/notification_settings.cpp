#include "care/notification_settings.hpp"

#include <algorithm>
#include <string>

namespace tsunagu::care {

using store::Value;

std::string_view ToString(EmailMode mode) {
  switch (mode) {
    case EmailMode::kImmediate:
      return "immediate";
    case EmailMode::kDigest:
      return "digest";
    case EmailMode::kOff:
      return "off";
  }
  return "off";
}

std::optional<EmailMode> ParseEmailMode(std::string_view s) {
  if (s == "immediate") return EmailMode::kImmediate;
  if (s == "digest") return EmailMode::kDigest;
  if (s == "off") return EmailMode::kOff;
  return std::nullopt;
}

NotificationSettings::NotificationSettings(store::Database& db, const core::Clock& clock)
    : db_(db), clock_(clock) {}

EmailMode NotificationSettings::DefaultFor(auth::Occupation occupation) {
  return occupation == auth::Occupation::kFamily ? EmailMode::kDigest : EmailMode::kImmediate;
}

core::Result<EmailMode> NotificationSettings::Get(int64_t user_id,
                                                  auth::Occupation occupation) const {
  TSUNAGU_ASSIGN_OR_RETURN(auto chosen, Chosen({user_id}));
  auto it = chosen.find(user_id);
  return it == chosen.end() ? DefaultFor(occupation) : it->second;
}

core::Result<std::map<int64_t, EmailMode>> NotificationSettings::Chosen(
    const std::vector<int64_t>& user_ids) const {
  std::map<int64_t, EmailMode> out;
  // Bounded IN lists keep statements small and cacheable for large groups.
  constexpr size_t kChunk = 64;
  for (size_t start = 0; start < user_ids.size(); start += kChunk) {
    size_t n = std::min(kChunk, user_ids.size() - start);
    std::string sql = "SELECT user_id, email_mode FROM care_notify_settings WHERE user_id IN (";
    std::vector<Value> params;
    params.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ", ?" : "?";
      params.emplace_back(user_ids[start + i]);
    }
    sql += ")";
    TSUNAGU_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
    for (const auto& r : rows.rows) {
      if (auto mode = ParseEmailMode(r.Text(1))) out[r.Int(0)] = *mode;
    }
  }
  return out;
}

core::Status NotificationSettings::Set(int64_t user_id, EmailMode mode) {
  auto done = db_.Execute(
      "INSERT INTO care_notify_settings (user_id, email_mode, updated_at) VALUES (?, ?, ?) "
      "ON CONFLICT (user_id) DO UPDATE SET email_mode = excluded.email_mode, "
      "updated_at = excluded.updated_at",
      {Value{user_id}, Value{std::string(ToString(mode))}, Value{clock_.NowMillis()}});
  if (!done) return done.error();
  return core::Status::Ok();
}

}  // namespace tsunagu::care
