#include "care/invitation_service.hpp"

#include <openssl/sha.h>

#include "auth/account_service.hpp"
#include "care/care_service.hpp"
#include "consent/consent_service.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "mail/mailer.hpp"
#include "registry/facility_service.hpp"

namespace tsunagu::care {
namespace {

using store::Value;

constexpr size_t kMaxNameChars = 100;

// Tokens are stored as their SHA-256, so that a copy of the database does
// not hand out live invitation links.
std::string TokenHash(const std::string& token) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), md);
  return core::HexEncode(md, sizeof md);
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string InvitationObject(int64_t id) { return "care_invitation:" + std::to_string(id); }

// Occupations a care group may invite from outside: the care side of the team.
bool InvitableStaff(auth::Occupation o) {
  switch (o) {
    case auth::Occupation::kHomeHelper:
    case auth::Occupation::kCareManager:
    case auth::Occupation::kNurse:
    case auth::Occupation::kVisitingNurse:
    case auth::Occupation::kTherapist:
    case auth::Occupation::kSocialWorker:
    case auth::Occupation::kPharmacist:
    case auth::Occupation::kPhysician:
    case auth::Occupation::kDentist:
    case auth::Occupation::kClerk:
      return true;
    default:
      return false;
  }
}

constexpr const char* kColumns =
    "i.id, i.group_id, g.name, i.inviter_id, i.email, i.display_name, i.occupation, "
    "i.facility_id, i.org_name, i.status, i.created_at, i.expires_at, i.accepted_user_id";

}  // namespace

CareInvitationService::CareInvitationService(store::Database& db, const core::Clock& clock,
                                             CareService& care, auth::AccountService& accounts,
                                             registry::FacilityService& facilities,
                                             const consent::ConsentService& consents,
                                             mail::Mailer& mailer, std::string public_url)
    : db_(db),
      clock_(clock),
      care_(care),
      accounts_(accounts),
      facilities_(facilities),
      consents_(consents),
      mailer_(mailer),
      public_url_(std::move(public_url)) {}

store::MigrationSet CareInvitationService::Migrations() {
  return {"care_invitations", {R"sql(
CREATE TABLE care_invitations (
  id {{ID}},
  group_id BIGINT NOT NULL REFERENCES care_groups (id),
  inviter_id BIGINT NOT NULL,
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  occupation TEXT NOT NULL,
  facility_id BIGINT NOT NULL DEFAULT 0,
  org_name TEXT NOT NULL DEFAULT '',
  org_kana TEXT NOT NULL DEFAULT '',
  org_type TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_user_id BIGINT NOT NULL DEFAULT 0,
  decided_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX care_invitations_group ON care_invitations (group_id, id)
)sql"}};
}

std::string CareInvitationService::LinkFor(const std::string& token) const {
  return public_url_ + "/care/invitations/" + token;
}

core::Result<GroupInvitation> CareInvitationService::Load(std::string_view where,
                                                          const Value& key) const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query(std::string("SELECT ") + kColumns +
                             " FROM care_invitations i JOIN care_groups g ON g.id = i.group_id "
                             "WHERE " +
                             std::string(where),
                         std::span<const Value>(&key, 1)));
  if (rs.empty()) return core::NotFound("invitation not found");
  const store::Row& r = rs.rows[0];
  GroupInvitation inv;
  inv.id = r.Int(0);
  inv.group_id = r.Int(1);
  inv.group_name = r.Text(2);
  inv.inviter_id = r.Int(3);
  inv.email = r.Text(4);
  inv.display_name = r.Text(5);
  inv.occupation = auth::ParseOccupation(r.Text(6)).value_or(auth::Occupation::kHomeHelper);
  inv.facility_id = r.Int(7);
  inv.organization_name = r.Text(8);
  inv.status = r.Text(9);
  inv.created_at = r.Int(10);
  inv.expires_at = r.Int(11);
  inv.accepted_user_id = r.Int(12);
  if (inv.status == "pending" && inv.expires_at <= clock_.NowMillis()) inv.status = "expired";
  if (auto u = accounts_.Get(inv.inviter_id)) {
    inv.inviter_name = u->display_name;
    inv.inviter_facility_name = facilities_.NameOf(u->facility_id);
  }
  return inv;
}

