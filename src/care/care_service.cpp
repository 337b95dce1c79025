#include "care/care_service.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "audit/audit_log.hpp"
#include "auth/account_service.hpp"
#include "care/attachment_type.hpp"
#include "care/status_template.hpp"
#include "consent/consent_service.hpp"
#include "core/access_epoch.hpp"
#include "core/text.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::care {

using core::Result;
using core::Status;
using store::Value;

std::string_view ToString(MemberRole r) { return r == MemberRole::kOwner ? "owner" : "member"; }

std::string_view ToString(PostKind k) {
  switch (k) {
    case PostKind::kStatus:
      return "status";
    case PostKind::kPhoto:
      return "photo";
    case PostKind::kFile:
      return "file";
    case PostKind::kMessage:
      break;
  }
  return "message";
}

std::optional<PostKind> ParsePostKind(std::string_view s) {
  for (PostKind k : {PostKind::kStatus, PostKind::kMessage, PostKind::kPhoto, PostKind::kFile}) {
    if (s == ToString(k)) return k;
  }
  return std::nullopt;
}

std::string_view ToString(AttachmentKind k) {
  switch (k) {
    case AttachmentKind::kImage:
      return "image";
    case AttachmentKind::kPdf:
      return "pdf";
    case AttachmentKind::kAudio:
      return "audio";
    case AttachmentKind::kVideo:
      return "video";
    case AttachmentKind::kDocument:
      break;
  }
  return "document";
}

const std::vector<std::string_view>& PinColors() {
  static const std::vector<std::string_view> kColors = {"red",   "orange", "yellow",
                                                        "green", "blue",   "purple"};
  return kColors;
}

namespace {

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

Status CheckText(const std::string& field, const std::string& value, size_t max_chars) {
  if (!core::IsValidUtf8(value)) return core::InvalidInput(field + " must be valid UTF-8");
  if (CodePoints(value) > max_chars) {
    return core::InvalidInput(field + " must be at most " + std::to_string(max_chars) +
                              " characters");
  }
  return Status::Ok();
}

std::string GroupObject(int64_t id) { return "care_group:" + std::to_string(id); }
std::string PostObject(int64_t id) { return "care_post:" + std::to_string(id); }
std::string FileObject(int64_t id) { return "care_file:" + std::to_string(id); }

constexpr int64_t kDayMillis = 86'400'000;
constexpr int64_t kJapanOffsetMillis = 9 * 3'600'000;

// Midnight (Japan time) starting a strict "YYYY-MM-DD" date, in ms UTC.
Result<int64_t> JapanDayStart(const std::string& date, const std::string& field) {
  auto bad = [&] { return core::InvalidInput(field + " must be a date YYYY-MM-DD"); };
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return bad();
  }
  int year = std::stoi(date.substr(0, 4)), month = std::stoi(date.substr(5, 2)),
      day = std::stoi(date.substr(8, 2));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return bad();
  int64_t days = core::DaysFromCivil(year, month, day);
  int y = 0, m = 0, d = 0;
  core::CivilFromDays(days, y, m, d);
  if (y != year || m != month || d != day) return bad();  // 2026-02-30
  return days * kDayMillis - kJapanOffsetMillis;
}

// [from, to) in ms UTC for inclusive Japan-time dates; 0 = open.
Status DateRange(const std::string& from, const std::string& to, int64_t* start, int64_t* end) {
  *start = 0;
  *end = 0;
  if (!from.empty()) {
    TSUNAGU_ASSIGN_OR_RETURN(*start, JapanDayStart(from, "from"));
  }
  if (!to.empty()) {
    TSUNAGU_ASSIGN_OR_RETURN(int64_t day, JapanDayStart(to, "to"));
    *end = day + kDayMillis;
  }
  if (*start && *end && *start >= *end) return core::InvalidInput("from must not be after to");
  return Status::Ok();
}

// Splits on ASCII and ideographic spaces; each word is folded like the text.
std::vector<std::string> SearchWords(const std::string& words) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    std::string folded = core::FoldKana(current);
    if (!folded.empty()) out.push_back(std::move(folded));
    current.clear();
  };
  for (size_t i = 0; i < words.size();) {
    if (words.compare(i, 3, "\xE3\x80\x80") == 0) {
      flush();
      i += 3;
    } else if (words[i] == ' ' || words[i] == '\t' || words[i] == '\n' || words[i] == '\r') {
      flush();
      ++i;
    } else {
      current += words[i++];
    }
  }
  flush();
  return out;
}

std::string SearchText(const NewPost& post, const std::vector<TemplateValue>& values,
                       const std::vector<Attachment>& files) {
  std::string text = post.title + "\n" + post.body;
  for (const auto& f : files) text += "\n" + f.file_name;
  for (const auto& v : values) {
    const TemplateItem* item = FindTemplateItem(v.item);
    if (item && item->type == TemplateItem::Type::kText) text += "\n" + v.value;
  }
  return core::FoldKana(text);
}

constexpr const char* kPostColumns =
    "p.id, p.group_id, p.author_id, p.kind, p.title, p.body, p.to_family, p.draft, p.created_at, "
    "p.published_at, p.value_text, p.comment_count";
constexpr const char* kFileColumns = "id, post_id, file_name, content_type, kind, size";
constexpr const char* kGroupSelect =
    "SELECT id, patient_id, name, owner_id, facility_id, archived_at, created_at, approval FROM "
    "care_groups WHERE id = ?";

// Memberships of `groups` groups (ids as parameters), for MembersFromRows.
std::string MembershipSql(size_t groups) {
  return "SELECT group_id, user_id, role, added_at FROM care_members WHERE group_id IN (" +
         store::Placeholders(groups) + ") ORDER BY group_id, user_id";
}

Attachment AttachmentFromRow(const store::Row& r) {
  Attachment a;
  a.id = r.Int(0);
  a.post_id = r.Int(1);
  a.file_name = r.Text(2);
  a.content_type = r.Text(3);
  a.size = r.Int(5);
  for (AttachmentKind k : {AttachmentKind::kImage, AttachmentKind::kPdf, AttachmentKind::kDocument,
                           AttachmentKind::kAudio, AttachmentKind::kVideo}) {
    if (r.Text(4) == ToString(k)) a.kind = k;
  }
  return a;
}

// The filters of a timeline or search query as SQL on care_posts p, checked.
Result<std::string> FilterSql(const TimelineQuery& q, int64_t viewer_id, store::Dialect dialect,
                              std::vector<Value>& params) {
  if (q.limit < 1 || q.limit > CareService::kMaxLimit) {
    return core::InvalidInput("limit must be between 1 and " +
                              std::to_string(CareService::kMaxLimit));
  }
  if (q.offset < 0) return core::InvalidInput("offset must not be negative");
  if (!core::IsValidUtf8(q.words) || CodePoints(q.words) > 200) {
    return core::InvalidInput("search words must be valid UTF-8, at most 200 characters");
  }
  std::string sql;
  if (q.author_id < 0) return core::InvalidInput("author must be a user id");
  if (q.author_id > 0) {
    sql += " AND p.author_id = ?";
    params.emplace_back(q.author_id);
  }
  if (!q.occupation.empty()) {
    if (!auth::ParseOccupation(q.occupation)) {
      return core::InvalidInput("occupation must be an occupation code");
    }
    sql += " AND p.author_occupation = ?";
    params.emplace_back(q.occupation);
  }
  int64_t start = 0, end = 0;
  TSUNAGU_RETURN_IF_ERROR(DateRange(q.from, q.to, &start, &end));
  if (start) {
    sql += " AND p.sort_at >= ?";
    params.emplace_back(start);
  }
  if (end) {
    sql += " AND p.sort_at < ?";
    params.emplace_back(end);
  }
  if (!q.pin.empty()) {
    const auto& colors = PinColors();
    if (std::find(colors.begin(), colors.end(), q.pin) == colors.end()) {
      return core::InvalidInput("pin must be one of red, orange, yellow, green, blue, purple");
    }
    sql +=
        " AND EXISTS (SELECT 1 FROM care_pins pin WHERE pin.post_id = p.id AND pin.user_id = ? "
        "AND pin.color = ?)";
    params.emplace_back(viewer_id);
    params.emplace_back(q.pin);
  }
  // Both sides are folded (core::FoldKana), so a plain substring test does;
  // it is cheaper than LIKE, which also folds ASCII case on SQLite
  // (`contains` is the store's memmem-based test on SQLite).
  for (const auto& word : SearchWords(q.words)) {
    sql += dialect == store::Dialect::kSqlite ? " AND contains(p.search_text, ?)"
                                              : " AND strpos(p.search_text, ?) > 0";
    params.emplace_back(word);
  }
  return sql;
}

