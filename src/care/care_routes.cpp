#include "care/care_routes.hpp"

#include <boost/json.hpp>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "care/care_service.hpp"
#include "care/status_template.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"
#include "http/router.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr size_t kPostBodyLimit = 64 * 1024;

Response Fail(const core::Status& s) { return Response::Error(s); }

core::Result<Actor> ActorOf(const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  Actor a;
  a.user_id = p->user_id;
  a.facility_id = p->facility_id;
  a.occupation = p->occupation;
  a.event = audit::EventFromRequest(req, "care");
  return a;
}

// Path ids: unknown or malformed ids answer like unknown groups/posts.
core::Result<int64_t> IdParam(const Request& req, std::string_view key, std::string_view what) {
  std::string s = req.Param(key);
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return core::NotFound(std::string(what) + " not found");
  }
  return std::stoll(s);
}

json::value Time(int64_t millis) {
  return millis ? json::value(core::FormatIsoUtc(millis)) : json::value(nullptr);
}

json::object GroupJson(const CareGroup& g) {
  return {{"id", g.id},
          {"regional_id", g.regional_id},
          {"name", g.name},
          {"owner_id", g.owner_id},
          {"facility_id", g.facility_id},
          {"archived", g.archived()},
          {"archived_at", Time(g.archived_at)},
          {"created_at", Time(g.created_at)}};
}

json::object MemberJson(const Member& m) {
  return {{"user_id", m.user_id},         {"display_name", m.display_name},
          {"facility_id", m.facility_id}, {"occupation", auth::ToString(m.occupation)},
          {"role", ToString(m.role)},     {"added_at", Time(m.added_at)}};
}

json::object GroupDetailJson(const GroupDetail& d) {
  json::object o = GroupJson(d.group);
  json::array members;
  for (const auto& m : d.members) members.push_back(MemberJson(m));
  o["members"] = std::move(members);
  return o;
}

json::object PostJson(const Post& p) {
  json::object values;
  for (const auto& v : p.values) values[v.item] = v.value;
  return {{"id", p.id},
          {"group_id", p.group_id},
          {"author_id", p.author_id},
          {"author_name", p.author_name},
          {"kind", ToString(p.kind)},
          {"title", p.title},
          {"body", p.body},
          {"values", std::move(values)},
          {"publish_to_family", p.to_family},
          {"draft", p.draft},
          {"created_at", Time(p.created_at)},
          {"published_at", Time(p.published_at)}};
}

json::object SummaryJson(const PostSummary& s) {
  json::object o = PostJson(s.post);
  o["read"] = s.read;
  o["read_count"] = s.read_count;
  o["audience_count"] = s.audience_count;
  o["comment_count"] = s.comment_count;
  return o;
}

json::object DetailJson(const PostDetail& d) {
  json::object o = SummaryJson(d.summary);
  json::array comments, readers;
  for (const auto& c : d.comments) {
    comments.push_back(json::object{{"id", c.id},
                                    {"author_id", c.author_id},
                                    {"author_name", c.author_name},
                                    {"body", c.body},
                                    {"created_at", Time(c.created_at)}});
  }
  for (const auto& r : d.readers) {
    readers.push_back(json::object{
        {"user_id", r.user_id}, {"display_name", r.display_name}, {"read_at", Time(r.read_at)}});
  }
  o["comments"] = std::move(comments);
  o["readers"] = std::move(readers);
  return o;
}

json::object TemplateJson() {
  json::array items;
  for (const auto& i : StatusTemplate()) {
    static constexpr const char* kTypes[] = {"integer", "decimal", "choice", "text"};
    json::object o{{"key", i.key},
                   {"category", i.category},
                   {"label", i.label},
                   {"type", kTypes[static_cast<int>(i.type)]}};
    if (i.type == TemplateItem::Type::kInteger || i.type == TemplateItem::Type::kDecimal) {
      o["min"] = i.min;
      o["max"] = i.max;
      o["unit"] = i.unit;
    } else if (i.type == TemplateItem::Type::kChoice) {
      json::array choices;
      for (auto c : i.choices) choices.push_back(json::string(c));
      o["choices"] = std::move(choices);
    } else {
      o["max_chars"] = i.max_chars;
    }
    items.push_back(std::move(o));
  }
  return {{"items", std::move(items)}};
}

core::Result<NewPost> NewPostFromJson(const json::object& body) {
  NewPost p;
  TSUNAGU_ASSIGN_OR_RETURN(std::string kind, http::RequireString(body, "kind"));
  auto parsed = ParsePostKind(kind);
  if (!parsed) return core::InvalidInput("kind must be status or message");
  p.kind = *parsed;
  TSUNAGU_ASSIGN_OR_RETURN(auto title, http::OptString(body, "title"));
  TSUNAGU_ASSIGN_OR_RETURN(auto text, http::OptString(body, "body"));
  TSUNAGU_ASSIGN_OR_RETURN(auto family, http::OptBool(body, "publish_to_family"));
  TSUNAGU_ASSIGN_OR_RETURN(auto draft, http::OptBool(body, "draft"));
  p.title = title.value_or("");
  p.body = text.value_or("");
  p.to_family = family.value_or(false);
  p.draft = draft.value_or(false);
  if (const json::value* values = body.if_contains("values"); values && !values->is_null()) {
    if (!values->is_object()) return core::InvalidInput("values must be an object");
    for (const auto& [key, v] : values->as_object()) {
      std::string item(key);
      if (v.is_string()) {
        p.values.push_back({item, std::string(v.as_string())});
      } else if (v.is_int64() || v.is_uint64() || v.is_double()) {
        p.values.push_back({item, json::serialize(v)});
      } else if (!v.is_null()) {
        return core::InvalidInput("values." + item.substr(0, 64) + " must be a string or number");
      }
    }
  }
  return p;
}

}  // namespace

