#include "care/care_service.hpp"

#include <algorithm>
#include <set>

#include "audit/audit_log.hpp"
#include "auth/account_service.hpp"
#include "care/status_template.hpp"
#include "consent/consent_service.hpp"
#include "core/text.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::care {

using core::Result;
using core::Status;
using store::Value;

std::string_view ToString(MemberRole r) { return r == MemberRole::kOwner ? "owner" : "member"; }

std::string_view ToString(PostKind k) { return k == PostKind::kStatus ? "status" : "message"; }

std::optional<PostKind> ParsePostKind(std::string_view s) {
  if (s == "status") return PostKind::kStatus;
  if (s == "message") return PostKind::kMessage;
  return std::nullopt;
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

std::string LikePattern(const std::string& word) {
  std::string out = "%";
  for (char c : word) {
    if (c == '!' || c == '%' || c == '_') out += '!';
    out += c;
  }
  return out + "%";
}

std::string SearchText(const NewPost& post, const std::vector<TemplateValue>& values) {
  std::string text = post.title + "\n" + post.body;
  for (const auto& v : values) {
    const TemplateItem* item = FindTemplateItem(v.item);
    if (item && item->type == TemplateItem::Type::kText) text += "\n" + v.value;
  }
  return core::FoldKana(text);
}

constexpr const char* kPostColumns =
    "id, group_id, author_id, kind, title, body, to_family, draft, created_at, published_at";

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
  return {"care", {R"sql(
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
  bool family = occupation == auth::Occupation::kFamily;
  if (!family && facility_id != 0 && patients_.IsLinkedTo(patient_id, facility_id)) {
    return Status::Ok();
  }
  auto active = consents_.ActiveFor(
      patient_id, family ? consent::Scope::kFamily : consent::Scope::kCareTeam, consents_.Today());
  if (!active) return active.error();
  for (const auto& c : *active) {
    if (c.viewer_facility_id == 0 || c.viewer_facility_id == facility_id) return Status::Ok();
  }
  return core::Forbidden(family ? "no active family consent covers this patient"
                                : "no active care-team consent covers this facility");
}

std::string CareService::NameOf(int64_t user_id) const {
  auto u = accounts_.Get(user_id);
  return u ? u->display_name : std::string();
}

Result<CareGroup> CareService::LoadGroup(int64_t group_id) const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query("SELECT id, patient_id, name, owner_id, facility_id, archived_at, "
                         "created_at FROM care_groups WHERE id = ?",
                         {Value{group_id}}));
  if (rs.empty()) return core::NotFound("care group not found");
  const auto& r = rs.rows[0];
  CareGroup g{r.Int(0), r.Int(1), {}, r.Text(2), r.Int(3), r.Int(4), r.Int(5), r.Int(6)};
  auto rid = patients_.RegionalIdOf(g.patient_id);
  g.regional_id = rid ? *rid : std::string();
  return g;
}

std::vector<Member> CareService::LoadMembers(int64_t group_id) const {
  std::vector<Member> out;
  auto rs = db_.Query(
      "SELECT user_id, role, added_at FROM care_members WHERE group_id = ? ORDER BY user_id",
      {Value{group_id}});
  if (!rs) return out;
  for (const auto& r : rs->rows) {
    Member m;
    m.user_id = r.Int(0);
    m.role = r.Text(1) == "owner" ? MemberRole::kOwner : MemberRole::kMember;
    m.added_at = r.Int(2);
    if (auto u = accounts_.Get(m.user_id)) {
      m.display_name = u->display_name;
      m.facility_id = u->facility_id;
      m.occupation = u->occupation;
    }
    out.push_back(std::move(m));
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const Member& m) { return m.role == MemberRole::kOwner; });
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
                                                       const std::string& object) {
  auto group = LoadGroup(group_id);
  if (!group) {
    Audit(actor, action, object, "", "failure", group.error().message());
    return group.error();
  }
  Access access{std::move(group).value(), {}, LoadMembers(group_id)};
  auto self = std::find_if(access.members.begin(), access.members.end(),
                           [&](const Member& m) { return m.user_id == actor.user_id; });
  if (self == access.members.end()) {
    Audit(actor, action, object, access.group.regional_id, "denied", "not a member");
    return core::Forbidden("not a member of this care group");
  }
  access.self = *self;
  if (Status s = CheckConsent(access.group.patient_id, actor.facility_id, actor.occupation);
      !s.ok()) {
    Audit(actor, action, object, access.group.regional_id, "denied", s.message());
    return s;
  }
  return access;
}

