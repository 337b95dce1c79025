#include "care/board_routes.hpp"

#include <boost/json.hpp>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "care/board_service.hpp"
#include "care/internal/route_support.hpp"
#include "care/schedule_service.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"
#include "http/router.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr size_t kBoardBodyLimit = 65'536;  // 10,000 characters, JSON-escaped
constexpr size_t kEventBodyLimit = 32'768;

Response Fail(const core::Status& s) { return Response::Error(s); }
using internal::ActorOf;
using internal::IdParam;
using internal::TimeJson;

json::value IdOrNull(int64_t id) { return id ? json::value(id) : json::value(nullptr); }

json::object BoardItemJson(const BoardItem& item) {
  bool written = item.version != 0;
  return {{"section", ToString(item.section)},
          {"label", LabelOf(item.section)},
          {"body", item.body},
          {"version", item.version},
          {"updated_by", IdOrNull(item.updated_by)},
          {"updated_by_name", written ? json::value(item.updated_by_name) : json::value()},
          {"updated_at", TimeJson(item.updated_at)}};
}

json::object EventJson(const ScheduleEvent& e) {
  return {{"id", e.id},
          {"group_id", e.group_id},
          {"title", e.title},
          {"kind", ToString(e.kind)},
          {"kind_label", LabelOf(e.kind)},
          {"starts_at", EventStartText(e)},
          {"ends_at", EventEndText(e)},
          {"all_day", e.all_day},
          {"location", e.location},
          {"note", e.note},
          {"created_by", e.created_by},
          {"created_by_name", e.created_by_name},
          {"updated_by", e.updated_by},
          {"updated_by_name", e.updated_by_name},
          {"updated_at", TimeJson(e.updated_at)}};
}

core::Result<NewScheduleEvent> EventFromJson(const json::object& body) {
  NewScheduleEvent e;
  TSUNAGU_ASSIGN_OR_RETURN(auto title, http::OptString(body, "title"));
  TSUNAGU_ASSIGN_OR_RETURN(auto kind, http::OptString(body, "kind"));
  TSUNAGU_ASSIGN_OR_RETURN(auto starts, http::OptString(body, "starts_at"));
  TSUNAGU_ASSIGN_OR_RETURN(auto ends, http::OptString(body, "ends_at"));
  TSUNAGU_ASSIGN_OR_RETURN(auto all_day, http::OptBool(body, "all_day"));
  TSUNAGU_ASSIGN_OR_RETURN(auto location, http::OptString(body, "location"));
  TSUNAGU_ASSIGN_OR_RETURN(auto note, http::OptString(body, "note"));
  if (kind && !kind->empty()) {
    auto parsed = ParseEventKind(*kind);
    if (!parsed) {
      return core::InvalidInput(
          "kind must be one of visit_medical, visit_nursing, visit_care, visit_rehab, "
          "visit_pharmacy, day_service, short_stay, outpatient, other");
    }
    e.kind = *parsed;
  }
  e.title = title.value_or("");
  e.starts_at = starts.value_or("");
  e.ends_at = ends.value_or("");
  e.all_day = all_day.value_or(false);
  e.location = location.value_or("");
  e.note = note.value_or("");
  return e;
}

}  // namespace

void RegisterBoardRoutes(http::Router& r, BoardDeps& d) {
  r.Get("/api/v1/care/groups/:gid/board", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto items = d.board.Read(*actor, *gid);
    if (!items) return Fail(items.error());
    json::array out;
    for (const auto& item : *items) out.push_back(BoardItemJson(item));
    return http::JsonResponse(200, json::object{{"items", std::move(out)}});
  });

  r.Put("/api/v1/care/groups/:gid/board/:section",
        [&d](Request& req) {
          auto actor = ActorOf(req);
          if (!actor) return Fail(actor.error());
          auto gid = IdParam(req, "gid", "care group");
          if (!gid) return Fail(gid.error());
          auto body = http::ParseJsonObject(req.body);
          if (!body) return Fail(body.error());
          auto text = http::OptString(*body, "body");
          if (!text) return Fail(text.error());
          if (!*text) return Fail(core::InvalidInput("body is required (an empty string clears)"));
          auto version = http::OptInt64(*body, "version");
          if (!version) return Fail(version.error());
          if (!*version) return Fail(core::InvalidInput("version is required (0 for a new item)"));
          auto item = d.board.Update(*actor, *gid, req.Param("section"), **text, **version);
          if (!item) return Fail(item.error());
          return http::JsonResponse(200, BoardItemJson(*item));
        },
        {.body_limit = kBoardBodyLimit});

  r.Get("/api/v1/care/groups/:gid/events", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto events = d.schedule.List(*actor, *gid, {req.QueryOr("from"), req.QueryOr("to")});
    if (!events) return Fail(events.error());
    json::array items;
    for (const auto& e : *events) items.push_back(EventJson(e));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/care/groups/:gid/events",
         [&d](Request& req) {
           auto actor = ActorOf(req);
           if (!actor) return Fail(actor.error());
           auto gid = IdParam(req, "gid", "care group");
           if (!gid) return Fail(gid.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto event = EventFromJson(*body);
           if (!event) return Fail(event.error());
           auto created = d.schedule.Create(*actor, *gid, *event);
           if (!created) return Fail(created.error());
           return http::JsonResponse(201, EventJson(*created));
         },
         {.body_limit = kEventBodyLimit});

  r.Put("/api/v1/care/events/:eid",
        [&d](Request& req) {
          auto actor = ActorOf(req);
          if (!actor) return Fail(actor.error());
          auto eid = IdParam(req, "eid", "event");
          if (!eid) return Fail(eid.error());
          auto body = http::ParseJsonObject(req.body);
          if (!body) return Fail(body.error());
          auto event = EventFromJson(*body);
          if (!event) return Fail(event.error());
          auto updated = d.schedule.Update(*actor, *eid, *event);
          if (!updated) return Fail(updated.error());
          return http::JsonResponse(200, EventJson(*updated));
        },
        {.body_limit = kEventBodyLimit});

  r.Delete("/api/v1/care/events/:eid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto eid = IdParam(req, "eid", "event");
    if (!eid) return Fail(eid.error());
    core::Status s = d.schedule.Delete(*actor, *eid);
    return s.ok() ? Response::NoContent() : Fail(s);
  });
}

}  // namespace tsunagu::care
