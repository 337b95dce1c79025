#include "consent/consent_routes.hpp"

#include <boost/json.hpp>

#include "audit/audit_log.hpp"
#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "consent/consent_service.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"
#include "http/router.hpp"
#include "registry/facility_service.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::consent {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

Response Fail(const core::Status& s) { return Response::Error(s); }

template <typename... Args>
void Audit(ConsentDeps& d, const Request& req, Args&&... args) {
  audit::RecordRequest(d.audit, req, std::forward<Args>(args)...);
}

json::value OptionalTime(int64_t millis) {
  return millis ? json::value(core::FormatIsoUtc(millis)) : json::value(nullptr);
}

json::object ConsentJson(const Consent& c, const std::string& regional_id, const std::string& today,
                         const registry::FacilityService& facilities) {
  auto name = [&facilities](int64_t id) { return id ? facilities.NameOf(id) : std::string(); };
  json::value form = nullptr;
  if (!c.form_sha256.empty()) {
    form = json::object{
        {"content_type", c.form_content_type}, {"size", c.form_size}, {"sha256", c.form_sha256}};
  }
  return {{"id", c.id},
          {"regional_id", regional_id},
          {"scope", ToString(c.scope)},
          {"source_facility_id", c.source_facility_id},
          {"source_facility_name", name(c.source_facility_id)},
          {"viewer_facility_id", c.viewer_facility_id},
          {"viewer_facility_name", name(c.viewer_facility_id)},
          {"valid_from", c.valid_from},
          {"valid_to", c.valid_to.empty() ? json::value(nullptr) : json::value(c.valid_to)},
          {"status", c.StatusOn(today)},
          {"withdrawn_at", OptionalTime(c.withdrawn_at)},
          {"withdrawn_by", c.withdrawn_by ? json::value(c.withdrawn_by) : json::value(nullptr)},
          {"form", std::move(form)},
          {"created_by", c.created_by},
          {"created_at", core::FormatIsoUtc(c.created_at)},
          {"note", c.note}};
}

// Logged-in staff (not family) who can see the patient in the registry (the
// patient is linked at their facility), or the secretariat.
struct Context {
  auth::Principal principal;
  int64_t patient_id = 0;
  std::string regional_id;
};

core::Result<Context> RequirePatient(ConsentDeps& d, const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  if (p->occupation == auth::Occupation::kFamily) return core::Forbidden("not allowed");
  std::string rid = req.Param("rid");
  auto patient = d.patients.Get(rid, registry::Viewer{p->facility_id, p->IsNetworkAdmin()});
  if (!patient) return patient.error();
  return Context{*p, patient->id, rid};
}

// The consent named in the path, if it belongs to the patient.
core::Result<Consent> ConsentOf(ConsentDeps& d, const Request& req, const Context& ctx) {
  std::string s = req.Param("id");
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return core::NotFound("consent not found");
  }
  auto c = d.consents.Get(std::stoll(s));
  if (!c || c->patient_id != ctx.patient_id) return core::NotFound("consent not found");
  return c;
}

core::Result<int64_t> FacilityField(const json::object& body, std::string_view key) {
  TSUNAGU_ASSIGN_OR_RETURN(auto v, http::OptInt64(body, key));
  return v.value_or(0);
}

core::Result<NewConsent> NewConsentFromJson(const json::object& body, int64_t patient_id) {
  NewConsent nc;
  nc.patient_id = patient_id;
  TSUNAGU_ASSIGN_OR_RETURN(std::string scope, http::RequireString(body, "scope"));
  auto parsed = ParseScope(scope);
  if (!parsed) {
    return core::InvalidInput(
        "scope must be clinical_sharing, dispensing, emergency_sheet, care_team or family");
  }
  nc.scope = *parsed;
  TSUNAGU_ASSIGN_OR_RETURN(nc.source_facility_id, FacilityField(body, "source_facility_id"));
  TSUNAGU_ASSIGN_OR_RETURN(nc.viewer_facility_id, FacilityField(body, "viewer_facility_id"));
  TSUNAGU_ASSIGN_OR_RETURN(nc.valid_from, http::RequireString(body, "valid_from"));
  TSUNAGU_ASSIGN_OR_RETURN(auto valid_to, http::OptString(body, "valid_to"));
  TSUNAGU_ASSIGN_OR_RETURN(auto note, http::OptString(body, "note"));
  nc.valid_to = valid_to.value_or("");
  nc.note = note.value_or("");
  return nc;
}

}  // namespace

