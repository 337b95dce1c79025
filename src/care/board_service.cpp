#include "care/board_service.hpp"

#include <algorithm>

#include "auth/account_service.hpp"
#include "care/care_service.hpp"
#include "core/text.hpp"

namespace tsunagu::care {

using core::Result;
using store::Value;

namespace {

struct SectionName {
  BoardSection section;
  std::string_view key;
  std::string_view label;
};
constexpr SectionName kSectionNames[] = {
    {BoardSection::kCondition, "condition", "身体状況"},
    {BoardSection::kLiving, "living", "生活状況"},
    {BoardSection::kCarePlan, "care_plan", "ケアプラン"},
    {BoardSection::kProviders, "providers", "サービス提供事業者"},
    {BoardSection::kMemo, "memo", "メモ"},
};

const SectionName& NameEntry(BoardSection s) { return kSectionNames[static_cast<int>(s)]; }

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string BoardObject(int64_t group_id) { return "care_board:" + std::to_string(group_id); }

}  // namespace

std::string_view ToString(BoardSection s) { return NameEntry(s).key; }
std::string_view LabelOf(BoardSection s) { return NameEntry(s).label; }
std::optional<BoardSection> ParseBoardSection(std::string_view s) {
  for (const auto& n : kSectionNames) {
    if (n.key == s) return n.section;
  }
  return std::nullopt;
}

BoardService::BoardService(store::Database& db, const core::Clock& clock, CareService& care,
                           const auth::AccountService& accounts)
    : db_(db), clock_(clock), care_(care), accounts_(accounts) {}

store::MigrationSet BoardService::Migrations() {
  return {"care_board", {R"sql(
CREATE TABLE care_board_items (
  group_id BIGINT NOT NULL REFERENCES care_groups (id),
  patient_id BIGINT NOT NULL,
  section TEXT NOT NULL,
  body TEXT NOT NULL,
  version BIGINT NOT NULL,
  updated_by BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (group_id, section)
)
)sql"}};
}

std::string BoardService::NameOf(const GroupAccess& access, int64_t user_id) const {
  for (const auto& m : access.members) {
    if (m.user_id == user_id) return m.display_name;
  }
  auto u = accounts_.Get(user_id);
  return u ? u->display_name : std::string();
}

Result<GroupAccess> BoardService::AuthorizeStaff(const Actor& actor, int64_t group_id,
                                                 const std::string& action,
                                                 const std::string& object) {
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, group_id, action, object));
  if (actor.IsFamily()) {
    care_.Record(actor, action, object, access.group.regional_id, "denied", "family member");
    return core::Forbidden("the bulletin board is for the care team only");
  }
  return access;
}

Result<std::vector<BoardItem>> BoardService::Read(const Actor& actor, int64_t group_id) {
  const std::string action = "care.board.read";
  std::string object = BoardObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, AuthorizeStaff(actor, group_id, action, object));
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query("SELECT section, body, version, updated_by, "
                                              "updated_at FROM care_board_items WHERE group_id = ?",
                                              {Value{group_id}}));
  std::vector<BoardItem> items;
  for (BoardSection s : kBoardSections) items.push_back(BoardItem{s, {}, 0, 0, {}, 0});
  for (const auto& r : rs.rows) {
    auto section = ParseBoardSection(r.Text(0));
    if (!section) continue;
    BoardItem& item = items[static_cast<int>(*section)];
    item.body = r.Text(1);
    item.version = r.Int(2);
    item.updated_by = r.Int(3);
    item.updated_by_name = NameOf(access, item.updated_by);
    item.updated_at = r.Int(4);
  }
  care_.Record(actor, action, object, access.group.regional_id);
  return items;
}

Result<BoardItem> BoardService::Update(const Actor& actor, int64_t group_id,
                                       std::string_view section_key, const std::string& body,
                                       int64_t version) {
  const std::string action = "care.board.update";
  auto section = ParseBoardSection(section_key);
  // Only known section names go into the audit trail.
  std::string object =
      BoardObject(group_id) + (section ? "/" + std::string(ToString(*section)) : "");
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, AuthorizeStaff(actor, group_id, action, object));
  std::string rid = access.group.regional_id;
  if (!section) return core::NotFound("unknown board section");
  if (access.group.archived()) return core::Conflict("the care group is archived");
  if (version < 0) return core::InvalidInput("version must not be negative");
  std::string text = core::Trim(body);
  if (!core::IsValidUtf8(text)) return core::InvalidInput("body must be valid UTF-8");
  if (CodePoints(text) > kMaxBodyChars) {
    return core::InvalidInput("body must be at most " + std::to_string(kMaxBodyChars) +
                              " characters");
  }
  int64_t now = clock_.NowMillis();
  std::string key(ToString(*section));
  // One statement each, so that two editors racing on the same version are
  // decided by the database: exactly one of them changes the row.
  Result<int64_t> changed =
      version == 0 ? db_.Execute(
                         "INSERT INTO care_board_items (group_id, patient_id, section, body, "
                         "version, updated_by, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?) "
                         "ON CONFLICT (group_id, section) DO NOTHING",
                         {Value{group_id}, Value{access.group.patient_id}, Value{key}, Value{text},
                          Value{actor.user_id}, Value{now}})
                   : db_.Execute(
                         "UPDATE care_board_items SET body = ?, version = version + 1, "
                         "updated_by = ?, updated_at = ? WHERE group_id = ? AND section = ? "
                         "AND version = ?",
                         {Value{text}, Value{actor.user_id}, Value{now}, Value{group_id},
                          Value{key}, Value{version}});
  if (!changed) return changed.error();
  if (*changed == 0) {
    care_.Record(actor, action, object, rid, "failure", "stale version " + std::to_string(version));
    return core::Conflict("updated by someone else; reload the board and edit again");
  }
  care_.Record(actor, action, object, rid, "success", "version " + std::to_string(version + 1));
  return BoardItem{*section, text, version + 1, actor.user_id, access.self.display_name, now};
}

}  // namespace tsunagu::care
