#include "audit/verify_command.hpp"

#include "audit/audit_log.hpp"
#include "core/clock.hpp"

namespace tsunagu::audit {

int RunAuditVerify(store::Database& db, AuditSigner& signer, std::ostream& out) {
  AuditLog log(db, core::SystemClock::Instance(), signer);
  VerifyReport report = log.Verify();
  auto head = log.LatestSignedHead();
  out << "public key:      " << signer.PublicKeyHex() << "\n";
  out << "entries checked: " << report.checked << "\n";
  if (head && *head) {
    out << "last signed head: entry " << (*head)->seq << " at "
        << core::FormatIsoUtc((*head)->signed_at) << "\n";
  } else if (head) {
    out << "last signed head: none\n";
  }
  if (report.ok) {
    out << "result:          OK, the audit log is intact\n";
    return 0;
  }
  if (!report.first_bad_seq) {
    out << "result:          ERROR, " << report.problem << "\n";
    return 2;
  }
  out << "result:          TAMPERED\n";
  out << "first bad seq:   " << *report.first_bad_seq << "\n";
  out << "problem:         " << report.problem << "\n";
  return 1;
}

}  // namespace tsunagu::audit
