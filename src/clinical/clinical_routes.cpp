#include "clinical/clinical_routes.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "clinical/timeline_service.hpp"
#include "http/json.hpp"
#include "http/json_writer.hpp"
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

void WriteOptNumber(http::JsonWriter& w, const std::optional<double>& v) {
  if (v) {
    w.Number(*v);
  } else {
    w.Null();
  }
}

// A lab value's members as the API shows them (docs/api.md).
void WriteLabMembers(http::JsonWriter& w, const LabValue& v) {
  w.Key("value");
  WriteOptNumber(w, v.value);
  w.Key("value_text").String(v.value_text).Key("unit").String(v.unit).Key("low");
  WriteOptNumber(w, v.low);
  w.Key("high");
  WriteOptNumber(w, v.high);
  w.Key("range_text")
      .String(v.range_text)
      .Key("flag")
      .String(v.flag)
      .Key("abnormal")
      .Bool(v.abnormal);
}

json::object LabJson(const LabValue& v) {
  http::JsonWriter w;
  w.BeginObject();
  WriteLabMembers(w, v);
  w.EndObject();
  return json::parse(w.Take()).as_object();
}

// A timeline item as docs/api.md shows it, written straight into the
// response (a page is up to a few hundred items).
void WriteItem(http::JsonWriter& w, const TimelineItem& item) {
  w.BeginObject()
      .Key("id")
      .String(item.id)
      .Key("resource_type")
      .String(item.resource_type)
      .Key("category")
      .String(ToString(item.category))
      .Key("effective")
      .String(item.effective)
      .Key("effective_end")
      .String(item.effective_end)
      .Key("display")
      .String(item.display)
      .Key("code_system")
      .String(item.code_system)
      .Key("code")
      .String(item.code)
      .Key("source_facility_id")
      .Int(item.source_facility_id)
      .Key("source_facility_name")
      .String(item.source_facility_name);
  w.Key("summary")
      .BeginObject()
      .StringMembers(
          item.summary.fields,
          [](const std::pair<std::string, std::string>& f) -> std::string_view { return f.first; },
          [](const std::pair<std::string, std::string>& f) -> std::string_view { return f.second; })
      .EndObject();
  if (const auto& l = item.summary.lab) {
    w.Key("lab").BeginObject();
    WriteLabMembers(w, *l);
    w.EndObject();
  }
  if (const auto& m = item.summary.medication) {
    w.Key("medication")
        .BeginObject()
        .Key("name")
        .String(m->name)
        .Key("yj_code")
        .String(m->yj_code)
        .Key("dose")
        .String(m->dose)
        .Key("unit")
        .String(m->unit)
        .Key("frequency")
        .String(m->frequency)
        .Key("days")
        .String(m->days)
        .Key("route")
        .String(m->route)
        .Key("quantity")
        .String(m->quantity)
        .EndObject();
  }
  w.EndObject();
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
    http::JsonWriter w(1024 + 600 * (timeline->allergies.size() + timeline->items.size()));
    w.BeginObject().Key("regional_id").String(timeline->regional_id);
    w.Key("allergies").BeginArray();
    for (const auto& a : timeline->allergies) WriteItem(w, a);
    w.EndArray().Key("items").BeginArray();
    for (const auto& i : timeline->items) WriteItem(w, i);
    w.EndArray().Key("next_cursor");
    if (timeline->next_cursor.empty()) {
      w.Null();
    } else {
      w.String(timeline->next_cursor);
    }
    w.Key("total").Int(timeline->total).EndObject();
    return Response::Json(200, w.Take());
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