Post PostFromRow(const store::Row& r) {
  Post p;
  p.id = r.Int(0);
  p.group_id = r.Int(1);
  p.author_id = r.Int(2);
  p.kind = ParsePostKind(r.Text(3)).value_or(PostKind::kMessage);
  p.title = r.Text(4);
  p.body = r.Text(5);
  p.to_family = r.Int(6) != 0;
  p.draft = r.Int(7) != 0;
  p.created_at = r.Int(8);
  p.published_at = r.Int(9);
  p.values = DecodeTemplateValues(r.Text(10));
  p.comment_count = r.Int(11);
  return p;
}

}  // namespace

CareService::CareService(store::Database& db, const core::Clock& clock,
                         registry::PatientService& patients,
                         const consent::ConsentService& consents, auth::AccountService& accounts,
                         audit::AuditLog& audit)
    : db_(db),
      clock_(clock),
      patients_(patients),
      consents_(consents),
      accounts_(accounts),
      audit_(audit) {}

store::MigrationSet CareService::Migrations() {
  return {"care",
          {R"sql(
CREATE TABLE care_groups (
  id {{ID}},
  patient_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  owner_id BIGINT NOT NULL,
  facility_id BIGINT NOT NULL,
  archived_at BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX care_groups_active_patient ON care_groups (patient_id) WHERE archived_at = 0;
CREATE TABLE care_members (
  group_id BIGINT NOT NULL REFERENCES care_groups (id),
  user_id BIGINT NOT NULL,
  role TEXT NOT NULL,
  added_by BIGINT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX care_members_user ON care_members (user_id);
CREATE TABLE care_posts (
  id {{ID}},
  group_id BIGINT NOT NULL REFERENCES care_groups (id),
  patient_id BIGINT NOT NULL,
  author_id BIGINT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  search_text TEXT NOT NULL,
  to_family INTEGER NOT NULL,
  draft INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  published_at BIGINT NOT NULL,
  sort_at BIGINT NOT NULL,
  deleted_at BIGINT NOT NULL DEFAULT 0,
  deleted_by BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX care_posts_timeline ON care_posts (group_id, sort_at, id);
CREATE TABLE care_post_values (
  post_id BIGINT NOT NULL REFERENCES care_posts (id),
  patient_id BIGINT NOT NULL,
  position INTEGER NOT NULL,
  item TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (post_id, item)
);
CREATE INDEX care_post_values_series ON care_post_values (patient_id, item);
CREATE TABLE care_comments (
  id {{ID}},
  post_id BIGINT NOT NULL REFERENCES care_posts (id),
  author_id BIGINT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX care_comments_post ON care_comments (post_id, id);
CREATE TABLE care_reads (
  post_id BIGINT NOT NULL REFERENCES care_posts (id),
  user_id BIGINT NOT NULL,
  read_at BIGINT NOT NULL,
  PRIMARY KEY (post_id, user_id)
)
)sql",
           R"sql(
ALTER TABLE care_posts ADD COLUMN author_occupation TEXT NOT NULL DEFAULT '';
CREATE INDEX care_posts_author ON care_posts (group_id, author_id, sort_at);
CREATE TABLE care_files (
  id {{ID}},
  post_id BIGINT NOT NULL REFERENCES care_posts (id),
  patient_id BIGINT NOT NULL,
  position INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  file_name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  kind TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX care_files_post ON care_files (post_id, position);
CREATE INDEX care_files_blob ON care_files (sha256);
CREATE TABLE care_pins (
  post_id BIGINT NOT NULL REFERENCES care_posts (id),
  user_id BIGINT NOT NULL,
  color TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (post_id, user_id, color)
);
CREATE INDEX care_pins_user ON care_pins (user_id, color, post_id)
)sql",
           R"sql(
ALTER TABLE care_groups ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE care_groups ADD COLUMN approval_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE care_groups ADD COLUMN decided_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE care_groups ADD COLUMN decided_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX care_groups_approval ON care_groups (approval, created_at)
)sql",
           // Free-word search in a group walks the group's posts newest first
           // and tests their folded text. With the text in the index, SQLite
           // rejects a post that does not match without reading its row (the
           // row is read only for a match), so a rare word no longer reads
           // all the group's rows. Not on PostgreSQL: it reads the row anyway,
           // and its B-tree refuses entries over ~2.7 KB.
           "{{SQLITE:CREATE INDEX care_posts_search ON care_posts (group_id, sort_at, id, "
           "deleted_at, draft, author_id, to_family, search_text)}}",
           // A page of posts reads each post's template values and comment
           // count with its row instead of one lookup per post in
           // care_post_values and care_comments (EncodeTemplateValues; the
           // rows stay for the time series and the comments themselves).
           R"sql(
ALTER TABLE care_posts ADD COLUMN value_text TEXT NOT NULL DEFAULT '';
ALTER TABLE care_posts ADD COLUMN comment_count BIGINT NOT NULL DEFAULT 0;
{{SQLITE:UPDATE care_posts SET value_text = (SELECT json_group_array(json_array(v.item, v.value))
  FROM (SELECT item, value FROM care_post_values WHERE post_id = care_posts.id ORDER BY position) v)
  WHERE id IN (SELECT post_id FROM care_post_values)}};
{{POSTGRES:UPDATE care_posts p SET value_text = (SELECT json_agg(json_build_array(v.item, v.value)
  ORDER BY v.position)::text FROM care_post_values v WHERE v.post_id = p.id)
  WHERE p.id IN (SELECT post_id FROM care_post_values)}};
UPDATE care_posts SET comment_count = (SELECT COUNT(*) FROM care_comments c
  WHERE c.post_id = care_posts.id) WHERE id IN (SELECT post_id FROM care_comments)
)sql"}};
}

void CareService::Audit(const Actor& actor, const std::string& action, const std::string& object,
                        const std::string& regional_id, const std::string& outcome,
                        const std::string& reason) {
  audit::AuditEvent e = actor.event;
  if (e.user_id == 0) e.user_id = actor.user_id;
  if (e.facility_id == 0) e.facility_id = actor.facility_id;
  e.action = action;
  e.object = object;
  e.patient_id = regional_id;
  e.outcome = outcome;
  e.reason = reason;
  (void)audit_.Append(std::move(e));
}

Status CareService::CheckConsent(int64_t patient_id, int64_t facility_id,
                                 auth::Occupation occupation) const {
  const bool family = occupation == auth::Occupation::kFamily;
  // Decisions are cached for a second; any consent or link change in this
  // process moves the access epoch and empties the cache at once.
  const uint64_t epoch = core::AccessEpoch();
  const int64_t now = clock_.NowMillis();
  const ConsentKey key{patient_id, facility_id, family};
  if (auto hit = consent_cache_.Find(key, epoch, now)) return std::move(*hit);
  Status decision = Status::Ok();
  if (family || facility_id == 0 || !patients_.IsLinkedTo(patient_id, facility_id)) {
    auto active = consents_.ActiveFor(patient_id,
                                      family ? consent::Scope::kFamily : consent::Scope::kCareTeam,
                                      consents_.Today());
    if (!active) return active.error();  // storage errors are not cached
    decision = core::Forbidden(family ? "no active family consent covers this patient"
                                      : "no active care-team consent covers this facility");
    for (const auto& c : *active) {
      if (c.viewer_facility_id == 0 || c.viewer_facility_id == facility_id) {
        decision = Status::Ok();
        break;
      }
    }
  }
  consent_cache_.Store(key, decision, epoch, now);
  return decision;
}

std::string CareService::NameOf(int64_t user_id) const {
  auto u = accounts_.Get(user_id);
  return u ? u->display_name : std::string();
}

Result<CareGroup> CareService::LoadGroup(int64_t group_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(kGroupSelect, {Value{group_id}}));
  return GroupFromRows(rs);
}

Result<CareGroup> CareService::GroupFromRows(const store::ResultSet& rs) const {
  if (rs.empty()) return core::NotFound("care group not found");
  const auto& r = rs.rows[0];
  CareGroup g{r.Int(0), r.Int(1), {}, r.Text(2), r.Int(3), r.Int(4), r.Int(5), r.Int(6), r.Text(7)};
  auto rid = patients_.RegionalIdOf(g.patient_id);
  g.regional_id = rid ? *rid : std::string();
  return g;
}

std::vector<Member> CareService::LoadMembers(int64_t group_id) const {
  auto all = LoadMembersOf({group_id});
  return std::move(all[group_id]);
}

// Members of several groups with two queries (memberships, then the users).
std::map<int64_t, std::vector<Member>> CareService::LoadMembersOf(
    const std::set<int64_t>& group_ids) const {
  if (group_ids.empty()) return {};
  std::vector<Value> params(group_ids.begin(), group_ids.end());
  auto rs = db_.Query(MembershipSql(params.size()), params);
  if (!rs) return {};
  return MembersFromRows(*rs);
}

// Members from membership rows (MembershipSql): names, facilities and
// occupations of all of them with one query.
std::map<int64_t, std::vector<Member>> CareService::MembersFromRows(
    const store::ResultSet& rs) const {
  std::map<int64_t, std::vector<Member>> out;
  std::vector<int64_t> ids;
  for (const auto& r : rs.rows) {
    Member m;
    m.user_id = r.Int(1);
    m.role = r.Text(2) == "owner" ? MemberRole::kOwner : MemberRole::kMember;
    m.added_at = r.Int(3);
    ids.push_back(m.user_id);
    out[r.Int(0)].push_back(std::move(m));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (auto users = accounts_.ListByIds(ids)) {
    std::map<int64_t, const auth::User*> by_id;
    for (const auto& u : *users) by_id[u.id] = &u;
    for (auto& [group, members] : out) {
      for (auto& m : members) {
        auto it = by_id.find(m.user_id);
        if (it == by_id.end()) continue;
        m.display_name = it->second->display_name;
        m.facility_id = it->second->facility_id;
        m.occupation = it->second->occupation;
      }
    }
  }
  for (auto& [group, members] : out) {
    std::stable_partition(members.begin(), members.end(),
                          [](const Member& m) { return m.role == MemberRole::kOwner; });
  }
  return out;
}

Result<GroupAccess> CareService::Authorize(const Actor& actor, int64_t group_id,
                                           const std::string& action, const std::string& object) {
  return RequireMember(actor, group_id, action, object);
}

Result<GroupAccess> CareService::AuthorizePost(const Actor& actor, int64_t post_id,
                                               const std::string& action, Post* post) {
  return RequirePost(actor, post_id, action, post);
}

void CareService::Record(const Actor& actor, const std::string& action, const std::string& object,
                         const std::string& regional_id, const std::string& outcome,
                         const std::string& reason) {
  Audit(actor, action, object, regional_id, outcome, reason);
}

Result<CareService::Access> CareService::RequireMember(const Actor& actor, int64_t group_id,
                                                       const std::string& action,
                                                       const std::string& object,
                                                       std::vector<store::Statement> also,
                                                       std::vector<store::ResultSet>* also_rows) {
  // The group, its memberships and the caller's reads in one round trip.
  std::vector<store::Statement> batch{{kGroupSelect, {Value{group_id}}},
                                      {MembershipSql(1), {Value{group_id}}}};
  for (auto& s : also) batch.push_back(std::move(s));
  auto rows = db_.QueryBatch(batch);
  auto group = rows ? GroupFromRows((*rows)[0]) : Result<CareGroup>(rows.error());
  if (!group) {
    Audit(actor, action, object, "", "failure", group.error().message());
    return group.error();
  }
  Access access{std::move(group).value(), {}, {}};
  access.members = std::move(MembersFromRows((*rows)[1])[group_id]);
  auto self = std::find_if(access.members.begin(), access.members.end(),
                           [&](const Member& m) { return m.user_id == actor.user_id; });
  if (self == access.members.end()) {
    Audit(actor, action, object, access.group.regional_id, "denied", "not a member");
    return core::Forbidden("not a member of this care group");
  }
  access.self = *self;
  if (!access.group.approved() && actor.user_id != access.group.owner_id) {
    Audit(actor, action, object, access.group.regional_id, "denied",
          "group " + access.group.approval);
    return core::Forbidden(access.group.approval == "pending"
                               ? "the care group awaits the secretariat's approval"
                               : "the care group was not approved");
  }
  if (Status s = CheckConsent(access.group.patient_id, actor.facility_id, actor.occupation);
      !s.ok()) {
    Audit(actor, action, object, access.group.regional_id, "denied", s.message());
    return s;
  }
  if (also_rows != nullptr) also_rows->assign(rows->begin() + 2, rows->end());
  return access;
}

Result<Post> CareService::LoadPost(int64_t post_id, int64_t* deleted_at) const {
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(std::string("SELECT ") + kPostColumns +
                                                  ", p.deleted_at FROM care_posts p WHERE p.id = ?",
                                              {Value{post_id}}));
  if (rs.empty()) return core::NotFound("post not found");
  Post p = PostFromRow(rs.rows[0]);
  *deleted_at = rs.rows[0].Int(12);
  TSUNAGU_ASSIGN_OR_RETURN(auto files,
                           db_.Query(std::string("SELECT ") + kFileColumns +
                                         " FROM care_files WHERE post_id = ? ORDER BY position",
                                     {Value{post_id}}));
  for (const auto& r : files.rows) p.attachments.push_back(AttachmentFromRow(r));
  p.author_name = NameOf(p.author_id);
  return p;
}

// Loads the post and the actor's access to its group. A post the actor may
// not see (someone else's draft, not published to the family) is NotFound;
// a deleted post is Conflict for writes and NotFound for reads (the caller
// decides by the action).
Result<CareService::Access> CareService::RequirePost(const Actor& actor, int64_t post_id,
                                                     const std::string& action, Post* post,
                                                     const std::string& object_name) {
  std::string object = object_name.empty() ? PostObject(post_id) : object_name;
  int64_t deleted_at = 0;
  auto loaded = LoadPost(post_id, &deleted_at);
  if (!loaded) {
    Audit(actor, action, object, "", "failure", loaded.error().message());
    return loaded.error();
  }
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequireMember(actor, loaded->group_id, action, object));
  bool visible = (!loaded->draft || loaded->author_id == actor.user_id) &&
                 (!actor.IsFamily() || (loaded->to_family && !loaded->draft));
  if (!visible) {
    Audit(actor, action, object, access.group.regional_id, "denied", "post not visible");
    return core::NotFound("post not found");
  }
  if (deleted_at != 0) {
    Audit(actor, action, object, access.group.regional_id, "failure", "post deleted");
    return core::Conflict("the post was deleted");
  }
  *post = std::move(loaded).value();
  return access;
}

// --- groups ------------------------------------------------------------------

Result<GroupDetail> CareService::CreateGroup(const Actor& actor, const NewGroup& group) {
  const std::string action = "care.group.create";
  if (actor.occupation != auth::Occupation::kPhysician &&
      actor.occupation != auth::Occupation::kCareManager) {
    Audit(actor, action, "care_group", "", "denied", "occupation may not create groups");
    return core::Forbidden("only physicians and care managers can create care groups");
  }
  std::string name = core::Trim(group.name);
  if (name.empty()) return core::InvalidInput("name is required");
  TSUNAGU_RETURN_IF_ERROR(CheckText("name", name, kMaxGroupNameChars));
  auto patient = patients_.Get(group.regional_id, registry::Viewer{actor.facility_id, false});
  if (!patient) {
    Audit(actor, action, "care_group", "", "failure", "patient not found");
    return core::NotFound("patient not found");
  }
  TSUNAGU_ASSIGN_OR_RETURN(auto existing,
                           db_.Query("SELECT id FROM care_groups WHERE patient_id = ? AND "
                                     "archived_at = 0",
                                     {Value{patient->id}}));
  if (!existing.empty()) {
    return core::Conflict("this patient already has a care group (id " +
                          std::to_string(existing.rows[0].Int(0)) + ")");
  }
  int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs,
      tx->Query("INSERT INTO care_groups (patient_id, name, owner_id, facility_id, "
                "archived_at, created_at, approval) VALUES (?, ?, ?, ?, 0, ?, ?) "
                "RETURNING id",
                {Value{patient->id}, Value{name}, Value{actor.user_id}, Value{actor.facility_id},
                 Value{now}, Value{std::string(approval_required_ ? "pending" : "approved")}}));
  int64_t id = rs.rows.at(0).Int(0);
  TSUNAGU_RETURN_IF_ERROR(
      tx->Execute("INSERT INTO care_members (group_id, user_id, role, added_by, added_at) "
                  "VALUES (?, ?, 'owner', ?, ?)",
                  {Value{id}, Value{actor.user_id}, Value{actor.user_id}, Value{now}}));
  if (Status s = tx->Commit(); !s.ok()) {
    if (s.code() == core::Code::kConflict) {
      return core::Conflict("this patient already has a care group");
    }
    return s;
  }
  Audit(actor, action, GroupObject(id), patient->regional_id, "success",
        approval_required_ ? "awaiting approval" : "");
  TSUNAGU_ASSIGN_OR_RETURN(CareGroup created, LoadGroup(id));
  return GroupDetail{std::move(created), LoadMembers(id)};
}

