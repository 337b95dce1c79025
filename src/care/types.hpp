#pragma once
// Value types of the care module (care SNS): groups, members, posts,
// template values, comments and read receipts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.hpp"
#include "auth/types.hpp"

namespace tsunagu::care {

// Who acts. `event` is the audit template (user, facility, occupation,
// client address) that the service completes for every entry it appends;
// route handlers build it with audit::EventFromRequest.
struct Actor {
  int64_t user_id = 0;
  int64_t facility_id = 0;
  auth::Occupation occupation = auth::Occupation::kClerk;
  audit::AuditEvent event;
  bool IsFamily() const { return occupation == auth::Occupation::kFamily; }
};

enum class MemberRole { kOwner, kMember };
std::string_view ToString(MemberRole r);

struct Member {
  int64_t user_id = 0;
  std::string display_name;
  int64_t facility_id = 0;
  auth::Occupation occupation = auth::Occupation::kClerk;
  MemberRole role = MemberRole::kMember;
  int64_t added_at = 0;  // ms UTC
};

struct CareGroup {
  int64_t id = 0;
  int64_t patient_id = 0;   // registry internal key
  std::string regional_id;  // registry regional ID
  std::string name;
  int64_t owner_id = 0;
  int64_t facility_id = 0;  // the creator's facility
  int64_t archived_at = 0;  // ms UTC; 0 = active
  int64_t created_at = 0;
  bool archived() const { return archived_at != 0; }
};

struct GroupDetail {
  CareGroup group;
  std::vector<Member> members;  // owner first, then by user id
};

struct NewGroup {
  std::string regional_id;
  std::string name;  // 1-100 characters
};

enum class PostKind { kStatus, kMessage };
std::string_view ToString(PostKind k);
std::optional<PostKind> ParsePostKind(std::string_view s);

// One filled template item, e.g. {"vital.bp_systolic", "128"}.
struct TemplateValue {
  std::string item;
  std::string value;  // canonical text: integers "128", reals "36.8", choices "half"
  bool operator==(const TemplateValue&) const = default;
};

struct NewPost {
  PostKind kind = PostKind::kMessage;
  std::string title;                  // optional, <= 200 characters
  std::string body;                   // required for messages, <= 10,000 characters
  std::vector<TemplateValue> values;  // status posts: at least one item
  bool to_family = false;             // published to the family
  bool draft = false;                 // 一時保存: visible only to its author
};

struct Post {
  int64_t id = 0;
  int64_t group_id = 0;
  int64_t author_id = 0;
  std::string author_name;
  PostKind kind = PostKind::kMessage;
  std::string title;
  std::string body;
  std::vector<TemplateValue> values;  // in catalogue order; only filled items
  bool to_family = false;
  bool draft = false;
  int64_t created_at = 0;
  int64_t published_at = 0;  // 0 while a draft
};

struct Comment {
  int64_t id = 0;
  int64_t post_id = 0;
  int64_t author_id = 0;
  std::string author_name;
  std::string body;
  int64_t created_at = 0;
};

struct Reader {
  int64_t user_id = 0;
  std::string display_name;
  int64_t read_at = 0;
};

// A post as listed in the timeline, with the viewer's read state.
struct PostSummary {
  Post post;
  bool read = false;           // by the viewer (own posts count as read)
  int64_t read_count = 0;      // readers among the current audience
  int64_t audience_count = 0;  // current members who may see it, author excluded
  int64_t comment_count = 0;
};

// A post opened by a member: everything shown on the post screen.
struct PostDetail {
  PostSummary summary;
  std::vector<Comment> comments;  // oldest first
  std::vector<Reader> readers;    // who read it, earliest first
};

struct TimelineQuery {
  bool unread_first = false;
  std::string words;  // free words (space separated, all must match); "" = all
  int limit = 30;     // 1..100
  int offset = 0;
};

// What a member's access check yields: the group, the member themself and
// all current members (owner first).
struct GroupAccess {
  CareGroup group;
  Member self;
  std::vector<Member> members;
};

// Something that happened in a group that members may be told about. Carries
// ids and names only; listeners must not send medical content by email.
struct CareEvent {
  enum class Kind { kPost, kComment, kMessage };
  Kind kind = Kind::kPost;
  CareGroup group;
  int64_t actor_id = 0;
  std::string actor_name;
  int64_t post_id = 0;          // kPost, kComment
  int64_t comment_id = 0;       // kComment
  int64_t conversation_id = 0;  // kMessage
  int64_t message_id = 0;       // kMessage
  // Who should hear of it (user ids, the actor excluded): the audience of the
  // post, or the other participants of the conversation.
  std::vector<int64_t> recipients;
};

// Observer of committed group activity (see CareService::SetListener).
// Called on the request's thread after the commit; must not throw and should
// return quickly (queue work).
class CareListener {
 public:
  virtual ~CareListener() = default;
  virtual void OnCareEvent(const CareEvent& event) = 0;
};

}  // namespace tsunagu::care
