#include "care/conversation_service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "auth/account_service.hpp"
#include "care/care_service.hpp"
#include "core/text.hpp"

namespace tsunagu::care {

using core::Result;
using core::Status;
using store::Value;

namespace {

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The trimmed message text, or InvalidInput.
Result<std::string> CleanBody(const std::string& body) {
  std::string text = core::Trim(body);
  if (!core::IsValidUtf8(text)) return core::InvalidInput("body must be valid UTF-8");
  if (text.empty()) return core::InvalidInput("body is required");
  if (CodePoints(text) > ConversationService::kMaxMessageChars) {
    return core::InvalidInput("body must be at most " +
                              std::to_string(ConversationService::kMaxMessageChars) +
                              " characters");
  }
  return text;
}

std::string GroupObject(int64_t id) { return "care_group:" + std::to_string(id); }
std::string ConversationObject(int64_t id) { return "care_conversation:" + std::to_string(id); }

// The participant set as stored in the unique key: sorted ids, comma separated.
std::string ParticipantKey(const std::set<int64_t>& ids) {
  std::string key;
  for (int64_t id : ids) {
    if (!key.empty()) key += ',';
    key += std::to_string(id);
  }
  return key;
}

const Member* FindMember(const GroupAccess& access, int64_t user_id) {
  auto it = std::find_if(access.members.begin(), access.members.end(),
                         [&](const Member& m) { return m.user_id == user_id; });
  return it == access.members.end() ? nullptr : &*it;
}

// Appends a message inside the caller's transaction and moves the
// conversation's activity time and the author's read mark to it.
Result<int64_t> InsertMessage(store::Transaction& tx, const GroupAccess& access,
                              int64_t conversation_id, int64_t author_id, const std::string& body,
                              int64_t now) {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs,
      tx.Query("INSERT INTO care_messages (conversation_id, group_id, patient_id, "
               "author_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
               {Value{conversation_id}, Value{access.group.id}, Value{access.group.patient_id},
                Value{author_id}, Value{body}, Value{now}}));
  int64_t id = rs.rows.at(0).Int(0);
  TSUNAGU_RETURN_IF_ERROR(
      tx.Execute("UPDATE care_conversations SET updated_at = ?, last_message_id = ? WHERE id = ?",
                 {Value{now}, Value{id}, Value{conversation_id}}));
  TSUNAGU_RETURN_IF_ERROR(
      tx.Execute("UPDATE care_conversation_participants SET last_read_message_id = ? "
                 "WHERE conversation_id = ? AND user_id = ?",
                 {Value{id}, Value{conversation_id}, Value{author_id}}));
  return id;
}

void Notify(CareService& care, const Actor& actor, const GroupAccess& access,
            int64_t conversation_id, int64_t message_id, const std::vector<int64_t>& participants) {
  CareListener* listener = care.listener();
  if (!listener) return;
  CareEvent e;
  e.kind = CareEvent::Kind::kMessage;
  e.group = access.group;
  e.actor_id = actor.user_id;
  e.actor_name = access.self.display_name;
  e.conversation_id = conversation_id;
  e.message_id = message_id;
  for (int64_t uid : participants) {
    if (uid != actor.user_id && FindMember(access, uid)) e.recipients.push_back(uid);
  }
  listener->OnCareEvent(e);
}

}  // namespace

ConversationService::ConversationService(store::Database& db, const core::Clock& clock,
                                         CareService& care, const auth::AccountService& accounts)
    : db_(db), clock_(clock), care_(care), accounts_(accounts) {}

