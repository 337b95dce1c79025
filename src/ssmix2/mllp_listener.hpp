#pragma once
// HL7 v2 over MLLP: <VT> message <FS><CR> frames on TCP. Each message is
// parsed, mapped and stored (ResourceStore::Write returns after the commit)
// and only then acknowledged:
//   AA  stored;
//   AE  understood but not stored (mapping or validation error, storage
//       failure) with the reason;
//   AR  unparseable, too large, or the sending facility (MSH-4: medical
//       institution code) unknown or suspended.
// Reasons never contain patient data.
//
// Threading: Start() runs an io_context on its own thread; connections are
// served one message at a time each, in order. Stop() (or the destructor)
// closes the listener and every connection and joins the thread.
// Ownership: borrows the store, the facility service and the clock, which
// must outlive the listener. Boost.Asio stays inside the .cpp.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "clinical/resource_store.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "registry/facility_service.hpp"

namespace tsunagu::ssmix2 {

struct MllpOptions {
  std::string address = "127.0.0.1";  // listen address; loopback unless configured
  uint16_t port = 2575;               // 0 = any free port (see port())
  size_t max_message_bytes = 4u << 20;
  std::chrono::milliseconds read_timeout{60'000};  // idle connections are closed
  size_t max_connections = 64;
};

class MllpListener {
 public:
  MllpListener(clinical::ResourceStore& resources, registry::FacilityService& facilities,
               MllpOptions options, const core::Clock& clock = core::SystemClock::Instance());
  ~MllpListener();
  MllpListener(const MllpListener&) = delete;
  MllpListener& operator=(const MllpListener&) = delete;

  // Binds and starts serving. InvalidInput for a bad address, Unavailable
  // when the port cannot be bound, Conflict when already started.
  core::Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  // Idempotent.
  void Stop();

  // Processes one unframed message and returns the ACK bytes (unframed).
  // Thread-safe. Used by the connections; public for tests and tools.
  std::string Handle(std::string_view raw);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Wraps a message in an MLLP frame.
std::string MllpFrame(std::string_view message);

}  // namespace tsunagu::ssmix2
