#include "care/care_routes.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <optional>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "care/care_service.hpp"
#include "care/internal/route_support.hpp"
#include "care/multipart_form.hpp"
#include "care/status_template.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"
#include "http/json_writer.hpp"
#include "http/router.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr size_t kPostBodyLimit = 64 * 1024;

Response Fail(const core::Status& s) { return Response::Error(s); }
using internal::ActorOf;
using internal::IdParam;
using internal::TimeJson;

json::object GroupJson(const CareGroup& g) {
  return {{"id", g.id},
          {"regional_id", g.regional_id},
          {"name", g.name},
          {"owner_id", g.owner_id},
          {"facility_id", g.facility_id},
          {"archived", g.archived()},
          {"archived_at", TimeJson(g.archived_at)},
          {"created_at", TimeJson(g.created_at)},
          {"approval", g.approval}};
}

json::object MemberJson(const Member& m) {
  return {{"user_id", m.user_id},         {"display_name", m.display_name},
          {"facility_id", m.facility_id}, {"occupation", auth::ToString(m.occupation)},
          {"role", ToString(m.role)},     {"added_at", TimeJson(m.added_at)}};
}

json::object GroupDetailJson(const GroupDetail& d) {
  json::object o = GroupJson(d.group);
  json::array members;
  for (const auto& m : d.members) members.push_back(MemberJson(m));
  o["members"] = std::move(members);
  return o;
}

void WriteTime(http::JsonWriter& w, int64_t millis) {
  if (millis) {
    w.String(core::FormatIsoUtc(millis));
  } else {
    w.Null();
  }
}

// A post's members as the API shows them (docs/api.md).
void WritePostMembers(http::JsonWriter& w, const Post& p) {
  w.Key("id")
      .Int(p.id)
      .Key("group_id")
      .Int(p.group_id)
      .Key("author_id")
      .Int(p.author_id)
      .Key("author_name")
      .String(p.author_name)
      .Key("kind")
      .String(ToString(p.kind))
      .Key("title")
      .String(p.title)
      .Key("body")
      .String(p.body);
  w.Key("values")
      .BeginObject()
      .StringMembers(
          p.values, [](const TemplateValue& v) -> std::string_view { return v.item; },
          [](const TemplateValue& v) -> std::string_view { return v.value; })
      .EndObject()
      .Key("attachments")
      .BeginArray();
  for (const auto& a : p.attachments) {
    w.BeginObject()
        .Key("id")
        .Int(a.id)
        .Key("file_name")
        .String(a.file_name)
        .Key("content_type")
        .String(a.content_type)
        .Key("size")
        .Int(a.size)
        .Key("kind")
        .String(ToString(a.kind))
        .EndObject();
  }
  w.EndArray()
      .Key("publish_to_family")
      .Bool(p.to_family)
      .Key("draft")
      .Bool(p.draft)
      .Key("created_at");
  WriteTime(w, p.created_at);
  w.Key("published_at");
  WriteTime(w, p.published_at);
}

// A post with the viewer's read state, as a list shows it; the search adds
// the group's name.
void WriteSummary(http::JsonWriter& w, const PostSummary& s,
                  const std::string* group_name = nullptr) {
  w.BeginObject();
  WritePostMembers(w, s.post);
  w.Key("read")
      .Bool(s.read)
      .Key("read_count")
      .Int(s.read_count)
      .Key("audience_count")
      .Int(s.audience_count)
      .Key("comment_count")
      .Int(s.post.comment_count)
      .Key("pins")
      .BeginArray();
  for (const auto& c : s.pins) w.String(c);
  w.EndArray();
  if (group_name) w.Key("group_name").String(*group_name);
  w.EndObject();
}

// The same as documents, for the answers about one post that add to them.
json::object PostJson(const Post& p) {
  http::JsonWriter w;
  w.BeginObject();
  WritePostMembers(w, p);
  w.EndObject();
  return json::parse(w.Take()).as_object();
}

