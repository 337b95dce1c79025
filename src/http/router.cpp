#include "http/router.hpp"

#include <exception>

#include "core/log.hpp"

namespace tsunagu::http {
namespace {

enum class SegmentKind { kLiteral = 0, kParam = 1, kWildcard = 2 };

struct Segment {
  SegmentKind kind;
  std::string text;  // literal text, or the parameter name
};

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > i) out.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

}  // namespace

struct Router::Impl {
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    Handler handler;
    RouteOptions options;
  };
  std::vector<Route> routes;
  std::vector<Middleware> middlewares;

  // Matches a path against a route; on success fills `params` and returns a
  // specificity key (lower is more specific: literal < param < wildcard at
  // the first position where two routes differ).
  static bool MatchRoute(const Route& route, const std::vector<std::string_view>& parts,
                         std::map<std::string, std::string, std::less<>>* params,
                         std::vector<int>* key) {
    size_t i = 0;
    for (const Segment& seg : route.segments) {
      if (seg.kind == SegmentKind::kWildcard) {
        std::string rest;
        for (size_t j = i; j < parts.size(); ++j) {
          if (!rest.empty()) rest += '/';
          rest += parts[j];
        }
        if (params) (*params)[seg.text] = std::move(rest);
        key->push_back(static_cast<int>(SegmentKind::kWildcard));
        return true;
      }
      if (i >= parts.size()) return false;
      if (seg.kind == SegmentKind::kLiteral) {
        if (parts[i] != seg.text) return false;
      } else if (params) {
        (*params)[seg.text] = std::string(parts[i]);
      }
      key->push_back(static_cast<int>(seg.kind));
      ++i;
    }
    return i == parts.size();
  }

  struct Found {
    const Route* route = nullptr;
    bool method_not_allowed = false;
    std::string allow;
  };

  Found FindRoute(std::string_view method, std::string_view path,
                  std::map<std::string, std::string, std::less<>>* params) const {
    auto parts = SplitPath(path);
    Found found;
    std::vector<int> best_key;
    const Route* best = nullptr;
    const Route* best_get = nullptr;  // HEAD falls back to GET
    std::vector<int> best_get_key;
    for (const Route& route : routes) {
      std::vector<int> key;
      if (!MatchRoute(route, parts, nullptr, &key)) continue;
      if (route.method == method) {
        if (!best || key < best_key) {
          best = &route;
          best_key = std::move(key);
        }
      } else if (method == "HEAD" && route.method == "GET") {
        if (!best_get || key < best_get_key) {
          best_get = &route;
          best_get_key = std::move(key);
        }
      } else {
        if (found.allow.find(route.method) == std::string::npos) {
          if (!found.allow.empty()) found.allow += ", ";
          found.allow += route.method;
        }
        found.method_not_allowed = true;
      }
    }
    if (!best) best = best_get;
    if (best) {
      std::vector<int> key;
      if (params) MatchRoute(*best, parts, params, &key);
      found.route = best;
      found.method_not_allowed = false;
    }
    return found;
  }

  Response RunChain(size_t index, Request& request, const Handler& handler) const {
    if (index == middlewares.size()) return handler(request);
    Handler next = [this, index, &handler](Request& r) { return RunChain(index + 1, r, handler); };
    return middlewares[index](request, next);
  }
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;

void Router::Add(std::string_view method, std::string_view pattern, Handler handler,
                 RouteOptions options) {
  Impl::Route route;
  route.method = std::string(method);
  for (std::string_view part : SplitPath(pattern)) {
    if (part.front() == ':') {
      route.segments.push_back({SegmentKind::kParam, std::string(part.substr(1))});
    } else if (part.front() == '*') {
      route.segments.push_back({SegmentKind::kWildcard, std::string(part.substr(1))});
      break;  // a wildcard takes the rest of the path
    } else {
      route.segments.push_back({SegmentKind::kLiteral, std::string(part)});
    }
  }
  route.handler = std::move(handler);
  route.options = options;
  impl_->routes.push_back(std::move(route));
}

void Router::Use(Middleware middleware) { impl_->middlewares.push_back(std::move(middleware)); }

Router::Match Router::Find(Request& request) const {
  auto found = impl_->FindRoute(request.method, request.path, &request.params);
  Match match;
  if (found.route) {
    match.handler = &found.route->handler;
    match.options = &found.route->options;
  }
  match.method_not_allowed = found.method_not_allowed;
  return match;
}

size_t Router::BodyLimitFor(std::string_view method, std::string_view path) const {
  auto found = impl_->FindRoute(method, path, nullptr);
  return found.route ? found.route->options.body_limit : RouteOptions{}.body_limit;
}

Response Router::Dispatch(Request& request) const {
  auto found = impl_->FindRoute(request.method, request.path, &request.params);
  if (!found.route) {
    if (found.method_not_allowed) {
      // The error vocabulary has no "method" code: invalid_input, with 405.
      Response r = Response::Error(core::InvalidInput("method not allowed"));
      r.status = 405;
      r.headers.Set("allow", found.allow);
      return r;
    }
    return Response::Error(core::NotFound("not found"));
  }
  try {
    return impl_->RunChain(0, request, found.route->handler);
  } catch (const std::exception& e) {
    core::LogError("http.handler_exception",
                   {{"method", request.method}, {"path", request.path}, {"error", e.what()}});
  } catch (...) {
    core::LogError("http.handler_exception",
                   {{"method", request.method}, {"path", request.path}, {"error", "unknown"}});
  }
  return Response::Error(core::Internal("internal error"));
}

}  // namespace tsunagu::http
