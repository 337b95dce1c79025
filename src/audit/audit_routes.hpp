#pragma once
// HTTP routes of the audit module (docs/api.md, "Audit"):
//   GET /api/v1/audit         network_admin: everything (optional filters);
//                             facility_admin: restricted to their facility;
//                             others 403, not logged in 401.
//   GET /api/v1/audit/verify  network_admin: {ok, checked, first_bad_seq?, problem?}
// Viewing the audit log is itself audited ("audit.search", "audit.verify");
// a request whose audit entry cannot be written is refused (500).
//
// Ownership: the handlers keep references to `log`, which must outlive the
// router. `user_name_lookup` (may be empty) fills in user_name for entries
// recorded without one.
#include <cstdint>
#include <functional>
#include <string>

#include "audit/audit_log.hpp"
#include "http/router.hpp"

namespace tsunagu::audit {

void RegisterAuditRoutes(http::Router& router, AuditLog& log,
                         std::function<std::string(int64_t user_id)> user_name_lookup);

}  // namespace tsunagu::audit
