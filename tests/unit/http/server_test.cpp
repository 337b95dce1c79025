// Starts real servers on 127.0.0.1 (port 0) and talks to them with Beast.
#include "http/server.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/log.hpp"
#include "core/response_fence.hpp"
#include "http/websocket_hub.hpp"

namespace tsunagu::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using HttpResponse = bhttp::response<bhttp::string_body>;
constexpr auto kAwait = asio::use_awaitable;

// Runs a client coroutine on its own io_context with a hard time limit.
template <class F>
auto RunClient(F&& make, std::chrono::milliseconds limit = 3s) {
  asio::io_context ioc;
  auto future = asio::co_spawn(ioc, make(), asio::use_future);
  ioc.run_for(limit);
  if (future.wait_for(0s) != std::future_status::ready) {
    throw std::runtime_error("client timed out");
  }
  return future.get();
}

ServerOptions TestOptions() {
  ServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.handle_signals = false;
  o.access_log = false;
  o.read_timeout_ms = 2000;
  o.idle_timeout_ms = 2000;
  o.shutdown_grace_ms = 2000;
  return o;
}

// A server running on a background thread for the life of the object.
class RunningServer {
 public:
  RunningServer(ServerOptions options, Router& router) : server_(std::move(options), router) {
    status_ = server_.Listen();
    if (status_.ok()) thread_ = std::thread([this] { server_.Run(); });
  }
  ~RunningServer() { Stop(); }
  void Stop() {
    if (thread_.joinable()) {
      server_.Stop();
      thread_.join();
    }
  }
  Server& server() { return server_; }
  uint16_t port() const { return server_.port(); }
  const core::Status& status() const { return status_; }

 private:
  Server server_;
  core::Status status_;
  std::thread thread_;
};

tcp::endpoint Local(uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

asio::awaitable<HttpResponse> Exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       bhttp::request<bhttp::string_body> request) {
  request.set(bhttp::field::host, "127.0.0.1");
  request.prepare_payload();
  co_await bhttp::async_write(stream, request, kAwait);
  HttpResponse response;
  co_await bhttp::async_read(stream, buffer, response, kAwait);
  co_return response;
}

HttpResponse Fetch(uint16_t port, bhttp::verb verb, std::string target, std::string body = {},
                   std::vector<std::pair<bhttp::field, std::string>> headers = {}) {
  return RunClient([&]() -> asio::awaitable<HttpResponse> {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect(Local(port), kAwait);
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    for (auto& [f, v] : headers) req.set(f, v);
    req.body() = body;
    beast::flat_buffer buffer;
    co_return co_await Exchange(stream, buffer, std::move(req));
  });
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("tsunagu_http_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------

TEST(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Router router;
  std::atomic<int> calls{0};
  router.Get("/api/v1/items/:id", [&](Request& r) {
    ++calls;
    return Response::Json(200, "{\"id\":\"" + r.Param("id") + "\"}");
  });
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok()) << s.status().ToString();
  ASSERT_NE(s.port(), 0);

  auto [first, second] = RunClient([&]() -> asio::awaitable<std::pair<HttpResponse, HttpResponse>> {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect(Local(s.port()), kAwait);
    beast::flat_buffer buffer;
    auto a = co_await Exchange(stream, buffer, {bhttp::verb::get, "/api/v1/items/1", 11});
    auto b = co_await Exchange(stream, buffer, {bhttp::verb::get, "/api/v1/items/2?x=1", 11});
    co_return std::make_pair(std::move(a), std::move(b));
  });
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), R"({"id":"1"})");
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(second.body(), R"({"id":"2"})");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(first[bhttp::field::content_type], "application/json");
  EXPECT_EQ(first["x-content-type-options"], "nosniff");
  EXPECT_EQ(first["x-frame-options"], "DENY");
  EXPECT_EQ(first["referrer-policy"], "no-referrer");
  EXPECT_NE(first["content-security-policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(first[bhttp::field::cache_control], "no-store");
}

TEST(ServerTest, HealthzAndUnknownApiPath) {
  Router router;
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  auto health = Fetch(s.port(), bhttp::verb::get, "/healthz");
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), R"({"status":"ok"})");
  auto missing = Fetch(s.port(), bhttp::verb::get, "/api/v1/nothing");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_EQ(missing.body(), R"({"error":{"code":"not_found","message":"not found"}})");
}