store::MigrationSet ConversationService::Migrations() {
  return {"care_messages", {R"sql(
CREATE TABLE care_conversations (
  id {{ID}},
  group_id BIGINT NOT NULL REFERENCES care_groups (id),
  patient_id BIGINT NOT NULL,
  participant_key TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_message_id BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX care_conversations_participants
  ON care_conversations (group_id, participant_key);
CREATE TABLE care_conversation_participants (
  conversation_id BIGINT NOT NULL REFERENCES care_conversations (id),
  user_id BIGINT NOT NULL,
  group_id BIGINT NOT NULL,
  patient_id BIGINT NOT NULL,
  last_read_message_id BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX care_conversation_participants_user
  ON care_conversation_participants (user_id, group_id);
CREATE TABLE care_messages (
  id {{ID}},
  conversation_id BIGINT NOT NULL REFERENCES care_conversations (id),
  group_id BIGINT NOT NULL,
  patient_id BIGINT NOT NULL,
  author_id BIGINT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX care_messages_conversation ON care_messages (conversation_id, id)
)sql"}};
}

std::string ConversationService::NameOf(const GroupAccess& access, int64_t user_id) const {
  if (const Member* m = FindMember(access, user_id)) return m->display_name;
  auto u = accounts_.Get(user_id);
  return u ? u->display_name : std::string();
}

Result<StartedConversation> ConversationService::Start(const Actor& actor, int64_t group_id,
                                                       const NewConversation& conversation) {
  const std::string action = "care.message.start";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, group_id, action, object));
  std::string rid = access.group.regional_id;
  if (access.group.archived()) return core::Conflict("the care group is archived");
  std::set<int64_t> ids{actor.user_id};
  for (int64_t uid : conversation.member_ids) {
    if (uid == actor.user_id) continue;
    const Member* m = FindMember(access, uid);
    if (!m) {
      return core::InvalidInput("member_ids: user " + std::to_string(uid) +
                                " is not a member of this care group");
    }
    if (actor.IsFamily() && m->occupation == auth::Occupation::kFamily) {
      care_.Record(actor, action, object, rid, "denied", "family to family");
      return core::Forbidden("family members can write to staff members only");
    }
    ids.insert(uid);
  }
  if (ids.size() < 2) return core::InvalidInput("member_ids: choose at least one other member");
  TSUNAGU_ASSIGN_OR_RETURN(std::string body, CleanBody(conversation.body));

  int64_t now = clock_.NowMillis();
  std::string key = ParticipantKey(ids);
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  // Two members starting the same conversation at once end up in one: the
  // second insert does nothing and both append to the row that won.
  TSUNAGU_ASSIGN_OR_RETURN(
      auto inserted,
      tx->Query("INSERT INTO care_conversations (group_id, patient_id, participant_key, "
                "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (group_id, participant_key) DO NOTHING RETURNING id",
                {Value{group_id}, Value{access.group.patient_id}, Value{key}, Value{actor.user_id},
                 Value{now}, Value{now}}));
  bool created = !inserted.empty();
  int64_t conversation_id = 0;
  if (created) {
    conversation_id = inserted.rows[0].Int(0);
    for (int64_t uid : ids) {
      TSUNAGU_RETURN_IF_ERROR(tx->Execute(
          "INSERT INTO care_conversation_participants (conversation_id, user_id, "
          "group_id, patient_id) VALUES (?, ?, ?, ?)",
          {Value{conversation_id}, Value{uid}, Value{group_id}, Value{access.group.patient_id}}));
    }
  } else {
    TSUNAGU_ASSIGN_OR_RETURN(auto existing,
                             tx->Query("SELECT id FROM care_conversations WHERE group_id = ? AND "
                                       "participant_key = ?",
                                       {Value{group_id}, Value{key}}));
    if (existing.empty()) return core::Internal("conversation vanished while starting it");
    conversation_id = existing.rows[0].Int(0);
  }
  TSUNAGU_ASSIGN_OR_RETURN(int64_t message_id,
                           InsertMessage(*tx, access, conversation_id, actor.user_id, body, now));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  care_.Record(actor, action, ConversationObject(conversation_id), rid, "success",
               std::string(created ? "new conversation, " : "") +
                   "message:" + std::to_string(message_id) + ", " + std::to_string(ids.size()) +
                   " participants");
  std::vector<int64_t> participants(ids.begin(), ids.end());
  Notify(care_, actor, access, conversation_id, message_id, participants);

  StartedConversation out;
  out.created = created;
  out.message = {message_id, conversation_id, actor.user_id, access.self.display_name, body, now};
  TSUNAGU_ASSIGN_OR_RETURN(auto loaded, LoadConversations(access, actor.user_id, conversation_id));
  if (loaded.empty()) return core::Internal("conversation not found after sending");
  out.conversation = std::move(loaded.front());
  return out;
}

Result<std::vector<Conversation>> ConversationService::LoadConversations(const GroupAccess& access,
                                                                         int64_t viewer,
                                                                         int64_t only_id) {
  const Value group{access.group.id};
  const Value me{viewer};
  std::string only = only_id ? " AND c.id = ?" : "";
  auto params = [&](std::vector<Value> v) {
    if (only_id) v.emplace_back(only_id);
    return v;
  };
  TSUNAGU_ASSIGN_OR_RETURN(
      auto convs, db_.Query("SELECT c.id, c.updated_at FROM care_conversations c "
                            "JOIN care_conversation_participants me ON me.conversation_id = c.id "
                            "AND me.user_id = ? WHERE c.group_id = ?" +
                                only + " ORDER BY c.updated_at DESC, c.id DESC",
                            params({me, group})));
  std::vector<Conversation> out;
  std::map<int64_t, size_t> index;
  for (const auto& r : convs.rows) {
    Conversation c;
    c.id = r.Int(0);
    c.group_id = access.group.id;
    c.updated_at = r.Int(1);
    index[c.id] = out.size();
    out.push_back(std::move(c));
  }
  if (out.empty()) return out;

  TSUNAGU_ASSIGN_OR_RETURN(
      auto people,
      db_.Query("SELECT p.conversation_id, p.user_id FROM care_conversation_participants p "
                "JOIN care_conversations c ON c.id = p.conversation_id "
                "JOIN care_conversation_participants me ON me.conversation_id = c.id "
                "AND me.user_id = ? WHERE c.group_id = ?" +
                    only + " ORDER BY p.conversation_id, p.user_id",
                params({me, group})));
  std::map<int64_t, Participant> known;  // former members are looked up once
  for (const auto& r : people.rows) {
    int64_t uid = r.Int(1);
    auto it = known.find(uid);
    if (it == known.end()) {
      Participant p;
      p.user_id = uid;
      if (const Member* m = FindMember(access, uid)) {
        p.display_name = m->display_name;
        p.occupation = m->occupation;
      } else {
        p.member = false;
        if (auto u = accounts_.Get(uid)) {
          p.display_name = u->display_name;
          p.occupation = u->occupation;
        }
      }
      it = known.emplace(uid, std::move(p)).first;
    }
    out[index.at(r.Int(0))].participants.push_back(it->second);
  }

  TSUNAGU_ASSIGN_OR_RETURN(
      auto last,
      db_.Query("SELECT m.id, m.conversation_id, m.author_id, m.body, m.created_at "
                "FROM care_messages m JOIN care_conversations c ON c.last_message_id = m.id "
                "JOIN care_conversation_participants me ON me.conversation_id = c.id "
                "AND me.user_id = ? WHERE c.group_id = ?" +
                    only,
                params({me, group})));
  for (const auto& r : last.rows) {
    int64_t author = r.Int(2);
    out[index.at(r.Int(1))].last_message =
        DirectMessage{r.Int(0), r.Int(1), author, NameOf(access, author), r.Text(3), r.Int(4)};
  }

  TSUNAGU_ASSIGN_OR_RETURN(
      auto unread, db_.Query("SELECT m.conversation_id, COUNT(*) FROM care_messages m "
                             "JOIN care_conversations c ON c.id = m.conversation_id "
                             "JOIN care_conversation_participants me ON me.conversation_id = c.id "
                             "AND me.user_id = ? WHERE c.group_id = ? AND m.author_id <> ? "
                             "AND m.id > me.last_read_message_id" +
                                 only + " GROUP BY m.conversation_id",
                             params({me, group, me})));
  for (const auto& r : unread.rows) out[index.at(r.Int(0))].unread_count = r.Int(1);
  return out;
}

Result<std::vector<Conversation>> ConversationService::List(const Actor& actor, int64_t group_id) {
  const std::string action = "care.message.list";
  std::string object = GroupObject(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, group_id, action, object));
  TSUNAGU_ASSIGN_OR_RETURN(auto out, LoadConversations(access, actor.user_id, 0));
  care_.Record(actor, action, object, access.group.regional_id, "success",
               std::to_string(out.size()) + " conversations");
  return out;
}

Result<GroupAccess> ConversationService::AuthorizeConversation(const Actor& actor,
                                                               int64_t conversation_id,
                                                               const std::string& action,
                                                               std::vector<int64_t>* participants) {
  std::string object = ConversationObject(conversation_id);
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs,
      db_.Query("SELECT group_id FROM care_conversations WHERE id = ?", {Value{conversation_id}}));
  if (rs.empty()) {
    care_.Record(actor, action, object, "", "failure", "conversation not found");
    return core::NotFound("conversation not found");
  }
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access,
                           care_.Authorize(actor, rs.rows[0].Int(0), action, object));
  TSUNAGU_ASSIGN_OR_RETURN(auto people,
                           db_.Query("SELECT user_id FROM care_conversation_participants WHERE "
                                     "conversation_id = ? ORDER BY user_id",
                                     {Value{conversation_id}}));
  participants->clear();
  for (const auto& r : people.rows) participants->push_back(r.Int(0));
  if (std::find(participants->begin(), participants->end(), actor.user_id) == participants->end()) {
    care_.Record(actor, action, object, access.group.regional_id, "denied", "not a participant");
    return core::NotFound("conversation not found");
  }
  return access;
}

