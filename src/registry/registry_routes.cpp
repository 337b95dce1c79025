#include "registry/registry_routes.hpp"

#include <boost/json.hpp>

#include "audit/audit_log.hpp"
#include "audit/request_event.hpp"
#include "auth/account_service.hpp"
#include "auth/principal_context.hpp"
#include "auth/user_json.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"
#include "http/json_writer.hpp"
#include "http/router.hpp"
#include "mail/mailer.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::registry {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object FacilityJson(const Facility& f, const std::vector<Area>& areas) {
  std::string area_name;
  for (const auto& a : areas) {
    if (a.code == f.area) area_name = a.name;
  }
  return {{"id", f.id},
          {"type", ToString(f.type)},
          {"code", f.code},
          {"name", f.name},
          {"kana", f.kana},
          {"postcode", f.postcode},
          {"address", f.address},
          {"phone", f.phone},
          {"area", f.area},
          {"area_name", area_name},
          {"departments", ToArray(f.departments)},
          {"services", ToArray(f.services)},
          {"require_mfa", f.require_mfa},
          {"status", f.status},
          {"created_at", core::FormatIsoUtc(f.created_at)}};
}

// FacilityJson written directly (the directory's hot read): the same members.
std::string FacilityJsonText(const Facility& f, const std::vector<Area>& areas) {
  std::string_view area_name;
  for (const auto& a : areas) {
    if (a.code == f.area) area_name = a.name;
  }
  http::JsonWriter w;
  w.BeginObject()
      .Key("id")
      .Int(f.id)
      .Key("type")
      .String(ToString(f.type))
      .Key("code")
      .String(f.code)
      .Key("name")
      .String(f.name)
      .Key("kana")
      .String(f.kana)
      .Key("postcode")
      .String(f.postcode)
      .Key("address")
      .String(f.address)
      .Key("phone")
      .String(f.phone)
      .Key("area")
      .String(f.area)
      .Key("area_name")
      .String(area_name)
      .Key("departments")
      .BeginArray();
  for (const auto& d : f.departments) w.String(d);
  w.EndArray().Key("services").BeginArray();
  for (const auto& s : f.services) w.String(s);
  w.EndArray()
      .Key("require_mfa")
      .Bool(f.require_mfa)
      .Key("status")
      .String(f.status)
      .Key("created_at")
      .String(core::FormatIsoUtc(f.created_at))
      .EndObject();
  return w.Take();
}

json::object ApplicationJson(const Application& a, const FacilityService& facilities) {
  return {{"id", a.id},
          {"status", a.status},
          {"facility", FacilityJson(a.facility, facilities.ListAreas())},
          {"applicant_name", a.applicant_name},
          {"applicant_email", a.applicant_email},
          {"applicant_phone", a.applicant_phone},
          {"reason", a.reason},
          {"facility_id", a.facility_id},
          {"created_at", core::FormatIsoUtc(a.created_at)},
          {"decided_at", a.decided_at ? json::value(core::FormatIsoUtc(a.decided_at)) : nullptr}};
}

json::object PatientJson(const Patient& p) {
  json::array links;
  for (const auto& l : p.links) {
    links.push_back(json::object{{"facility_id", l.facility_id},
                                 {"facility_name", l.facility_name},
                                 {"local_id", l.local_id}});
  }
  return {{"regional_id", p.regional_id},
          {"name", p.name},
          {"kana", p.kana},
          {"birth_date", p.birth_date},
          {"sex", ToString(p.sex)},
          {"postcode", p.postcode},
          {"address", p.address},
          {"phone", p.phone},
          {"links", std::move(links)},
          {"created_at", core::FormatIsoUtc(p.created_at)}};
}

json::object UserJson(const auth::User& u, const FacilityService& facilities) {
  return auth::UserToJson(u, facilities.NameOf(u.facility_id), false);
}

