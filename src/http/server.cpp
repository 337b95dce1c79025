// The Beast/Asio side of the HTTP module: one coroutine per connection on a
// worker's single-threaded io_context (so its handlers never run
// concurrently without a strand), a timeout before every read, one outstanding write per
// connection; WebSocket fan-out; TLS 1.3; graceful shutdown.
#include "http/server.hpp"

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/log.hpp"
#include "core/response_fence.hpp"
#include "http/internal/metrics.hpp"
#include "http/internal/static_files.hpp"
#include "http/websocket_hub.hpp"

namespace tsunagu::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

constexpr size_t kHeaderLimit = 32 * 1024;
constexpr size_t kMaxWebSocketQueue = 1024;
constexpr size_t kWebSocketMessageLimit = 64 * 1024;
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(1);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 64 << 20;

constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'";

auto Awaitable(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

bool StartsWithSegment(std::string_view path, std::string_view prefix) {
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

// ---------------------------------------------------------------------------
// WebSocket fan-out

class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;
  virtual void Send(std::string text) = 0;  // any thread
  virtual void Close() = 0;                 // any thread
};

class Hub final : public WebSocketHub {
 public:
  void SetAuthenticator(Authenticator authenticate) override {
    std::lock_guard lock(mu_);
    authenticate_ = std::move(authenticate);
  }

  std::optional<int64_t> Authenticate(const Request& request) const {
    Authenticator authenticate;
    {
      std::lock_guard lock(mu_);
      authenticate = authenticate_;
    }
    if (!authenticate) return std::nullopt;
    return authenticate(request);
  }

  void Publish(int64_t user_id, std::string text) override {
    std::vector<std::shared_ptr<WebSocketPeer>> targets;
    {
      std::lock_guard lock(mu_);
      auto it = peers_.find(user_id);
      if (it == peers_.end()) return;
      for (const Entry& e : it->second) {
        if (auto p = e.peer.lock()) targets.push_back(std::move(p));
      }
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      targets[i]->Send(i + 1 == targets.size() ? std::move(text) : text);
    }
  }

  size_t ConnectionCount() const override {
    std::lock_guard lock(mu_);
    return count_;
  }

  void Add(int64_t user_id, const std::shared_ptr<WebSocketPeer>& peer) {
    std::lock_guard lock(mu_);
    peers_[user_id].push_back({peer.get(), peer});
    ++count_;
  }

  void Remove(int64_t user_id, const WebSocketPeer* peer) {
    std::lock_guard lock(mu_);
    auto it = peers_.find(user_id);
    if (it == peers_.end()) return;
    auto& list = it->second;
    for (auto e = list.begin(); e != list.end(); ++e) {
      if (e->raw == peer) {
        list.erase(e);
        --count_;
        break;
      }
    }
    if (list.empty()) peers_.erase(it);
  }

  void CloseAll() {
    std::vector<std::shared_ptr<WebSocketPeer>> all;
    {
      std::lock_guard lock(mu_);
      for (auto& [user, list] : peers_) {
        for (const Entry& e : list) {
          if (auto p = e.peer.lock()) all.push_back(std::move(p));
        }
      }
    }
    for (auto& p : all) p->Close();
  }

 private:
  struct Entry {
    const WebSocketPeer* raw;
    std::weak_ptr<WebSocketPeer> peer;
  };
  mutable std::mutex mu_;
  Authenticator authenticate_;
  std::unordered_map<int64_t, std::vector<Entry>> peers_;
  size_t count_ = 0;
};

// One accepted WebSocket. The reading coroutine and the write queue both run
// on the connection's strand (the stream's executor).
template <class NextLayer>
class WebSocketSession final : public WebSocketPeer,
                               public std::enable_shared_from_this<WebSocketSession<NextLayer>> {
 public:
  explicit WebSocketSession(NextLayer&& next) : ws_(std::move(next)) {}

  websocket::stream<NextLayer>& ws() { return ws_; }

  void Send(std::string text) override {
    asio::post(ws_.get_executor(),
               [self = this->shared_from_this(), t = std::move(text)]() mutable {
                 self->Enqueue(std::move(t));
               });
  }

  void Close() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->CloseNow(); });
  }

  // On the strand.
  void CloseNow() {
    if (closing_) return;
    closing_ = true;
    // Keep only a frame that is being written (its buffer is in use).
    if (writing_) {
      queue_.erase(queue_.begin() + 1, queue_.end());
    } else {
      queue_.clear();
    }
    ws_.async_close(websocket::close_code::going_away,
                    [self = this->shared_from_this()](beast::error_code) {});
  }

 private:
  void Enqueue(std::string text) {
    if (closing_) return;
    if (queue_.size() >= kMaxWebSocketQueue) {
      core::LogWarn("http.websocket_slow_consumer");
      CloseNow();
      return;
    }
    queue_.push_back(std::move(text));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      self->queue_.pop_front();
                      if (ec) self->queue_.clear();
                      if (self->queue_.empty() || self->closing_) {
                        self->writing_ = false;
                        return;
                      }
                      self->WriteNext();
                    });
  }

  websocket::stream<NextLayer> ws_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closing_ = false;
};

