#pragma once
// HTTP routes of the care SNS notification settings (docs/care.md,
// "Notifications"):
//   GET /api/v1/care/notification-settings -> {"email": mode, "address_known": bool}
//   PUT /api/v1/care/notification-settings {"email": "immediate"|"digest"|"off"} -> same
// Thin handlers over NotificationSettings; the caller is the session's user.
namespace tsunagu::http {
class Router;
}
namespace tsunagu::auth {
class AccountService;
}

namespace tsunagu::care {

class NotificationSettings;

// Borrowed references; they must outlive the router.
struct NotificationDeps {
  NotificationSettings& settings;
  auth::AccountService& accounts;
};

void RegisterNotificationRoutes(http::Router& router, NotificationDeps& deps);

}  // namespace tsunagu::care