Result<Post> CareService::LoadPost(int64_t post_id, int64_t* deleted_at) const {
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(std::string("SELECT ") + kPostColumns +
                                                  ", deleted_at FROM care_posts WHERE id = ?",
                                              {Value{post_id}}));
  if (rs.empty()) return core::NotFound("post not found");
  Post p = PostFromRow(rs.rows[0]);
  *deleted_at = rs.rows[0].Int(10);
  TSUNAGU_ASSIGN_OR_RETURN(auto values, db_.Query("SELECT item, value FROM care_post_values "
                                                  "WHERE post_id = ? ORDER BY position",
                                                  {Value{post_id}}));
  for (const auto& r : values.rows) p.values.push_back({r.Text(0), r.Text(1)});
  p.author_name = NameOf(p.author_id);
  return p;
}

// Loads the post and the actor's access to its group. A post the actor may
// not see (someone else's draft, not published to the family) is NotFound;
// a deleted post is Conflict for writes and NotFound for reads (the caller
// decides by the action).
Result<CareService::Access> CareService::RequirePost(const Actor& actor, int64_t post_id,
                                                     const std::string& action, Post* post) {
  std::string object = PostObject(post_id);
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
      auto rs, tx->Query("INSERT INTO care_groups (patient_id, name, owner_id, facility_id, "
                         "archived_at, created_at) VALUES (?, ?, ?, ?, 0, ?) RETURNING id",
                         {Value{patient->id}, Value{name}, Value{actor.user_id},
                          Value{actor.facility_id}, Value{now}}));
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
  Audit(actor, action, GroupObject(id), patient->regional_id);
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
  NewPost clean = post;
  clean.title = core::Trim(post.title);
  clean.body = core::Trim(post.body);
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
    if (clean.body.empty()) return core::InvalidInput("body is required");
  }
  int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs,
      tx->Query("INSERT INTO care_posts (group_id, patient_id, author_id, kind, title, body, "
                "search_text, to_family, draft, created_at, published_at, sort_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                {Value{group_id}, Value{access.group.patient_id}, Value{actor.user_id},
                 Value{std::string(ToString(clean.kind))}, Value{clean.title}, Value{clean.body},
                 Value{SearchText(clean, values)}, Value{int64_t{clean.to_family ? 1 : 0}},
                 Value{int64_t{clean.draft ? 1 : 0}}, Value{now},
                 Value{clean.draft ? int64_t{0} : now}, Value{now}}));
  int64_t id = rs.rows.at(0).Int(0);
  for (const auto& v : values) {
    int64_t position = FindTemplateItem(v.item) - StatusTemplate().data();
    TSUNAGU_RETURN_IF_ERROR(
        tx->Execute("INSERT INTO care_post_values (post_id, patient_id, position, item, value) "
                    "VALUES (?, ?, ?, ?, ?)",
                    {Value{id}, Value{access.group.patient_id}, Value{position}, Value{v.item},
                     Value{v.value}}));
  }
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  Audit(actor, action, PostObject(id), rid, "success",
        std::string(ToString(clean.kind)) + (clean.draft ? " draft" : "") +
            (clean.to_family ? " family" : ""));
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