// ---------------------------------------------------------------------------
// Per-connection state reachable from outside its coroutine (shutdown).
// Fields are only touched on the connection's strand.
struct ConnectionControl {
  explicit ConnectionControl(asio::any_io_executor e) : executor(std::move(e)) {}
  asio::any_io_executor executor;
  std::function<void()> cancel;  // aborts an idle wait or closes the WebSocket
  bool idle = false;
  bool closing = false;
  bool unread_body = false;  // answered before reading the whole request body
};

// Builds the handler-facing Request from a parsed header; false when the
// target is not a valid origin-form URL.
bool FillRequest(const bhttp::request_header<>& header, Request& request) {
  request.method = std::string(header.method_string());
  request.target = std::string(header.target());
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) return false;
  request.path = url->path();
  if (request.path.empty()) request.path = "/";
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  for (auto param : url->params(opts)) {
    request.query.emplace(param.key, param.has_value ? param.value : std::string());
  }
  for (const auto& field : header) {
    request.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  return true;
}

bool HasDotDotSegment(std::string_view path) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(i, slash - i) == "..") return true;
    i = slash + 1;
  }
  return path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos;
}

void AddDefaultHeaders(Response& response, bool tls, bool is_api) {
  auto set_default = [&](std::string_view name, std::string value) {
    if (!response.headers.Get(name)) response.headers.Set(std::string(name), std::move(value));
  };
  set_default("x-content-type-options", "nosniff");
  set_default("x-frame-options", "DENY");
  set_default("referrer-policy", "no-referrer");
  set_default("content-security-policy", kContentSecurityPolicy);
  if (tls) set_default("strict-transport-security", "max-age=31536000");
  // Responses of the API can carry patient data: never cache them.
  if (is_api) set_default("cache-control", "no-store");
}

