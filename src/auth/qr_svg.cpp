#include "auth/qr_svg.hpp"

#include <qrencode.h>

#include <memory>

namespace tsunagu::auth {

core::Result<std::string> QrSvg(std::string_view text, int module_px) {
  constexpr int kQuietZone = 4;
  std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!code) return core::InvalidInput("text too long for a QR code");
  const int width = code->width;
  const int total = (width + 2 * kQuietZone) * module_px;
  std::string svg;
  svg.reserve(static_cast<size_t>(width) * width * 24);
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(total) +
         "\" height=\"" + std::to_string(total) + "\" viewBox=\"0 0 " +
         std::to_string(width + 2 * kQuietZone) + " " + std::to_string(width + 2 * kQuietZone) +
         "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
         "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One path; horizontal runs of dark modules become one rectangle each.
  for (int y = 0; y < width; ++y) {
    int x = 0;
    while (x < width) {
      if ((code->data[y * width + x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1) != 0) ++run;
      svg += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
             std::to_string(run) + "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace tsunagu::auth
