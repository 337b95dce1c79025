#pragma once
// Builds an AuditEvent for an HTTP request: who (the authenticated principal,
// or anonymous), from where (client address), doing what. Route handlers of
// every module use it so that audit entries look alike:
//
//   auto e = audit::EventFromRequest(request, "patient.read");
//   e.patient_id = id;
//   audit_log.Append(std::move(e));
//
// Thread-safety: pure function.
#include <string>
#include <string_view>

#include "audit/audit_log.hpp"
#include "http/message.hpp"

namespace tsunagu::audit {

// user_id, user_name (display name), facility_id and occupation come from
// auth::CurrentPrincipal(request) when logged in (0 / "" otherwise);
// client_address from the request; outcome defaults to "success".
AuditEvent EventFromRequest(const http::Request& request, std::string action,
                            std::string outcome = "success");

// Appends the request's event with object, patient and reason filled in.
// Best effort for route handlers: a failed append is logged by the log itself.
void RecordRequest(AuditLog& log, const http::Request& request, std::string action,
                   std::string object, std::string patient_id = {}, std::string outcome = "success",
                   std::string reason = {});

}  // namespace tsunagu::audit
