#pragma once
// Renders text (an otpauth:// URI) as a QR code in a self-contained SVG
// string, suitable for inlining into the web app. Thread-safe.
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::auth {

// Error correction level M, 4-module quiet zone, `module_px` pixels per
// module. InvalidInput if the text is too long for a QR code.
core::Result<std::string> QrSvg(std::string_view text, int module_px = 4);

}  // namespace tsunagu::auth