Result<std::vector<CareGroup>> CareService::ListGroups(const Actor& actor) {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query("SELECT g.id FROM care_groups g JOIN care_members m ON m.group_id = g.id "
                         "WHERE m.user_id = ? ORDER BY CASE WHEN g.archived_at = 0 THEN 0 ELSE 1 "
                         "END, g.created_at DESC, g.id DESC",
                         {Value{actor.user_id}}));
  std::vector<CareGroup> out;
  for (const auto& r : rs.rows) {
    auto g = LoadGroup(r.Int(0));
    if (!g) return g.error();
    if (!CheckConsent(g->patient_id, actor.facility_id, actor.occupation).ok()) continue;
    if (!g->approved() && g->owner_id != actor.user_id) continue;
    out.push_back(std::move(g).value());
  }
  Audit(actor, "care.group.list", "care_groups", "", "success",
        std::to_string(out.size()) + " groups");
  return out;
}

Result<GroupDetail> CareService::GetGroup(const Actor& actor, int64_t group_id) {
  const std::string action = "care.group.read";
  TSUNAGU_ASSIGN_OR_RETURN(Access access,
                           RequireMember(actor, group_id, action, GroupObject(group_id)));
  Audit(actor, action, GroupObject(group_id), access.group.regional_id);
  return GroupDetail{std::move(access.group), std::move(access.members)};
}

