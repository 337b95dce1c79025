#include "care/invitation_routes.hpp"

#include <boost/json.hpp>

#include "audit/request_event.hpp"
#include "care/internal/route_support.hpp"
#include "care/invitation_service.hpp"
#include "http/json.hpp"
#include "http/router.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using internal::ActorOf;
using internal::IdParam;
using internal::TimeJson;

Response Fail(const core::Status& s) { return Response::Error(s); }

json::object InvitationJson(const GroupInvitation& i) {
  return {{"id", i.id},
          {"group_id", i.group_id},
          {"group_name", i.group_name},
          {"inviter_id", i.inviter_id},
          {"inviter_name", i.inviter_name},
          {"inviter_facility_name", i.inviter_facility_name},
          {"email", i.email},
          {"display_name", i.display_name},
          {"occupation", std::string(auth::ToString(i.occupation))},
          {"facility_id", i.facility_id ? json::value(i.facility_id) : json::value(nullptr)},
          {"organization_name", i.organization_name},
          {"status", i.status},
          {"created_at", TimeJson(i.created_at)},
          {"expires_at", TimeJson(i.expires_at)},
          {"accepted_user_id",
           i.accepted_user_id ? json::value(i.accepted_user_id) : json::value(nullptr)}};
}

core::Result<NewInvitation> ParseInvitation(const json::object& body) {
  NewInvitation n;
  TSUNAGU_ASSIGN_OR_RETURN(n.email, http::RequireString(body, "email"));
  TSUNAGU_ASSIGN_OR_RETURN(n.display_name, http::RequireString(body, "display_name"));
  TSUNAGU_ASSIGN_OR_RETURN(std::string occupation, http::RequireString(body, "occupation"));
  auto parsed = auth::ParseOccupation(occupation);
  if (!parsed) return core::InvalidInput("unknown occupation");
  n.occupation = *parsed;
  TSUNAGU_ASSIGN_OR_RETURN(auto facility, http::OptInt64(body, "facility_id"));
  n.facility_id = facility.value_or(0);
  if (const json::value* org = body.if_contains("organization"); org && !org->is_null()) {
    if (!org->is_object()) return core::InvalidInput("organization must be an object");
    const json::object& o = org->as_object();
    TSUNAGU_ASSIGN_OR_RETURN(n.organization_name, http::RequireString(o, "name"));
    TSUNAGU_ASSIGN_OR_RETURN(n.organization_kana, http::RequireString(o, "kana"));
    TSUNAGU_ASSIGN_OR_RETURN(std::string type, http::RequireString(o, "type"));
    auto t = registry::ParseFacilityType(type);
    if (!t) return core::InvalidInput("organization.type is not a facility type");
    n.organization_type = *t;
  }
  return n;
}

}  // namespace

void RegisterInvitationRoutes(http::Router& r, InvitationDeps& d) {
  r.Post("/api/v1/care/groups/:gid/invitations", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auto in = ParseInvitation(*body);
    if (!in) return Fail(in.error());
    auto inv = d.invitations.Invite(*actor, *gid, *in);
    if (!inv) return Fail(inv.error());
    return http::JsonResponse(201, InvitationJson(*inv));
  });

  r.Get("/api/v1/care/groups/:gid/invitations", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto gid = IdParam(req, "gid", "care group");
    if (!gid) return Fail(gid.error());
    auto list = d.invitations.List(*actor, *gid);
    if (!list) return Fail(list.error());
    json::array items;
    for (const auto& i : *list) items.push_back(InvitationJson(i));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Delete("/api/v1/care/invitations/:iid", [&d](Request& req) {
    auto actor = ActorOf(req);
    if (!actor) return Fail(actor.error());
    auto iid = IdParam(req, "iid", "invitation");
    if (!iid) return Fail(iid.error());
    if (auto st = d.invitations.Revoke(*actor, *iid); !st.ok()) return Fail(st);
    Response res;
    res.status = 204;
    return res;
  });

  // No login: the invitee opens the link from the mail.
  r.Get("/api/v1/care/invitations/by-token/:token", [&d](Request& req) {
    auto inv = d.invitations.Lookup(req.Param("token"));
    if (!inv) return Fail(inv.error());
    return http::JsonResponse(
        200, json::object{{"group_name", inv->group_name},
                          {"inviter_name", inv->inviter_name},
                          {"inviter_facility_name", inv->inviter_facility_name},
                          {"display_name", inv->display_name},
                          {"email", inv->email},
                          {"occupation", std::string(auth::ToString(inv->occupation))},
                          {"organization_name", inv->organization_name},
                          {"expires_at", TimeJson(inv->expires_at)}});
  });

  r.Post("/api/v1/care/invitations/by-token/:token/accept", [&d](Request& req) {
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    Acceptance a;
    auto login = http::RequireString(*body, "login_id");
    if (!login) return Fail(login.error());
    auto password = http::RequireString(*body, "password");
    if (!password) return Fail(password.error());
    auto kana = http::OptString(*body, "kana");
    if (!kana) return Fail(kana.error());
    a.login_id = *login;
    a.password = *password;
    a.kana = kana->value_or("");
    auto inv = d.invitations.Accept(req.Param("token"), a, audit::EventFromRequest(req, "care"));
    if (!inv) return Fail(inv.error());
    return http::JsonResponse(201, json::object{{"user_id", inv->accepted_user_id},
                                                {"login_id", a.login_id},
                                                {"group_id", inv->group_id},
                                                {"group_name", inv->group_name}});
  });
}

}  // namespace tsunagu::care