// Records an audit event for the request's principal (or anonymous).
template <typename... Args>
void Audit(RegistryDeps& d, const Request& req, Args&&... args) {
  audit::RecordRequest(d.audit, req, std::forward<Args>(args)...);
}

core::Result<auth::Principal> Require(const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  return *p;
}

Viewer ViewerOf(const auth::Principal& p) { return {p.facility_id, p.IsNetworkAdmin()}; }

core::Result<int64_t> IdParam(const Request& req, std::string_view name) {
  std::string s = req.Param(name);
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return core::NotFound("not found");
  }
  return std::stoll(s);
}

// Reads the facility fields of a JSON object (application or create).
core::Result<Facility> FacilityFromJson(const json::object& o) {
  Facility f;
  TSUNAGU_ASSIGN_OR_RETURN(std::string type, http::RequireString(o, "type"));
  auto t = ParseFacilityType(type);
  if (!t) return core::InvalidInput("type is not a known facility type");
  f.type = *t;
  TSUNAGU_ASSIGN_OR_RETURN(auto code, http::OptString(o, "code"));
  f.code = code.value_or("");
  TSUNAGU_ASSIGN_OR_RETURN(f.name, http::RequireString(o, "name"));
  TSUNAGU_ASSIGN_OR_RETURN(f.kana, http::RequireString(o, "kana"));
  TSUNAGU_ASSIGN_OR_RETURN(auto postcode, http::OptString(o, "postcode"));
  TSUNAGU_ASSIGN_OR_RETURN(auto address, http::OptString(o, "address"));
  TSUNAGU_ASSIGN_OR_RETURN(auto phone, http::OptString(o, "phone"));
  TSUNAGU_ASSIGN_OR_RETURN(auto area, http::OptString(o, "area"));
  TSUNAGU_ASSIGN_OR_RETURN(auto departments, http::OptStringArray(o, "departments"));
  TSUNAGU_ASSIGN_OR_RETURN(auto services, http::OptStringArray(o, "services"));
  TSUNAGU_ASSIGN_OR_RETURN(auto require_mfa, http::OptBool(o, "require_mfa"));
  f.postcode = postcode.value_or("");
  f.address = address.value_or("");
  f.phone = phone.value_or("");
  f.area = area.value_or("");
  f.departments = departments.value_or(std::vector<std::string>{});
  f.services = services.value_or(std::vector<std::string>{});
  f.require_mfa = require_mfa.value_or(false);
  return f;
}

// Whether the principal may manage the users of the facility.
bool MayManage(const auth::Principal& p, int64_t facility_id) {
  return p.IsNetworkAdmin() || p.IsFacilityAdminOf(facility_id);
}

// The logged-in principal and the user it may manage (secretariat, or the
// admin of the user's facility), from the ":id" path parameter.
core::Result<std::pair<auth::Principal, auth::User>> ManagedUser(RegistryDeps& d,
                                                                 const Request& req) {
  TSUNAGU_ASSIGN_OR_RETURN(auth::Principal p, Require(req));
  auto id = IdParam(req, "id");
  if (!id) return core::NotFound("user not found");
  TSUNAGU_ASSIGN_OR_RETURN(auth::User target, d.accounts.Get(*id));
  if (!MayManage(p, target.facility_id)) return core::Forbidden("not allowed for this user");
  return std::make_pair(std::move(p), std::move(target));
}

std::string InvitationMailBody(const std::string& facility_name, const std::string& url) {
  return "つなぐ（地域医療連携ネットワーク）への参加申請が承認されました。\n"
         "施設: " +
         facility_name +
         "\n\n"
         "次のリンクから施設管理者のアカウントを作成してください（7日間有効）。\n" +
         url +
         "\n\nYour participation application has been approved. Create the facility "
         "administrator account with the link above (valid for 7 days).\n";
}

Response Fail(const core::Status& s) { return Response::Error(s); }

}  // namespace