Result<CareGroup> CareService::ArchiveGroup(const Actor& actor, int64_t group_id) {
  const std::string action = "care.group.archive";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequireMember(actor, group_id, action, object));
  if (access.self.role != MemberRole::kOwner) {
    Audit(actor, action, object, access.group.regional_id, "denied", "not the owner");
    return core::Forbidden("only the owner can archive the care group");
  }
  if (access.group.archived()) return core::Conflict("the care group is already archived");
  TSUNAGU_RETURN_IF_ERROR(
      db_.Execute("UPDATE care_groups SET archived_at = ? WHERE id = ? AND archived_at = 0",
                  {Value{clock_.NowMillis()}, Value{group_id}}));
  Audit(actor, action, object, access.group.regional_id);
  return LoadGroup(group_id);
}

Result<Member> CareService::AddMember(const Actor& actor, int64_t group_id, int64_t user_id) {
  const std::string action = "care.member.add";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequireMember(actor, group_id, action, object));
  std::string rid = access.group.regional_id;
  if (actor.IsFamily()) {
    Audit(actor, action, object, rid, "denied", "family member");
    return core::Forbidden("family members cannot add members");
  }
  if (access.group.archived()) return core::Conflict("the care group is archived");
  auto user = accounts_.Get(user_id);
  if (!user) return core::NotFound("user not found");
  if (user->disabled) return core::InvalidInput("the user account is disabled");
  for (const auto& m : access.members) {
    if (m.user_id == user_id) return core::Conflict("the user is already a member");
  }
  if (Status s = CheckConsent(access.group.patient_id, user->facility_id, user->occupation);
      !s.ok()) {
    Audit(actor, action, object, rid, "denied", "no consent for user:" + std::to_string(user_id));
    return s;
  }
  int64_t now = clock_.NowMillis();
  auto inserted = db_.Execute(
      "INSERT INTO care_members (group_id, user_id, role, added_by, added_at) "
      "VALUES (?, ?, 'member', ?, ?) ON CONFLICT (group_id, user_id) DO NOTHING",
      {Value{group_id}, Value{user_id}, Value{actor.user_id}, Value{now}});
  if (!inserted) return inserted.error();
  if (*inserted == 0) return core::Conflict("the user is already a member");
  Audit(actor, action, object, rid, "success", "user:" + std::to_string(user_id));
  return Member{user->id,         user->display_name,  user->facility_id,
                user->occupation, MemberRole::kMember, now};
}

Result<std::vector<CareGroup>> CareService::PendingGroups(const Actor& actor, auth::Role role) {
  const std::string action = "care.group.approval.list";
  if (role != auth::Role::kNetworkAdmin) {
    Audit(actor, action, "care_group", "", "denied", "not a network admin");
    return core::Forbidden("only the secretariat approves care groups");
  }
  TSUNAGU_ASSIGN_OR_RETURN(auto rs,
                           db_.Query("SELECT id FROM care_groups WHERE approval = 'pending' AND "
                                     "archived_at = 0 ORDER BY created_at, id LIMIT 500"));
  std::vector<CareGroup> out;
  for (const auto& r : rs.rows) {
    TSUNAGU_ASSIGN_OR_RETURN(CareGroup g, LoadGroup(r.Int(0)));
    out.push_back(std::move(g));
  }
  Audit(actor, action, "care_group", "", "success", std::to_string(out.size()) + " pending");
  return out;
}

Result<CareGroup> CareService::DecideGroup(const Actor& actor, auth::Role role, int64_t group_id,
                                           bool approve, const std::string& reason) {
  const std::string action = approve ? "care.group.approve" : "care.group.reject";
  const std::string object = GroupObject(group_id);
  if (role != auth::Role::kNetworkAdmin) {
    Audit(actor, action, object, "", "denied", "not a network admin");
    return core::Forbidden("only the secretariat approves care groups");
  }
  std::string why = core::Trim(reason);
  TSUNAGU_RETURN_IF_ERROR(CheckText("reason", why, kMaxCommentChars));
  if (!approve && why.empty()) return core::InvalidInput("reason is required to reject");
  TSUNAGU_ASSIGN_OR_RETURN(CareGroup group, LoadGroup(group_id));
  if (group.approval != "pending" || group.archived()) {
    return core::Conflict("the care group is not awaiting approval");
  }
  const int64_t now = clock_.NowMillis();
  // A rejected group is archived too, so that the patient may get another.
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute(
          "UPDATE care_groups SET approval = ?, approval_reason = ?, decided_by = ?, "
          "decided_at = ?, archived_at = ? WHERE id = ? AND approval = 'pending'",
          {Value{std::string(approve ? "approved" : "rejected")}, Value{why}, Value{actor.user_id},
           Value{now}, Value{approve ? int64_t{0} : now}, Value{group_id}}));
  if (changed != 1) return core::Conflict("the care group is not awaiting approval");
  Audit(actor, action, object, group.regional_id);
  return LoadGroup(group_id);
}

Result<std::vector<Candidate>> CareService::Candidates(const Actor& actor, int64_t group_id,
                                                       int64_t facility_id) {
  const std::string action = "care.member.candidates";
  const std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequireMember(actor, group_id, action, object));
  if (actor.IsFamily()) {
    Audit(actor, action, object, access.group.regional_id, "denied", "family member");
    return core::Forbidden("family members cannot add members");
  }
  std::vector<Candidate> out;
  for (const auth::User& u : accounts_.ListByFacility(facility_id)) {
    if (u.disabled || u.occupation == auth::Occupation::kFamily) continue;
    Candidate c{u.id, u.login_id, u.display_name, u.facility_id, u.occupation, false};
    c.member = std::any_of(access.members.begin(), access.members.end(),
                           [&](const Member& m) { return m.user_id == u.id; });
    out.push_back(std::move(c));
  }
  Audit(actor, action, object, access.group.regional_id, "success",
        "facility:" + std::to_string(facility_id));
  return out;
}

