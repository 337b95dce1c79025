#include "clinical/clinical_routes.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "clinical/timeline_service.hpp"
#include "http/json.hpp"
#include "http/router.hpp"

namespace tsunagu::clinical {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

Response Fail(const core::Status& s) { return Response::Error(s); }

core::Result<ReadContext> ReaderOf(const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  ReadContext reader;
  reader.viewer = {p->user_id, p->facility_id, p->occupation, p->role};
  reader.event = audit::EventFromRequest(req, "clinical.read");
  return reader;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

core::Result<int64_t> ParseId(const std::string& s, const char* name) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) {
    return core::InvalidInput(std::string(name) + " must be a facility id");
  }
  return v;
}

core::Result<TimelineQuery> TimelineQueryOf(const Request& req) {
  TimelineQuery q;
  for (const auto& c : SplitList(req.QueryOr("category"))) {
    auto category = ParseCategory(c);
    if (!category) return core::InvalidInput("category is not a known data category");
    q.categories.push_back(*category);
  }
  for (const auto& f : SplitList(req.QueryOr("facility_id"))) {
    TSUNAGU_ASSIGN_OR_RETURN(int64_t id, ParseId(f, "facility_id"));
    q.source_facilities.push_back(id);
  }
  q.from = req.QueryOr("from");
  q.to = req.QueryOr("to");
  q.cursor = req.QueryOr("cursor");
  if (std::string limit = req.QueryOr("limit"); !limit.empty()) {
    auto [ptr, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), q.limit);
    if (ec != std::errc() || ptr != limit.data() + limit.size()) {
      return core::InvalidInput("limit must be a number");
    }
  }
  return q;
}

json::value OptNumber(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

// The builders take the storage of the document they become part of (a
// page of a timeline is one arena, freed at once).
json::object LabJson(const LabValue& v, json::storage_ptr sp = {}) {
  return json::object({{"value", OptNumber(v.value)},
                       {"value_text", v.value_text},
                       {"unit", v.unit},
                       {"low", OptNumber(v.low)},
                       {"high", OptNumber(v.high)},
                       {"range_text", v.range_text},
                       {"flag", v.flag},
                       {"abnormal", v.abnormal}},
                      std::move(sp));
}

json::object ItemJson(const TimelineItem& item, const json::storage_ptr& sp) {
  json::object summary(sp);
  summary.reserve(item.summary.fields.size());
  for (const auto& [key, value] : item.summary.fields) summary[key] = value;
  json::object o({{"id", item.id},
                  {"resource_type", item.resource_type},
                  {"category", ToString(item.category)},
                  {"effective", item.effective},
                  {"effective_end", item.effective_end},
                  {"display", item.display},
                  {"code_system", item.code_system},
                  {"code", item.code},
                  {"source_facility_id", item.source_facility_id},
                  {"source_facility_name", item.source_facility_name},
                  {"summary", std::move(summary)}},
                 sp);
  if (item.summary.lab) o["lab"] = LabJson(*item.summary.lab, sp);
  if (const auto& m = item.summary.medication) {
    o["medication"] = json::object({{"name", m->name},
                                    {"yj_code", m->yj_code},
                                    {"dose", m->dose},
                                    {"unit", m->unit},
                                    {"frequency", m->frequency},
                                    {"days", m->days},
                                    {"route", m->route},
                                    {"quantity", m->quantity}},
                                   sp);
  }
  return o;
}

json::object PointJson(const LabPoint& p) {
  json::object o = LabJson(p.value);
  o["id"] = p.id;
  o["effective"] = p.effective;
  o["source_facility_id"] = p.source_facility_id;
  o["source_facility_name"] = p.source_facility_name;
  return o;
}

json::object CourseJson(const MedicationCourse& c) {
  return {{"resource_id", c.resource_id},
          {"resource_type", c.resource_type},
          {"facility_id", c.facility_id},
          {"facility_name", c.facility_name},
          {"medication", c.medication},
          {"yj_code", c.yj_code},
          {"start", c.start},
          {"end", c.end}};
}

}  // namespace