Result<MessagePage> ConversationService::Messages(const Actor& actor, int64_t conversation_id,
                                                  const MessageQuery& query) {
  const std::string action = "care.message.read";
  if (query.limit < 1 || query.limit > kMaxLimit) {
    return core::InvalidInput("limit must be between 1 and " + std::to_string(kMaxLimit));
  }
  if (query.before < 0) return core::InvalidInput("before must be a message id");
  std::vector<int64_t> participants;
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access,
                           AuthorizeConversation(actor, conversation_id, action, &participants));
  std::string sql =
      "SELECT id, author_id, body, created_at FROM care_messages WHERE conversation_id = ?";
  std::vector<Value> params{Value{conversation_id}};
  if (query.before > 0) {
    sql += " AND id < ?";
    params.emplace_back(query.before);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(int64_t{query.limit} + 1);
  TSUNAGU_ASSIGN_OR_RETURN(auto rs, db_.Query(sql, params));
  MessagePage page;
  page.has_more = rs.size() > static_cast<size_t>(query.limit);
  for (size_t i = 0; i < rs.size() && i < static_cast<size_t>(query.limit); ++i) {
    const auto& r = rs.rows[i];
    page.items.push_back(
        {r.Int(0), conversation_id, r.Int(1), NameOf(access, r.Int(1)), r.Text(2), r.Int(3)});
  }
  std::reverse(page.items.begin(), page.items.end());
  if (!page.items.empty()) {
    // A high-water mark: reading an older page never lowers it.
    int64_t newest = page.items.back().id;
    TSUNAGU_RETURN_IF_ERROR(
        db_.Execute("UPDATE care_conversation_participants SET last_read_message_id = ? "
                    "WHERE conversation_id = ? AND user_id = ? AND last_read_message_id < ?",
                    {Value{newest}, Value{conversation_id}, Value{actor.user_id}, Value{newest}}));
  }
  care_.Record(actor, action, ConversationObject(conversation_id), access.group.regional_id,
               "success", std::to_string(page.items.size()) + " messages");
  return page;
}