Status CareService::RemoveMember(const Actor& actor, int64_t group_id, int64_t user_id) {
  const std::string action = "care.member.remove";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequireMember(actor, group_id, action, object));
  std::string rid = access.group.regional_id;
  auto target = std::find_if(access.members.begin(), access.members.end(),
                             [&](const Member& m) { return m.user_id == user_id; });
  if (target == access.members.end()) return core::NotFound("the user is not a member");
  if (target->role == MemberRole::kOwner) {
    return core::Conflict("the owner cannot leave; archive the care group instead");
  }
  if (user_id != actor.user_id && access.self.role != MemberRole::kOwner) {
    Audit(actor, action, object, rid, "denied", "not the owner");
    return core::Forbidden("only the owner can remove other members");
  }
  TSUNAGU_RETURN_IF_ERROR(db_.Execute("DELETE FROM care_members WHERE group_id = ? AND user_id = ?",
                                      {Value{group_id}, Value{user_id}}));
  Audit(actor, action, object, rid, "success", "user:" + std::to_string(user_id));
  return Status::Ok();
}

// --- posts -------------------------------------------------------------------

Result<std::vector<Attachment>> CareService::CheckFiles(const NewPost& post) const {
  if (post.files.size() > kMaxFilesPerPost) {
    return core::InvalidInput("at most " + std::to_string(kMaxFilesPerPost) + " files per post");
  }
  std::vector<Attachment> out;
  for (size_t i = 0; i < post.files.size(); ++i) {
    const NewAttachment& f = post.files[i];
    std::string n = "file " + std::to_string(i + 1);
    // Only the last path segment: old browsers send "C:\\Users\\...\\a.jpg".
    std::string name = f.file_name.substr(f.file_name.find_last_of("/\\") + 1);
    name = core::Trim(name);
    if (name.empty()) name = "file";
    if (!core::IsValidUtf8(name)) return core::InvalidInput(n + ": name must be valid UTF-8");
    if (std::any_of(name.begin(), name.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
      return core::InvalidInput(n + ": name must not contain control characters");
    }
    if (CodePoints(name) > kMaxFileNameChars) {
      return core::InvalidInput(n + ": name must be at most " + std::to_string(kMaxFileNameChars) +
                                " characters");
    }
    if (f.bytes.empty()) return core::InvalidInput(n + " is empty");
    if (f.bytes.size() > max_file_bytes_) {
      return core::TooLarge(n + " is larger than " + std::to_string(max_file_bytes_ / 1024 / 1024) +
                            " MB");
    }
    auto type = DetectAttachmentType(f.bytes);
    if (!type) return core::InvalidInput("file type not allowed");
    if (type->kind != AttachmentKind::kImage && DeclaresImage(f.declared_type, name)) {
      return core::InvalidInput("file type not allowed: " + n + " is not an image");
    }
    Attachment a;
    a.file_name = std::move(name);
    a.content_type = std::string(type->content_type);
    a.size = static_cast<int64_t>(f.bytes.size());
    a.kind = type->kind;
    out.push_back(std::move(a));
  }
  return out;
}

// Called with file_write_mutex_ held: every care_files row that names a blob
// was committed under the same mutex, so a blob without a row is garbage.
void CareService::RemoveUnreferencedBlobs(const std::vector<std::string>& hashes) {
  std::set<std::string> distinct(hashes.begin(), hashes.end());
  for (const auto& sha : distinct) {
    auto rs = db_.Query("SELECT 1 FROM care_files WHERE sha256 = ? LIMIT 1", {Value{sha}});
    if (rs && rs->empty()) (void)blobs_->Remove(sha);
  }
}

Result<Post> CareService::CreatePost(const Actor& actor, int64_t group_id, const NewPost& post) {
  const std::string action = "care.post.create";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequireMember(actor, group_id, action, object));
  std::string rid = access.group.regional_id;
  if (actor.IsFamily()) {
    Audit(actor, action, object, rid, "denied", "family member");
    return core::Forbidden("family members cannot write posts; they can comment");
  }
  if (access.group.archived()) return core::Conflict("the care group is archived");
  if (!access.group.approved()) {
    return core::Conflict("the care group awaits the secretariat's approval");
  }
  NewPost clean;  // without the files: their bytes are not copied
  clean.kind = post.kind;
  clean.title = core::Trim(post.title);
  clean.body = core::Trim(post.body);
  clean.to_family = post.to_family;
  clean.draft = post.draft;
  TSUNAGU_RETURN_IF_ERROR(CheckText("title", clean.title, kMaxTitleChars));
  TSUNAGU_RETURN_IF_ERROR(CheckText("body", clean.body, kMaxBodyChars));
  std::vector<TemplateValue> values;
  if (clean.kind == PostKind::kStatus) {
    TSUNAGU_ASSIGN_OR_RETURN(values, ValidateTemplateValues(post.values));
    if (values.empty()) {
      return core::InvalidInput("a status post needs at least one filled template item");
    }
  } else {
    if (!post.values.empty()) return core::InvalidInput("only status posts carry template values");
    if (clean.kind == PostKind::kMessage && clean.body.empty()) {
      return core::InvalidInput("body is required");
    }
  }
  TSUNAGU_ASSIGN_OR_RETURN(std::vector<Attachment> files, CheckFiles(post));
  if (clean.kind == PostKind::kPhoto &&
      std::none_of(files.begin(), files.end(),
                   [](const Attachment& a) { return a.kind == AttachmentKind::kImage; })) {
    return core::InvalidInput("a photo post needs at least one image");
  }
  if (clean.kind == PostKind::kFile && files.empty()) {
    return core::InvalidInput("a file post needs at least one file");
  }
  if (!files.empty() && !blobs_) return core::Unavailable("file storage is not configured");

  // Everything is checked: write the blobs, then the rows; on any failure
  // remove the blobs no committed row names, so nothing is left behind.
  std::unique_lock<std::mutex> lock(file_write_mutex_, std::defer_lock);
  if (!files.empty()) lock.lock();
  std::vector<std::string> hashes;
  auto store = [&]() -> Result<int64_t> {
    for (const auto& f : post.files) {
      TSUNAGU_ASSIGN_OR_RETURN(std::string sha, blobs_->Put(f.bytes));
      hashes.push_back(std::move(sha));
    }
    int64_t now = clock_.NowMillis();
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
    TSUNAGU_ASSIGN_OR_RETURN(
        auto rs,
        tx->Query("INSERT INTO care_posts (group_id, patient_id, author_id, "
                  "author_occupation, kind, title, body, search_text, value_text, to_family, "
                  "draft, created_at, published_at, sort_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                  {Value{group_id}, Value{access.group.patient_id}, Value{actor.user_id},
                   Value{std::string(auth::ToString(actor.occupation))},
                   Value{std::string(ToString(clean.kind))}, Value{clean.title}, Value{clean.body},
                   Value{SearchText(clean, values, files)}, Value{EncodeTemplateValues(values)},
                   Value{int64_t{clean.to_family ? 1 : 0}}, Value{int64_t{clean.draft ? 1 : 0}},
                   Value{now}, Value{clean.draft ? int64_t{0} : now}, Value{now}}));
    int64_t id = rs.rows.at(0).Int(0);
    for (const auto& v : values) {
      int64_t position = FindTemplateItem(v.item) - StatusTemplate().data();
      TSUNAGU_RETURN_IF_ERROR(
          tx->Execute("INSERT INTO care_post_values (post_id, patient_id, position, item, value) "
                      "VALUES (?, ?, ?, ?, ?)",
                      {Value{id}, Value{access.group.patient_id}, Value{position}, Value{v.item},
                       Value{v.value}}));
    }
    for (size_t i = 0; i < files.size(); ++i) {
      const Attachment& f = files[i];
      TSUNAGU_RETURN_IF_ERROR(
          tx->Execute("INSERT INTO care_files (post_id, patient_id, position, sha256, file_name, "
                      "content_type, kind, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      {Value{id}, Value{access.group.patient_id}, Value{static_cast<int64_t>(i)},
                       Value{hashes[i]}, Value{f.file_name}, Value{f.content_type},
                       Value{std::string(ToString(f.kind))}, Value{f.size}, Value{now}}));
    }
    TSUNAGU_RETURN_IF_ERROR(tx->Commit());
    return id;
  };
  auto stored = store();
  if (!stored) {
    if (!hashes.empty()) RemoveUnreferencedBlobs(hashes);
    return stored.error();
  }
  if (lock.owns_lock()) lock.unlock();
  int64_t id = *stored;
  Audit(actor, action, PostObject(id), rid, "success",
        std::string(ToString(clean.kind)) + (clean.draft ? " draft" : "") +
            (clean.to_family ? " family" : "") +
            (files.empty() ? "" : " files:" + std::to_string(files.size())));
  int64_t deleted_at = 0;
  auto created = LoadPost(id, &deleted_at);
  if (created && !created->draft) Notify(CareEvent::Kind::kPost, access, *created, 0);
  return created;
}

