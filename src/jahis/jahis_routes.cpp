#include "jahis/jahis_routes.hpp"

#include <boost/json.hpp>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "http/json.hpp"
#include "http/router.hpp"
#include "jahis/dispensing_import.hpp"

namespace tsunagu::jahis {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

// The body limit of the route: the file plus room for a multipart-free
// upload's slack; the service applies kMaxNotebookBytes itself.
constexpr size_t kBodyLimit = kMaxNotebookBytes + 64 * 1024;

bool AcceptedContentType(const Request& req) {
  auto type = req.Header("content-type");
  if (!type || type->empty()) return true;
  std::string t(type->substr(0, type->find(';')));
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t == "text/csv" || t == "text/plain" || t == "application/octet-stream" ||
         t == "application/vnd.ms-excel";
}

json::object MedicationJson(const ImportedMedication& m) {
  return {{"line", m.line},
          {"rp", m.rp},
          {"name", m.name},
          {"code_type", m.code_type},
          {"code", m.code},
          {"yj_code", m.yj_code},
          {"dose", m.dose},
          {"unit", m.unit},
          {"usage", m.usage},
          {"quantity", m.quantity},
          {"quantity_unit", m.quantity_unit},
          {"dosage_form", m.dosage_form},
          {"start", m.start},
          {"end", m.end}};
}

// As GET /api/v1/patients/:rid/medication-warnings writes a course.
json::object CourseJson(const clinical::MedicationCourse& c) {
  return {{"resource_id", c.resource_id},
          {"resource_type", c.resource_type},
          {"facility_id", c.facility_id},
          {"facility_name", c.facility_name},
          {"medication", c.medication},
          {"yj_code", c.yj_code},
          {"start", c.start},
          {"end", c.end}};
}

json::object SummaryJson(const ImportSummary& s) {
  json::array events;
  for (const ImportedEvent& e : s.events) {
    json::array medications;
    for (const ImportedMedication& m : e.medications) medications.push_back(MedicationJson(m));
    events.push_back(json::object{
        {"line", e.line},
        {"date", e.date},
        {"pharmacy", json::object{{"name", e.pharmacy_name}, {"code", e.pharmacy_code}}},
        {"pharmacist", e.pharmacist},
        {"prescriber", json::object{{"name", e.prescriber_name},
                                    {"code", e.prescriber_code},
                                    {"doctor", e.doctor},
                                    {"department", e.department}}},
        {"medications", std::move(medications)}});
  }
  json::array problems;
  for (const ParseWarning& w : s.warnings) {
    problems.push_back(json::object{{"line", w.line}, {"message", w.message}});
  }
  json::array warnings;
  for (const auto& w : s.medication_warnings) {
    warnings.push_back(json::object{{"ingredient", w.ingredient},
                                    {"overlap_start", w.overlap_start},
                                    {"overlap_end", w.overlap_end},
                                    {"message", w.message},
                                    {"first", CourseJson(w.first)},
                                    {"second", CourseJson(w.second)}});
  }
  return {{"regional_id", s.regional_id},
          {"dry_run", s.dry_run},
          {"encoding", s.encoding},
          {"events", std::move(events)},
          {"medications", s.medications},
          {"inserted", s.stats.inserted},
          {"updated", s.stats.updated},
          {"unchanged", s.stats.unchanged},
          {"older_ignored", s.stats.older_ignored},
          {"problems", std::move(problems)},
          {"medication_warnings", std::move(warnings)}};
}

}  // namespace

void RegisterJahisRoutes(http::Router& r, JahisDeps& d) {
  http::RouteOptions upload;
  upload.body_limit = kBodyLimit;
  r.Post(
      "/api/v1/patients/:rid/dispensings",
      [&d](Request& req) {
        const auth::Principal* p = auth::CurrentPrincipal(req);
        if (!p) return Response::Error(core::Unauthenticated("login required"));
        if (!AcceptedContentType(req)) {
          return Response::Error(core::InvalidInput(
              "send the notebook file as text/csv, text/plain or application/octet-stream"));
        }
        const std::string dry = req.QueryOr("dry_run");
        if (!dry.empty() && dry != "true" && dry != "false" && dry != "1" && dry != "0") {
          return Response::Error(core::InvalidInput("dry_run must be true or false"));
        }
        clinical::ReadContext writer;
        writer.viewer = {p->user_id, p->facility_id, p->occupation, p->role};
        writer.event = audit::EventFromRequest(req, "dispensing.import");
        ImportOptions options;
        options.dry_run = dry == "true" || dry == "1";
        auto summary = d.import.Import(writer, req.Param("rid"), req.body, options);
        if (!summary) return Response::Error(summary.error());
        return http::JsonResponse(options.dry_run ? 200 : 201, SummaryJson(*summary));
      },
      upload);
}

}  // namespace tsunagu::jahis
