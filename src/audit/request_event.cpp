#include "audit/request_event.hpp"

#include "auth/principal_context.hpp"

namespace tsunagu::audit {
namespace {

// The occupation names of docs/api.md. Kept here because the audit library
// sits below auth and must not link it.
std::string OccupationName(auth::Occupation o) {
  switch (o) {
    case auth::Occupation::kPhysician:
      return "physician";
    case auth::Occupation::kDentist:
      return "dentist";
    case auth::Occupation::kPharmacist:
      return "pharmacist";
    case auth::Occupation::kNurse:
      return "nurse";
    case auth::Occupation::kVisitingNurse:
      return "visiting_nurse";
    case auth::Occupation::kCareManager:
      return "care_manager";
    case auth::Occupation::kHomeHelper:
      return "home_helper";
    case auth::Occupation::kTherapist:
      return "therapist";
    case auth::Occupation::kSocialWorker:
      return "social_worker";
    case auth::Occupation::kClerk:
      return "clerk";
    case auth::Occupation::kEms:
      return "ems";
    case auth::Occupation::kFamily:
      return "family";
  }
  return "";
}

}  // namespace

AuditEvent EventFromRequest(const http::Request& request, std::string action, std::string outcome) {
  AuditEvent e;
  e.action = std::move(action);
  e.outcome = std::move(outcome);
  e.client_address = request.client_address;
  if (const auth::Principal* p = auth::CurrentPrincipal(request)) {
    e.user_id = p->user_id;
    e.user_name = p->display_name;
    e.facility_id = p->facility_id;
    e.occupation = OccupationName(p->occupation);
  }
  return e;
}

void RecordRequest(AuditLog& log, const http::Request& request, std::string action,
                   std::string object, std::string patient_id, std::string outcome,
                   std::string reason) {
  AuditEvent e = EventFromRequest(request, std::move(action), std::move(outcome));
  e.object = std::move(object);
  e.patient_id = std::move(patient_id);
  e.reason = std::move(reason);
  (void)log.Append(std::move(e));
}

}  // namespace tsunagu::audit
