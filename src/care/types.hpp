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

// A user who could be added to a group (the member picker).
struct Candidate {
  int64_t user_id = 0;
  std::string login_id;
  std::string display_name;
  int64_t facility_id = 0;
  auth::Occupation occupation = auth::Occupation::kClerk;
  bool member = false;  // already in the group
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
  // "approved", or "pending" / "rejected" when the network requires the
  // secretariat's approval of new groups.
  std::string approval = "approved";
  bool archived() const { return archived_at != 0; }
  bool approved() const { return approval == "approved"; }
};

struct GroupDetail {
  CareGroup group;
  std::vector<Member> members;  // owner first, then by user id
};

struct NewGroup {
  std::string regional_id;
  std::string name;  // 1-100 characters
};

// photo: at least one image; file: at least one file (body optional).
enum class PostKind { kStatus, kMessage, kPhoto, kFile };
std::string_view ToString(PostKind k);
std::optional<PostKind> ParsePostKind(std::string_view s);

// What a post's file is, from its content: image (JPEG, PNG, GIF, WebP,
// HEIC), pdf, document (Word, Excel, PowerPoint), audio or video.
enum class AttachmentKind { kImage, kPdf, kDocument, kAudio, kVideo };
std::string_view ToString(AttachmentKind k);

// A file as uploaded with a new post. `declared_type` is what the client
// claimed (multipart Content-Type); it is only used to refuse a claimed image
// that is not one, never to decide the type.
struct NewAttachment {
  std::string file_name;
  std::string declared_type;
  std::string bytes;
};

// A stored file of a post.
struct Attachment {
  int64_t id = 0;
  int64_t post_id = 0;
  std::string file_name;
  std::string content_type;  // detected from the bytes
  int64_t size = 0;          // bytes
  AttachmentKind kind = AttachmentKind::kDocument;
};

// Private colour labels ("red", "orange", "yellow", "green", "blue",
// "purple"), in this order.
const std::vector<std::string_view>& PinColors();

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
  std::vector<NewAttachment> files;   // at most CareService::kMaxFilesPerPost
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
  int64_t published_at = 0;             // 0 while a draft
  std::vector<Attachment> attachments;  // upload order
  int64_t comment_count = 0;
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
  bool read = false;              // by the viewer (own posts count as read)
  int64_t read_count = 0;         // readers among the current audience
  int64_t audience_count = 0;     // current members who may see it, author excluded
  std::vector<std::string> pins;  // the viewer's own colour labels, in PinColors() order
};

// A post found by the cross-group search, with its group's name.
struct FoundPost {
  PostSummary summary;
  std::string group_name;
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
  int64_t author_id = 0;   // 0 = any author
  std::string occupation;  // author's occupation code at posting time; "" = any
  std::string from, to;    // YYYY-MM-DD, Japan time, inclusive; "" = open
  std::string pin;         // the viewer's pin colour; "" = any
};

// Numeric template items over time (GET .../series).
struct SeriesQuery {
  std::vector<std::string> items;  // numeric template item keys
  std::string from, to;            // YYYY-MM-DD, Japan time, inclusive; "" = open
};

struct SeriesPoint {
  int64_t post_id = 0;
  int64_t at = 0;  // published_at, ms UTC
  double value = 0;
};

struct ItemSeries {
  std::string item;
  std::vector<SeriesPoint> points;  // oldest first
};