Result<Post> CareService::PublishDraft(const Actor& actor, int64_t post_id) {
  const std::string action = "care.post.publish";
  Post post;
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequirePost(actor, post_id, action, &post));
  if (!post.draft) return core::Conflict("the post is already published");
  if (access.group.archived()) return core::Conflict("the care group is archived");
  int64_t now = clock_.NowMillis();
  TSUNAGU_RETURN_IF_ERROR(db_.Execute(
      "UPDATE care_posts SET draft = 0, published_at = ?, sort_at = ? WHERE id = ? AND draft = 1",
      {Value{now}, Value{now}, Value{post_id}}));
  Audit(actor, action, PostObject(post_id), access.group.regional_id);
  int64_t deleted_at = 0;
  auto published = LoadPost(post_id, &deleted_at);
  if (published) Notify(CareEvent::Kind::kPost, access, *published, 0);
  return published;
}

Status CareService::DeletePost(const Actor& actor, int64_t post_id) {
  const std::string action = "care.post.delete";
  Post post;
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequirePost(actor, post_id, action, &post));
  if (post.author_id != actor.user_id) {
    Audit(actor, action, PostObject(post_id), access.group.regional_id, "denied", "not the author");
    return core::Forbidden("only the author can delete a post");
  }
  TSUNAGU_RETURN_IF_ERROR(db_.Execute(
      "UPDATE care_posts SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at = 0",
      {Value{clock_.NowMillis()}, Value{actor.user_id}, Value{post_id}}));
  Audit(actor, action, PostObject(post_id), access.group.regional_id);
  return Status::Ok();
}

void CareService::NameAuthors(std::vector<Post>& posts, const MembersByGroup& members) const {
  std::map<int64_t, std::string> names;  // authors who are no longer members
  for (auto& p : posts) {
    p.author_name.clear();
    if (auto g = members.find(p.group_id); g != members.end()) {
      for (const auto& m : *g->second) {
        if (m.user_id == p.author_id) p.author_name = m.display_name;
      }
    }
    if (p.author_name.empty()) {
      auto [it, inserted] = names.try_emplace(p.author_id);
      if (inserted) it->second = NameOf(p.author_id);
      p.author_name = it->second;
    }
  }
}