TEST(ServerTest, OversizedBodyGets413BeforeTheHandlerRuns) {
  Router router;
  std::atomic<int> calls{0};
  router.Post(
      "/api/v1/notes",
      [&](Request& r) {
        ++calls;
        return Response::Text(200, r.body);
      },
      RouteOptions{.body_limit = 64});
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());

  auto ok = Fetch(s.port(), bhttp::verb::post, "/api/v1/notes", "short note");
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(ok.body(), "short note");

  auto big = Fetch(s.port(), bhttp::verb::post, "/api/v1/notes", std::string(1000, 'x'));
  EXPECT_EQ(big.result_int(), 413);
  EXPECT_EQ(big.body(), R"({"error":{"code":"too_large","message":"request body too large"}})");
  EXPECT_EQ(calls, 1);

  // A chunked body without Content-Length is caught by the parser's limit.
  auto chunked = RunClient([&]() -> asio::awaitable<HttpResponse> {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect(Local(s.port()), kAwait);
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/v1/notes", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.chunked(true);
    req.body() = std::string(1000, 'y');
    co_await bhttp::async_write(stream, req, kAwait);
    beast::flat_buffer buffer;
    HttpResponse res;
    co_await bhttp::async_read(stream, buffer, res, kAwait);
    co_return res;
  });
  EXPECT_EQ(chunked.result_int(), 413);
  EXPECT_EQ(calls, 1);

  // Requests without a body are complete after their header and served
  // (their route's limit is not looked up).
  auto empty = Fetch(s.port(), bhttp::verb::post, "/api/v1/notes", "");
  EXPECT_EQ(empty.result_int(), 200);
  EXPECT_EQ(empty.body(), "");
  EXPECT_EQ(calls, 2);
  auto get = Fetch(s.port(), bhttp::verb::get, "/api/v1/notes", "");
  EXPECT_EQ(get.result_int(), 405);
}

// A handler that leaves a write pending (an audit entry stored by another
// thread) gets its response sent only once that write settles, and the
// worker thread serves other connections meanwhile.
TEST(ServerTest, ResponseWaitsForItsFenceWithoutBlockingTheWorker) {
  Router router;
  std::mutex mu;
  std::shared_ptr<core::ResponseFence> held;
  std::promise<void> handler_ran;
  router.Get("/api/v1/record", [&](Request&) {
    auto fence = core::CurrentResponseFence();
    EXPECT_NE(fence, nullptr);
    fence->Hold();
    {
      std::lock_guard lock(mu);
      held = fence;
    }
    handler_ran.set_value();
    return Response::Text(200, "shown after the record");
  });
  router.Get("/api/v1/other", [](Request&) { return Response::Text(200, "other"); });
  ServerOptions options = TestOptions();
  options.threads = 1;
  RunningServer s(options, router);
  ASSERT_TRUE(s.status().ok());

  auto first = std::async(std::launch::async,
                          [&] { return Fetch(s.port(), bhttp::verb::get, "/api/v1/record"); });
  handler_ran.get_future().wait();
  // The only worker thread is free while the first response waits.
  EXPECT_EQ(Fetch(s.port(), bhttp::verb::get, "/api/v1/other").body(), "other");
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  std::thread([&] {
    std::lock_guard lock(mu);
    held->Release(core::Status::Ok());
  }).join();
  auto res = first.get();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "shown after the record");
}

TEST(ServerTest, AFailedPendingWriteTurnsTheResponseInto500) {
  Router router;
  router.Get("/api/v1/record", [](Request&) {
    auto fence = core::CurrentResponseFence();
    fence->Hold();
    std::thread([fence] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      fence->Release(core::Internal("could not write the audit log", "disk full"));
    }).detach();
    return Response::Text(200, "patient data");
  });
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  auto res = Fetch(s.port(), bhttp::verb::get, "/api/v1/record");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res.body().find("patient data"), std::string::npos);
  EXPECT_EQ(res.body().find("disk full"), std::string::npos);
}

TEST(ServerTest, HandlerExceptionIs500WithoutDetail) {
  Router router;
  router.Get("/api/v1/boom", [](Request&) -> Response {
    throw std::runtime_error("database password is hunter2");
  });
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  auto res = Fetch(s.port(), bhttp::verb::get, "/api/v1/boom");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res.body().find("hunter2"), std::string::npos);
}

class StaticServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("www/index.html", "<html>app</html>");
    dir_.Write("www/assets/app.js", "console.log('plain')");
    dir_.Write("www/assets/app.js.gz", "GZIPPED-BYTES");
    dir_.Write("secret.txt", "top secret");
    ServerOptions o = TestOptions();
    o.static_root = (dir_.path() / "www").string();
    router_.Get("/api/v1/ping", [](Request&) { return Response::Text(200, "pong"); });
    server_ = std::make_unique<RunningServer>(o, router_);
    ASSERT_TRUE(server_->status().ok()) << server_->status().ToString();
  }
  uint16_t port() { return server_->port(); }

  TempDir dir_;
  Router router_;
  std::unique_ptr<RunningServer> server_;
};