Result<DirectMessage> ConversationService::Send(const Actor& actor, int64_t conversation_id,
                                                const std::string& body) {
  const std::string action = "care.message.send";
  std::vector<int64_t> participants;
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access,
                           AuthorizeConversation(actor, conversation_id, action, &participants));
  if (access.group.archived()) return core::Conflict("the care group is archived");
  TSUNAGU_ASSIGN_OR_RETURN(std::string text, CleanBody(body));
  bool anyone = std::any_of(participants.begin(), participants.end(), [&](int64_t uid) {
    return uid != actor.user_id && FindMember(access, uid) != nullptr;
  });
  if (!anyone) {
    return core::Conflict("no other participant is still a member of the care group");
  }
  int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, db_.Begin());
  TSUNAGU_ASSIGN_OR_RETURN(int64_t id,
                           InsertMessage(*tx, access, conversation_id, actor.user_id, text, now));
  TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  care_.Record(actor, action, ConversationObject(conversation_id), access.group.regional_id,
               "success", "message:" + std::to_string(id));
  Notify(care_, actor, access, conversation_id, id, participants);
  return DirectMessage{id, conversation_id, actor.user_id, access.self.display_name, text, now};
}

Result<UnreadSummary> ConversationService::Unread(const Actor& actor) {
  // The groups (and their names) the actor may see right now: current
  // membership and consent, as CareService decides them.
  TSUNAGU_ASSIGN_OR_RETURN(auto groups, care_.ListGroups(actor));
  UnreadSummary out;
  if (groups.empty()) return out;
  const Value me{actor.user_id};
  std::string posts_sql =
      "SELECT p.group_id, COUNT(*) FROM care_posts p "
      "JOIN care_members m ON m.group_id = p.group_id AND m.user_id = ? "
      "WHERE p.draft = 0 AND p.deleted_at = 0 AND p.author_id <> ? "
      "AND NOT EXISTS (SELECT 1 FROM care_reads r WHERE r.post_id = p.id AND r.user_id = ?)";
  if (actor.IsFamily()) posts_sql += " AND p.to_family = 1";
  posts_sql += " GROUP BY p.group_id";
  TSUNAGU_ASSIGN_OR_RETURN(auto posts, db_.Query(posts_sql, {me, me, me}));
  TSUNAGU_ASSIGN_OR_RETURN(
      auto messages, db_.Query("SELECT me.group_id, COUNT(*) FROM care_messages msg "
                               "JOIN care_conversation_participants me ON me.conversation_id = "
                               "msg.conversation_id AND me.user_id = ? "
                               "JOIN care_members m ON m.group_id = me.group_id AND m.user_id = ? "
                               "WHERE msg.author_id <> ? AND msg.id > me.last_read_message_id "
                               "GROUP BY me.group_id",
                               {me, me, me}));
  std::map<int64_t, std::pair<int64_t, int64_t>> counts;
  for (const auto& r : posts.rows) counts[r.Int(0)].first = r.Int(1);
  for (const auto& r : messages.rows) counts[r.Int(0)].second = r.Int(1);
  for (const auto& g : groups) {
    auto [unread_posts, unread_messages] = counts[g.id];
    out.groups.push_back({g.id, g.name, unread_posts, unread_messages});
    out.total_posts += unread_posts;
    out.total_messages += unread_messages;
  }
  return out;
}

}  // namespace tsunagu::care
