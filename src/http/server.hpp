#pragma once
// The HTTP/1.1 + WebSocket server (Boost.Beast, C++20 coroutines).
// Owns its io_context and worker threads. Thread-safety: Run blocks; Stop may
// be called from any thread (and is called on SIGTERM/SIGINT when
// handle_signals is set): it stops accepting, lets in-flight requests finish
// (up to shutdown_grace_ms), then returns from Run.
//
// Besides the Router it serves GET /healthz ({"status":"ok"}), GET /metrics
// (Prometheus text), GET /ws (WebSocket, see hub()) and, when static_root is
// set, the web app for GET/HEAD outside /api and /fhir (ETag/304, precompressed
// .br/.gz siblings, SPA fallback to index.html). Every response carries
// nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer and a CSP
// (scripts from self only); /api and /fhir responses default to no-store.
// Bodies over the route's RouteOptions::body_limit get 413 before being read.
// One access-log line per request (path without the query string).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.hpp"
#include "http/router.hpp"

namespace tsunagu::http {

class WebSocketHub;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 = pick a free port (see Server::port())
  int threads = 2;
  std::string static_root;  // built web app; "" = none. Unknown non-API paths
                            // fall back to index.html (SPA routing).
  std::string tls_cert;     // PEM paths; both set = TLS 1.3 only
  std::string tls_key;
  bool allow_plain_http_on_public = false;  // plain HTTP only on loopback otherwise
  int read_timeout_ms = 15000;              // header + body read
  int idle_timeout_ms = 60000;              // keep-alive idle
  int shutdown_grace_ms = 10000;
  bool handle_signals = true;
  bool access_log = true;
};

class Server {
 public:
  Server(ServerOptions options, Router& router);
  ~Server();
  // Binds and listens. InvalidInput for a refused configuration (plain HTTP on
  // a public address without allow_plain_http_on_public, bad TLS files),
  // Unavailable when the port cannot be bound.
  core::Status Listen();
  uint16_t port() const;
  // Serves until Stop(). Call Listen() first.
  void Run();
  void Stop();
  // Live notifications: clients connect to GET /ws (authenticated by the
  // ws_authenticate callback from the upgrade request's cookies).
  WebSocketHub& hub();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::http
