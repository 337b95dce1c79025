// ConversationService on SQLite and PostgreSQL: direct messages between
// chosen members of a care group, paging and read marks, unread counts for
// the home page, family rules, leaving, archived groups and the audit trail.
#include "care/conversation_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/care/care_team_fixture.hpp"

namespace tsunagu::care {
namespace {

class ConversationServiceTest : public CareTeamTest {
 protected:
  StartedConversation MustStart(const auth::User& from, std::vector<int64_t> to,
                                const std::string& body) {
    auto s = conversations_->Start(As(from), group_, {std::move(to), body});
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s.value_or(StartedConversation{});
  }

  DirectMessage MustSend(const auth::User& from, int64_t conversation, const std::string& body) {
    auto m = conversations_->Send(As(from), conversation, body);
    EXPECT_TRUE(m.has_value()) << m.error().ToString();
    return m.value_or(DirectMessage{});
  }

  std::vector<Conversation> MustList(const auth::User& viewer) {
    auto l = conversations_->List(As(viewer), group_);
    EXPECT_TRUE(l.has_value()) << l.error().ToString();
    return l.value_or(std::vector<Conversation>{});
  }

  std::vector<std::string> Bodies(const MessagePage& page) {
    std::vector<std::string> out;
    for (const auto& m : page.items) out.push_back(m.body);
    return out;
  }

  UnreadSummary MustUnread(const auth::User& viewer) {
    auto u = conversations_->Unread(As(viewer));
    EXPECT_TRUE(u.has_value()) << u.error().ToString();
    return u.value_or(UnreadSummary{});
  }
};

TEST_P(ConversationServiceTest, SameParticipantsShareOneConversation) {
  clock_.Advance(1000);
  StartedConversation first =
      MustStart(nurse_, {doctor_.id}, "  明日の訪問は10時でよろしいですか  ");
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.message.body, "明日の訪問は10時でよろしいですか");
  EXPECT_EQ(first.message.author_name, "nurseさん");
  const Conversation& c = first.conversation;
  EXPECT_EQ(c.group_id, group_);
  ASSERT_EQ(c.participants.size(), 2u);
  EXPECT_EQ(c.participants[0].user_id, doctor_.id);
  EXPECT_EQ(c.participants[0].display_name, "doctorさん");
  EXPECT_EQ(c.participants[0].occupation, auth::Occupation::kPhysician);
  EXPECT_TRUE(c.participants[0].member);
  ASSERT_TRUE(c.last_message.has_value());
  EXPECT_EQ(c.last_message->id, first.message.id);
  EXPECT_EQ(c.unread_count, 0);  // own messages are never unread
  EXPECT_EQ(c.updated_at, clock_.NowMillis());

  // The doctor answering "to the nurse" lands in the same conversation.
  auto reply = conversations_->Start(As(doctor_), group_, {{nurse_.id, doctor_.id}, "はい"});
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_FALSE(reply->created);
  EXPECT_EQ(reply->conversation.id, c.id);
  // Three people are another conversation.
  StartedConversation three = MustStart(nurse_, {doctor_.id, helper_.id, helper_.id}, "共有です");
  EXPECT_TRUE(three.created);
  EXPECT_NE(three.conversation.id, c.id);
  EXPECT_EQ(three.conversation.participants.size(), 3u);
  EXPECT_EQ(Count("care_conversations"), 2);
  EXPECT_EQ(Count("care_messages"), 3);

  auto started = Events("care.message.start");
  ASSERT_EQ(started.size(), 3u);
  EXPECT_EQ(started[0].object, "care_conversation:" + std::to_string(three.conversation.id));
  EXPECT_EQ(started[0].patient_id, patient_.regional_id);
  EXPECT_EQ(started[0].outcome, "success");
  EXPECT_TRUE(AuditNeverMentions("care.message", "訪問"));

