#include "fhir/operation_outcome.hpp"

#include <boost/json.hpp>

namespace tsunagu::fhir {

std::string_view IssueCodeFor(core::Code code) {
  switch (code) {
    case core::Code::kOk:
      return "informational";
    case core::Code::kInvalidInput:
      return "invalid";
    case core::Code::kNotFound:
      return "not-found";
    case core::Code::kConflict:
      return "conflict";
    case core::Code::kUnauthenticated:
      return "login";
    case core::Code::kForbidden:
      return "forbidden";
    case core::Code::kUnavailable:
      return "transient";
    case core::Code::kTooLarge:
      return "too-costly";
    case core::Code::kInternal:
      break;
  }
  return "exception";
}

int HttpStatusFor(const core::Status& status) {
  switch (status.code()) {
    case core::Code::kOk:
      return 200;
    case core::Code::kInvalidInput:
      return 400;
    case core::Code::kNotFound:
      return 404;
    case core::Code::kConflict:
      return 409;
    case core::Code::kUnauthenticated:
      return 401;
    case core::Code::kForbidden:
      return 403;
    case core::Code::kUnavailable:
      return 503;
    case core::Code::kTooLarge:
      return 413;
    case core::Code::kInternal:
      break;
  }
  return 500;
}

std::string OperationOutcomeJson(const std::vector<Issue>& issues) {
  boost::json::array list;
  for (const auto& i : issues) {
    boost::json::object o{{"severity", i.severity}, {"code", i.code}};
    if (!i.diagnostics.empty()) o["diagnostics"] = i.diagnostics;
    if (!i.expression.empty())
      o["expression"] = boost::json::array{boost::json::value(i.expression)};
    list.push_back(std::move(o));
  }
  return boost::json::serialize(
      boost::json::object{{"resourceType", "OperationOutcome"}, {"issue", std::move(list)}});
}

std::string OperationOutcomeJson(const core::Status& status) {
  Issue issue;
  issue.code = std::string(IssueCodeFor(status.code()));
  issue.diagnostics = status.message();
  return OperationOutcomeJson(std::vector<Issue>{issue});
}

}  // namespace tsunagu::fhir
