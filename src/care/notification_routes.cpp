#include "care/notification_routes.hpp"

#include <boost/json.hpp>

#include "auth/account_service.hpp"
#include "auth/principal_context.hpp"
#include "care/notification_settings.hpp"
#include "http/json.hpp"
#include "http/router.hpp"

namespace tsunagu::care {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr char kPath[] = "/api/v1/care/notification-settings";

// The caller's setting and whether mail can reach them at all.
Response SettingsResponse(NotificationDeps& d, const auth::Principal& p) {
  auto user = d.accounts.Get(p.user_id);
  if (!user) return Response::Error(user.error());
  auto mode = d.settings.Get(p.user_id, p.occupation);
  if (!mode) return Response::Error(mode.error());
  return http::JsonResponse(
      200, json::object{{"email", ToString(*mode)}, {"address_known", !user->email.empty()}});
}

}  // namespace

void RegisterNotificationRoutes(http::Router& r, NotificationDeps& d) {
  r.Get(kPath, [&d](Request& req) {
    const auth::Principal* p = auth::CurrentPrincipal(req);
    if (!p) return Response::Error(core::Unauthenticated("login required"));
    return SettingsResponse(d, *p);
  });

  r.Put(kPath,
        [&d](Request& req) {
          const auth::Principal* p = auth::CurrentPrincipal(req);
          if (!p) return Response::Error(core::Unauthenticated("login required"));
          auto body = http::ParseJsonObject(req.body);
          if (!body) return Response::Error(body.error());
          auto email = http::RequireString(*body, "email");
          if (!email) return Response::Error(email.error());
          auto mode = ParseEmailMode(*email);
          if (!mode)
            return Response::Error(core::InvalidInput("email must be immediate, digest or off"));
          if (auto s = d.settings.Set(p->user_id, *mode); !s.ok()) return Response::Error(s);
          return SettingsResponse(d, *p);
        },
        {.body_limit = 1024});
}

}  // namespace tsunagu::care