  // Listeners hear of each message, addressed to the other participants.
  std::vector<CareEvent> messages;
  for (const auto& e : listener_.events) {
    if (e.kind == CareEvent::Kind::kMessage) messages.push_back(e);
  }
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].conversation_id, c.id);
  EXPECT_EQ(messages[0].message_id, first.message.id);
  EXPECT_EQ(messages[0].actor_id, nurse_.id);
  EXPECT_EQ(messages[0].actor_name, "nurseさん");
  EXPECT_EQ(messages[0].group.id, group_);
  EXPECT_EQ(messages[0].recipients, std::vector<int64_t>{doctor_.id});
  EXPECT_EQ(messages[2].recipients, (std::vector<int64_t>{doctor_.id, helper_.id}));
}

TEST_P(ConversationServiceTest, BadInputIsRefusedAndStoresNothing) {
  auto start = [&](std::vector<int64_t> to, const std::string& body) {
    auto s = conversations_->Start(As(nurse_), group_, {std::move(to), body});
    EXPECT_FALSE(s.has_value());
    return s ? std::string("ok") : s.error().message();
  };
  EXPECT_EQ(start({outsider_.id}, "x"), "member_ids: user " + std::to_string(outsider_.id) +
                                            " is not a member of this care group");
  EXPECT_EQ(start({9999}, "x"), "member_ids: user 9999 is not a member of this care group");
  EXPECT_EQ(start({}, "x"), "member_ids: choose at least one other member");
  EXPECT_EQ(start({nurse_.id}, "x"), "member_ids: choose at least one other member");
  EXPECT_EQ(start({doctor_.id}, " \n　"), "body is required");
  EXPECT_EQ(start({doctor_.id}, std::string(4001, 'a')), "body must be at most 4000 characters");
  EXPECT_EQ(start({doctor_.id}, std::string("\xff\xfe")), "body must be valid UTF-8");
  EXPECT_EQ(Count("care_conversations"), 0);
  EXPECT_EQ(Count("care_conversation_participants"), 0);
  EXPECT_EQ(Count("care_messages"), 0);
  EXPECT_TRUE(listener_.events.empty());

  // 4000 Japanese characters are fine; 4001 are not.
  std::string long_text;
  for (int i = 0; i < 4000; ++i) long_text += "あ";
  StartedConversation ok = MustStart(nurse_, {doctor_.id}, long_text);
  auto too_long = conversations_->Send(As(nurse_), ok.conversation.id, long_text + "あ");
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(conversations_->Send(As(nurse_), ok.conversation.id, "").error().message(),
            "body is required");
  EXPECT_EQ(Count("care_messages"), 1);
  EXPECT_EQ(conversations_->Messages(As(nurse_), ok.conversation.id, {0, 0}).error().code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(conversations_->Messages(As(nurse_), ok.conversation.id, {0, 101}).error().code(),
            core::Code::kInvalidInput);
}

TEST_P(ConversationServiceTest, MessagesArePagedOldestFirstAndMarkedRead) {
  StartedConversation s = MustStart(nurse_, {doctor_.id}, "1");
  int64_t cid = s.conversation.id;
  for (const char* body : {"2", "3", "4", "5"}) {
    clock_.Advance(1000);
    MustSend(nurse_, cid, body);
  }
  EXPECT_EQ(MustList(doctor_).at(0).unread_count, 5);
  EXPECT_EQ(MustList(doctor_).at(0).last_message->body, "5");

  auto newest = conversations_->Messages(As(doctor_), cid, {0, 2});
  ASSERT_TRUE(newest.has_value()) << newest.error().ToString();
  EXPECT_EQ(Bodies(*newest), (std::vector<std::string>{"4", "5"}));
  EXPECT_TRUE(newest->has_more);
  EXPECT_EQ(newest->items[0].author_id, nurse_.id);
  EXPECT_EQ(newest->items[0].author_name, "nurseさん");
  EXPECT_EQ(newest->items[0].conversation_id, cid);
  // Reading the newest page reads everything up to it.
  EXPECT_EQ(MustList(doctor_).at(0).unread_count, 0);

  auto older = conversations_->Messages(As(doctor_), cid, {newest->items[0].id, 2});
  ASSERT_TRUE(older.has_value());
  EXPECT_EQ(Bodies(*older), (std::vector<std::string>{"2", "3"}));
  EXPECT_TRUE(older->has_more);
  auto oldest = conversations_->Messages(As(doctor_), cid, {older->items[0].id, 2});
  ASSERT_TRUE(oldest.has_value());
  EXPECT_EQ(Bodies(*oldest), std::vector<std::string>{"1"});
  EXPECT_FALSE(oldest->has_more);

  // A new message is unread again; reading an older page does not read it.
  DirectMessage six = MustSend(nurse_, cid, "6");
  ASSERT_TRUE(conversations_->Messages(As(doctor_), cid, {six.id, 1}).has_value());
  EXPECT_EQ(MustList(doctor_).at(0).unread_count, 1);
  auto all = conversations_->Messages(As(doctor_), cid, {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->items.size(), 6u);
  EXPECT_FALSE(all->has_more);
  EXPECT_EQ(MustList(doctor_).at(0).unread_count, 0);

  auto reads = Events("care.message.read");
  ASSERT_EQ(reads.size(), 5u);
  EXPECT_EQ(reads[0].object, "care_conversation:" + std::to_string(cid));
  EXPECT_EQ(reads[0].reason, "6 messages");
  EXPECT_EQ(reads[0].user_id, doctor_.id);
  EXPECT_EQ(Events("care.message.send").size(), 5u);
}

TEST_P(ConversationServiceTest, MembersSeeOnlyTheirOwnConversationsNewestFirst) {
  StartedConversation a = MustStart(nurse_, {doctor_.id}, "A");
  clock_.Advance(1000);
  StartedConversation b = MustStart(helper_, {doctor_.id}, "B");
  clock_.Advance(1000);
  MustSend(nurse_, a.conversation.id, "A2");

  auto list = MustList(doctor_);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, a.conversation.id);
  EXPECT_EQ(list[0].unread_count, 2);
  EXPECT_EQ(list[1].id, b.conversation.id);
  EXPECT_EQ(list[1].unread_count, 1);

  auto helpers = MustList(helper_);
  ASSERT_EQ(helpers.size(), 1u);
  EXPECT_EQ(helpers[0].id, b.conversation.id);
  EXPECT_TRUE(MustList(family_).empty());

  // Not a participant: as if the conversation did not exist, and audited.
  auto peek = conversations_->Messages(As(helper_), a.conversation.id, {});
  ASSERT_FALSE(peek.has_value());
  EXPECT_EQ(peek.error().code(), core::Code::kNotFound);
  EXPECT_EQ(conversations_->Send(As(helper_), a.conversation.id, "x").error().code(),
            core::Code::kNotFound);
  auto denied = Events("care.message.read");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].outcome, "denied");
  EXPECT_EQ(denied[0].reason, "not a participant");

  // Outside the group: nothing at all.
  EXPECT_EQ(conversations_->List(As(outsider_), group_).error().code(), core::Code::kForbidden);
  EXPECT_EQ(conversations_->Messages(As(outsider_), a.conversation.id, {}).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(conversations_->Start(As(outsider_), group_, {{doctor_.id}, "x"}).error().code(),
            core::Code::kForbidden);
  EXPECT_EQ(conversations_->Messages(As(doctor_), 9999, {}).error().code(), core::Code::kNotFound);
  EXPECT_EQ(conversations_->List(As(doctor_), 9999).error().code(), core::Code::kNotFound);
  auto lists = Events("care.message.list");
  EXPECT_EQ(lists[1].outcome, "denied");   // the outsider
  EXPECT_EQ(lists[0].outcome, "failure");  // the unknown group
  EXPECT_EQ(Count("care_messages"), 3);
}

