#include "ssmix2/mllp_listener.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"
#include "hl7v2/ack.hpp"
#include "hl7v2/message.hpp"
#include "ssmix2/import_command.hpp"
#include "ssmix2/mapper.hpp"

namespace tsunagu::ssmix2 {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr char kStartBlock = 0x0b;
constexpr char kEndBlock = 0x1c;
constexpr char kCarriageReturn = 0x0d;
constexpr int kIoThreads = 2;
constexpr auto kFacilityCacheTtl = std::chrono::seconds(60);

}  // namespace

std::string MllpFrame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out += kStartBlock;
  out += message;
  out += kEndBlock;
  out += kCarriageReturn;
  return out;
}

struct MllpListener::Impl {
  Impl(clinical::ResourceStore& r, registry::FacilityService& f, MllpOptions opt,
       const core::Clock& c)
      : resources(r), facilities(f), o(std::move(opt)), clock(c) {}

  clinical::ResourceStore& resources;
  registry::FacilityService& facilities;
  MllpOptions o;
  const core::Clock& clock;

  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  std::atomic<size_t> connections{0};
  bool started = false;
  bool stopped = false;
  std::mutex life_mu;

  struct CachedFacility {
    int64_t id;
    std::string code;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex cache_mu;
  std::unordered_map<std::string, CachedFacility> cache;

  core::Result<int64_t> Facility(const std::string& code) {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(cache_mu);
      auto it = cache.find(code);
      if (it != cache.end() && it->second.expires > now) return it->second.id;
    }
    TSUNAGU_ASSIGN_OR_RETURN(registry::Facility f, FindFacilityByCode(facilities, code));
    std::lock_guard lock(cache_mu);
    cache[code] = {f.id, f.code, now + kFacilityCacheTtl};
    return f.id;
  }

  std::string Handle(std::string_view raw) {
    auto message = hl7v2::Message::Parse(raw);
    if (!message) {
      core::LogWarn("mllp.rejected", {{"reason", message.error().message()}});
      return hl7v2::BuildRejectForUnparsed(raw, "unparseable message: " + message.error().message(),
                                           clock);
    }
    const hl7v2::Segment* msh = message->Find("MSH");
    std::string code = msh ? msh->Get(4) : "";
    std::string control = message->ControlId();
    if (code.empty()) {
      return hl7v2::BuildAck(*message, hl7v2::AckCode::kReject,
                             "MSH-4 (sending facility) must hold the medical institution code",
                             clock);
    }
    auto facility_id = Facility(code);
    if (!facility_id) {
      core::LogWarn("mllp.rejected", {{"control_id", control}, {"reason", "unknown facility"}});
      std::string reason = facility_id.error().code() == core::Code::kForbidden
                               ? "sending facility (MSH-4) is suspended"
                               : "unknown sending facility (MSH-4)";
      return hl7v2::BuildAck(*message, hl7v2::AckCode::kReject, reason, clock);
    }
    SourceContext ctx;
    ctx.facility_id = *facility_id;
    ctx.facility_code = code;
    auto records = MapMessage(*message, ctx);
    if (!records) {
      core::LogWarn("mllp.not_mapped",
                    {{"control_id", control}, {"reason", records.error().message()}});
      return hl7v2::BuildAck(*message, hl7v2::AckCode::kError,
                             "cannot map: " + records.error().message(), clock);
    }
    auto stats = resources.Write(*records);
    if (!stats) {
      core::LogError("mllp.store_failed", {{"control_id", control},
                                           {"error", stats.error().message()},
                                           {"detail", stats.error().detail()}});
      std::string reason = stats.error().code() == core::Code::kInvalidInput
                               ? "rejected by the store: " + stats.error().message()
                               : std::string("temporarily unable to store; send again later");
      return hl7v2::BuildAck(*message, hl7v2::AckCode::kError, reason, clock);
    }
    core::LogInfo("mllp.stored", {{"control_id", control},
                                  {"facility_id", std::to_string(*facility_id)},
                                  {"records", std::to_string(records->size())}});
    return hl7v2::BuildAck(*message, hl7v2::AckCode::kAccept, "stored", clock);
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    std::string buffer;
    std::vector<char> chunk(64 * 1024);
    try {
      while (true) {
        stream.expires_after(o.read_timeout);
        size_t n = co_await stream.async_read_some(asio::buffer(chunk), asio::use_awaitable);
        buffer.append(chunk.data(), n);
        while (true) {
          size_t start = buffer.find(kStartBlock);
          if (start == std::string::npos) {
            buffer.clear();  // noise between frames
            break;
          }
          size_t end = buffer.find(std::string_view("\x1c\x0d", 2), start + 1);
          if (end == std::string::npos) {
            if (start > 0) buffer.erase(0, start);
            if (buffer.size() > o.max_message_bytes + 3) {
              std::string ack = hl7v2::BuildRejectForUnparsed(
                  std::string_view(buffer).substr(1, 4096), "message too large", clock);
              stream.expires_after(o.read_timeout);
              co_await asio::async_write(stream, asio::buffer(MllpFrame(ack)), asio::use_awaitable);
              core::LogWarn("mllp.too_large", {{"limit", std::to_string(o.max_message_bytes)}});
              stream.close();
              co_return;
            }
            break;
          }
          std::string ack = Handle(std::string_view(buffer).substr(start + 1, end - start - 1));
          buffer.erase(0, end + 2);
          stream.expires_after(o.read_timeout);
          co_await asio::async_write(stream, asio::buffer(MllpFrame(ack)), asio::use_awaitable);
        }
      }
    } catch (const boost::system::system_error&) {
      // Peer closed, timeout or shutdown: the connection ends.
    }
    connections.fetch_sub(1);
  }

