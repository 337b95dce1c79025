#pragma once
// HTTP routes of the care group's direct messages under /api/v1/care
// (docs/care.md, "Messages, board and schedule"): conversations, their
// messages and the home page's unread counts. Thin handlers: parse, build the
// Actor from the session's principal, call ConversationService (which checks
// membership and consent and writes the audit trail), serialise.
namespace tsunagu::http {
class Router;
}

namespace tsunagu::care {

class ConversationService;

// Borrowed references; they must outlive the router.
struct ConversationDeps {
  ConversationService& conversations;
};

void RegisterConversationRoutes(http::Router& router, ConversationDeps& deps);

}  // namespace tsunagu::care