Result<std::vector<PostSummary>> CareService::Summaries(int64_t viewer_id, std::vector<Post> posts,
                                                        const MembersByGroup& members,
                                                        bool complete) {
  std::vector<PostSummary> out;
  if (posts.empty()) return out;
  std::vector<Value> ids;
  std::map<int64_t, size_t> index;
  for (const auto& p : posts) {
    index[p.id] = ids.size();
    ids.emplace_back(p.id);
  }
  const std::string in = " IN (" + store::Placeholders(ids.size()) + ")";
  std::vector<Value> pin_params{Value{viewer_id}};
  pin_params.insert(pin_params.end(), ids.begin(), ids.end());
  // One batch for the whole page: one round trip on PostgreSQL. The
  // template values and the comment count come with the post's row.
  std::vector<store::Statement> batch{
      {"SELECT post_id, user_id FROM care_reads WHERE post_id" + in, ids},
      {"SELECT post_id, color FROM care_pins WHERE user_id = ? AND post_id" + in, pin_params}};
  if (complete) {
    batch.push_back({std::string("SELECT ") + kFileColumns + " FROM care_files WHERE post_id" + in +
                         " ORDER BY post_id, position",
                     ids});
  }
  TSUNAGU_ASSIGN_OR_RETURN(auto results, db_.QueryBatch(batch));
  if (complete) {
    for (const auto& r : results[2].rows) {
      posts[index.at(r.Int(1))].attachments.push_back(AttachmentFromRow(r));
    }
    NameAuthors(posts, members);
  }
  out.reserve(posts.size());
  for (auto& p : posts) {
    PostSummary s;
    s.post = std::move(p);
    out.push_back(std::move(s));
  }
  // The audience of a post: the group's current members who may see it
  // (family members only when it is published to the family), author
  // excluded. Per group: (user id, is family) sorted by id, and the family
  // count; no allocation per post.
  struct Audience {
    std::vector<std::pair<int64_t, bool>> members;
    int64_t family = 0;
  };
  std::map<int64_t, Audience> by_group;
  for (const auto& [group, list] : members) {
    Audience& a = by_group[group];
    for (const auto& m : *list) {
      const bool family = m.occupation == auth::Occupation::kFamily;
      a.members.emplace_back(m.user_id, family);
      a.family += family ? 1 : 0;
    }
    std::sort(a.members.begin(), a.members.end());
  }
  auto audience_of = [&](const Post& p) -> const Audience* {
    auto g = by_group.find(p.group_id);
    return p.draft || g == by_group.end() ? nullptr : &g->second;
  };
  auto sees = [](const Audience& a, const Post& p, int64_t user_id) {
    if (user_id == p.author_id) return false;
    auto it = std::lower_bound(a.members.begin(), a.members.end(),
                               std::pair<int64_t, bool>{user_id, false});
    return it != a.members.end() && it->first == user_id && (p.to_family || !it->second);
  };
  for (auto& s : out) {
    const Audience* a = audience_of(s.post);
    if (a == nullptr) continue;
    int64_t count = static_cast<int64_t>(a->members.size()) - (s.post.to_family ? 0 : a->family);
    auto author = std::lower_bound(a->members.begin(), a->members.end(),
                                   std::pair<int64_t, bool>{s.post.author_id, false});
    if (author != a->members.end() && author->first == s.post.author_id &&
        (s.post.to_family || !author->second)) {
      --count;
    }
    s.audience_count = count;
  }
  for (const auto& r : results[0].rows) {
    PostSummary& s = out[index.at(r.Int(0))];
    const int64_t uid = r.Int(1);
    if (const Audience* a = audience_of(s.post); a != nullptr && sees(*a, s.post, uid)) {
      ++s.read_count;
    }
    if (uid == viewer_id) s.read = true;
  }
  for (const auto& r : results[1].rows) out[index.at(r.Int(0))].pins.push_back(r.Text(1));
  const auto& colors = PinColors();
  auto rank = [&](const std::string& c) { return std::find(colors.begin(), colors.end(), c); };
  for (auto& s : out) {
    if (s.post.author_id == viewer_id) s.read = true;
    std::sort(s.pins.begin(), s.pins.end(),
              [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  }
  return out;
}

Result<PostDetail> CareService::OpenPost(const Actor& actor, int64_t post_id) {
  const std::string action = "care.post.read";
  Post post;
  auto access = RequirePost(actor, post_id, action, &post);
  if (!access) {
    // Readers are not told that a post existed once it was deleted.
    if (access.error().code() == core::Code::kConflict) return core::NotFound("post not found");
    return access.error();
  }
  if (!post.draft) {
    TSUNAGU_ASSIGN_OR_RETURN(
        int64_t first_read,
        db_.Execute("INSERT INTO care_reads (post_id, user_id, read_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (post_id, user_id) DO NOTHING",
                    {Value{post_id}, Value{actor.user_id}, Value{clock_.NowMillis()}}));
    // The author's "read by N" updates live.
    if (first_read == 1 && listener_ && post.author_id != actor.user_id) {
      CareEvent e;
      e.kind = CareEvent::Kind::kRead;
      e.group = access->group;
      e.actor_id = actor.user_id;
      e.actor_name = access->self.display_name;
      e.post_id = post_id;
      e.recipients = {post.author_id};
      listener_->OnCareEvent(e);
    }
  }
  PostDetail detail;
  TSUNAGU_ASSIGN_OR_RETURN(auto summaries,
                           Summaries(actor.user_id, {post}, {{post.group_id, &access->members}}));
  detail.summary = std::move(summaries.at(0));
  TSUNAGU_ASSIGN_OR_RETURN(auto comments,
                           db_.Query("SELECT id, post_id, author_id, body, created_at FROM "
                                     "care_comments WHERE post_id = ? ORDER BY id",
                                     {Value{post_id}}));
  // Authors are usually current members, whose names are loaded already.
  auto name_of = [&](int64_t user_id) {
    for (const Member& m : access->members) {
      if (m.user_id == user_id) return m.display_name;
    }
    return NameOf(user_id);  // a former member
  };
  for (const auto& r : comments.rows) {
    detail.comments.push_back(
        {r.Int(0), r.Int(1), r.Int(2), name_of(r.Int(2)), r.Text(3), r.Int(4)});
  }
  TSUNAGU_ASSIGN_OR_RETURN(auto reads,
                           db_.Query("SELECT user_id, read_at FROM care_reads WHERE post_id = ? "
                                     "ORDER BY read_at, user_id",
                                     {Value{post_id}}));
  for (const auto& r : reads.rows) {
    auto member = std::find_if(access->members.begin(), access->members.end(),
                               [&](const Member& m) { return m.user_id == r.Int(0); });
    if (member == access->members.end() || member->user_id == post.author_id) continue;
    detail.readers.push_back({member->user_id, member->display_name, r.Int(1)});
  }
  Audit(actor, action, PostObject(post_id), access->group.regional_id);
  return detail;
}

Result<std::vector<PostSummary>> CareService::Timeline(const Actor& actor, int64_t group_id,
                                                       const TimelineQuery& query) {
  const std::string action = query.words.empty() ? "care.timeline.read" : "care.post.search";
  std::vector<Value> filter_params;
  TSUNAGU_ASSIGN_OR_RETURN(std::string filters,
                           FilterSql(query, actor.user_id, db_.dialect(), filter_params));
  // A search walks the group's search index (SQLite): a post that does not
  // match is rejected there, without reading its row. The planner cannot
  // tell the two indexes on (group_id, sort_at) apart by their statistics
  // and takes the smaller one, which reads every row it tests.
  const bool search_index =
      db_.dialect() == store::Dialect::kSqlite && !SearchWords(query.words).empty();
  std::string sql = std::string("SELECT ") + kPostColumns + " FROM care_posts p" +
                    (search_index ? " INDEXED BY care_posts_search" : "") +
                    " WHERE p.group_id = ? AND p.deleted_at = 0 AND "
                    "(p.draft = 0 OR p.author_id = ?)";
  std::vector<Value> params{Value{group_id}, Value{actor.user_id}};
  if (actor.IsFamily()) sql += " AND p.to_family = 1 AND p.draft = 0";
  sql += filters;
  params.insert(params.end(), filter_params.begin(), filter_params.end());
  sql += " ORDER BY ";
  if (query.unread_first) {
    sql +=
        "CASE WHEN p.author_id = ? OR EXISTS (SELECT 1 FROM care_reads r WHERE r.post_id = p.id "
        "AND r.user_id = ?) THEN 1 ELSE 0 END, ";
    params.emplace_back(actor.user_id);
    params.emplace_back(actor.user_id);
  }
  sql += "p.sort_at DESC, p.id DESC" + store::LimitSql(query.limit, query.offset);
  // The page is read with the group (one round trip) and used only once the
  // actor's access is granted.
  std::vector<store::ResultSet> page;
  std::vector<store::Statement> also;
  also.push_back({std::move(sql), std::move(params)});
  TSUNAGU_ASSIGN_OR_RETURN(
      Access access,
      RequireMember(actor, group_id, action, GroupObject(group_id), std::move(also), &page));
  std::vector<Post> posts;
  for (const auto& r : page.at(0).rows) posts.push_back(PostFromRow(r));
  MembersByGroup members{{group_id, &access.members}};
  TSUNAGU_ASSIGN_OR_RETURN(auto out, Summaries(actor.user_id, std::move(posts), members, true));
  Audit(actor, action, GroupObject(group_id), access.group.regional_id, "success",
        std::to_string(out.size()) + " posts");
  return out;
}

Result<std::vector<FoundPost>> CareService::Search(const Actor& actor, const TimelineQuery& query) {
  const std::string action = "care.post.search";
  const std::string object = "care_search";
  std::vector<Value> filter_params;
  TSUNAGU_ASSIGN_OR_RETURN(std::string filters,
                           FilterSql(query, actor.user_id, db_.dialect(), filter_params));
  if (SearchWords(query.words).empty() && filter_params.empty()) {
    return core::InvalidInput("q (search words) or a filter is required");
  }
  // The actor's groups (one query), kept only where consent still covers
  // the actor, as every other call checks it.
  TSUNAGU_ASSIGN_OR_RETURN(auto groups,
                           db_.Query("SELECT g.id, g.patient_id, g.name FROM care_groups g JOIN "
                                     "care_members m ON m.group_id = g.id WHERE m.user_id = ?",
                                     {Value{actor.user_id}}));
  std::map<int64_t, std::string> names;
  std::vector<Value> group_ids;
  for (const auto& r : groups.rows) {
    if (!CheckConsent(r.Int(1), actor.facility_id, actor.occupation).ok()) continue;
    names[r.Int(0)] = r.Text(2);
    group_ids.emplace_back(r.Int(0));
  }
  std::vector<FoundPost> out;
  if (group_ids.empty()) {
    Audit(actor, action, object, "", "success", "0 posts");
    return out;
  }
  // One branch per group, each walking that group's timeline index newest
  // first for at most offset + limit matches, then the newest of them all:
  // a page costs about groups x page rows instead of every post of every
  // group (a single "group_id IN (...)" query must sort them all). The
  // branches yield ids only, and only the page's rows are read: on SQLite
  // the branches then never leave the search index (a common word would
  // otherwise read a full page of rows in every group).
  const int64_t per_group = int64_t{query.offset} + query.limit;
  std::string sql;
  std::vector<Value> params;
  for (size_t i = 0; i < group_ids.size(); ++i) {
    if (i) sql += " UNION ALL ";
    sql +=
        "SELECT * FROM (SELECT p.id, p.sort_at FROM care_posts p WHERE p.group_id = ? AND "
        "p.deleted_at = 0 AND (p.draft = 0 OR p.author_id = ?)";
    if (actor.IsFamily()) sql += " AND p.to_family = 1 AND p.draft = 0";
    sql += filters + " ORDER BY p.sort_at DESC, p.id DESC" + store::LimitSql(per_group, 0) + ") g" +
           std::to_string(i);
    params.push_back(group_ids[i]);
    params.emplace_back(actor.user_id);
    params.insert(params.end(), filter_params.begin(), filter_params.end());
  }
  sql = std::string("SELECT ") + kPostColumns +
        " FROM care_posts p WHERE p.id IN (SELECT id FROM (" + sql +
        ") u ORDER BY sort_at DESC, id DESC" + store::LimitSql(query.limit, query.offset) +
        ") ORDER BY p.sort_at DESC, p.id DESC";
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(sql, params));
  std::vector<Post> posts;
  std::set<int64_t> page_groups;
  for (const auto& r : rs.rows) {
    posts.push_back(PostFromRow(r));
    page_groups.insert(posts.back().group_id);
  }
  // Members of the groups on this page only (for names and audiences).
  std::map<int64_t, std::vector<Member>> loaded = LoadMembersOf(page_groups);
  MembersByGroup members;
  for (const auto& [g, list] : loaded) members[g] = &list;
  TSUNAGU_ASSIGN_OR_RETURN(auto summaries,
                           Summaries(actor.user_id, std::move(posts), members, true));
  std::string seen;
  for (int64_t g : page_groups) seen += (seen.empty() ? "" : ",") + std::to_string(g);
  for (auto& s : summaries) {
    std::string name = names[s.post.group_id];
    out.push_back({std::move(s), std::move(name)});
  }
  Audit(actor, action, object, "", "success",
        std::to_string(out.size()) + " posts" + (seen.empty() ? "" : " in care_group:" + seen));
  return out;
}

Result<std::vector<std::string>> CareService::SetPins(const Actor& actor, int64_t post_id,
                                                      const std::vector<std::string>& colors) {
  const std::string action = "care.post.pin";
  std::vector<std::string> pins;
  for (std::string_view c : PinColors()) {
    if (std::find(colors.begin(), colors.end(), c) != colors.end()) pins.emplace_back(c);
  }
  for (const auto& c : colors) {
    if (std::find(pins.begin(), pins.end(), c) == pins.end()) {
      return core::InvalidInput("colors must be among red, orange, yellow, green, blue, purple");
    }
  }
  Post post;
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequirePost(actor, post_id, action, &post));
  int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_RETURN_IF_ERROR(tx->Execute("DELETE FROM care_pins WHERE post_id = ? AND user_id = ?",
                                      {Value{post_id}, Value{actor.user_id}}));
  for (const auto& c : pins) {
    TSUNAGU_RETURN_IF_ERROR(
        tx->Execute("INSERT INTO care_pins (post_id, user_id, color, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    {Value{post_id}, Value{actor.user_id}, Value{c}, Value{now}}));
  }
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  std::string reason;
  for (const auto& c : pins) reason += (reason.empty() ? "" : ",") + c;
  Audit(actor, action, PostObject(post_id), access.group.regional_id, "success",
        reason.empty() ? "cleared" : reason);
  return pins;
}

Result<std::vector<ItemSeries>> CareService::Series(const Actor& actor, int64_t group_id,
                                                    const SeriesQuery& query) {
  const std::string action = "care.series.read";
  if (query.items.empty()) return core::InvalidInput("items is required");
  if (query.items.size() > kMaxSeriesItems) {
    return core::InvalidInput("at most " + std::to_string(kMaxSeriesItems) + " items");
  }
  for (size_t i = 0; i < query.items.size(); ++i) {
    const std::string& key = query.items[i];
    const TemplateItem* item = FindTemplateItem(key);
    std::string shown = core::IsValidUtf8(key) ? key.substr(0, 64) : "an item";
    if (!item) return core::InvalidInput("unknown template item " + shown);
    if (item->type != TemplateItem::Type::kInteger && item->type != TemplateItem::Type::kDecimal) {
      return core::InvalidInput(shown + " is not a numeric item");
    }
    if (std::find(query.items.begin(), query.items.begin() + i, key) != query.items.begin() + i) {
      return core::InvalidInput("duplicate item " + shown);
    }
  }
  int64_t start = 0, end = 0;
  TSUNAGU_RETURN_IF_ERROR(DateRange(query.from, query.to, &start, &end));
  TSUNAGU_ASSIGN_OR_RETURN(Access access,
                           RequireMember(actor, group_id, action, GroupObject(group_id)));
  std::vector<ItemSeries> out;
  for (const auto& key : query.items) {
    std::string sql =
        "SELECT v.post_id, p.published_at, v.value FROM care_post_values v JOIN care_posts p ON "
        "p.id = v.post_id WHERE v.patient_id = ? AND v.item = ? AND p.group_id = ? AND "
        "p.deleted_at = 0 AND p.draft = 0";
    std::vector<Value> params{Value{access.group.patient_id}, Value{key}, Value{group_id}};
    if (actor.IsFamily()) sql += " AND p.to_family = 1";
    if (start) {
      sql += " AND p.published_at >= ?";
      params.emplace_back(start);
    }
    if (end) {
      sql += " AND p.published_at < ?";
      params.emplace_back(end);
    }
    sql += " ORDER BY p.published_at DESC, p.id DESC LIMIT ?";
    params.emplace_back(static_cast<int64_t>(kMaxSeriesPoints));
    TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(sql, params));
    ItemSeries series;
    series.item = key;
    for (auto r = rs.rows.rbegin(); r != rs.rows.rend(); ++r) {
      series.points.push_back({r->Int(0), r->Int(1), std::strtod(r->Text(2).c_str(), nullptr)});
    }
    out.push_back(std::move(series));
  }
  std::string items;
  for (const auto& key : query.items) items += (items.empty() ? "" : ",") + key;
  Audit(actor, action, GroupObject(group_id), access.group.regional_id, "success", items);
  return out;
}

Result<AttachmentFile> CareService::OpenFile(const Actor& actor, int64_t file_id) {
  const std::string action = "care.file.read";
  const std::string object = FileObject(file_id);
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(std::string("SELECT ") + kFileColumns +
                                                  ", sha256 FROM care_files WHERE id = ?",
                                              {Value{file_id}}));
  if (rs.empty()) {
    Audit(actor, action, object, "", "failure", "file not found");
    return core::NotFound("file not found");
  }
  AttachmentFile file{AttachmentFromRow(rs.rows[0]), {}};
  Post post;
  auto access = RequirePost(actor, file.attachment.post_id, action, &post, object);
  if (!access) {
    // Files of deleted or invisible posts are not found, like the posts.
    if (access.error().code() == core::Code::kForbidden) return access.error();
    return core::NotFound("file not found");
  }
  auto path = blobs_ ? blobs_->PathOf(rs.rows[0].Text(6)) : std::nullopt;
  if (!path) {
    Audit(actor, action, object, access->group.regional_id, "failure", "file bytes missing");
    return core::Internal("internal error", "care file blob missing: " + object);
  }
  file.path = *path;
  Audit(actor, action, object, access->group.regional_id);
  return file;
}