  asio::awaitable<void> Accept() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket socket(asio::make_strand(io));
      co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        continue;
      }
      if (connections.load() >= o.max_connections) {
        core::LogWarn("mllp.too_many_connections");
        socket.close(ec);
        continue;
      }
      connections.fetch_add(1);
      auto ex = socket.get_executor();
      asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
    }
  }
};

MllpListener::MllpListener(clinical::ResourceStore& resources,
                           registry::FacilityService& facilities, MllpOptions options,
                           const core::Clock& clock)
    : impl_(std::make_unique<Impl>(resources, facilities, std::move(options), clock)) {}

MllpListener::~MllpListener() { Stop(); }

core::Status MllpListener::Start() {
  std::lock_guard lock(impl_->life_mu);
  if (impl_->started) return core::Conflict("the MLLP listener is already started");
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->o.address, ec);
  if (ec) return core::InvalidInput("invalid MLLP listen address", impl_->o.address);
  tcp::endpoint endpoint(address, impl_->o.port);
  tcp::acceptor acceptor(impl_->io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::Unavailable("cannot listen for MLLP on port " + std::to_string(impl_->o.port),
                             ec.message());
  }
  impl_->port = acceptor.local_endpoint().port();
  impl_->acceptor.emplace(std::move(acceptor));
  impl_->started = true;
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  for (int i = 0; i < kIoThreads; ++i) {
    impl_->threads.emplace_back([this] {
      try {
        impl_->io.run();
      } catch (const std::exception& e) {
        core::LogError("mllp.fatal", {{"error", e.what()}});
      }
    });
  }
  core::LogInfo("mllp.listening",
                {{"address", impl_->o.address}, {"port", std::to_string(impl_->port.load())}});
  return core::Status::Ok();
}

uint16_t MllpListener::port() const { return impl_->port.load(); }

void MllpListener::Stop() {
  std::lock_guard lock(impl_->life_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  boost::system::error_code ec;
  impl_->acceptor->close(ec);
}

std::string MllpListener::Handle(std::string_view raw) { return impl_->Handle(raw); }

}  // namespace tsunagu::ssmix2
