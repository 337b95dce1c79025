#pragma once
// Direct messages of a care group (docs/care.md, "Messages, board and
// schedule"): conversations between chosen members of one group, shown as a
// thread, with per-reader unread counts; and the home page's unread counts
// (posts and messages) over all of the viewer's groups. Owns the tables
// care_conversations, care_conversation_participants and care_messages;
// reads care_posts and care_reads (CareService) for the unread post counts.
//
// Access: every call goes through CareService::Authorize (current membership
// and consent, refusals audited). A conversation is seen only by its
// participants who are still members of the group; someone who left keeps
// their place in it but sees nothing. Family members may write to staff
// members (not to other family members). Archived groups are read-only.
//
// Audit: each successful call appends one entry through CareService::Record:
// care.message.start / list / read / send, object "care_group:<id>" or
// "care_conversation:<id>", the regional patient ID; never message text.
// Unread counts are listed through CareService::ListGroups (audited as
// care.group.list).
//
// Errors: InvalidInput (empty or over-long body, a chosen user who is not a
// member, no other participant, bad paging), NotFound (unknown group, or a
// conversation the actor does not take part in), Forbidden (not a member, no
// consent, family to family), Conflict (archived group, nobody left to read
// the message), Internal/Unavailable from storage. A failed call stores
// nothing.
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

class ConversationService {
 public:
  static constexpr size_t kMaxMessageChars = 4000;
  static constexpr int kMaxLimit = 100;

  ConversationService(store::Database& db, const core::Clock& clock, CareService& care,
                      const auth::AccountService& accounts);
  ConversationService(const ConversationService&) = delete;
  ConversationService& operator=(const ConversationService&) = delete;
  // Migration set "care_messages"; apply after CareService::Migrations().
  static store::MigrationSet Migrations();

  // Sends the first message to the chosen members: a new conversation, or
  // the existing one with exactly the same participants (the actor and the
  // chosen members). Every chosen user must be a current member.
  core::Result<StartedConversation> Start(const Actor& actor, int64_t group_id,
                                          const NewConversation& conversation);
  // The actor's conversations in the group, latest activity first.
  core::Result<std::vector<Conversation>> List(const Actor& actor, int64_t group_id);
  // A page of messages (oldest first) and marks everything up to the newest
  // of them read by the actor.
  core::Result<MessagePage> Messages(const Actor& actor, int64_t conversation_id,
                                     const MessageQuery& query);
  core::Result<DirectMessage> Send(const Actor& actor, int64_t conversation_id,
                                   const std::string& body);
  // Unread posts (published, not deleted, not the actor's own, family: only
  // those published to the family) and unread messages of every group the
  // actor may see. Two queries over all groups, whatever their number.
  core::Result<UnreadSummary> Unread(const Actor& actor);

 private:
  // Loads the conversation's group access and participants (by user id);
  // NotFound (audited) unless the actor takes part in it.
  core::Result<GroupAccess> AuthorizeConversation(const Actor& actor, int64_t conversation_id,
                                                  const std::string& action,
                                                  std::vector<int64_t>* participants);
  // The viewer's conversations of the group, or only `only_id` when not 0.
  core::Result<std::vector<Conversation>> LoadConversations(const GroupAccess& access,
                                                            int64_t viewer, int64_t only_id);
  std::string NameOf(const GroupAccess& access, int64_t user_id) const;

  store::Database& db_;
  const core::Clock& clock_;
  CareService& care_;
  const auth::AccountService& accounts_;
};

}  // namespace tsunagu::care