TEST_F(StaticServerTest, EtagRevalidationGives304) {
  auto first = Fetch(port(), bhttp::verb::get, "/index.html");
  ASSERT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), "<html>app</html>");
  EXPECT_EQ(first[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(first[bhttp::field::cache_control], "no-cache");
  std::string etag(first[bhttp::field::etag]);
  ASSERT_FALSE(etag.empty());
  auto second =
      Fetch(port(), bhttp::verb::get, "/index.html", "", {{bhttp::field::if_none_match, etag}});
  EXPECT_EQ(second.result_int(), 304);
  EXPECT_TRUE(second.body().empty());
  EXPECT_EQ(second["x-content-type-options"], "nosniff");
}

TEST_F(StaticServerTest, GzipSiblingServedWhenAccepted) {
  auto gz = Fetch(port(), bhttp::verb::get, "/assets/app.js", "",
                  {{bhttp::field::accept_encoding, "gzip, deflate"}});
  ASSERT_EQ(gz.result_int(), 200);
  EXPECT_EQ(gz.body(), "GZIPPED-BYTES");
  EXPECT_EQ(gz[bhttp::field::content_encoding], "gzip");
  EXPECT_EQ(gz[bhttp::field::vary], "Accept-Encoding");
  EXPECT_EQ(gz[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(gz[bhttp::field::cache_control], "public, max-age=31536000, immutable");
  auto plain = Fetch(port(), bhttp::verb::get, "/assets/app.js");
  EXPECT_EQ(plain.body(), "console.log('plain')");
  EXPECT_EQ(plain[bhttp::field::content_encoding], "");
}

TEST_F(StaticServerTest, SpaFallbackAndHead) {
  auto spa = Fetch(port(), bhttp::verb::get, "/patients/123/timeline");
  EXPECT_EQ(spa.result_int(), 200);
  EXPECT_EQ(spa.body(), "<html>app</html>");
  EXPECT_EQ(Fetch(port(), bhttp::verb::get, "/missing.png").result_int(), 404);
  // API paths never fall back to the app.
  EXPECT_EQ(Fetch(port(), bhttp::verb::get, "/api/v1/unknown").result_int(), 404);
  EXPECT_EQ(Fetch(port(), bhttp::verb::get, "/api/v1/ping").body(), "pong");

  auto head = RunClient([&]() -> asio::awaitable<HttpResponse> {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect(Local(port()), kAwait);
    bhttp::request<bhttp::empty_body> req{bhttp::verb::head, "/index.html", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    co_await bhttp::async_write(stream, req, kAwait);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(true);  // a HEAD response has no body
    co_await bhttp::async_read(stream, buffer, parser, kAwait);
    co_return parser.release();
  });
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[bhttp::field::content_length], "16");
}

TEST_F(StaticServerTest, TraversalRefused) {
  for (const char* target : {"/../secret.txt", "/assets/../../secret.txt",
                             "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"}) {
    auto res = Fetch(port(), bhttp::verb::get, target);
    EXPECT_TRUE(res.result_int() == 400 || res.result_int() == 404) << target;
    EXPECT_EQ(res.body().find("top secret"), std::string::npos) << target;
  }
}

TEST(ServerTest, WebSocketPublishReachesAuthenticatedUser) {
  Router router;
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  s.server().hub().SetAuthenticator([](const Request& r) -> std::optional<int64_t> {
    if (r.Cookie("tsunagu_session") == "good") return 42;
    return std::nullopt;
  });

  auto got = RunClient(
      [&]() -> asio::awaitable<std::string> {
        auto ex = co_await asio::this_coro::executor;
        beast::tcp_stream stream(ex);
        co_await stream.async_connect(Local(s.port()), kAwait);
        websocket::stream<beast::tcp_stream> ws(std::move(stream));
        ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
          req.set(bhttp::field::cookie, "tsunagu_session=good");
        }));
        co_await ws.async_handshake("127.0.0.1", "/ws", kAwait);
        asio::steady_timer timer(ex);
        while (s.server().hub().ConnectionCount() == 0) {
          timer.expires_after(5ms);
          co_await timer.async_wait(kAwait);
        }
        s.server().hub().Publish(7, "for someone else");
        s.server().hub().Publish(42, R"({"type":"message.new"})");
        beast::flat_buffer buffer;
        co_await ws.async_read(buffer, kAwait);
        std::string text = beast::buffers_to_string(buffer.data());
        co_await ws.async_close(websocket::close_code::normal, kAwait);
        co_return text;
      },
      1s);
  EXPECT_EQ(got, R"({"type":"message.new"})");
  // The closed connection leaves the hub.
  for (int i = 0; i < 100 && s.server().hub().ConnectionCount() != 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(s.server().hub().ConnectionCount(), 0u);
}

TEST(ServerTest, WebSocketWithoutSessionGets401) {
  Router router;
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  s.server().hub().SetAuthenticator([](const Request&) { return std::optional<int64_t>(); });
  auto status = RunClient([&]() -> asio::awaitable<int> {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect(Local(s.port()), kAwait);
    websocket::stream<beast::tcp_stream> ws(std::move(stream));
    websocket::response_type res;
    beast::error_code ec;
    co_await ws.async_handshake(res, "127.0.0.1", "/ws", asio::redirect_error(kAwait, ec));
    EXPECT_TRUE(ec);
    co_return res.result_int();
  });
  EXPECT_EQ(status, 401);
  EXPECT_EQ(s.server().hub().ConnectionCount(), 0u);
}

// Self-signed certificate for 127.0.0.1 made with the openssl CLI.
void MakeCertificate(const fs::path& dir) {
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-days 1 -subj /CN=localhost -keyout '" +
      (dir / "key.pem").string() + "' -out '" + (dir / "cert.pem").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

TEST(ServerTest, TlsServesTls13AndRefusesTls12Clients) {
  TempDir dir;
  MakeCertificate(dir.path());
  Router router;
  ServerOptions o = TestOptions();
  o.tls_cert = (dir.path() / "cert.pem").string();
  o.tls_key = (dir.path() / "key.pem").string();
  RunningServer s(o, router);
  ASSERT_TRUE(s.status().ok()) << s.status().ToString();

  auto [status, version] = RunClient([&]() -> asio::awaitable<std::pair<int, std::string>> {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_none);
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, ctx);
    co_await beast::get_lowest_layer(stream).async_connect(Local(s.port()), kAwait);
    co_await stream.async_handshake(ssl::stream_base::client, kAwait);
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/healthz", 11};
    req.set(bhttp::field::host, "localhost");
    co_await bhttp::async_write(stream, req, kAwait);
    beast::flat_buffer buffer;
    HttpResponse res;
    co_await bhttp::async_read(stream, buffer, res, kAwait);
    EXPECT_EQ(res["strict-transport-security"], "max-age=31536000");
    co_return std::make_pair(res.result_int(),
                             std::string(SSL_get_version(stream.native_handle())));
  });
  EXPECT_EQ(status, 200);
  EXPECT_EQ(version, "TLSv1.3");

  auto refused = RunClient([&]() -> asio::awaitable<bool> {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_none);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, ctx);
    co_await beast::get_lowest_layer(stream).async_connect(Local(s.port()), kAwait);
    beast::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::client, asio::redirect_error(kAwait, ec));
    co_return static_cast<bool>(ec);
  });
  EXPECT_TRUE(refused);
}

