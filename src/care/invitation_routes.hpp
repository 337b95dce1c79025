#pragma once
// HTTP routes of care-group invitations (docs/care.md, "Invitations").
namespace tsunagu::http {
class Router;
}

namespace tsunagu::care {

class CareInvitationService;

struct InvitationDeps {
  CareInvitationService& invitations;
};

void RegisterInvitationRoutes(http::Router& router, InvitationDeps& deps);

}  // namespace tsunagu::care