void RegisterCareRoutes(http::Router& r, CareDeps& d) {
  r.Get("/api/v1/care/templates/status", [](Request& req) {
    if (!auth::CurrentPrincipal(req)) return Fail(core::Unauthenticated("login required"));
    return http::JsonResponse(200, TemplateJson());
  });

  r.Get("/api/v1/care/groups", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto groups = d.care.ListGroups(*actor);
    if (!groups) return Fail(groups.error());
    json::array items;
    for (const auto& g : *groups) items.push_back(GroupJson(g));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/care/groups",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto rid = http::RequireString(*body, "regional_id");
           if (!rid) return Fail(rid.error());
           auto name = http::RequireString(*body, "name");
           if (!name) return Fail(name.error());
           auto created = d.care.CreateGroup(*actor, {*rid, *name});
           if (!created) return Fail(created.error());
           return http::JsonResponse(201, GroupDetailJson(*created));
         },
         {.body_limit = 16 * 1024});

  r.Get("/api/v1/care/groups/:gid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto group = d.care.GetGroup(*actor, *gid);
    if (!group) return Fail(group.error());
    return http::JsonResponse(200, GroupDetailJson(*group));
  });

  r.Post("/api/v1/care/groups/:gid/archive", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto group = d.care.ArchiveGroup(*actor, *gid);
    if (!group) return Fail(group.error());
    return http::JsonResponse(200, GroupJson(*group));
  });

  r.Post("/api/v1/care/groups/:gid/members",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto gid = IdParam(req, "gid", "care group");
           if (!gid) return Fail(gid.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto uid = http::OptInt64(*body, "user_id");
           if (!uid) return Fail(uid.error());
           if (!*uid) return Fail(core::InvalidInput("user_id is required"));
           auto member = d.care.AddMember(*actor, *gid, **uid);
           if (!member) return Fail(member.error());
           return http::JsonResponse(201, MemberJson(*member));
         },
         {.body_limit = 4 * 1024});

  r.Delete("/api/v1/care/groups/:gid/members/:uid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto uid = IdParam(req, "uid", "member");
    if (!uid) return Fail(uid.error());
    core::Status s = d.care.RemoveMember(*actor, *gid, *uid);
    return s.ok() ? Response::NoContent() : Fail(s);
  });

  r.Get("/api/v1/care/groups/:gid/posts", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    TimelineQuery q;
    q.unread_first = req.QueryOr("unread_first") == "true" || req.QueryOr("unread_first") == "1";
    q.words = req.QueryOr("q");
    for (auto [key, field] : {std::pair{"limit", &q.limit}, std::pair{"offset", &q.offset}}) {
      std::string v = req.QueryOr(key);
      if (v.empty()) continue;
      if (v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
        return Fail(core::InvalidInput(std::string(key) + " must be a non-negative integer"));
      }
      *field = std::stoi(v);
    }
    auto posts = d.care.Timeline(*actor, *gid, q);
    if (!posts) return Fail(posts.error());
    json::array items;
    for (const auto& s : *posts) items.push_back(SummaryJson(s));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/care/groups/:gid/posts",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto gid = IdParam(req, "gid", "care group");
           if (!gid) return Fail(gid.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto post = NewPostFromJson(*body);
           if (!post) return Fail(post.error());
           auto created = d.care.CreatePost(*actor, *gid, *post);
           if (!created) return Fail(created.error());
           return http::JsonResponse(201, PostJson(*created));
         },
         {.body_limit = kPostBodyLimit});

  r.Get("/api/v1/care/posts/:pid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto pid = IdParam(req, "pid", "post");
    if (!pid) return Fail(pid.error());
    auto detail = d.care.OpenPost(*actor, *pid);
    if (!detail) return Fail(detail.error());
    return http::JsonResponse(200, DetailJson(*detail));
  });

  r.Post("/api/v1/care/posts/:pid/publish", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto pid = IdParam(req, "pid", "post");
    if (!pid) return Fail(pid.error());
    auto post = d.care.PublishDraft(*actor, *pid);
    if (!post) return Fail(post.error());
    return http::JsonResponse(200, PostJson(*post));
  });

  r.Delete("/api/v1/care/posts/:pid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto pid = IdParam(req, "pid", "post");
    if (!pid) return Fail(pid.error());
    core::Status s = d.care.DeletePost(*actor, *pid);
    return s.ok() ? Response::NoContent() : Fail(s);
  });

  r.Post("/api/v1/care/posts/:pid/comments",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto pid = IdParam(req, "pid", "post");
           if (!pid) return Fail(pid.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto text = http::OptString(*body, "body");
           if (!text) return Fail(text.error());
           auto comment = d.care.AddComment(*actor, *pid, text->value_or(""));
           if (!comment) return Fail(comment.error());
           return http::JsonResponse(201, json::object{{"id", comment->id},
                                                       {"post_id", comment->post_id},
                                                       {"author_id", comment->author_id},
                                                       {"author_name", comment->author_name},
                                                       {"body", comment->body},
                                                       {"created_at", Time(comment->created_at)}});
         },
         {.body_limit = 16 * 1024});
}

}  // namespace tsunagu::care
