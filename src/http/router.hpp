#pragma once
// A small router with path parameters ("/api/v1/patients/:id"), a trailing
// wildcard ("/fhir/*rest" binds the rest of the path, possibly empty, to
// "rest") and middleware. Literal segments win over ":param" over "*rest";
// a trailing slash is ignored; HEAD falls back to the GET route. Handlers are synchronous and run
// on a server worker thread; they may block briefly on the database. Thread-safety: routes are
// registered before Server::Run and are read-only afterwards.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace tsunagu::http {

using Handler = std::function<Response(Request&)>;
// A middleware gets the request and the next step; it may short-circuit.
using Middleware = std::function<Response(Request&, const Handler& next)>;

struct RouteOptions {
  // Largest accepted request body for this route; larger -> 413.
  size_t body_limit = 1 << 20;
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  void Add(std::string_view method, std::string_view pattern, Handler handler,
           RouteOptions options = {});
  void Get(std::string_view p, Handler h, RouteOptions o = {}) { Add("GET", p, std::move(h), o); }
  void Post(std::string_view p, Handler h, RouteOptions o = {}) { Add("POST", p, std::move(h), o); }
  void Put(std::string_view p, Handler h, RouteOptions o = {}) { Add("PUT", p, std::move(h), o); }
  void Patch(std::string_view p, Handler h, RouteOptions o = {}) {
    Add("PATCH", p, std::move(h), o);
  }
  void Delete(std::string_view p, Handler h, RouteOptions o = {}) {
    Add("DELETE", p, std::move(h), o);
  }

  // Middlewares run in the order added, around every matched route.
  void Use(Middleware middleware);

  struct Match {
    const Handler* handler = nullptr;
    const RouteOptions* options = nullptr;
    bool method_not_allowed = false;
  };
  // Fills request.params on a match.
  Match Find(Request& request) const;
  // Body limit for a method+path before the body is read (default if unmatched).
  size_t BodyLimitFor(std::string_view method, std::string_view path) const;
  // Runs middlewares + handler (404/405 JSON errors when unmatched; an
  // exception becomes a 500 with no detail to the client, logged).
  Response Dispatch(Request& request) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::http