void RegisterRegistryRoutes(http::Router& r, RegistryDeps& d) {
  // --- areas -------------------------------------------------------------
  r.Get("/api/v1/areas", [&d](Request&) {
    json::array items;
    for (const auto& a : d.facilities.ListAreas()) {
      items.push_back(json::object{{"code", a.code}, {"name", a.name}});
    }
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  // --- participation applications ----------------------------------------
  r.Post("/api/v1/applications",
         [&d](Request& req) {
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           const json::object* fo =
               body->if_contains("facility") ? body->at("facility").if_object() : nullptr;
           if (!fo) return Fail(core::InvalidInput("facility is required"));
           auto facility = FacilityFromJson(*fo);
           if (!facility) return Fail(facility.error());
           NewApplication app{*facility, "", "", ""};
           auto name = http::RequireString(*body, "applicant_name");
           if (!name) return Fail(name.error());
           auto email = http::RequireString(*body, "applicant_email");
           if (!email) return Fail(email.error());
           auto phone = http::OptString(*body, "applicant_phone");
           if (!phone) return Fail(phone.error());
           app.applicant_name = *name;
           app.applicant_email = *email;
           app.applicant_phone = phone->value_or("");
           auto created = d.facilities.Apply(app);
           if (!created) return Fail(created.error());
           Audit(d, req, "application.create", "application:" + std::to_string(created->id));
           return http::JsonResponse(
               201, json::object{{"id", created->id}, {"status", created->status}});
         },
         {.body_limit = 64 * 1024});

  r.Get("/api/v1/applications", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    if (!p->IsNetworkAdmin()) return Fail(core::Forbidden("secretariat only"));
    json::array items;
    for (const auto& a : d.facilities.ListApplications(req.QueryOr("status"))) {
      items.push_back(ApplicationJson(a, d.facilities));
    }
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/applications/:id/approve", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    if (!p->IsNetworkAdmin()) return Fail(core::Forbidden("secretariat only"));
    auto id = IdParam(req, "id");
    if (!id) return Fail(core::NotFound("application not found"));
    auto app = d.facilities.GetApplication(*id);
    if (!app) return Fail(app.error());
    auto approval = d.facilities.Approve(*id, p->user_id);
    if (!approval) {
      Audit(d, req, "facility.approve", "application:" + std::to_string(*id), "", "failure");
      return Fail(approval.error());
    }
    std::string url = d.public_url + "/invite/" + approval->invitation_token;
    auto sent = d.mailer.Send({app->applicant_email, "【つなぐ】参加申請の承認と施設管理者の登録",
                               InvitationMailBody(approval->facility.name, url)});
    Audit(d, req, "facility.approve", "facility:" + std::to_string(approval->facility.id));
    return http::JsonResponse(
        200, json::object{{"facility", FacilityJson(approval->facility, d.facilities.ListAreas())},
                          {"invitation_url", url},
                          {"mail_sent", sent.ok()}});
  });

  r.Post("/api/v1/applications/:id/reject", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    if (!p->IsNetworkAdmin()) return Fail(core::Forbidden("secretariat only"));
    auto id = IdParam(req, "id");
    if (!id) return Fail(core::NotFound("application not found"));
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auto reason = http::RequireString(*body, "reason");
    if (!reason) return Fail(reason.error());
    auto app = d.facilities.Reject(*id, p->user_id, *reason);
    if (!app) return Fail(app.error());
    Audit(d, req, "facility.reject", "application:" + std::to_string(*id));
    return http::JsonResponse(200,
                              json::object{{"application", ApplicationJson(*app, d.facilities)}});
  });

  // --- invitations ---------------------------------------------------------
  r.Get("/api/v1/invitations/:token", [&d](Request& req) {
    auto inv = d.facilities.GetInvitation(req.Param("token"));
    if (!inv) return Fail(inv.error());
    return http::JsonResponse(200,
                              json::object{{"facility_name", inv->facility_name},
                                           {"email", inv->email},
                                           {"expires_at", core::FormatIsoUtc(inv->expires_at)}});
  });

  r.Post("/api/v1/invitations/:token/accept", [&d](Request& req) {
    std::string token = req.Param("token");
    auto inv = d.facilities.GetInvitation(token);
    if (!inv) return Fail(inv.error());
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auth::NewUser nu;
    auto login = http::RequireString(*body, "login_id");
    if (!login) return Fail(login.error());
    auto name = http::RequireString(*body, "display_name");
    if (!name) return Fail(name.error());
    auto kana = http::OptString(*body, "kana");
    if (!kana) return Fail(kana.error());
    auto password = http::RequireString(*body, "password");
    if (!password) return Fail(password.error());
    nu.facility_id = inv->facility_id;
    nu.login_id = *login;
    nu.display_name = *name;
    nu.kana = kana->value_or("");
    nu.email = inv->email;
    nu.occupation = auth::Occupation::kClerk;
    nu.role = auth::Role::kFacilityAdmin;
    nu.password = *password;
    nu.must_change_password = false;
    auto user = d.accounts.Create(nu);
    if (!user) return Fail(user.error());
    auto consumed = d.facilities.ConsumeInvitation(token, user->id);
    if (!consumed.ok()) {
      auth::UserPatch disable;
      disable.disabled = true;
      (void)d.accounts.Update(user->id, disable);
      return Fail(consumed);
    }
    Audit(d, req, "invitation.accept", "user:" + std::to_string(user->id));
    return http::JsonResponse(201, json::object{{"user", UserJson(*user, d.facilities)}});
  });

  // --- facilities ----------------------------------------------------------
  r.Get("/api/v1/facilities", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    FacilityFilter f;
    f.q = req.QueryOr("q");
    f.area = req.QueryOr("area");
    if (std::string t = req.QueryOr("type"); !t.empty()) {
      f.type = ParseFacilityType(t);
      if (!f.type) return Fail(core::InvalidInput("type is not a known facility type"));
    }
    json::array items;
    const auto areas = d.facilities.ListAreas();
    for (const auto& fac : d.facilities.List(f)) items.push_back(FacilityJson(fac, areas));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Get("/api/v1/facilities/:id", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    auto id = IdParam(req, "id");
    if (!id) return Fail(core::NotFound("facility not found"));
    auto f = d.facilities.Get(*id);
    if (!f) return Fail(f.error());
    return Response::Json(200, FacilityJsonText(*f, d.facilities.ListAreas()));
  });

  r.Post("/api/v1/facilities", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    if (!p->IsNetworkAdmin()) return Fail(core::Forbidden("secretariat only"));
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auto f = FacilityFromJson(*body);
    if (!f) return Fail(f.error());
    auto created = d.facilities.Create(*f);
    if (!created) return Fail(created.error());
    Audit(d, req, "facility.create", "facility:" + std::to_string(created->id));
    return http::JsonResponse(201, FacilityJson(*created, d.facilities.ListAreas()));
  });

  r.Patch("/api/v1/facilities/:id", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    auto id = IdParam(req, "id");
    if (!id) return Fail(core::NotFound("facility not found"));
    if (!MayManage(*p, *id)) return Fail(core::Forbidden("not allowed for this facility"));
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    FacilityPatch patch;
    auto read = [&](const char* key, std::optional<std::string>& out) -> core::Status {
      auto v = http::OptString(*body, key);
      if (!v) return v.error();
      out = *v;
      return core::Status::Ok();
    };
    for (auto [key, field] : {std::pair{"name", &patch.name},
                              {"kana", &patch.kana},
                              {"postcode", &patch.postcode},
                              {"address", &patch.address},
                              {"phone", &patch.phone},
                              {"area", &patch.area},
                              {"status", &patch.status}}) {
      if (auto s = read(key, *field); !s.ok()) return Fail(s);
    }
    if (patch.status && !p->IsNetworkAdmin()) {
      return Fail(core::Forbidden("only the secretariat changes a facility's status"));
    }
    auto deps = http::OptStringArray(*body, "departments");
    if (!deps) return Fail(deps.error());
    patch.departments = *deps;
    auto services = http::OptStringArray(*body, "services");
    if (!services) return Fail(services.error());
    patch.services = *services;
    auto mfa = http::OptBool(*body, "require_mfa");
    if (!mfa) return Fail(mfa.error());
    patch.require_mfa = *mfa;
    auto updated = d.facilities.Update(*id, patch);
    if (!updated) return Fail(updated.error());
    Audit(d, req, "facility.update", "facility:" + std::to_string(*id));
    return http::JsonResponse(200, FacilityJson(*updated, d.facilities.ListAreas()));
  });

  // --- staff accounts ------------------------------------------------------
  r.Get("/api/v1/facilities/:id/users", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    auto id = IdParam(req, "id");
    if (!id) return Fail(core::NotFound("facility not found"));
    if (!MayManage(*p, *id)) return Fail(core::Forbidden("not allowed for this facility"));
    json::array items;
    for (const auto& u : d.accounts.ListByFacility(*id)) items.push_back(UserJson(u, d.facilities));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/facilities/:id/users", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    auto id = IdParam(req, "id");
    if (!id) return Fail(core::NotFound("facility not found"));
    if (!MayManage(*p, *id)) return Fail(core::Forbidden("not allowed for this facility"));
    if (auto f = d.facilities.Get(*id); !f) return Fail(f.error());
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auth::NewUser nu;
    nu.facility_id = *id;
    auto login = http::RequireString(*body, "login_id");
    if (!login) return Fail(login.error());
    auto name = http::RequireString(*body, "display_name");
    if (!name) return Fail(name.error());
    auto kana = http::OptString(*body, "kana");
    if (!kana) return Fail(kana.error());
    auto email = http::OptString(*body, "email");
    if (!email) return Fail(email.error());
    auto occupation = http::RequireString(*body, "occupation");
    if (!occupation) return Fail(occupation.error());
    auto role = http::RequireString(*body, "role");
    if (!role) return Fail(role.error());
    auto password = http::RequireString(*body, "password");
    if (!password) return Fail(password.error());
    auto occ = auth::ParseOccupation(*occupation);
    if (!occ) return Fail(core::InvalidInput("occupation is not a known occupation"));
    auto rl = auth::ParseRole(*role);
    if (!rl) return Fail(core::InvalidInput("role is not a known role"));
    if (*rl == auth::Role::kNetworkAdmin && !p->IsNetworkAdmin()) {
      return Fail(core::Forbidden("only the secretariat creates secretariat accounts"));
    }
    nu.login_id = *login;
    nu.display_name = *name;
    nu.kana = kana->value_or("");
    nu.email = email->value_or("");
    nu.occupation = *occ;
    nu.role = *rl;
    nu.password = *password;
    nu.must_change_password = true;
    auto user = d.accounts.Create(nu);
    if (!user) return Fail(user.error());
    Audit(d, req, "user.create", "user:" + std::to_string(user->id));
    return http::JsonResponse(201, UserJson(*user, d.facilities));
  });

  r.Patch("/api/v1/users/:id", [&d](Request& req) {
    auto managed = ManagedUser(d, req);
    if (!managed) return Fail(managed.error());
    const auth::Principal& p = managed->first;
    const int64_t id = managed->second.id;
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    auth::UserPatch patch;
    auto name = http::OptString(*body, "display_name");
    auto kana = http::OptString(*body, "kana");
    auto email = http::OptString(*body, "email");
    auto occupation = http::OptString(*body, "occupation");
    auto role = http::OptString(*body, "role");
    auto disabled = http::OptBool(*body, "disabled");
    for (const auto* s : {&name, &kana, &email, &occupation, &role}) {
      if (!*s) return Fail(s->error());
    }
    if (!disabled) return Fail(disabled.error());
    patch.display_name = *name;
    patch.kana = *kana;
    patch.email = *email;
    patch.disabled = *disabled;
    if (*occupation) {
      patch.occupation = auth::ParseOccupation(**occupation);
      if (!patch.occupation)
        return Fail(core::InvalidInput("occupation is not a known occupation"));
    }
    if (*role) {
      patch.role = auth::ParseRole(**role);
      if (!patch.role) return Fail(core::InvalidInput("role is not a known role"));
      if (*patch.role == auth::Role::kNetworkAdmin && !p.IsNetworkAdmin()) {
        return Fail(core::Forbidden("only the secretariat grants secretariat rights"));
      }
    }
    if (id == p.user_id && (patch.disabled.value_or(false) || patch.role)) {
      return Fail(core::InvalidInput("you cannot disable yourself or change your own role"));
    }
    auto updated = d.accounts.Update(id, patch);
    if (!updated) return Fail(updated.error());
    Audit(d, req, "user.update", "user:" + std::to_string(id));
    return http::JsonResponse(200, UserJson(*updated, d.facilities));
  });

  r.Post("/api/v1/users/:id/reset-password", [&d](Request& req) {
    auto managed = ManagedUser(d, req);
    if (!managed) return Fail(managed.error());
    const int64_t id = managed->second.id;
    auto temp = d.accounts.ResetPassword(id);
    if (!temp) return Fail(temp.error());
    Audit(d, req, "user.reset_password", "user:" + std::to_string(id));
    return http::JsonResponse(200, json::object{{"temporary_password", *temp}});
  });

  r.Post("/api/v1/users/:id/reset-totp", [&d](Request& req) {
    auto managed = ManagedUser(d, req);
    if (!managed) return Fail(managed.error());
    const auth::Principal& p = managed->first;
    const int64_t id = managed->second.id;
    if (id == p.user_id) return Fail(core::Forbidden("not allowed for this user"));
    if (auto st = d.accounts.ResetTotp(id); !st.ok()) return Fail(st);
    Audit(d, req, "user.reset_totp", "user:" + std::to_string(id));
    auto updated = d.accounts.Get(id);
    if (!updated) return Fail(updated.error());
    return http::JsonResponse(200, UserJson(*updated, d.facilities));
  });

  // --- patients ------------------------------------------------------------
  r.Get("/api/v1/patients", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    PatientQuery q;
    q.q = req.QueryOr("q");
    q.birth_date = req.QueryOr("birth_date");
    q.local_id = req.QueryOr("local_id");
    q.regional_id = req.QueryOr("regional_id");
    if (!q.birth_date.empty() && !IsValidDate(q.birth_date)) {
      return Fail(core::InvalidInput("birth_date must be a date (YYYY-MM-DD)"));
    }
    try {
      if (auto l = req.QueryOr("limit"); !l.empty()) q.limit = std::stoi(l);
      if (auto o = req.QueryOr("offset"); !o.empty()) q.offset = std::stoi(o);
    } catch (const std::exception&) {
      return Fail(core::InvalidInput("limit and offset must be numbers"));
    }
    int64_t total = 0;
    auto found = d.patients.Search(q, ViewerOf(*p), &total);
    json::array items;
    for (const auto& pt : found) items.push_back(PatientJson(pt));
    Audit(d, req, "patient.search", "patients", "", "success",
          "results=" + std::to_string(found.size()));
    return http::JsonResponse(200, json::object{{"items", std::move(items)}, {"total", total}});
  });

  r.Post("/api/v1/patients", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    if (p->occupation == auth::Occupation::kFamily) return Fail(core::Forbidden("not allowed"));
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    NewPatient np;
    auto name = http::RequireString(*body, "name");
    if (!name) return Fail(name.error());
    auto kana = http::RequireString(*body, "kana");
    if (!kana) return Fail(kana.error());
    auto birth = http::RequireString(*body, "birth_date");
    if (!birth) return Fail(birth.error());
    auto sex = http::RequireString(*body, "sex");
    if (!sex) return Fail(sex.error());
    auto sx = ParseSex(*sex);
    if (!sx) return Fail(core::InvalidInput("sex must be male, female, other or unknown"));
    np.name = *name;
    np.kana = *kana;
    np.birth_date = *birth;
    np.sex = *sx;
    for (auto [key, field] : {std::pair{"postcode", &np.postcode},
                              {"address", &np.address},
                              {"phone", &np.phone},
                              {"local_id", &np.local_id}}) {
      auto v = http::OptString(*body, key);
      if (!v) return Fail(v.error());
      *field = v->value_or("");
    }
    auto created = d.patients.Register(np, ViewerOf(*p));
    if (!created) return Fail(created.error());
    Audit(d, req, "patient.create", "patient", created->regional_id);
    return http::JsonResponse(201, PatientJson(*created));
  });

  r.Get("/api/v1/patients/:rid", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    std::string rid = req.Param("rid");
    auto pt = d.patients.Get(rid, ViewerOf(*p));
    if (!pt) {
      Audit(d, req, "patient.read", "patient", "", "denied");
      return Fail(pt.error());
    }
    Audit(d, req, "patient.read", "patient", rid);
    return http::JsonResponse(200, PatientJson(*pt));
  });

  r.Patch("/api/v1/patients/:rid", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    auto body = http::ParseJsonObject(req.body);
    if (!body) return Fail(body.error());
    PatientPatch patch;
    for (auto [key, field] : {std::pair{"name", &patch.name},
                              {"kana", &patch.kana},
                              {"birth_date", &patch.birth_date},
                              {"postcode", &patch.postcode},
                              {"address", &patch.address},
                              {"phone", &patch.phone}}) {
      auto v = http::OptString(*body, key);
      if (!v) return Fail(v.error());
      *field = *v;
    }
    auto sex = http::OptString(*body, "sex");
    if (!sex) return Fail(sex.error());
    if (*sex) {
      patch.sex = ParseSex(**sex);
      if (!patch.sex) return Fail(core::InvalidInput("sex must be male, female, other or unknown"));
    }
    std::string rid = req.Param("rid");
    auto updated = d.patients.Update(rid, patch, ViewerOf(*p));
    if (!updated) return Fail(updated.error());
    Audit(d, req, "patient.update", "patient", rid);
    return http::JsonResponse(200, PatientJson(*updated));
  });

  r.Get("/api/v1/patients/:rid/access-log", [&d](Request& req) {
    auto p = Require(req);
    if (!p) return Fail(p.error());
    std::string rid = req.Param("rid");
    auto pt = d.patients.Get(rid, ViewerOf(*p));
    if (!pt) return Fail(pt.error());
    audit::AuditQuery q;
    q.patient_id = rid;
    q.limit = 200;
    int64_t total = 0;
    json::array items;
    for (const auto& e : d.audit.Search(q, &total)) {
      items.push_back(json::object{{"seq", e.seq},
                                   {"time", core::FormatIsoUtc(e.time)},
                                   {"user_id", e.user_id},
                                   {"user_name", e.user_name},
                                   {"facility_id", e.facility_id},
                                   {"facility_name", d.facilities.NameOf(e.facility_id)},
                                   {"occupation", e.occupation},
                                   {"action", e.action},
                                   {"outcome", e.outcome}});
    }
    Audit(d, req, "patient.access_log", "patient", rid);
    return http::JsonResponse(200, json::object{{"items", std::move(items)}, {"total", total}});
  });
}

}  // namespace tsunagu::registry