// A stored file to send: its description and where its bytes are.
struct AttachmentFile {
  Attachment attachment;
  std::string path;  // filesystem path of the bytes (streamed by the server)
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
  // kRead: a member opened a post for the first time (told to its author
  // only, live; never mailed).
  enum class Kind { kPost, kComment, kMessage, kRead };
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

// --- direct messages (ConversationService) ----------------------------------

// One person of a conversation. `member` is false once they left the group
// (they keep their place in the conversation but see nothing of it).
struct Participant {
  int64_t user_id = 0;
  std::string display_name;
  auth::Occupation occupation = auth::Occupation::kClerk;
  bool member = true;
};

struct DirectMessage {
  int64_t id = 0;
  int64_t conversation_id = 0;
  int64_t author_id = 0;
  std::string author_name;
  std::string body;
  int64_t created_at = 0;  // ms UTC
};

// A conversation as the viewer sees it in the list.
struct Conversation {
  int64_t id = 0;
  int64_t group_id = 0;
  std::vector<Participant> participants;      // by user id, the viewer included
  std::optional<DirectMessage> last_message;  // nullopt only before the first message
  int64_t unread_count = 0;                   // others' messages the viewer has not opened
  int64_t updated_at = 0;                     // ms UTC of the last message
};

struct NewConversation {
  std::vector<int64_t> member_ids;  // the other participants (the actor is added)
  std::string body;                 // the first message
};

// What starting a conversation yields: the conversation (new, or the one
// with exactly these participants), the message just sent, and whether the
// conversation was created by this call.
struct StartedConversation {
  Conversation conversation;
  DirectMessage message;
  bool created = false;
};

struct MessageQuery {
  int64_t before = 0;  // message id; 0 = the newest messages
  int limit = 50;      // 1..100
};

struct MessagePage {
  std::vector<DirectMessage> items;  // oldest first
  bool has_more = false;             // older messages exist before items[0]
};

// Unread counts of one group for the home page.
struct GroupUnread {
  int64_t group_id = 0;
  std::string name;
  int64_t unread_posts = 0;
  int64_t unread_messages = 0;
};

struct UnreadSummary {
  std::vector<GroupUnread> groups;  // in the order of CareService::ListGroups
  int64_t total_posts = 0;
  int64_t total_messages = 0;
};

// --- bulletin board (BoardService) ------------------------------------------

enum class BoardSection { kCondition, kLiving, kCarePlan, kProviders, kMemo };
inline constexpr BoardSection kBoardSections[] = {BoardSection::kCondition, BoardSection::kLiving,
                                                  BoardSection::kCarePlan, BoardSection::kProviders,
                                                  BoardSection::kMemo};
std::string_view ToString(BoardSection s);  // "condition", "care_plan", ...
std::string_view LabelOf(BoardSection s);   // "身体状況", "ケアプラン", ...
std::optional<BoardSection> ParseBoardSection(std::string_view s);

// One section of the board. version 0 = never written (updated_* are 0/"").
struct BoardItem {
  BoardSection section = BoardSection::kCondition;
  std::string body;
  int64_t version = 0;
  int64_t updated_by = 0;
  std::string updated_by_name;
  int64_t updated_at = 0;  // ms UTC
};

// --- shared schedule (ScheduleService) --------------------------------------

enum class EventKind {
  kVisitMedical,
  kVisitNursing,
  kVisitCare,
  kVisitRehab,
  kVisitPharmacy,
  kDayService,
  kShortStay,
  kOutpatient,
  kOther,
};
std::string_view ToString(EventKind k);  // "visit_medical", "day_service", ...
std::string_view LabelOf(EventKind k);   // "訪問診療", "デイサービス", ...
std::optional<EventKind> ParseEventKind(std::string_view s);

// An event as sent by a client. Times are text: ISO 8601 date-times with an
// offset ("2026-11-24T10:00:00+09:00", "...Z"), or dates ("2026-11-24", Japan
// time, both days included) for all-day events.
struct NewScheduleEvent {
  std::string title;  // 1-200 characters
  EventKind kind = EventKind::kOther;
  std::string starts_at;
  std::string ends_at;
  bool all_day = false;
  std::string location;  // <= 200 characters
  std::string note;      // <= 2000 characters
};

// A stored event. starts_at/ends_at are ms UTC; for all-day events they are
// 00:00 Japan time of the first day and of the day after the last day.
struct ScheduleEvent {
  int64_t id = 0;
  int64_t group_id = 0;
  std::string title;
  EventKind kind = EventKind::kOther;
  int64_t starts_at = 0;
  int64_t ends_at = 0;
  bool all_day = false;
  std::string location;
  std::string note;
  int64_t created_by = 0;
  std::string created_by_name;
  int64_t updated_by = 0;
  std::string updated_by_name;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// The range of a calendar view: ISO date-times (to exclusive) or dates
// (Japan time; to included), at most 100 days.
struct EventRange {
  std::string from;
  std::string to;
};

}  // namespace tsunagu::care
