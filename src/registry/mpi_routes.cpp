#include "registry/mpi_routes.hpp"

#include <boost/json.hpp>

#include "audit/audit_log.hpp"
#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "core/text.hpp"
#include "http/json.hpp"
#include "http/router.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_matcher.hpp"
#include "registry/patient_service.hpp"

namespace tsunagu::registry {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

Response Fail(const core::Status& s) { return Response::Error(s); }

template <typename... Args>
void Audit(MpiDeps& d, const Request& req, Args&&... args) {
  audit::RecordRequest(d.audit, req, std::forward<Args>(args)...);
}

// Logged-in staff of a facility, or the secretariat; family accounts never
// take part in identity management.
core::Result<auth::Principal> RequireStaff(const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  if (p->occupation == auth::Occupation::kFamily) return core::Forbidden("not allowed");
  return *p;
}

// "ヤマダタロウ" -> "ヤ＊＊＊＊＊": enough to tell candidates apart at the
// counter, not enough to learn who is registered in the region.
std::string MaskKana(const std::string& kana) {
  std::string folded = core::FoldKana(kana);
  std::string out;
  for (size_t i = 0; i < folded.size();) {
    unsigned char c = static_cast<unsigned char>(folded[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    out += i == 0 ? folded.substr(0, n) : std::string("＊");
    i += n;
  }
  return out;
}

json::object CandidateJson(const MatchCandidate& c, bool visible, bool linked_here) {
  const MatchScore& m = c.match;
  json::object o{{"regional_id", c.regional_id},
                 {"score", m.score},
                 {"auto_link", m.auto_link},
                 {"linked_here", linked_here},
                 {"kana_masked", MaskKana(c.kana)},
                 {"match", json::object{{"kana", ToString(m.kana)},
                                        {"birth_date", ToString(m.birth_date)},
                                        {"sex", ToString(m.sex)},
                                        {"phone", ToString(m.phone)},
                                        {"postcode", ToString(m.postcode)}}}};
  if (visible) {
    o["name"] = c.name;
    o["kana"] = c.kana;
    o["birth_date"] = c.birth_date;
    o["sex"] = ToString(c.sex);
  }
  return o;
}

core::Result<int64_t> FacilityParam(const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return core::NotFound("link not found");
  }
  return std::stoll(s);
}

}  // namespace

void RegisterMpiRoutes(http::Router& r, MpiDeps& d) {
  r.Get("/api/v1/patients/candidates", [&d](Request& req) {
    auto p = RequireStaff(req);
    if (!p) return Fail(p.error());
    Demographics q;
    q.kana = req.QueryOr("kana");
    q.birth_date = req.QueryOr("birth_date");
    q.phone = req.QueryOr("phone");
    q.postcode = req.QueryOr("postcode");
    if (std::string sex = req.QueryOr("sex"); !sex.empty()) {
      auto parsed = ParseSex(sex);
      if (!parsed) return Fail(core::InvalidInput("sex must be male, female, other or unknown"));
      q.sex = *parsed;
    }
    auto found = d.matcher.Candidates(q);
    if (!found) return Fail(found.error());
    json::array items;
    for (const auto& c : *found) {
      bool linked_here = d.patients.IsLinkedTo(c.patient_id, p->facility_id);
      items.push_back(CandidateJson(c, linked_here || p->IsNetworkAdmin(), linked_here));
    }
    Audit(d, req, "patient.candidates", "patients", "", "success",
          "results=" + std::to_string(found->size()));
    return http::JsonResponse(200, json::object{{"items", std::move(items)},
                                                {"auto_link_score", PatientMatcher::kAutoLinkScore},
                                                {"propose_score", PatientMatcher::kProposeScore}});
  });

  r.Post("/api/v1/patients/:rid/links",
         [&d](Request& req) {
           auto p = RequireStaff(req);
           if (!p) return Fail(p.error());
           std::string rid = req.Param("rid");
           auto body = http::ParseJsonObject(req.body);
           if (!body) return Fail(body.error());
           auto local_id = http::RequireString(*body, "local_id");
           if (!local_id) return Fail(local_id.error());
           auto birth = http::RequireString(*body, "birth_date");
           if (!birth) return Fail(birth.error());
           auto fid = http::OptInt64(*body, "facility_id");
           if (!fid) return Fail(fid.error());
           int64_t facility_id = fid->value_or(p->facility_id);
           if (!p->IsNetworkAdmin() && facility_id != p->facility_id) {
             return Fail(core::Forbidden("you can only link your own facility's patient IDs"));
           }
           // The clerk confirms the person by repeating the birth date, so that
           // a regional ID alone (e.g. read off a card) cannot be linked.
           auto patient = d.patients.Get(rid, Viewer{0, true});
           if (!patient) return Fail(patient.error());
           if (patient->birth_date != *birth) {
             Audit(d, req, "patient.link", "facility:" + std::to_string(facility_id), rid, "denied",
                   "birth date mismatch");
             return Fail(core::InvalidInput("birth_date does not match this patient"));
           }
           auto linked = d.patients.LinkLocalId(rid, facility_id, *local_id, p->user_id);
           if (!linked.ok()) {
             Audit(d, req, "patient.link", "facility:" + std::to_string(facility_id), rid,
                   "failure");
             return Fail(linked);
           }
           Audit(d, req, "patient.link", "facility:" + std::to_string(facility_id), rid);
           return http::JsonResponse(
               201, json::object{{"regional_id", rid},
                                 {"facility_id", facility_id},
                                 {"facility_name", d.facilities.NameOf(facility_id)},
                                 {"local_id", core::Trim(*local_id)}});
         },
         {.body_limit = 16 * 1024});

  r.Delete("/api/v1/patients/:rid/links/:facility_id/:local_id", [&d](Request& req) {
    auto p = RequireStaff(req);
    if (!p) return Fail(p.error());
    std::string rid = req.Param("rid");
    auto facility_id = FacilityParam(req.Param("facility_id"));
    if (!facility_id) return Fail(facility_id.error());
    if (!p->IsNetworkAdmin() && *facility_id != p->facility_id) {
      return Fail(core::Forbidden("you can only unlink your own facility's patient IDs"));
    }
    auto st = d.patients.Unlink(rid, *facility_id, req.Param("local_id"));
    if (!st.ok()) return Fail(st);
    Audit(d, req, "patient.unlink", "facility:" + std::to_string(*facility_id), rid);
    return Response::NoContent();
  });
}

}  // namespace tsunagu::registry
