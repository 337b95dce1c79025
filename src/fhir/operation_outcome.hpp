#pragma once
// FHIR OperationOutcome: how every error of the FHIR API is answered.
// Pure functions; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::fhir {

struct Issue {
  std::string severity = "error";  // fatal | error | warning | information
  std::string code;                // FHIR issue type: invalid, not-found, forbidden, ...
  std::string diagnostics;         // plain text for the integrator (no patient data)
  std::string expression;          // FHIRPath of the element at fault, or ""
};

// The FHIR issue type and HTTP status of a core::Status.
std::string_view IssueCodeFor(core::Code code);
int HttpStatusFor(const core::Status& status);

std::string OperationOutcomeJson(const std::vector<Issue>& issues);
// One issue from a status (its external message; never the detail).
std::string OperationOutcomeJson(const core::Status& status);

}  // namespace tsunagu::fhir
