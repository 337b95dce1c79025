#pragma once
// Fan-out of live notifications to open WebSocket connections, keyed by user.
// Thread-safe: Publish may be called from any thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "http/message.hpp"

namespace tsunagu::http {

class WebSocketHub {
 public:
  virtual ~WebSocketHub() = default;
  // Decides who an upgrade request belongs to (user id) or rejects it (nullopt -> 401).
  using Authenticator = std::function<std::optional<int64_t>(const Request&)>;
  virtual void SetAuthenticator(Authenticator authenticate) = 0;
  // Sends a text frame to every open connection of the user.
  virtual void Publish(int64_t user_id, std::string text) = 0;
  virtual size_t ConnectionCount() const = 0;
};

}  // namespace tsunagu::http
