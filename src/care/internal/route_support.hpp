#pragma once
// What every care route handler needs (internal to src/care): the acting
// member from the session, path ids, times as JSON.
#include <boost/json/value.hpp>
#include <cstdint>
#include <string_view>

#include "care/types.hpp"
#include "core/status.hpp"
#include "http/message.hpp"

namespace tsunagu::care::internal {

// The logged-in user as an Actor with the request's audit template;
// Unauthenticated without a session.
core::Result<Actor> ActorOf(const http::Request& req);
// A numeric path id; anything else answers NotFound("<what> not found"), like
// an unknown id.
core::Result<int64_t> IdParam(const http::Request& req, std::string_view key,
                              std::string_view what);
// ISO 8601 UTC, or null for 0.
boost::json::value TimeJson(int64_t millis);

}  // namespace tsunagu::care::internal