// The head of a response with an in-memory body, serialised in one buffer:
// status line, the response's headers, the default security headers it
// does not set itself, Content-Length and Connection. A header value with a
// line break (which would split the response) is dropped and logged.
std::string ResponseHead(const Response& response, bool keep_alive, bool tls, bool is_api,
                         size_t content_length) {
  std::string head;
  head.reserve(512 + response.body.size() / 16);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
  head += "\r\n";
  bool has_nosniff = false, has_frame = false, has_referrer = false, has_csp = false,
       has_hsts = false, has_cache = false;
  for (const auto& [name, value] : response.headers.all()) {
    if (value.find_first_of("\r\n", 0) != std::string::npos ||
        value.find('\0') != std::string::npos ||
        name.find_first_of("\r\n: ", 0) != std::string::npos) {
      core::LogError("http.bad_header_dropped", {{"header", name}});
      continue;
    }
    if (name == "content-length" || name == "connection") continue;
    has_nosniff |= name == "x-content-type-options";
    has_frame |= name == "x-frame-options";
    has_referrer |= name == "referrer-policy";
    has_csp |= name == "content-security-policy";
    has_hsts |= name == "strict-transport-security";
    has_cache |= name == "cache-control";
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (!has_nosniff) head += "x-content-type-options: nosniff\r\n";
  if (!has_frame) head += "x-frame-options: DENY\r\n";
  if (!has_referrer) head += "referrer-policy: no-referrer\r\n";
  if (!has_csp) {
    head += "content-security-policy: ";
    head += kContentSecurityPolicy;
    head += "\r\n";
  }
  if (tls && !has_hsts) head += "strict-transport-security: max-age=31536000\r\n";
  // Responses of the API can carry patient data: never cache them.
  if (is_api && !has_cache) head += "cache-control: no-store\r\n";
  const int status = response.status;
  if (status >= 200 && status != 204 && status != 304) {
    head += "content-length: ";
    head += std::to_string(content_length);
    head += "\r\n";
  }
  if (!keep_alive) head += "connection: close\r\n";
  head += "\r\n";
  return head;
}

auto LogCoroutineFailure(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      core::LogError("http.coroutine_failed", {{"where", what}, {"error", x.what()}});
    } catch (...) {
      core::LogError("http.coroutine_failed", {{"where", what}, {"error", "unknown"}});
    }
  };
}

}  // namespace

// ---------------------------------------------------------------------------

struct Server::Impl {
  Impl(ServerOptions o, Router& r) : options(std::move(o)), router(r) {}

  ~Impl() {
    {
      // Settling fences must no longer post to the workers' io_contexts.
      std::lock_guard lock(post_guard->mu);
      post_guard->closed = true;
    }
    torn_down = true;
    acceptor.reset();
    signals.reset();
    grace_timer.reset();
    control.reset();
    // Destroys pending connection coroutines (and their streams) while the
    // members they refer to are still alive.
    worker_guards.clear();
    worker_iocs.clear();
    ioc.reset();
  }

  ServerOptions options;
  Router& router;
  internal::Metrics metrics;
  Hub hub;
  std::optional<internal::StaticFiles> static_files;
  std::optional<ssl::context> tls_context;
  std::atomic<bool> stopping{false};
  std::atomic<bool> torn_down{false};
  uint16_t bound_port = 0;

  // Guards posts from other threads (settled response fences) against the
  // io_contexts' destruction.
  struct PostGuard {
    std::mutex mu;
    bool closed = false;
  };
  std::shared_ptr<PostGuard> post_guard = std::make_shared<PostGuard>();

  std::mutex connections_mu;
  std::unordered_set<std::shared_ptr<ConnectionControl>> connections;

  // Declared after everything a connection coroutine touches.
  // Connections are spread over one single-threaded io_context per worker
  // thread (no shared reactor lock between threads); `ioc` runs the acceptor,
  // signals and shutdown control.
  std::vector<std::unique_ptr<asio::io_context>> worker_iocs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> worker_guards;
  size_t next_worker = 0;
  std::optional<asio::io_context> ioc;
  std::optional<asio::strand<asio::io_context::executor_type>> control;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> grace_timer;

