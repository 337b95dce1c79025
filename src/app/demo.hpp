#pragma once
// The demo network: a believable prefecture network of facilities of every
// type across two secondary medical areas, staff of every occupation and
// patients with Japanese names, plus fixed logins for trying it out.
#include <string>

#include "core/status.hpp"

namespace tsunagu::app {

class Application;

inline constexpr const char* kDemoPassword = "tsunagu-demo-2026";
// TOTP secret of the demo admins (add it to an authenticator app).
inline constexpr const char* kDemoTotpSecret = "JBSWY3DPEHPK3PXP";

// Seeds the network into an empty database. Conflict when it already has
// facilities. Returns the login sheet (also written to DATA/DEMO-LOGINS.txt).
core::Result<std::string> SeedDemo(Application& app);
std::string DemoLoginSheet();

}  // namespace tsunagu::app