TEST(ServerTest, BadTlsFilesAreInvalidInput) {
  TempDir dir;
  dir.Write("cert.pem", "not a certificate");
  dir.Write("key.pem", "not a key");
  Router router;
  ServerOptions o = TestOptions();
  o.tls_cert = (dir.path() / "cert.pem").string();
  o.tls_key = (dir.path() / "key.pem").string();
  Server server(o, router);
  core::Status st = server.Listen();
  EXPECT_EQ(st.code(), core::Code::kInvalidInput);
  o.tls_key.clear();
  Server half(o, router);
  EXPECT_EQ(half.Listen().code(), core::Code::kInvalidInput);
}

TEST(ServerTest, PlainHttpOnPublicAddressNeedsOptIn) {
  Router router;
  ServerOptions o = TestOptions();
  o.address = "0.0.0.0";
  Server refused(o, router);
  core::Status st = refused.Listen();
  EXPECT_EQ(st.code(), core::Code::kInvalidInput);
  o.allow_plain_http_on_public = true;
  Server allowed(o, router);
  EXPECT_TRUE(allowed.Listen().ok());
  EXPECT_NE(allowed.port(), 0);
}

TEST(ServerTest, StopLetsInFlightRequestFinish) {
  Router router;
  std::atomic<bool> started{false};
  router.Get("/api/v1/slow", [&](Request&) {
    started = true;
    std::this_thread::sleep_for(300ms);
    return Response::Text(200, "done");
  });
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  const uint16_t port = s.port();
  auto client = std::async(std::launch::async,
                           [port] { return Fetch(port, bhttp::verb::get, "/api/v1/slow"); });
  while (!started) std::this_thread::sleep_for(2ms);
  auto t0 = std::chrono::steady_clock::now();
  s.Stop();  // returns once Run has returned
  auto stopped_after = std::chrono::steady_clock::now() - t0;
  HttpResponse res = client.get();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "done");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_LT(stopped_after, 1500ms);
  // No longer accepting.
  EXPECT_THROW(Fetch(port, bhttp::verb::get, "/healthz"), std::exception);
}