TEST_P(ConversationServiceTest, LeavingTheGroupEndsAccessToConversations) {
  StartedConversation s = MustStart(nurse_, {doctor_.id}, "よろしくお願いします");
  int64_t cid = s.conversation.id;
  Leave(nurse_);
  EXPECT_EQ(conversations_->List(As(nurse_), group_).error().code(), core::Code::kForbidden);
  EXPECT_EQ(conversations_->Messages(As(nurse_), cid, {}).error().code(), core::Code::kForbidden);
  EXPECT_EQ(conversations_->Send(As(nurse_), cid, "x").error().code(), core::Code::kForbidden);
  EXPECT_TRUE(MustUnread(nurse_).groups.empty());

  // The doctor still sees the conversation, with the nurse marked as gone,
  // but there is nobody left to write to.
  auto list = MustList(doctor_);
  ASSERT_EQ(list.size(), 1u);
  ASSERT_EQ(list[0].participants.size(), 2u);
  EXPECT_EQ(list[0].participants[1].user_id, nurse_.id);
  EXPECT_EQ(list[0].participants[1].display_name, "nurseさん");
  EXPECT_FALSE(list[0].participants[1].member);
  auto alone = conversations_->Send(As(doctor_), cid, "x");
  ASSERT_FALSE(alone.has_value());
  EXPECT_EQ(alone.error().code(), core::Code::kConflict);
  // And a former member cannot be chosen for a new conversation.
  EXPECT_EQ(conversations_->Start(As(doctor_), group_, {{nurse_.id}, "x"}).error().code(),
            core::Code::kInvalidInput);
  auto messages = conversations_->Messages(As(doctor_), cid, {});
  ASSERT_TRUE(messages.has_value());
  EXPECT_EQ(messages->items.at(0).author_name, "nurseさん");
  EXPECT_EQ(Count("care_messages"), 1);
}