void RegisterClinicalRoutes(http::Router& r, ClinicalDeps& d) {
  r.Get("/api/v1/patients/:rid/timeline", [&d](Request& req) {
    auto reader = ReaderOf(req);
    if (!reader) return Fail(reader.error());
    auto query = TimelineQueryOf(req);
    if (!query) return Fail(query.error());
    auto timeline = d.timeline.GetTimeline(*reader, req.Param("rid"), *query);
    if (!timeline) return Fail(timeline.error());
    json::monotonic_resource memory;
    json::storage_ptr sp(&memory);
    json::array allergies(sp), items(sp);
    allergies.reserve(timeline->allergies.size());
    items.reserve(timeline->items.size());
    for (const auto& a : timeline->allergies) allergies.push_back(ItemJson(a, sp));
    for (const auto& i : timeline->items) items.push_back(ItemJson(i, sp));
    return http::JsonResponse(
        200, json::object({{"regional_id", timeline->regional_id},
                           {"allergies", std::move(allergies)},
                           {"items", std::move(items)},
                           {"next_cursor", timeline->next_cursor.empty()
                                               ? json::value(nullptr)
                                               : json::value(timeline->next_cursor)},
                           {"total", timeline->total}},
                          sp));
  });

  r.Get("/api/v1/patients/:rid/labs", [&d](Request& req) {
    auto reader = ReaderOf(req);
    if (!reader) return Fail(reader.error());
    LabQuery q{req.QueryOr("code"), req.QueryOr("from"), req.QueryOr("to")};
    auto labs = d.timeline.GetLabs(*reader, req.Param("rid"), q);
    if (!labs) return Fail(labs.error());
    json::array dates, tests;
    for (const auto& date : labs->dates) dates.emplace_back(date);
    for (const auto& t : labs->tests) {
      json::array cells, series;
      for (const auto& c : t.cells) cells.push_back(c ? json::value(PointJson(*c)) : nullptr);
      for (const auto& p : t.series) series.push_back(PointJson(p));
      tests.push_back(json::object{{"code_system", t.code_system},
                                   {"code", t.code},
                                   {"display", t.display},
                                   {"unit", t.unit},
                                   {"reference_range", json::object{{"low", OptNumber(t.low)},
                                                                    {"high", OptNumber(t.high)},
                                                                    {"text", t.range_text}}},
                                   {"cells", std::move(cells)},
                                   {"series", std::move(series)}});
    }
    return http::JsonResponse(
        200, json::object{{"dates", std::move(dates)}, {"tests", std::move(tests)}});
  });

  r.Get("/api/v1/patients/:rid/medication-warnings", [&d](Request& req) {
    auto reader = ReaderOf(req);
    if (!reader) return Fail(reader.error());
    auto warnings = d.timeline.GetMedicationWarnings(*reader, req.Param("rid"));
    if (!warnings) return Fail(warnings.error());
    json::array items;
    for (const auto& w : *warnings) {
      items.push_back(json::object{{"ingredient", w.ingredient},
                                   {"overlap_start", w.overlap_start},
                                   {"overlap_end", w.overlap_end},
                                   {"message", w.message},
                                   {"first", CourseJson(w.first)},
                                   {"second", CourseJson(w.second)}});
    }
    return http::JsonResponse(200, json::object{{"items", std::move(items)}});
  });

  r.Get("/api/v1/resources/:type/:id", [&d](Request& req) {
    auto reader = ReaderOf(req);
    if (!reader) return Fail(reader.error());
    auto resource = d.timeline.GetResource(*reader, req.Param("type"), req.Param("id"));
    if (!resource) return Fail(resource.error());
    return Response::Json(200, resource->record.json);
  });
}

}  // namespace tsunagu::clinical
