#include "care/conversation_routes.hpp"

#include <boost/json.hpp>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "care/conversation_service.hpp"
#include "care/internal/route_support.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"
#include "http/router.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr size_t kMaxChosenMembers = 100;
constexpr size_t kMessageBodyLimit = 32'768;  // 4,000 characters, JSON-escaped

Response Fail(const core::Status& s) { return Response::Error(s); }
using internal::ActorOf;
using internal::IdParam;
using internal::TimeJson;

json::object MessageJson(const DirectMessage& m, int64_t viewer) {
  return {{"id", m.id},
          {"conversation_id", m.conversation_id},
          {"author_id", m.author_id},
          {"author_name", m.author_name},
          {"body", m.body},
          {"created_at", TimeJson(m.created_at)},
          {"mine", m.author_id == viewer}};
}

json::object ConversationJson(const Conversation& c, int64_t viewer) {
  json::array participants;
  for (const auto& p : c.participants) {
    participants.push_back(json::object{{"user_id", p.user_id},
                                        {"display_name", p.display_name},
                                        {"occupation", auth::ToString(p.occupation)},
                                        {"member", p.member}});
  }
  return {{"id", c.id},
          {"group_id", c.group_id},
          {"participants", std::move(participants)},
          {"last_message",
           c.last_message ? json::value(MessageJson(*c.last_message, viewer)) : json::value()},
          {"unread_count", c.unread_count},
          {"updated_at", TimeJson(c.updated_at)}};
}

core::Result<std::vector<int64_t>> MemberIds(const json::object& body) {
  const json::value* v = body.if_contains("member_ids");
  if (!v || v->is_null()) return core::InvalidInput("member_ids is required");
  const json::array* ids = v->if_array();
  if (!ids) return core::InvalidInput("member_ids must be an array of user ids");
  if (ids->size() > kMaxChosenMembers) {
    return core::InvalidInput("member_ids may name at most " + std::to_string(kMaxChosenMembers) +
                              " users");
  }
  std::vector<int64_t> out;
  for (const auto& id : *ids) {
    if (id.is_int64() && id.as_int64() > 0) {
      out.push_back(id.as_int64());
    } else if (id.is_uint64() && id.as_uint64() <= INT64_MAX) {
      out.push_back(static_cast<int64_t>(id.as_uint64()));
    } else {
      return core::InvalidInput("member_ids must be an array of user ids");
    }
  }
  return out;
}

// "?before=<id>&limit=<n>": non-negative integers.
core::Result<int64_t> QueryNumber(const Request& req, std::string_view key, int64_t fallback) {
  std::string v = req.QueryOr(key);
  if (v.empty()) return fallback;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    return core::InvalidInput(std::string(key) + " must be a non-negative integer");
  }
  return std::stoll(v);
}

}  // namespace

void RegisterConversationRoutes(http::Router& r, ConversationDeps& d) {
  r.Get("/api/v1/care/unread", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto unread = d.conversations.Unread(*actor);
    if (!unread) return Fail(unread.error());
    json::array groups;
    for (const auto& g : unread->groups) {
      groups.push_back(json::object{{"group_id", g.group_id},
                                    {"name", g.name},
                                    {"unread_posts", g.unread_posts},
                                    {"unread_messages", g.unread_messages}});
    }
    return http::JsonResponse(200, json::object{{"groups", std::move(groups)},
                                                {"total_posts", unread->total_posts},
                                                {"total_messages", unread->total_messages}});
  });

  r.Get("/api/v1/care/groups/:gid/conversations", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto list = d.conversations.List(*actor, *gid);
    if (!list) return Fail(list.error());
    json::array items;
    for (const auto& c : *list) items.push_back(ConversationJson(c, actor->user_id));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/care/groups/:gid/conversations",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto gid = IdParam(req, "gid", "care group");
           if (!gid) return Fail(gid.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto ids = MemberIds(*body);
           if (!ids) return Fail(ids.error());
           auto text = http::OptString(*body, "body");
           if (!text) return Fail(text.error());
           auto started = d.conversations.Start(*actor, *gid, {*ids, text->value_or("")});
           if (!started) return Fail(started.error());
           return http::JsonResponse(started->created ? 201 : 200,
                                     ConversationJson(started->conversation, actor->user_id));
         },
         {.body_limit = kMessageBodyLimit});

  r.Get("/api/v1/care/conversations/:cid/messages", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto cid = IdParam(req, "cid", "conversation");
    if (!cid) return Fail(cid.error());
    auto before = QueryNumber(req, "before", 0);
    if (!before) return Fail(before.error());
    auto limit = QueryNumber(req, "limit", 50);
    if (!limit) return Fail(limit.error());
    if (*limit > ConversationService::kMaxLimit) {
      return Fail(core::InvalidInput("limit must be between 1 and " +
                                     std::to_string(ConversationService::kMaxLimit)));
    }
    auto page = d.conversations.Messages(*actor, *cid, {*before, static_cast<int>(*limit)});
    if (!page) return Fail(page.error());
    json::array items;
    for (const auto& m : page->items) items.push_back(MessageJson(m, actor->user_id));
    return http::JsonResponse(
        200, json::object{{"items", std::move(items)}, {"has_more", page->has_more}});
  });

  r.Post("/api/v1/care/conversations/:cid/messages",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto cid = IdParam(req, "cid", "conversation");
           if (!cid) return Fail(cid.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto text = http::OptString(*body, "body");
           if (!text) return Fail(text.error());
           auto message = d.conversations.Send(*actor, *cid, text->value_or(""));
           if (!message) return Fail(message.error());
           return http::JsonResponse(201, MessageJson(*message, actor->user_id));
         },
         {.body_limit = kMessageBodyLimit});
}

}  // namespace tsunagu::care