core::Status CareInvitationService::CheckConsent(int64_t patient_id, bool family) const {
  TSUNAGU_ASSIGN_OR_RETURN(
      auto active,
      consents_.ActiveFor(patient_id, family ? consent::Scope::kFamily : consent::Scope::kCareTeam,
                          consents_.Today()));
  for (const auto& c : active) {
    if (family || c.viewer_facility_id == 0) return core::Status::Ok();
  }
  return core::Forbidden(family ? "no active family consent covers this patient"
                                : "no active care-team consent for any facility covers this "
                                  "patient; invite a participating facility's staff instead");
}

core::Result<GroupInvitation> CareInvitationService::Invite(const Actor& actor, int64_t group_id,
                                                            const NewInvitation& in,
                                                            std::string* token_out) {
  const std::string action = "care.invitation.create";
  const std::string group_object = "care_group:" + std::to_string(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access,
                           care_.Authorize(actor, group_id, action, group_object));
  const std::string& rid = access.group.regional_id;
  if (actor.IsFamily()) {
    care_.Record(actor, action, group_object, rid, "denied", "family member");
    return core::Forbidden("family members cannot invite");
  }
  if (access.group.archived()) return core::Conflict("the care group is archived");
  std::string email = core::Trim(in.email);
  std::string name = core::Trim(in.display_name);
  if (!core::LooksLikeEmail(email)) return core::InvalidInput("email must be an e-mail address");
  if (name.empty() || !core::IsValidUtf8(name) || CodePoints(name) > kMaxNameChars) {
    return core::InvalidInput("display_name is required (at most 100 characters)");
  }
  const bool family = in.occupation == auth::Occupation::kFamily;
  std::string org_name = core::Trim(in.organization_name);
  std::string org_kana = core::Trim(in.organization_kana);
  if (!family) {
    if (!InvitableStaff(in.occupation)) return core::InvalidInput("occupation cannot be invited");
    if (in.facility_id != 0) {
      TSUNAGU_RETURN_IF_ERROR(facilities_.Get(in.facility_id).status());
      org_name.clear();
      org_kana.clear();
    } else {
      if (org_name.empty() || org_kana.empty() || CodePoints(org_name) > kMaxNameChars ||
          CodePoints(org_kana) > kMaxNameChars || !core::IsValidUtf8(org_name) ||
          !core::IsValidUtf8(org_kana)) {
        return core::InvalidInput(
            "organization name and kana are required for a business without a facility record");
      }
      if (registry::RequiresInstitutionCode(in.organization_type)) {
        return core::InvalidInput(
            "hospitals, clinics and pharmacies join the network through the participation "
            "application; pick their facility instead");
      }
    }
  }
  if (auto s = CheckConsent(access.group.patient_id, family); !s.ok()) {
    care_.Record(actor, action, group_object, rid, "denied", s.message());
    return s;
  }
  const std::string token = core::RandomToken(32);
  const int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs,
      db_.Query("INSERT INTO care_invitations (group_id, inviter_id, email, display_name, "
                "occupation, facility_id, org_name, org_kana, org_type, token_hash, status, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
                "RETURNING id",
                {Value{group_id}, Value{actor.user_id}, Value{email}, Value{name},
                 Value{std::string(auth::ToString(in.occupation))},
                 Value{family ? int64_t{0} : in.facility_id}, Value{family ? "" : org_name},
                 Value{family ? "" : org_kana},
                 Value{family || in.facility_id != 0
                           ? std::string()
                           : std::string(registry::ToString(in.organization_type))},
                 Value{TokenHash(token)}, Value{now}, Value{now + kValidMillis}}));
  const int64_t id = rs.rows.at(0).Int(0);
  care_.Record(actor, action, InvitationObject(id), rid, "success",
               std::string(auth::ToString(in.occupation)));
  TSUNAGU_ASSIGN_OR_RETURN(GroupInvitation inv, Load("i.id = ?", Value{id}));

  mail::Mail m;
  m.to = email;
  m.subject = "【つなぐ】多職種連携グループへの招待";
  // The group's name usually names the patient: it is shown on the page the
  // link opens, not in the mail (nor in the log when no SMTP server is set).
  m.body = name + " 様\n\n" + inv.inviter_name + " さん（" + inv.inviter_facility_name +
           "）から、つなぐの多職種連携グループへの招待が届きました。\n\n"
           "次のリンクを開き、アカウントを作成して参加してください"
           "（有効期限 7 日間、1 回限り）。\n" +
           LinkFor(token) +
           "\n\nお心当たりのない場合は、このメールを破棄してください。\n\nつなぐ "
           "地域医療連携ネットワーク\n";
  if (auto st = mailer_.Send(m); !st.ok()) {
    core::LogWarn("care.invitation.mail_failed",
                  {{"invitation", std::to_string(id)}, {"error", st.message()}});
  }
  if (token_out) *token_out = token;
  return inv;
}