TEST_P(ConversationServiceTest, FamilyMembersWriteToStaffOnly) {
  StartedConversation s = MustStart(family_, {nurse_.id}, "父の様子について相談させてください");
  EXPECT_TRUE(s.created);
  EXPECT_EQ(MustList(nurse_).at(0).unread_count, 1);
  MustSend(nurse_, s.conversation.id, "承知しました");

  auto to_family = conversations_->Start(As(family_), group_, {{family2_.id}, "x"});
  ASSERT_FALSE(to_family.has_value());
  EXPECT_EQ(to_family.error().code(), core::Code::kForbidden);
  auto mixed = conversations_->Start(As(family_), group_, {{nurse_.id, family2_.id}, "x"});
  EXPECT_EQ(mixed.error().code(), core::Code::kForbidden);
  auto denied = Events("care.message.start");
  ASSERT_EQ(denied.size(), 3u);
  EXPECT_EQ(denied[0].outcome, "denied");
  EXPECT_EQ(denied[0].reason, "family to family");
  EXPECT_EQ(Count("care_conversations"), 1);
  EXPECT_EQ(Count("care_messages"), 2);

  // Staff may include family members.
  StartedConversation team = MustStart(doctor_, {family_.id, family2_.id}, "ご家族の皆さまへ");
  EXPECT_TRUE(team.created);
  EXPECT_EQ(MustList(family2_).size(), 1u);
}

TEST_P(ConversationServiceTest, ArchivedGroupKeepsMessagesReadable) {
  StartedConversation s = MustStart(nurse_, {doctor_.id}, "最終訪問でした");
  Archive();
  EXPECT_EQ(conversations_->Send(As(nurse_), s.conversation.id, "x").error().code(),
            core::Code::kConflict);
  EXPECT_EQ(conversations_->Start(As(doctor_), group_, {{nurse_.id}, "x"}).error().code(),
            core::Code::kConflict);
  EXPECT_EQ(Count("care_messages"), 1);
  EXPECT_EQ(MustList(doctor_).size(), 1u);
  auto page = conversations_->Messages(As(doctor_), s.conversation.id, {});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->items.size(), 1u);
}

