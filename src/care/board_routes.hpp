#pragma once
// HTTP routes of the care group's bulletin board and shared schedule under
// /api/v1/care (docs/care.md, "Messages, board and schedule"). Thin
// handlers: parse, build the Actor from the session's principal, call
// BoardService / ScheduleService (which check membership and consent and
// write the audit trail), serialise.
namespace tsunagu::http {
class Router;
}

namespace tsunagu::care {

class BoardService;
class ScheduleService;

// Borrowed references; they must outlive the router.
struct BoardDeps {
  BoardService& board;
  ScheduleService& schedule;
};

void RegisterBoardRoutes(http::Router& router, BoardDeps& deps);

}  // namespace tsunagu::care