core::Result<std::vector<GroupInvitation>> CareInvitationService::List(const Actor& actor,
                                                                       int64_t group_id) {
  const std::string action = "care.invitation.list";
  const std::string object = "care_group:" + std::to_string(group_id);
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, group_id, action, object));
  if (actor.IsFamily()) {
    care_.Record(actor, action, object, access.group.regional_id, "denied", "family member");
    return core::Forbidden("family members cannot see invitations");
  }
  TSUNAGU_ASSIGN_OR_RETURN(
      auto rs, db_.Query("SELECT id FROM care_invitations WHERE group_id = ? ORDER BY id DESC",
                         {Value{group_id}}));
  std::vector<GroupInvitation> out;
  for (const auto& r : rs.rows) {
    TSUNAGU_ASSIGN_OR_RETURN(GroupInvitation inv, Load("i.id = ?", Value{r.Int(0)}));
    out.push_back(std::move(inv));
  }
  care_.Record(actor, action, object, access.group.regional_id);
  return out;
}

core::Status CareInvitationService::Revoke(const Actor& actor, int64_t invitation_id) {
  const std::string action = "care.invitation.revoke";
  TSUNAGU_ASSIGN_OR_RETURN(GroupInvitation inv, Load("i.id = ?", Value{invitation_id}));
  TSUNAGU_ASSIGN_OR_RETURN(GroupAccess access, care_.Authorize(actor, inv.group_id, action,
                                                               InvitationObject(invitation_id)));
  if (inv.inviter_id != actor.user_id && access.group.owner_id != actor.user_id) {
    care_.Record(actor, action, InvitationObject(invitation_id), access.group.regional_id, "denied",
                 "not the inviter or owner");
    return core::Forbidden("only the inviter or the group owner can revoke an invitation");
  }
  if (inv.status != "pending") return core::Conflict("the invitation is " + inv.status);
  TSUNAGU_RETURN_IF_ERROR(db_.Execute("UPDATE care_invitations SET status = 'revoked', "
                                      "decided_at = ? WHERE id = ? AND status = 'pending'",
                                      {Value{clock_.NowMillis()}, Value{invitation_id}})
                              .status());
  care_.Record(actor, action, InvitationObject(invitation_id), access.group.regional_id);
  return core::Status::Ok();
}

core::Result<GroupInvitation> CareInvitationService::Lookup(const std::string& token) const {
  if (token.empty() || token.size() > 200) return core::NotFound("invitation not found");
  TSUNAGU_ASSIGN_OR_RETURN(GroupInvitation inv, Load("i.token_hash = ?", Value{TokenHash(token)}));
  if (inv.status != "pending") return core::NotFound("invitation not found");
  return inv;
}

