#include "http/router.hpp"

#include <array>
#include <cstdint>
#include <exception>
#include <map>

#include "core/log.hpp"

namespace tsunagu::http {
namespace {

enum class SegmentKind { kLiteral = 0, kParam = 1, kWildcard = 2 };

struct Segment {
  SegmentKind kind;
  std::string text;  // literal text, or the parameter name
};

// The segments of a path, without allocating for paths of up to kInline
// segments (every route of the server; longer paths spill to the heap).
class Segments {
 public:
  static constexpr size_t kInline = 16;
  explicit Segments(std::string_view path) {
    size_t i = 0;
    while (i <= path.size()) {
      size_t slash = path.find('/', i);
      if (slash == std::string_view::npos) slash = path.size();
      if (slash > i) Push(path.substr(i, slash - i));
      i = slash + 1;
    }
  }
  size_t size() const { return size_; }
  std::string_view operator[](size_t i) const {
    return i < kInline ? inline_[i] : spill_[i - kInline];
  }

 private:
  void Push(std::string_view part) {
    if (size_ < kInline) {
      inline_[size_] = part;
    } else {
      spill_.push_back(part);
    }
    ++size_;
  }
  std::array<std::string_view, kInline> inline_{};
  std::vector<std::string_view> spill_;
  size_t size_ = 0;
};

}  // namespace

struct Router::Impl {
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    bool wildcard = false;  // the last segment is "*rest"
    Handler handler;
    RouteOptions options;
  };
  std::vector<Route> routes;
  // Route indexes by segment count (routes without a wildcard), there by
  // the literal at kKeySegment ("/api/v1/<this>/..."), and the wildcard
  // routes: a lookup only tries the routes that can match.
  static constexpr size_t kKeySegment = 2;
  struct CountBucket {
    std::map<std::string, std::vector<size_t>, std::less<>> by_key;
    std::vector<size_t> others;  // a parameter at kKeySegment, or too short
  };
  std::vector<CountBucket> by_count;
  std::vector<size_t> wildcard_routes;
  std::vector<Middleware> middlewares;

  // Matches a path against a route without allocating. On success returns
  // true and a specificity key: one digit per segment (literal 0 < param 1 <
  // wildcard 2), most significant first, so that a smaller key is the more
  // specific route at the first position where two routes differ.
  static bool MatchRoute(const Route& route, const Segments& parts, uint64_t& key) {
    const size_t n = route.segments.size();
    if (route.wildcard ? parts.size() + 1 < n : parts.size() != n) return false;
    key = 0;
    for (size_t i = 0; i < n; ++i) {
      const Segment& seg = route.segments[i];
      if (seg.kind == SegmentKind::kLiteral && parts[i] != seg.text) return false;
      key = key * 3 + static_cast<uint64_t>(seg.kind);
    }
    // Routes of different lengths compare position by position.
    for (size_t i = n; i < Segments::kInline; ++i) key *= 3;
    return true;
  }

  static void BindParams(const Route& route, const Segments& parts,
                         std::map<std::string, std::string, std::less<>>& params) {
    for (size_t i = 0; i < route.segments.size(); ++i) {
      const Segment& seg = route.segments[i];
      if (seg.kind == SegmentKind::kParam) {
        params[seg.text] = std::string(parts[i]);
      } else if (seg.kind == SegmentKind::kWildcard) {
        std::string rest;
        for (size_t j = i; j < parts.size(); ++j) {
          if (!rest.empty()) rest += '/';
          rest += parts[j];
        }
        params[seg.text] = std::move(rest);
      }
    }
  }

  struct Found {
    const Route* route = nullptr;
    bool method_not_allowed = false;
    std::string allow;
  };

  Found FindRoute(std::string_view method, std::string_view path,
                  std::map<std::string, std::string, std::less<>>* params) const {
    const Segments parts(path);
    Found found;
    const Route* best = nullptr;
    const Route* best_get = nullptr;  // HEAD falls back to GET
    uint64_t best_key = 0, best_get_key = 0;
    auto consider = [&](const Route& route) {
      uint64_t key = 0;
      if (!MatchRoute(route, parts, key)) return;
      if (route.method == method) {
        if (!best || key < best_key) {
          best = &route;
          best_key = key;
        }
      } else if (method == "HEAD" && route.method == "GET") {
        if (!best_get || key < best_get_key) {
          best_get = &route;
          best_get_key = key;
        }
      } else {
        if (found.allow.find(route.method) == std::string::npos) {
          if (!found.allow.empty()) found.allow += ", ";
          found.allow += route.method;
        }
        found.method_not_allowed = true;
      }
    };
    if (parts.size() < by_count.size()) {
      const CountBucket& bucket = by_count[parts.size()];
      if (parts.size() > kKeySegment) {
        if (auto it = bucket.by_key.find(parts[kKeySegment]); it != bucket.by_key.end()) {
          for (size_t i : it->second) consider(routes[i]);
        }
      }
      for (size_t i : bucket.others) consider(routes[i]);
    }
    for (size_t i : wildcard_routes) consider(routes[i]);
    if (!best) best = best_get;
    if (best) {
      if (params) BindParams(*best, parts, *params);
      found.route = best;
      found.method_not_allowed = false;
      found.allow.clear();
    }
    return found;
  }

  // The middleware chain without allocating: each step's "next" is a
  // Handler holding one pointer (within std::function's small buffer).
  struct Step {
    const Impl* impl;
    size_t index;
    const Handler* handler;
  };
  Response RunChain(size_t index, Request& request, const Handler& handler) const {
    if (index == middlewares.size()) return handler(request);
    Step step{this, index + 1, &handler};
    const Step* sp = &step;
    Handler next = [sp](Request& r) { return sp->impl->RunChain(sp->index, r, *sp->handler); };
    return middlewares[index](request, next);
  }
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;

void Router::Add(std::string_view method, std::string_view pattern, Handler handler,
                 RouteOptions options) {
  Impl::Route route;
  route.method = std::string(method);
  const Segments parts(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    if (part.front() == ':') {
      route.segments.push_back({SegmentKind::kParam, std::string(part.substr(1))});
    } else if (part.front() == '*') {
      route.segments.push_back({SegmentKind::kWildcard, std::string(part.substr(1))});
      route.wildcard = true;
      break;  // a wildcard takes the rest of the path
    } else {
      route.segments.push_back({SegmentKind::kLiteral, std::string(part)});
    }
  }
  route.handler = std::move(handler);
  route.options = options;
  const size_t index = impl_->routes.size();
  if (route.wildcard) {
    impl_->wildcard_routes.push_back(index);
  } else {
    const size_t n = route.segments.size();
    if (impl_->by_count.size() <= n) impl_->by_count.resize(n + 1);
    Impl::CountBucket& bucket = impl_->by_count[n];
    if (n > Impl::kKeySegment && route.segments[Impl::kKeySegment].kind == SegmentKind::kLiteral) {
      bucket.by_key[route.segments[Impl::kKeySegment].text].push_back(index);
    } else {
      bucket.others.push_back(index);
    }
  }
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