TEST(ServerTest, StopClosesIdleKeepAliveConnectionsPromptly) {
  Router router;
  ServerOptions o = TestOptions();
  o.idle_timeout_ms = 10000;
  o.shutdown_grace_ms = 10000;
  RunningServer s(o, router);
  ASSERT_TRUE(s.status().ok());
  asio::io_context ioc;
  beast::tcp_stream idle(ioc);
  idle.connect(Local(s.port()));
  std::this_thread::sleep_for(50ms);  // accepted and waiting for a request
  auto t0 = std::chrono::steady_clock::now();
  s.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
}

TEST(ServerTest, HalfHeaderIsClosedAfterReadTimeout) {
  Router router;
  ServerOptions o = TestOptions();
  o.read_timeout_ms = 200;
  RunningServer s(o, router);
  ASSERT_TRUE(s.status().ok());
  auto t0 = std::chrono::steady_clock::now();
  auto ec = RunClient([&]() -> asio::awaitable<beast::error_code> {
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(Local(s.port()), kAwait);
    std::string partial = "GET /healthz HTTP/1.1\r\nHost: 127.0";
    co_await asio::async_write(socket, asio::buffer(partial), kAwait);
    char byte;
    beast::error_code read_ec;
    co_await socket.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(kAwait, read_ec));
    co_return read_ec;
  });
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(ServerTest, MetricsCountRequests) {
  Router router;
  RunningServer s(TestOptions(), router);
  ASSERT_TRUE(s.status().ok());
  Fetch(s.port(), bhttp::verb::get, "/healthz");
  Fetch(s.port(), bhttp::verb::get, "/api/v1/missing");
  auto m = Fetch(s.port(), bhttp::verb::get, "/metrics");
  EXPECT_EQ(m.result_int(), 200);
  EXPECT_NE(m[bhttp::field::content_type].find("text/plain"), std::string::npos);
  const std::string& body = m.body();
  EXPECT_NE(body.find("tsunagu_http_requests_total{method=\"GET\",code=\"200\"} 1"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("tsunagu_http_requests_total{method=\"GET\",code=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(body.find("tsunagu_http_request_duration_seconds_bucket{le=\"+Inf\"} 2"),
            std::string::npos);
  // This connection at least (earlier ones may not have been reaped yet).
  EXPECT_NE(body.find("tsunagu_http_open_connections "), std::string::npos);
  EXPECT_EQ(body.find("tsunagu_http_open_connections 0\n"), std::string::npos);
  EXPECT_NE(body.find("tsunagu_websocket_connections 0"), std::string::npos);
  EXPECT_NE(body.find("process_uptime_seconds "), std::string::npos);
  EXPECT_EQ(body.find("process_resident_memory_bytes 0\n"), std::string::npos);
}

TEST(ServerTest, AccessLogHasPathWithoutQuery) {
  TempDir dir;
  const std::string log = (dir.path() / "access.log").string();
  ASSERT_TRUE(core::SetLogFile(log));
  {
    Router router;
    router.Get("/api/v1/patients", [](Request&) { return Response::Json(200, "[]"); });
    ServerOptions o = TestOptions();
    o.access_log = true;
    RunningServer s(o, router);
    ASSERT_TRUE(s.status().ok());
    Fetch(s.port(), bhttp::verb::get, "/api/v1/patients?name=%E5%B1%B1%E7%94%B0");
  }
  core::SetLogFile("");
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::string line;
  for (std::string l; std::getline(text, l);) {
    if (l.find("\"http.request\"") != std::string::npos) line = l;
  }
  EXPECT_NE(line.find("\"path\":\"/api/v1/patients\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"status\":\"200\""), std::string::npos);
  EXPECT_NE(line.find("\"client\":\"127.0.0.1\""), std::string::npos);
  EXPECT_EQ(line.find("name="), std::string::npos);
}

}  // namespace
}  // namespace tsunagu::http
