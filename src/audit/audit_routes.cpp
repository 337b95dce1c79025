#include "audit/audit_routes.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "audit/internal/time_param.hpp"
#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "core/clock.hpp"
#include "http/json.hpp"

namespace tsunagu::audit {
namespace {

namespace json = boost::json;

core::Result<std::optional<int64_t>> IntParam(const http::Request& request, std::string_view key,
                                              int64_t min, int64_t max) {
  auto it = request.query.find(key);
  if (it == request.query.end() || it->second.empty()) return std::optional<int64_t>();
  const std::string& text = it->second;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return core::InvalidInput(std::string(key) + " must be an integer between " +
                              std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<int64_t>(value);
}

core::Result<std::optional<int64_t>> TimeParam(const http::Request& request, std::string_view key,
                                               internal::Bound bound) {
  auto it = request.query.find(key);
  if (it == request.query.end() || it->second.empty()) return std::optional<int64_t>();
  auto millis = internal::ParseAuditTime(it->second, bound);
  if (!millis) {
    return core::InvalidInput(std::string(key) +
                              " must be a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM[:SS])");
  }
  return std::optional<int64_t>(*millis);
}

core::Result<AuditQuery> ParseQuery(const http::Request& request) {
  constexpr int64_t kMaxId = INT64_MAX;
  AuditQuery q;
  TSUNAGU_ASSIGN_OR_RETURN(q.user_id, IntParam(request, "user_id", 0, kMaxId));
  TSUNAGU_ASSIGN_OR_RETURN(q.facility_id, IntParam(request, "facility_id", 0, kMaxId));
  TSUNAGU_ASSIGN_OR_RETURN(q.from, TimeParam(request, "from", internal::Bound::kLower));
  TSUNAGU_ASSIGN_OR_RETURN(q.to, TimeParam(request, "to", internal::Bound::kUpper));
  if (q.from && q.to && *q.from > *q.to) return core::InvalidInput("from must not be after to");
  TSUNAGU_ASSIGN_OR_RETURN(auto limit, IntParam(request, "limit", 1, AuditLog::kMaxLimit));
  TSUNAGU_ASSIGN_OR_RETURN(auto offset, IntParam(request, "offset", 0, INT32_MAX));
  q.limit = static_cast<int>(limit.value_or(50));
  q.offset = static_cast<int>(offset.value_or(0));
  if (auto p = request.query.find("patient_id"); p != request.query.end() && !p->second.empty()) {
    q.patient_id = p->second;
  }
  if (auto a = request.query.find("action"); a != request.query.end() && !a->second.empty()) {
    q.action = a->second;
  }
  return q;
}

// What was searched, for the reason of the audit.search entry (ids only).
std::string DescribeQuery(const AuditQuery& q) {
  std::string out;
  auto add = [&out](std::string_view key, const std::string& value) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += value;
  };
  if (q.user_id) add("user_id", std::to_string(*q.user_id));
  if (q.facility_id) add("facility_id", std::to_string(*q.facility_id));
  if (q.action) add("action", *q.action);
  if (q.from) add("from", core::FormatIsoUtc(*q.from));
  if (q.to) add("to", core::FormatIsoUtc(*q.to));
  add("limit", std::to_string(q.limit));
  add("offset", std::to_string(q.offset));
  return out;
}

json::object EventJson(const AuditEvent& e) {
  json::object o;
  o["seq"] = e.seq;
  o["time"] = core::FormatIsoUtc(e.time);
  o["user_id"] = e.user_id;
  o["user_name"] = e.user_name;
  o["facility_id"] = e.facility_id;
  o["occupation"] = e.occupation;
  o["action"] = e.action;
  o["patient_id"] = e.patient_id;
  o["object"] = e.object;
  o["outcome"] = e.outcome;
  o["client_address"] = e.client_address;
  o["reason"] = e.reason;
  return o;
}

// Records a refused attempt; the refusal stands whether or not this succeeds.
void RecordDenied(AuditLog& log, const http::Request& request, std::string action) {
  (void)log.Append(EventFromRequest(request, std::move(action), "denied"));
}

http::Response HandleSearch(AuditLog& log,
                            const std::function<std::string(int64_t)>& user_name_lookup,
                            http::Request& request) {
  const auth::Principal* principal = auth::CurrentPrincipal(request);
  if (principal == nullptr) return http::Response::Error(core::Unauthenticated("login required"));
  const bool network_admin = principal->IsNetworkAdmin();
  if (!network_admin && principal->role != auth::Role::kFacilityAdmin) {
    RecordDenied(log, request, "audit.search");
    return http::Response::Error(core::Forbidden("only administrators may view the audit log"));
  }
  auto query = ParseQuery(request);
  if (!query) return http::Response::Error(query.error());
  if (!network_admin) query->facility_id = principal->facility_id;

  auto page = log.Find(*query);
  if (!page) return http::Response::Error(page.error());

  AuditEvent self = EventFromRequest(request, "audit.search");
  self.object = "audit";
  self.patient_id = query->patient_id.value_or("");
  self.reason = DescribeQuery(*query);
  if (auto appended = log.Append(std::move(self)); !appended) {
    return http::Response::Error(appended.error());
  }

  std::map<int64_t, std::string> names;  // one lookup per user per request
  json::array items;
  items.reserve(page->items.size());
  for (AuditEvent& e : page->items) {
    if (e.user_name.empty() && e.user_id != 0 && user_name_lookup) {
      auto [it, inserted] = names.try_emplace(e.user_id);
      if (inserted) it->second = user_name_lookup(e.user_id);
      e.user_name = it->second;
    }
    items.push_back(EventJson(e));
  }
  json::object body;
  body["items"] = std::move(items);
  body["total"] = page->total;
  return http::JsonResponse(200, body);
}

http::Response HandleVerify(AuditLog& log, http::Request& request) {
  const auth::Principal* principal = auth::CurrentPrincipal(request);
  if (principal == nullptr) return http::Response::Error(core::Unauthenticated("login required"));
  if (!principal->IsNetworkAdmin()) {
    RecordDenied(log, request, "audit.verify");
    return http::Response::Error(
        core::Forbidden("only the network secretariat may verify the audit log"));
  }
  VerifyReport report = log.Verify();

  AuditEvent self = EventFromRequest(request, "audit.verify");
  self.object = "audit";
  self.reason = report.ok ? "intact, " + std::to_string(report.checked) + " entries"
                          : "problem found: " + report.problem;
  if (auto appended = log.Append(std::move(self)); !appended) {
    return http::Response::Error(appended.error());
  }

  json::object body;
  body["ok"] = report.ok;
  body["checked"] = report.checked;
  if (report.first_bad_seq) body["first_bad_seq"] = *report.first_bad_seq;
  if (!report.problem.empty()) body["problem"] = report.problem;
  return http::JsonResponse(200, body);
}

}  // namespace

void RegisterAuditRoutes(http::Router& router, AuditLog& log,
                         std::function<std::string(int64_t user_id)> user_name_lookup) {
  router.Get("/api/v1/audit", [&log, lookup = std::move(user_name_lookup)](http::Request& req) {
    return HandleSearch(log, lookup, req);
  });
  router.Get("/api/v1/audit/verify", [&log](http::Request& req) { return HandleVerify(log, req); });
}

}  // namespace tsunagu::audit