Result<Comment> CareService::AddComment(const Actor& actor, int64_t post_id,
                                        const std::string& body) {
  const std::string action = "care.comment.create";
  Post post;
  TSUNAGU_ASSIGN_OR_RETURN(Access access, RequirePost(actor, post_id, action, &post));
  if (post.draft) return core::Conflict("drafts cannot be commented on; publish it first");
  if (access.group.archived()) return core::Conflict("the care group is archived");
  std::string text = core::Trim(body);
  if (text.empty()) return core::InvalidInput("body is required");
  TSUNAGU_RETURN_IF_ERROR(CheckText("body", text, kMaxCommentChars));
  int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, tx->Query("INSERT INTO care_comments (post_id, author_id, body, created_at) "
                         "VALUES (?, ?, ?, ?) RETURNING id",
                         {Value{post_id}, Value{actor.user_id}, Value{text}, Value{now}}));
  TSUNAGU_RETURN_IF_ERROR(tx->Execute(
      "UPDATE care_posts SET comment_count = comment_count + 1 WHERE id = ?", {Value{post_id}}));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  int64_t id = rs.rows.at(0).Int(0);
  Audit(actor, action, PostObject(post_id), access.group.regional_id, "success",
        "comment:" + std::to_string(id));
  Comment comment{id, post_id, actor.user_id, NameOf(actor.user_id), text, now};
  Notify(CareEvent::Kind::kComment, access, post, id, actor.user_id);
  return comment;
}

// Tells the listener who may see the post (its current audience, the actor
// excluded): family members only for posts published to the family.
void CareService::Notify(CareEvent::Kind kind, const Access& access, const Post& post,
                         int64_t comment_id, int64_t actor_id) {
  if (!listener_) return;
  CareEvent e;
  e.kind = kind;
  e.group = access.group;
  e.actor_id = actor_id ? actor_id : post.author_id;
  e.post_id = post.id;
  e.comment_id = comment_id;
  for (const Member& m : access.members) {
    if (m.user_id == e.actor_id) continue;
    if (m.occupation == auth::Occupation::kFamily && !post.to_family) continue;
    if (m.user_id == post.author_id && kind == CareEvent::Kind::kPost) continue;
    e.recipients.push_back(m.user_id);
  }
  for (const Member& m : access.members) {
    if (m.user_id == e.actor_id) e.actor_name = m.display_name;
  }
  listener_->OnCareEvent(e);
}

}  // namespace tsunagu::care