json::object SummaryJson(const PostSummary& s) {
  http::JsonWriter w;
  WriteSummary(w, s);
  return json::parse(w.Take()).as_object();
}

json::object DetailJson(const PostDetail& d) {
  json::object o = SummaryJson(d.summary);
  json::array comments, readers;
  for (const auto& c : d.comments) {
    comments.push_back(json::object{{"id", c.id},
                                    {"author_id", c.author_id},
                                    {"author_name", c.author_name},
                                    {"body", c.body},
                                    {"created_at", TimeJson(c.created_at)}});
  }
  for (const auto& r : d.readers) {
    readers.push_back(json::object{{"user_id", r.user_id},
                                   {"display_name", r.display_name},
                                   {"read_at", TimeJson(r.read_at)}});
  }
  o["comments"] = std::move(comments);
  o["readers"] = std::move(readers);
  return o;
}

json::object TemplateJson(auth::Occupation occupation) {
  json::array categories;
  for (auto c : TemplateCategoriesFor(occupation)) categories.push_back(json::string(c));
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
  return {{"occupation", std::string(auth::ToString(occupation))},
          {"categories", std::move(categories)},
          {"items", std::move(items)}};
}

core::Result<NewPost> NewPostFromJson(const json::object& body) {
  NewPost p;
  TSUNAGU_ASSIGN_OR_RETURN(std::string kind, http::RequireString(body, "kind"));
  auto parsed = ParsePostKind(kind);
  if (!parsed) return core::InvalidInput("kind must be status, message, photo or file");
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

// The post of a create request: plain JSON, or multipart/form-data with the
// JSON in a part named "post" and the files in parts named "file".
core::Result<NewPost> NewPostFromRequest(const Request& req) {
  std::string_view type = req.Header("content-type").value_or("");
  if (!MultipartForm::IsMultipart(type)) {
    TSUNAGU_ASSIGN_OR_RETURN(auto body, http::ParseJsonObject(req.body));
    return NewPostFromJson(body);
  }
  TSUNAGU_ASSIGN_OR_RETURN(MultipartForm form, MultipartForm::Parse(type, req.body));
  std::optional<NewPost> post;
  std::vector<NewAttachment> files;
  for (const auto& part : form.parts()) {
    if (part.name == "post") {
      if (post) return core::InvalidInput("only one part named post is allowed");
      TSUNAGU_ASSIGN_OR_RETURN(auto body, http::ParseJsonObject(part.content));
      TSUNAGU_ASSIGN_OR_RETURN(post, NewPostFromJson(body));
    } else if (part.name == "file") {
      if (!part.filename) return core::InvalidInput("a file part needs a filename");
      files.push_back({*part.filename, part.content_type, std::string(part.content)});
    } else {
      return core::InvalidInput("unexpected form field; use post and file");
    }
  }
  if (!post) return core::InvalidInput("a part named post (the post as JSON) is required");
  post->files = std::move(files);
  return std::move(*post);
}

// Query parameters of the timeline and the search.
core::Result<TimelineQuery> TimelineQueryFrom(const Request& req) {
  TimelineQuery q;
  q.unread_first = req.QueryOr("unread_first") == "true" || req.QueryOr("unread_first") == "1";
  q.words = req.QueryOr("q");
  q.occupation = req.QueryOr("occupation");
  q.from = req.QueryOr("from");
  q.to = req.QueryOr("to");
  q.pin = req.QueryOr("pin");
  for (auto [key, field] : {std::pair{"limit", &q.limit}, std::pair{"offset", &q.offset}}) {
    std::string v = req.QueryOr(key);
    if (v.empty()) continue;
    if (v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
      return core::InvalidInput(std::string(key) + " must be a non-negative integer");
    }
    *field = std::stoi(v);
  }
  if (std::string author = req.QueryOr("author"); !author.empty()) {
    if (author.size() > 18 || author.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(author) == 0) {
      return core::InvalidInput("author must be a user id");
    }
    q.author_id = std::stoll(author);
  }
  return q;
}

// RFC 6266 with an RFC 5987 filename* for non-ASCII names and a plain
// fallback ('_' for anything unsafe in a quoted string).
std::string ContentDisposition(bool inline_view, const std::string& name) {
  std::string fallback, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if ((c & 0xC0) != 0x80) {
      fallback +=
          (c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '%') ? static_cast<char>(c) : '_';
    }
    if (std::isalnum(c) ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return std::string(inline_view ? "inline" : "attachment") + "; filename=\"" + fallback +
         "\"; filename*=UTF-8''" + encoded;
}

json::object SeriesJson(const ItemSeries& s) {
  const TemplateItem* item = FindTemplateItem(s.item);
  bool integer = item && item->type == TemplateItem::Type::kInteger;
  json::array points;
  for (const auto& p : s.points) {
    json::value value = integer ? json::value(static_cast<int64_t>(p.value)) : json::value(p.value);
    points.push_back(
        json::object{{"post_id", p.post_id}, {"at", TimeJson(p.at)}, {"value", value}});
  }
  return {{"item", s.item},
          {"label", item ? item->label : ""},
          {"unit", item ? item->unit : ""},
          {"type", integer ? "integer" : "decimal"},
          {"points", std::move(points)}};
}

}  // namespace

void RegisterCareRoutes(http::Router& r, CareDeps& d) {
  r.Get("/api/v1/care/templates/status", [](Request& req) {
    const auth::Principal* p = auth::CurrentPrincipal(req);
    if (!p) return Fail(core::Unauthenticated("login required"));
    auth::Occupation occupation = p->occupation;
    if (std::string code = req.QueryOr("occupation"); !code.empty()) {
      auto parsed = auth::ParseOccupation(code);
      if (!parsed) return Fail(core::InvalidInput("occupation must be an occupation code"));
      occupation = *parsed;
    }
    return http::JsonResponse(200, TemplateJson(occupation));
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

  r.Get("/api/v1/care/group-approvals", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto groups = d.care.PendingGroups(*actor, auth::CurrentPrincipal(req)->role);
    if (!groups) return Fail(groups.error());
    json::array items;
    for (const auto& g : *groups) items.push_back(GroupJson(g));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/care/groups/:gid/approval", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auto decision = http::RequireString(*body, "decision");
    if (!decision) return Fail(decision.error());
    if (*decision != "approve" && *decision != "reject") {
      return Fail(core::InvalidInput("decision must be approve or reject"));
    }
    auto reason = http::OptString(*body, "reason");
    if (!reason) return Fail(reason.error());
    auto group = d.care.DecideGroup(*actor, auth::CurrentPrincipal(req)->role, *gid,
                                    *decision == "approve", reason->value_or(""));
    if (!group) return Fail(group.error());
    return http::JsonResponse(200, GroupJson(*group));
  });

  r.Get("/api/v1/care/groups/:gid/candidates", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    std::string f = req.QueryOr("facility_id");
    if (f.empty() || f.size() > 18 || f.find_first_not_of("0123456789") != std::string::npos) {
      return Fail(core::InvalidInput("facility_id must be a facility id"));
    }
    auto list = d.care.Candidates(*actor, *gid, std::stoll(f));
    if (!list) return Fail(list.error());
    json::array items;
    for (const auto& c : *list) {
      items.push_back(json::object{{"id", c.user_id},
                                   {"login_id", c.login_id},
                                   {"display_name", c.display_name},
                                   {"facility_id", c.facility_id},
                                   {"occupation", std::string(auth::ToString(c.occupation))},
                                   {"member", c.member},
                                   {"disabled", false}});
    }
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
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
    auto q = TimelineQueryFrom(req);
    if (!q) return Fail(q.error());
    auto posts = d.care.Timeline(*actor, *gid, *q);
    if (!posts) return Fail(posts.error());
    http::JsonWriter w(256 + 768 * posts->size());
    w.BeginObject().Key("items").BeginArray();
    for (const auto& s : *posts) WriteSummary(w, s);
    w.EndArray().EndObject();
    return Response::Json(200, w.Take());
  });

  r.Post("/api/v1/care/groups/:gid/posts",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto gid = IdParam(req, "gid", "care group");
           if (!gid) return Fail(gid.error());
           auto post = NewPostFromRequest(req);
           if (!post) return Fail(post.error());
           auto created = d.care.CreatePost(*actor, *gid, *post);
           if (!created) return Fail(created.error());
           return http::JsonResponse(201, PostJson(*created));
         },
         // Room for the files; CareService checks each file's size itself.
         {.body_limit = kPostBodyLimit + CareService::kMaxFilesPerPost * d.care.max_file_bytes()});

  r.Get("/api/v1/care/search", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto q = TimelineQueryFrom(req);
    if (!q) return Fail(q.error());
    auto found = d.care.Search(*actor, *q);
    if (!found) return Fail(found.error());
    http::JsonWriter w(256 + 768 * found->size());
    w.BeginObject().Key("items").BeginArray();
    for (const auto& f : *found) WriteSummary(w, f.summary, &f.group_name);
    w.EndArray().EndObject();
    return Response::Json(200, w.Take());
  });

  r.Get("/api/v1/care/groups/:gid/series", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    SeriesQuery q;
    std::string items = req.QueryOr("items");
    for (size_t start = 0; start <= items.size() && !items.empty();) {
      size_t comma = std::min(items.find(',', start), items.size());
      q.items.push_back(items.substr(start, comma - start));
      start = comma + 1;
    }
    q.from = req.QueryOr("from");
    q.to = req.QueryOr("to");
    auto series = d.care.Series(*actor, *gid, q);
    if (!series) return Fail(series.error());
    json::array out;
    for (const auto& s : *series) out.push_back(SeriesJson(s));
    return http::JsonResponse(200, json::object{{"items", std::move(out)}});
  });

  r.Get("/api/v1/care/files/:fid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto fid = IdParam(req, "fid", "file");
    if (!fid) return Fail(fid.error());
    auto file = d.care.OpenFile(*actor, *fid);
    if (!file) return Fail(file.error());
    const Attachment& a = file->attachment;
    bool inline_view = (a.kind == AttachmentKind::kImage || a.kind == AttachmentKind::kPdf) &&
                       req.QueryOr("download") != "1";
    Response res;
    res.status = 200;
    res.file_path = file->path;
    res.headers.Set("Content-Type", a.content_type);
    res.headers.Set("Content-Disposition", ContentDisposition(inline_view, a.file_name));
    res.headers.Set("X-Content-Type-Options", "nosniff");
    res.headers.Set("Cache-Control", "private, no-store");
    return res;
  });

  r.Put("/api/v1/care/posts/:pid/pins",
        [&d](Request& req) {
          auto actor = ActorOf(req);
          if (!actor) return Fail(actor.error());
          auto pid = IdParam(req, "pid", "post");
          if (!pid) return Fail(pid.error());
          auto body = http::ParseJsonObject(req.body);
          if (!body) return Fail(body.error());
          auto colors = http::OptStringArray(*body, "colors");
          if (!colors) return Fail(colors.error());
          if (!*colors) return Fail(core::InvalidInput("colors is required"));
          auto pins = d.care.SetPins(*actor, *pid, **colors);
          if (!pins) return Fail(pins.error());
          json::array out;
          for (const auto& c : *pins) out.push_back(json::string(c));
          return http::JsonResponse(200, json::object{{"colors", std::move(out)}});
        },
        {.body_limit = 4 * 1024});

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
           return http::JsonResponse(201,
                                     json::object{{"id", comment->id},
                                                  {"post_id", comment->post_id},
                                                  {"author_id", comment->author_id},
                                                  {"author_name", comment->author_name},
                                                  {"body", comment->body},
                                                  {"created_at", TimeJson(comment->created_at)}});
         },
         {.body_limit = 16 * 1024});
}

}  // namespace tsunagu::care