core::Result<GroupInvitation> CareInvitationService::Accept(const std::string& token,
                                                            const Acceptance& acceptance,
                                                            const audit::AuditEvent& event) {
  const std::string action = "care.invitation.accept";
  TSUNAGU_ASSIGN_OR_RETURN(GroupInvitation inv, Lookup(token));
  TSUNAGU_ASSIGN_OR_RETURN(auto raw,
                           db_.Query("SELECT i.org_kana, i.org_type, g.patient_id, g.archived_at "
                                     "FROM care_invitations i JOIN care_groups g ON "
                                     "g.id = i.group_id WHERE i.id = ?",
                                     {Value{inv.id}}));
  const std::string org_kana = raw.rows.at(0).Text(0);
  const std::string org_type = raw.rows.at(0).Text(1);
  const int64_t patient_id = raw.rows.at(0).Int(2);
  if (raw.rows.at(0).Int(3) != 0) return core::Conflict("the care group is archived");
  const bool family = inv.occupation == auth::Occupation::kFamily;
  TSUNAGU_RETURN_IF_ERROR(CheckConsent(patient_id, family));
  TSUNAGU_ASSIGN_OR_RETURN(auth::User inviter, accounts_.Get(inv.inviter_id));
  TSUNAGU_RETURN_IF_ERROR(auth::AccountService::CheckPasswordPolicy(
      acceptance.password, acceptance.login_id, /*has_second_factor=*/false));

  // Claim the token first, so that two acceptances cannot both go through.
  const int64_t now = clock_.NowMillis();
  TSUNAGU_ASSIGN_OR_RETURN(
      int64_t claimed,
      db_.Execute("UPDATE care_invitations SET status = 'accepting', decided_at = ? "
                  "WHERE id = ? AND status = 'pending' AND expires_at > ?",
                  {Value{now}, Value{inv.id}, Value{now}}));
  if (claimed != 1) return core::NotFound("invitation not found");
  auto release = [&] {
    (void)db_.Execute("UPDATE care_invitations SET status = 'pending' WHERE id = ?",
                      {Value{inv.id}});
  };

  Actor by_inviter;
  by_inviter.user_id = inviter.id;
  by_inviter.facility_id = inviter.facility_id;
  by_inviter.occupation = inviter.occupation;
  by_inviter.event = event;
  by_inviter.event.user_id = inviter.id;
  by_inviter.event.facility_id = inviter.facility_id;
  // The inviter must still be a staff member of the group.
  auto access = care_.Authorize(by_inviter, inv.group_id, action, InvitationObject(inv.id));
  if (!access) {
    release();
    return core::Conflict("the person who invited you is no longer a member of the group");
  }

  int64_t facility_id = family ? inviter.facility_id : inv.facility_id;
  if (!family && facility_id == 0) {
    TSUNAGU_ASSIGN_OR_RETURN(registry::Facility home, facilities_.Get(inviter.facility_id));
    registry::Facility f;
    f.type = registry::ParseFacilityType(org_type).value_or(
        registry::FacilityType::kHomeCareSupportOffice);
    f.name = inv.organization_name;
    f.kana = org_kana;
    f.area = home.area;
    f.services = {"多職種連携グループへの招待で参加"};
    auto created = facilities_.Create(f);
    if (!created) {
      release();
      return created.error();
    }
    facility_id = created->id;
  }
  auth::NewUser nu;
  nu.facility_id = facility_id;
  nu.login_id = acceptance.login_id;
  nu.display_name = inv.display_name;
  nu.kana = acceptance.kana;
  nu.email = inv.email;
  nu.occupation = inv.occupation;
  nu.role = auth::Role::kStaff;
  nu.password = acceptance.password;
  nu.must_change_password = false;
  auto user = accounts_.Create(nu);
  if (!user) {
    release();
    return user.error();
  }
  auto member = care_.AddMember(by_inviter, inv.group_id, user->id);
  if (!member) {
    auth::UserPatch disable;
    disable.disabled = true;
    (void)accounts_.Update(user->id, disable);
    release();
    return member.error();
  }
  TSUNAGU_RETURN_IF_ERROR(db_.Execute("UPDATE care_invitations SET status = 'accepted', "
                                      "accepted_user_id = ? WHERE id = ?",
                                      {Value{user->id}, Value{inv.id}})
                              .status());
  Actor invitee;
  invitee.user_id = user->id;
  invitee.facility_id = facility_id;
  invitee.occupation = inv.occupation;
  invitee.event = event;
  care_.Record(invitee, action, InvitationObject(inv.id), access->group.regional_id);
  inv.status = "accepted";
  inv.accepted_user_id = user->id;
  inv.facility_id = facility_id;
  return inv;
}

}  // namespace tsunagu::care