Result<std::vector<PostSummary>> CareService::Summaries(const Access& access,
                                                        const std::vector<Post>& posts) {
  std::vector<PostSummary> out;
  for (const auto& p : posts) {
    PostSummary s;
    s.post = p;
    std::set<int64_t> audience;
    if (!p.draft) {
      for (const auto& m : access.members) {
        if (m.user_id == p.author_id) continue;
        if (m.occupation == auth::Occupation::kFamily && !p.to_family) continue;
        audience.insert(m.user_id);
      }
    }
    s.audience_count = static_cast<int64_t>(audience.size());
    TSUNAGU_ASSIGN_OR_RETURN(
        auto reads, db_.Query("SELECT user_id FROM care_reads WHERE post_id = ?", {Value{p.id}}));
    for (const auto& r : reads.rows) {
      int64_t uid = r.Int(0);
      if (audience.count(uid)) ++s.read_count;
      if (uid == access.self.user_id) s.read = true;
    }
    if (p.author_id == access.self.user_id) s.read = true;
    TSUNAGU_ASSIGN_OR_RETURN(
        auto comments,
        db_.Query("SELECT COUNT(*) FROM care_comments WHERE post_id = ?", {Value{p.id}}));
    s.comment_count = comments.empty() ? 0 : comments.rows[0].Int(0);
    out.push_back(std::move(s));
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
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("INSERT INTO care_reads (post_id, user_id, read_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (post_id, user_id) DO NOTHING",
                    {Value{post_id}, Value{actor.user_id}, Value{clock_.NowMillis()}}));
  }
  PostDetail detail;
  TSUNAGU_ASSIGN_OR_RETURN(auto summaries, Summaries(*access, {post}));
  detail.summary = std::move(summaries.at(0));
  TSUNAGU_ASSIGN_OR_RETURN(auto comments,
                           db_.Query("SELECT id, post_id, author_id, body, created_at FROM "
                                     "care_comments WHERE post_id = ? ORDER BY id",
                                     {Value{post_id}}));
  for (const auto& r : comments.rows) {
    detail.comments.push_back(
        {r.Int(0), r.Int(1), r.Int(2), NameOf(r.Int(2)), r.Text(3), r.Int(4)});
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
  if (query.limit < 1 || query.limit > kMaxLimit) {
    return core::InvalidInput("limit must be between 1 and " + std::to_string(kMaxLimit));
  }
  if (query.offset < 0) return core::InvalidInput("offset must not be negative");
  if (!core::IsValidUtf8(query.words) || CodePoints(query.words) > 200) {
    return core::InvalidInput("search words must be valid UTF-8, at most 200 characters");
  }
  TSUNAGU_ASSIGN_OR_RETURN(Access access,
                           RequireMember(actor, group_id, action, GroupObject(group_id)));
  std::string sql = std::string("SELECT ") + kPostColumns +
                    " FROM care_posts p WHERE group_id = ? AND deleted_at = 0 AND "
                    "(draft = 0 OR author_id = ?)";
  std::vector<Value> params{Value{group_id}, Value{actor.user_id}};
  if (actor.IsFamily()) sql += " AND to_family = 1 AND draft = 0";
  for (const auto& word : SearchWords(query.words)) {
    sql += " AND search_text LIKE ? ESCAPE '!'";
    params.emplace_back(LikePattern(word));
  }
  sql += " ORDER BY ";
  if (query.unread_first) {
    sql +=
        "CASE WHEN author_id = ? OR EXISTS (SELECT 1 FROM care_reads r WHERE r.post_id = p.id "
        "AND r.user_id = ?) THEN 1 ELSE 0 END, ";
    params.emplace_back(actor.user_id);
    params.emplace_back(actor.user_id);
  }
  sql += "sort_at DESC, id DESC LIMIT ? OFFSET ?";
  params.emplace_back(int64_t{query.limit});
  params.emplace_back(int64_t{query.offset});
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(sql, params));
  std::vector<Post> posts;
  for (const auto& r : rs.rows) {
    Post p = PostFromRow(r);
    p.author_name = NameOf(p.author_id);
    TSUNAGU_ASSIGN_OR_RETURN(auto values, db_.Query("SELECT item, value FROM care_post_values "
                                                    "WHERE post_id = ? ORDER BY position",
                                                    {Value{p.id}}));
    for (const auto& v : values.rows) p.values.push_back({v.Text(0), v.Text(1)});
    posts.push_back(std::move(p));
  }
  TSUNAGU_ASSIGN_OR_RETURN(auto out, Summaries(access, posts));
  Audit(actor, action, GroupObject(group_id), access.group.regional_id, "success",
        std::to_string(out.size()) + " posts");
  return out;
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
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query("INSERT INTO care_comments (post_id, author_id, body, created_at) "
                         "VALUES (?, ?, ?, ?) RETURNING id",
                         {Value{post_id}, Value{actor.user_id}, Value{text}, Value{now}}));
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
