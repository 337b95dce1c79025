#include "care/internal/route_support.hpp"

#include <string>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "core/clock.hpp"

namespace tsunagu::care::internal {

core::Result<Actor> ActorOf(const http::Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  Actor a;
  a.user_id = p->user_id;
  a.facility_id = p->facility_id;
  a.occupation = p->occupation;
  a.event = audit::EventFromRequest(req, "care");
  return a;
}

core::Result<int64_t> IdParam(const http::Request& req, std::string_view key,
                              std::string_view what) {
  std::string s = req.Param(key);
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return core::NotFound(std::string(what) + " not found");
  }
  return std::stoll(s);
}

boost::json::value TimeJson(int64_t millis) {
  return millis ? boost::json::value(core::FormatIsoUtc(millis)) : boost::json::value(nullptr);
}

}  // namespace tsunagu::care::internal