void RegisterConsentRoutes(http::Router& r, ConsentDeps& d) {
  r.Get("/api/v1/patients/:rid/consents", [&d](Request& req) {
    auto ctx = RequirePatient(d, req);
    if (!ctx) return Fail(ctx.error());
    auto list = d.consents.ListForPatient(ctx->patient_id);
    if (!list) return Fail(list.error());
    std::string today = d.consents.Today();
    json::array items;
    for (const auto& c : *list)
      items.push_back(ConsentJson(c, ctx->regional_id, today, d.facilities));
    Audit(d, req, "consent.list", "consents", ctx->regional_id);
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Post("/api/v1/patients/:rid/consents",
         [&d](Request& req) {
           auto ctx = RequirePatient(d, req);
           if (!ctx) return Fail(ctx.error());
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto nc = NewConsentFromJson(*body, ctx->patient_id);
           if (!nc) return Fail(nc.error());
           auto created = d.consents.Create(*nc, ctx->principal.user_id);
           if (!created) return Fail(created.error());
           Audit(d, req, "consent.create", "consent:" + std::to_string(created->id),
                 ctx->regional_id, "success", std::string(ToString(created->scope)));
           return http::JsonResponse(
               201, ConsentJson(*created, ctx->regional_id, d.consents.Today(), d.facilities));
         },
         {.body_limit = 16 * 1024});

  r.Post("/api/v1/patients/:rid/consents/:id/form",
         [&d](Request& req) {
           auto ctx = RequirePatient(d, req);
           if (!ctx) return Fail(ctx.error());
           auto consent = ConsentOf(d, req, *ctx);
           if (!consent) return Fail(consent.error());
           std::string type(req.Header("content-type").value_or(""));
           std::string object = "consent:" + std::to_string(consent->id);
           auto updated =
               type.empty()
                   ? core::Result<Consent>(core::InvalidInput(
                         "Content-Type is required (application/pdf, image/jpeg or image/png)"))
                   : d.consents.AttachForm(consent->id, req.body, type);
           if (!updated) {
             Audit(d, req, "consent.form.upload", object, ctx->regional_id, "failure",
                   updated.error().message());
             return Fail(updated.error());
           }
           Audit(d, req, "consent.form.upload", object, ctx->regional_id);
           return http::JsonResponse(
               200, ConsentJson(*updated, ctx->regional_id, d.consents.Today(), d.facilities));
         },
         {.body_limit = ConsentService::kMaxFormBytes});

  r.Get("/api/v1/patients/:rid/consents/:id/form", [&d](Request& req) {
    auto ctx = RequirePatient(d, req);
    if (!ctx) return Fail(ctx.error());
    auto consent = ConsentOf(d, req, *ctx);
    if (!consent) return Fail(consent.error());
    auto form = d.consents.Form(consent->id);
    if (!form) return Fail(form.error());
    Audit(d, req, "consent.form.read", "consent:" + std::to_string(consent->id), ctx->regional_id);
    Response res;
    res.status = 200;
    res.body = std::move(form->bytes);
    res.headers.Set("Content-Type", form->content_type);
    res.headers.Set("Content-Disposition", "attachment; filename=\"" + form->file_name + "\"");
    res.headers.Set("X-Content-Type-Options", "nosniff");
    res.headers.Set("Cache-Control", "no-store");
    return res;
  });

  r.Post("/api/v1/patients/:rid/consents/:id/withdraw", [&d](Request& req) {
    auto ctx = RequirePatient(d, req);
    if (!ctx) return Fail(ctx.error());
    auto consent = ConsentOf(d, req, *ctx);
    if (!consent) return Fail(consent.error());
    auto withdrawn = d.consents.Withdraw(consent->id, ctx->principal.user_id);
    if (!withdrawn) return Fail(withdrawn.error());
    Audit(d, req, "consent.withdraw", "consent:" + std::to_string(consent->id), ctx->regional_id);
    return http::JsonResponse(
        200, ConsentJson(*withdrawn, ctx->regional_id, d.consents.Today(), d.facilities));
  });

  r.Post("/api/v1/patients/:rid/merge",
         [&d](Request& req) {
           const auth::Principal* p = auth::CurrentPrincipal(req);
           if (!p) return Fail(core::Unauthenticated("login required"));
           if (!p->IsNetworkAdmin()) return Fail(core::Forbidden("secretariat only"));
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto duplicate = http::RequireString(*body, "duplicate_regional_id");
           if (!duplicate) return Fail(duplicate.error());
           std::string survivor = req.Param("rid");
           auto merged = d.consents.MergePatients(survivor, *duplicate, p->user_id);
           if (!merged) {
             Audit(d, req, "patient.merge", "patient:" + *duplicate, survivor, "failure");
             return Fail(merged.error());
           }
           std::string counts = "links=" + std::to_string(merged->links_moved) +
                                " consents=" + std::to_string(merged->consents_moved);
           // One entry under each regional ID, so both access logs show the merge.
           Audit(d, req, "patient.merge", "patient:" + *duplicate, survivor, "success", counts);
           Audit(d, req, "patient.merge", "patient:" + survivor, *duplicate, "success", counts);
           return http::JsonResponse(200, json::object{{"regional_id", survivor},
                                                       {"merged_regional_id", *duplicate},
                                                       {"links_moved", merged->links_moved},
                                                       {"consents_moved", merged->consents_moved}});
         },
         {.body_limit = 16 * 1024});
}

}  // namespace tsunagu::consent