  // ------------------------------------------------------------------------
  core::Status Listen() {
    if (acceptor) return core::InvalidInput("server is already listening");
    beast::error_code ec;
    auto address = asio::ip::make_address(options.address, ec);
    if (ec) return core::InvalidInput("invalid listen address", options.address);
    const bool want_tls = !options.tls_cert.empty() || !options.tls_key.empty();
    if (want_tls && (options.tls_cert.empty() || options.tls_key.empty())) {
      return core::InvalidInput("TLS needs both a certificate and a key");
    }
    if (!want_tls && !address.is_loopback() && !options.allow_plain_http_on_public) {
      return core::InvalidInput(
          "refusing plain HTTP on a non-loopback address; configure TLS or allow it explicitly",
          options.address);
    }
    if (want_tls) TSUNAGU_RETURN_IF_ERROR(LoadTls());
    if (!options.static_root.empty()) {
      std::error_code fec;
      if (!std::filesystem::is_directory(options.static_root, fec)) {
        return core::InvalidInput("static root is not a directory", options.static_root);
      }
      static_files.emplace(options.static_root);
    }

    ioc.emplace(1);
    for (int i = 0; i < std::max(1, options.threads); ++i) {
      worker_iocs.push_back(std::make_unique<asio::io_context>(1));
      worker_guards.push_back(asio::make_work_guard(*worker_iocs.back()));
    }
    control.emplace(asio::make_strand(*ioc));
    acceptor.emplace(*control);
    tcp::endpoint endpoint(address, options.port);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor.reset();
      return core::Unavailable(
          "cannot listen on " + options.address + ":" + std::to_string(options.port), ec.message());
    }
    bound_port = acceptor->local_endpoint().port();
    grace_timer.emplace(*control);
    if (options.handle_signals) {
      signals.emplace(*control, SIGINT, SIGTERM);
      signals->async_wait([this](const beast::error_code& e, int signal) {
        if (e) return;
        core::LogInfo("http.signal", {{"signal", std::to_string(signal)}});
        BeginShutdown();
      });
    }
    asio::co_spawn(*control, AcceptLoop(), LogCoroutineFailure("accept"));
    core::LogInfo("http.listen", {{"address", options.address},
                                  {"port", std::to_string(bound_port)},
                                  {"tls", tls_context ? "true" : "false"}});
    return core::Status::Ok();
  }

  core::Status LoadTls() {
    tls_context.emplace(ssl::context::tls_server);
    SSL_CTX* native = tls_context->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
      tls_context.reset();
      return core::Internal("TLS 1.3 is not available");
    }
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                             ssl::context::single_dh_use);
    beast::error_code ec;
    tls_context->use_certificate_chain_file(options.tls_cert, ec);
    if (ec) {
      tls_context.reset();
      return core::InvalidInput("cannot load the TLS certificate", ec.message());
    }
    tls_context->use_private_key_file(options.tls_key, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(native) != 1) {
      tls_context.reset();
      return core::InvalidInput("cannot load the TLS private key (or it does not match)",
                                ec ? ec.message() : "key mismatch");
    }
    return core::Status::Ok();
  }

  void Run() {
    if (!ioc) {
      core::LogError("http.run_without_listen");
      return;
    }
    std::vector<std::thread> workers;
    for (auto& w : worker_iocs) {
      workers.emplace_back([this, ctx = w.get()] { RunWorker(*ctx); });
    }
    RunWorker(*ioc);
    // The control context stops once every connection has finished (or the
    // grace period ran out): then the workers stop too.
    for (auto& g : worker_guards) g.reset();
    for (auto& w : worker_iocs) w->stop();
    for (auto& t : workers) t.join();
    core::LogInfo("http.stopped");
  }

  void RunWorker(asio::io_context& context) {
    // Handlers are expected to report errors as Responses; an escaping
    // exception is logged and the worker keeps serving.
    for (;;) {
      try {
        context.run();
        return;
      } catch (const std::exception& e) {
        core::LogError("http.worker_exception", {{"error", e.what()}});
      }
    }
  }

  void Stop() {
    if (!control) return;
    asio::post(*control, [this] { BeginShutdown(); });
  }

  // On the control strand.
  void BeginShutdown() {
    if (stopping.exchange(true)) return;
    core::LogInfo("http.shutdown", {{"grace_ms", std::to_string(options.shutdown_grace_ms)}});
    beast::error_code ec;
    acceptor->close(ec);
    if (signals) signals->cancel(ec);
    hub.CloseAll();
    std::vector<std::shared_ptr<ConnectionControl>> open;
    {
      std::lock_guard lock(connections_mu);
      open.assign(connections.begin(), connections.end());
    }
    for (auto& c : open) {
      asio::post(c->executor, [c] {
        c->closing = true;
        if (c->idle && c->cancel) c->cancel();
      });
    }
    if (open.empty()) {
      ioc->stop();
      return;
    }
    grace_timer->expires_after(Millis(std::max(0, options.shutdown_grace_ms)));
    grace_timer->async_wait([this](const beast::error_code& e) {
      if (e) return;
      core::LogWarn("http.shutdown_grace_expired");
      ioc->stop();
    });
  }

  // Registered for the life of one connection coroutine.
  class ConnectionGuard {
   public:
    ConnectionGuard(Impl* impl, std::shared_ptr<ConnectionControl> c)
        : impl_(impl), control_(std::move(c)) {
      impl_->metrics.ConnectionOpened();
      // Accepted just before shutdown began: serve at most what is in flight.
      if (impl_->stopping) control_->closing = true;
      std::lock_guard lock(impl_->connections_mu);
      impl_->connections.insert(control_);
    }
    ~ConnectionGuard() {
      control_->cancel = nullptr;
      impl_->metrics.ConnectionClosed();
      bool last;
      {
        std::lock_guard lock(impl_->connections_mu);
        impl_->connections.erase(control_);
        last = impl_->connections.empty();
      }
      if (last && impl_->stopping && !impl_->torn_down) impl_->ioc->stop();
    }
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;

   private:
    Impl* impl_;
    std::shared_ptr<ConnectionControl> control_;
  };

  // ------------------------------------------------------------------------
  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      // Each worker io_context is run by exactly one thread: its executor
      // serialises the connection's handlers as a strand would, for less.
      auto strand = worker_iocs[next_worker++ % worker_iocs.size()]->get_executor();
      tcp::socket socket(strand);
      beast::error_code ec;
      co_await acceptor->async_accept(socket, Awaitable(ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        // Out of descriptors or a transient error: back off instead of spinning.
        core::LogWarn("http.accept_failed", {{"error", ec.message()}});
        asio::steady_timer pause(*control, Millis(50));
        co_await pause.async_wait(Awaitable(ec));
        continue;
      }
      if (stopping) co_return;
      std::string client;
      auto remote = socket.remote_endpoint(ec);
      if (!ec) client = remote.address().to_string();
      auto conn = std::make_shared<ConnectionControl>(asio::any_io_executor(strand));
      if (tls_context) {
        asio::co_spawn(strand, ServeTls(std::move(socket), conn, std::move(client)),
                       LogCoroutineFailure("tls session"));
      } else {
        asio::co_spawn(strand,
                       ServePlain(beast::tcp_stream(std::move(socket)), conn, std::move(client)),
                       LogCoroutineFailure("session"));
      }
    }
  }

  asio::awaitable<void> ServePlain(beast::tcp_stream stream, std::shared_ptr<ConnectionControl> c,
                                   std::string client) {
    ConnectionGuard guard(this, c);
    const bool upgraded = co_await Serve(stream, c, client, false);
    if (!upgraded) {
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (!c->unread_body) co_return;
      // Lingering close: drain what the client is still sending (e.g. the
      // rest of a refused oversized body) so that closing does not reset the
      // connection before the client has read our answer.
      stream.expires_after(kLingerTimeout);
      std::array<char, 16384> sink;
      size_t drained = 0;
      while (!ec && drained < kLingerMaxBytes) {
        drained += co_await stream.async_read_some(asio::buffer(sink), Awaitable(ec));
      }
    }
  }

  asio::awaitable<void> ServeTls(tcp::socket socket, std::shared_ptr<ConnectionControl> c,
                                 std::string client) {
    ConnectionGuard guard(this, c);
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_context);
    beast::get_lowest_layer(stream).expires_after(Millis(options.read_timeout_ms));
    beast::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server, Awaitable(ec));
    if (ec) {
      core::LogDebug("http.tls_handshake_failed", {{"client", client}, {"error", ec.message()}});
      co_return;
    }
    const bool upgraded = co_await Serve(stream, c, client, true);
    if (!upgraded) {
      beast::get_lowest_layer(stream).expires_after(kTlsShutdownTimeout);
      co_await stream.async_shutdown(Awaitable(ec));
    }
  }

  // Serves requests on one connection until it closes; true when the stream
  // was handed to a WebSocket (and is gone).
  template <class Stream>
  asio::awaitable<bool> Serve(Stream& stream, const std::shared_ptr<ConnectionControl>& c,
                              const std::string& client, bool tls) {
    c->cancel = [&stream] { beast::get_lowest_layer(stream).cancel(); };
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      beast::error_code ec;
      // Wait for the first bytes of the next request: the idle keep-alive
      // timeout applies here, the read timeout from then on.
      if (buffer.size() == 0) {
        if (c->closing) co_return false;
        c->idle = true;
        beast::get_lowest_layer(stream).expires_after(
            Millis(first ? options.read_timeout_ms : options.idle_timeout_ms));
        size_t n = co_await stream.async_read_some(buffer.prepare(4096), Awaitable(ec));
        c->idle = false;
        if (ec) co_return false;
        buffer.commit(n);
      }
      first = false;

      auto started = SteadyClock::now();
      beast::get_lowest_layer(stream).expires_after(Millis(options.read_timeout_ms));
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      // The route's limit is applied once the path is known.
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      co_await bhttp::async_read_header(stream, buffer, parser, Awaitable(ec));
      if (ec) {
        if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
            ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          Request bad;
          bad.client_address = client;
          int status = ec == bhttp::error::header_limit ? 431 : 400;
          Response r = Response::Error(core::InvalidInput("malformed request"));
          r.status = status;
          co_await Respond(stream, bad, r, false, tls, started);
        }
        co_return false;
      }

      Request request;
      request.client_address = client;
      request.tls = tls;
      if (!FillRequest(parser.get().base(), request) || HasDotDotSegment(request.path)) {
        request.path = "-";
        co_await Respond(stream, request, Response::Error(core::InvalidInput("invalid path")),
                         false, tls, started);
        co_return false;
      }

      // Refuse an oversized body before reading it when its length is
      // declared; the parser's limit catches chunked bodies. A request
      // without a body (most GETs) is complete already: no route lookup
      // for its limit.
      if (!parser.is_done()) {
        const size_t limit = router.BodyLimitFor(request.method, request.path);
        auto too_large = [] { return Response::Error(core::TooLarge("request body too large")); };
        if (parser.content_length() && *parser.content_length() > limit) {
          c->unread_body = true;
          co_await Respond(stream, request, too_large(), false, tls, started);
          co_return false;
        }
        parser.body_limit(limit);
        auto expect = parser.get()[bhttp::field::expect];
        if (beast::iequals(expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
          co_await bhttp::async_write(stream, cont, Awaitable(ec));
          if (ec) co_return false;
        }
        co_await bhttp::async_read(stream, buffer, parser, Awaitable(ec));
        if (ec == bhttp::error::body_limit) {
          c->unread_body = true;
          co_await Respond(stream, request, too_large(), false, tls, started);
          co_return false;
        }
        if (ec) co_return false;
      }
      beast::get_lowest_layer(stream).expires_never();

      auto message = parser.release();
      request.body = std::move(message.body());
      const bool keep_alive = message.keep_alive();

      if (request.path == "/ws" && websocket::is_upgrade(message)) {
        std::optional<int64_t> user;
        bool auth_failed = false;
        try {
          user = hub.Authenticate(request);
        } catch (const std::exception& e) {
          core::LogError("http.websocket_auth_failed", {{"error", e.what()}});
          auth_failed = true;
        }
        if (auth_failed) {
          co_await Respond(stream, request, Response::Error(core::Internal("internal error")),
                           false, tls, started);
          co_return false;
        }
        if (!user) {
          co_await Respond(stream, request,
                           Response::Error(core::Unauthenticated("authentication required")), false,
                           tls, started);
          co_return false;
        }
        LogAccess(request, 101, 0, started);
        c->cancel = nullptr;  // the stream moves into the WebSocket session
        co_await RunWebSocket(std::move(stream), std::move(message), *user, c);
        co_return true;
      }

      Response response = co_await HandleFenced(request);
      if (!co_await Respond(stream, request, response, keep_alive, tls, started)) co_return false;
      if (!keep_alive) co_return false;
    }
  }

  // Handle() with a response fence (core/response_fence.hpp): when the
  // handler left writes pending on other threads (audit entries), this
  // coroutine waits for them without blocking the worker thread, and answers
  // 500 instead of the handler's response if one failed.
  asio::awaitable<Response> HandleFenced(Request& request) {
    auto fence = std::make_shared<core::ResponseFence>();
    Response response;
    {
      core::ScopedResponseFence scope(fence);
      response = Handle(request);
    }
    if (!fence->pending()) co_return response;
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer settled(executor, asio::steady_timer::time_point::max());
    auto outcome = std::make_shared<core::Status>();
    // The release comes from the writer's thread: hand it to this
    // connection's thread, where the timer lives.
    fence->WhenSettled([executor, outcome, &settled, post = post_guard](const core::Status& s) {
      std::lock_guard lock(post->mu);
      if (post->closed) return;
      asio::post(executor, [outcome, s, &settled] {
        *outcome = s;
        settled.cancel();
      });
    });
    beast::error_code ec;
    co_await settled.async_wait(Awaitable(ec));
    if (!outcome->ok()) {
      core::LogError("http.pending_write_failed",
                     {{"path", request.path}, {"detail", outcome->detail()}});
      co_return Response::Error(core::Internal("the access could not be recorded"));
    }
    co_return response;
  }

  // Built-in routes, then the router, then static files.
  Response Handle(Request& request) {
    const std::string& path = request.path;
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (get && path == "/healthz") return Response::Json(200, "{\"status\":\"ok\"}");
    if (get && path == "/metrics") {
      return Response::Text(200, metrics.Render(hub.ConnectionCount()),
                            "text/plain; version=0.0.4; charset=utf-8");
    }
    if (path == "/ws") {
      return Response::Error(core::InvalidInput("WebSocket upgrade required"));
    }
    const bool reserved = StartsWithSegment(path, "/api") || StartsWithSegment(path, "/fhir");
    if (get && static_files && !reserved) {
      Router::Match match = router.Find(request);
      if (!match.handler && !match.method_not_allowed) return static_files->Serve(request);
    }
    return router.Dispatch(request);
  }

  void LogAccess(const Request& request, int status, uint64_t bytes,
                 SteadyClock::time_point started) {
    double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    metrics.RecordRequest(request.method.empty() ? "OTHER" : request.method, status, seconds);
    if (!options.access_log) return;
    // The path only: query strings can carry search terms such as names.
    core::LogInfo("http.request", {{"method", request.method},
                                   {"path", request.path},
                                   {"status", std::to_string(status)},
                                   {"bytes", std::to_string(bytes)},
                                   {"ms", std::to_string(static_cast<int64_t>(seconds * 1000))},
                                   {"client", request.client_address}});
  }

  // Writes one response (the only write in flight on this connection);
  // false when the connection must close.
  template <class Stream>
  asio::awaitable<bool> Respond(Stream& stream, const Request& request, Response response,
                                bool keep_alive, bool tls, SteadyClock::time_point started) {
    const bool is_api =
        StartsWithSegment(request.path, "/api") || StartsWithSegment(request.path, "/fhir");
    const bool head = request.method == "HEAD";
    keep_alive = keep_alive && !stopping;
    // These statuses have no body by definition (Beast refuses one).
    if (response.status < 200 || response.status == 204 || response.status == 304) {
      response.body.clear();
      response.file_path.reset();
    }

    beast::error_code ec;
    uint64_t bytes = 0;
    if (response.file_path) {
      AddDefaultHeaders(response, tls, is_api);
      bhttp::response<bhttp::file_body> res{static_cast<bhttp::status>(response.status), 11};
      res.body().open(response.file_path->c_str(), beast::file_mode::scan, ec);
      if (ec) {
        core::LogError("http.file_open_failed", {{"path", request.path}, {"error", ec.message()}});
        response = Response::Error(core::Internal("internal error"));
        response.file_path.reset();
        co_return co_await Respond(stream, request, std::move(response), keep_alive, tls, started);
      }
      for (const auto& [name, value] : response.headers.all()) res.insert(name, value);
      res.keep_alive(keep_alive);
      res.prepare_payload();
      bytes = res.body().size();
      // Generous for large files on slow links, but bounded.
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30) +
                                                    std::chrono::seconds(bytes / (64 * 1024)));
      bhttp::response_serializer<bhttp::file_body> sr(res);
      // Counted before the write: a client that has read the answer finds
      // it in /metrics.
      LogAccess(request, response.status, head ? 0 : bytes, started);
      if (head) {
        co_await bhttp::async_write_header(stream, sr, Awaitable(ec));
      } else {
        co_await bhttp::async_write(stream, sr, Awaitable(ec));
      }
    } else {
      const std::string head_bytes =
          ResponseHead(response, keep_alive, tls, is_api, response.body.size());
      bytes = head ? 0 : response.body.size();
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30) +
                                                    std::chrono::seconds(bytes / (64 * 1024)));
      std::array<asio::const_buffer, 2> buffers{asio::buffer(head_bytes),
                                                asio::buffer(response.body.data(), bytes)};
      LogAccess(request, response.status, bytes, started);
      co_await asio::async_write(stream, buffers, Awaitable(ec));
    }
    co_return !ec && keep_alive;
  }

  template <class Stream>
  asio::awaitable<void> RunWebSocket(Stream&& stream, bhttp::request<bhttp::string_body> upgrade,
                                     int64_t user_id, std::shared_ptr<ConnectionControl> c) {
    beast::get_lowest_layer(stream).expires_never();
    auto session = std::make_shared<WebSocketSession<std::decay_t<Stream>>>(std::move(stream));
    auto& ws = session->ws();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = Millis(options.read_timeout_ms);
    timeouts.idle_timeout = Millis(std::max(options.idle_timeout_ms, 1000));
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.read_message_max(kWebSocketMessageLimit);
    beast::error_code ec;
    co_await ws.async_accept(upgrade, Awaitable(ec));
    if (ec) co_return;

    hub.Add(user_id, session);
    struct Unregister {
      Hub& hub;
      int64_t user_id;
      const WebSocketPeer* peer;
      ~Unregister() { hub.Remove(user_id, peer); }
    } unregister{hub, user_id, session.get()};
    c->cancel = [s = session.get()] { s->CloseNow(); };
    c->idle = true;  // nothing in flight that shutdown should wait for
    if (c->closing) session->CloseNow();

    // Clients have nothing to say; reading keeps pings/close handled and
    // notices a closed connection.
    beast::flat_buffer buffer;
    for (;;) {
      co_await ws.async_read(buffer, Awaitable(ec));
      if (ec) break;
      buffer.consume(buffer.size());
    }
    c->cancel = nullptr;
  }
};

// ---------------------------------------------------------------------------

Server::Server(ServerOptions options, Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

core::Status Server::Listen() { return impl_->Listen(); }

uint16_t Server::port() const { return impl_->bound_port; }

void Server::Run() { impl_->Run(); }

void Server::Stop() { impl_->Stop(); }

WebSocketHub& Server::hub() { return impl_->hub; }

}  // namespace tsunagu::http