TEST_P(ConversationServiceTest, UnreadCountsCoverEveryGroupOfTheViewer) {
  // A second patient and group with the nurse.
  registry::Patient other = AddPatient(clinic_, "C-002");
  Consent(other, 0, station_, consent::Scope::kCareTeam);
  auto second = care_->CreateGroup(As(doctor_), {other.regional_id, "第二のチーム"});
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  int64_t group2 = second->group.id;
  ASSERT_TRUE(care_->AddMember(As(doctor_), group2, nurse_.id).has_value());

  auto post = [&](const auth::User& author, int64_t group, bool to_family, bool draft) {
    NewPost p;
    p.kind = PostKind::kMessage;
    p.body = "連絡";
    p.to_family = to_family;
    p.draft = draft;
    auto created = care_->CreatePost(As(author), group, p);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.value_or(Post{});
  };
  Post team = post(nurse_, group_, false, false);
  post(nurse_, group_, true, false);
  post(nurse_, group_, false, true);               // a draft: not unread for anyone
  Post gone = post(nurse_, group_, false, false);  // deleted below
  post(doctor_, group_, false, false);             // the doctor's own
  post(nurse_, group2, false, false);
  ASSERT_TRUE(care_->DeletePost(As(nurse_), gone.id).ok());
  StartedConversation s = MustStart(nurse_, {doctor_.id}, "1");
  MustSend(nurse_, s.conversation.id, "2");
  MustStart(nurse_, {family_.id}, "ご家族へ");

  UnreadSummary doctor = MustUnread(doctor_);
  ASSERT_EQ(doctor.groups.size(), 2u);
  EXPECT_EQ(doctor.groups[0].group_id, group2);  // newest group first
  EXPECT_EQ(doctor.groups[0].name, "第二のチーム");
  EXPECT_EQ(doctor.groups[0].unread_posts, 1);
  EXPECT_EQ(doctor.groups[0].unread_messages, 0);
  EXPECT_EQ(doctor.groups[1].group_id, group_);
  EXPECT_EQ(doctor.groups[1].unread_posts, 2);
  EXPECT_EQ(doctor.groups[1].unread_messages, 2);
  EXPECT_EQ(doctor.total_posts, 3);
  EXPECT_EQ(doctor.total_messages, 2);

  // The family sees only what was published to them.
  UnreadSummary family = MustUnread(family_);
  ASSERT_EQ(family.groups.size(), 1u);
  EXPECT_EQ(family.groups[0].unread_posts, 1);
  EXPECT_EQ(family.groups[0].unread_messages, 1);

  // Opening a post and the conversation clears them.
  ASSERT_TRUE(care_->OpenPost(As(doctor_), team.id).has_value());
  ASSERT_TRUE(conversations_->Messages(As(doctor_), s.conversation.id, {}).has_value());
  doctor = MustUnread(doctor_);
  EXPECT_EQ(doctor.groups[1].unread_posts, 1);
  EXPECT_EQ(doctor.groups[1].unread_messages, 0);
  EXPECT_EQ(doctor.total_posts, 2);
  EXPECT_EQ(doctor.total_messages, 0);

  // The sender has nothing unread; a withdrawn consent hides the groups.
  UnreadSummary nurse = MustUnread(nurse_);
  EXPECT_EQ(nurse.total_posts, 1);  // the doctor's post
  EXPECT_EQ(nurse.total_messages, 0);
  auto consents = consents_->ActiveFor(patient_.id, consent::Scope::kCareTeam, consents_->Today());
  ASSERT_TRUE(consents.has_value());
  ASSERT_TRUE(consents_->Withdraw(consents->at(0).id, doctor_.id).has_value());
  nurse = MustUnread(nurse_);
  ASSERT_EQ(nurse.groups.size(), 1u);
  EXPECT_EQ(nurse.groups[0].group_id, group2);
  EXPECT_EQ(MustUnread(outsider_).groups.size(), 0u);
}

TEST_P(ConversationServiceTest, StartingAtOnceEndsInOneConversation) {
  std::atomic<int> failures{0};
  auto writer = [&](const auth::User& from, const auth::User& to) {
    for (int i = 0; i < 5; ++i) {
      if (!conversations_->Start(As(from), group_, {{to.id}, "同時に送信"}).has_value()) {
        ++failures;
      }
    }
  };
  std::thread a(writer, std::cref(nurse_), std::cref(doctor_));
  std::thread b(writer, std::cref(doctor_), std::cref(nurse_));
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("care_conversations"), 1);
  EXPECT_EQ(Count("care_conversation_participants"), 2);
  EXPECT_EQ(Count("care_messages"), 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConversationServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::care
