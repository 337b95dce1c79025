#pragma once
// `tsunagu audit verify`: checks the audit chain and the latest signed head
// of an opened (and migrated) database with the given signer's public key.
//
// Prints a short report to `out` (no patient data) and returns the process
// exit code: 0 when the log is intact, 1 when it was tampered with (the first
// bad seq and what is wrong are printed), 2 when it could not be read.
#include <ostream>

#include "audit/audit_signer.hpp"
#include "store/database.hpp"

namespace tsunagu::audit {

int RunAuditVerify(store::Database& db, AuditSigner& signer, std::ostream& out);

}  // namespace tsunagu::audit
