#pragma once
// Invitations into a care group by e-mail (docs/care.md, "Invitations"): a
// staff member of the group invites a family member of the patient, or a
// person of a care business that has no account yet (a home helper of a
// business that does not take part in the network). The invitee receives a
// link, sets a login and password, and becomes a member of the group: the
// account is created only then, at the inviting side's request.
//
// Rules:
//  - Only staff members (not family) of an active group invite. A family
//    invitation needs an active family consent for the patient, a staff one an
//    active care-team consent for any facility (the invitee's business is not
//    a linked facility), checked at invitation and again at acceptance.
//  - A family member's account belongs to the inviter's facility with the
//    occupation "family" (no clinical permission anywhere; they see only what
//    the team publishes to the family). A staff invitee's account belongs to
//    an existing facility (facility_id) or to a new facility record of their
//    business (organization: name, kana, type without an institution code),
//    created at acceptance in the inviter's secondary medical area.
//  - The link is valid for 7 days and once; the token is stored hashed. The
//    inviter (or the group owner) may revoke a pending invitation. The mail
//    names the inviter and their facility and carries the link; not the
//    group, whose name usually names the patient (the link's page shows it).
//  - Accepting adds the new user as a member in the inviter's name (the
//    inviter must still be a member; otherwise Conflict).
// Audit: care.invitation.create|revoke|list|accept with object
// care_invitation:<id> and the patient's regional ID.
// Errors: InvalidInput (bad e-mail, occupation, name, password by policy,
// login taken -> Conflict), NotFound (unknown group or token; used, revoked
// or expired tokens are NotFound too), Forbidden (not a staff member, no
// consent), Conflict (archived group, already accepted).
// Thread-safety: stateless over the Database; safe to share.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/types.hpp"
#include "care/types.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "registry/types.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::auth {
class AccountService;
}
namespace tsunagu::registry {
class FacilityService;
}
namespace tsunagu::mail {
class Mailer;
}
namespace tsunagu::consent {
class ConsentService;
}

namespace tsunagu::care {

class CareService;

struct NewInvitation {
  std::string email;
  std::string display_name;  // the invitee's name, 1-100 characters
  auth::Occupation occupation = auth::Occupation::kHomeHelper;
  int64_t facility_id = 0;  // staff: an existing facility, or 0 with `organization`
  std::string organization_name;
  std::string organization_kana;
  registry::FacilityType organization_type = registry::FacilityType::kHomeCareSupportOffice;
};

struct GroupInvitation {
  int64_t id = 0;
  int64_t group_id = 0;
  std::string group_name;
  int64_t inviter_id = 0;
  std::string inviter_name;
  std::string inviter_facility_name;
  std::string email;
  std::string display_name;
  auth::Occupation occupation = auth::Occupation::kHomeHelper;
  int64_t facility_id = 0;
  std::string organization_name;
  std::string status;  // pending | accepted | revoked | expired
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t accepted_user_id = 0;
};

struct Acceptance {
  std::string login_id;
  std::string password;
  std::string kana;
};

class CareInvitationService {
 public:
  static constexpr int64_t kValidMillis = 7LL * 24 * 3600 * 1000;

  CareInvitationService(store::Database& db, const core::Clock& clock, CareService& care,
                        auth::AccountService& accounts, registry::FacilityService& facilities,
                        const consent::ConsentService& consents, mail::Mailer& mailer,
                        std::string public_url);
  static store::MigrationSet Migrations();

  // Stores the invitation and mails the link. `token_out` (tests, the log
  // mailer) receives the token. Mail failures are logged; the invitation
  // stays and can be re-sent by inviting again.
  core::Result<GroupInvitation> Invite(const Actor& actor, int64_t group_id,
                                       const NewInvitation& invitation,
                                       std::string* token_out = nullptr);
  // The group's invitations (staff members only), newest first.
  core::Result<std::vector<GroupInvitation>> List(const Actor& actor, int64_t group_id);
  core::Status Revoke(const Actor& actor, int64_t invitation_id);
  // What the invitee sees before accepting (no login).
  core::Result<GroupInvitation> Lookup(const std::string& token) const;
  // Creates the account (and facility), adds the member, consumes the token.
  core::Result<GroupInvitation> Accept(const std::string& token, const Acceptance& acceptance,
                                       const audit::AuditEvent& event);

 private:
  core::Result<GroupInvitation> Load(std::string_view where, const store::Value& key) const;
  std::string LinkFor(const std::string& token) const;
  core::Status CheckConsent(int64_t patient_id, bool family) const;

  store::Database& db_;
  const core::Clock& clock_;
  CareService& care_;
  auth::AccountService& accounts_;
  registry::FacilityService& facilities_;
  const consent::ConsentService& consents_;
  mail::Mailer& mailer_;
  std::string public_url_;
};

}  // namespace tsunagu::care
