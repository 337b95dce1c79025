#include "care/attachment_type.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace tsunagu::care {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool At(std::string_view s, size_t pos, std::string_view what) {
  return s.size() >= pos + what.size() && s.compare(pos, what.size(), what) == 0;
}

uint32_t Le16(std::string_view s, size_t pos) {
  return static_cast<uint8_t>(s[pos]) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 1])) << 8);
}

uint32_t Le32(std::string_view s, size_t pos) { return Le16(s, pos) | (Le16(s, pos + 2) << 16); }

// The ISO base media file format ("ftyp" box first): HEIC images, M4A audio,
// MP4 and QuickTime video, told apart by the major brand.
std::optional<AttachmentType> IsoMedia(std::string_view b) {
  if (!At(b, 4, "ftyp") || b.size() < 12) return std::nullopt;
  std::string_view brand = b.substr(8, 4);
  for (std::string_view heic : {"heic", "heix", "mif1", "msf1"}) {
    if (brand == heic) return AttachmentType{"image/heic", AttachmentKind::kImage};
  }
  if (brand == "M4A " || brand == "M4B ") {
    return AttachmentType{"audio/mp4", AttachmentKind::kAudio};
  }
  if (brand == "qt  ") return AttachmentType{"video/quicktime", AttachmentKind::kVideo};
  for (std::string_view mp4 : {"isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1",
                               "M4V ", "3gp4", "3gp5", "3g2a", "dash"}) {
    if (brand == mp4) return AttachmentType{"video/mp4", AttachmentKind::kVideo};
  }
  return std::nullopt;
}

// A ZIP archive is allowed only as an Office Open XML document: its central
// directory must list [Content_Types].xml and the parts of Word, Excel or
// PowerPoint. Walks the central directory with bounds checks.
std::optional<AttachmentType> OfficeOpenXml(std::string_view b) {
  constexpr size_t kEocdSize = 22;
  if (b.size() < kEocdSize) return std::nullopt;
  // The end-of-central-directory record is within the last 64 KiB + 22 bytes.
  size_t lowest = b.size() > 65557 ? b.size() - 65557 : 0;
  size_t eocd = std::string_view::npos;
  for (size_t i = b.size() - kEocdSize + 1; i-- > lowest;) {
    if (At(b, i, "PK\x05\x06")) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string_view::npos) return std::nullopt;
  uint32_t entries = Le16(b, eocd + 10);
  uint32_t cd_size = Le32(b, eocd + 12);
  uint32_t cd_offset = Le32(b, eocd + 16);
  if (static_cast<uint64_t>(cd_offset) + cd_size > eocd) return std::nullopt;
  bool content_types = false, word = false, excel = false, powerpoint = false;
  size_t pos = cd_offset;
  for (uint32_t n = 0; n < entries; ++n) {
    if (pos + 46 > eocd || !At(b, pos, "PK\x01\x02")) return std::nullopt;
    size_t name_len = Le16(b, pos + 28), extra_len = Le16(b, pos + 30),
           comment_len = Le16(b, pos + 32);
    if (pos + 46 + name_len > eocd) return std::nullopt;
    std::string_view name = b.substr(pos + 46, name_len);
    content_types |= name == "[Content_Types].xml";
    word |= name == "word/document.xml";
    excel |= name == "xl/workbook.xml";
    powerpoint |= name == "ppt/presentation.xml";
    pos += 46 + name_len + extra_len + comment_len;
  }
  if (!content_types) return std::nullopt;
  if (word) {
    return AttachmentType{"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                          AttachmentKind::kDocument};
  }
  if (excel) {
    return AttachmentType{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          AttachmentKind::kDocument};
  }
  if (powerpoint) {
    return AttachmentType{
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        AttachmentKind::kDocument};
  }
  return std::nullopt;
}

// Legacy Word and Excel files are OLE compound files; the stream names sit
// in the directory sectors as UTF-16LE. Other compound files (installers,
// Outlook items) are not allowed.
std::optional<AttachmentType> LegacyOffice(std::string_view b) {
  auto has_stream = [&](std::string_view ascii) {
    std::string utf16;
    for (char c : ascii) {
      utf16 += c;
      utf16 += '\0';
    }
    return b.find(utf16, 512) != std::string_view::npos;
  };
  if (has_stream("WordDocument")) {
    return AttachmentType{"application/msword", AttachmentKind::kDocument};
  }
  if (has_stream("Workbook") || has_stream("Book")) {
    return AttachmentType{"application/vnd.ms-excel", AttachmentKind::kDocument};
  }
  return std::nullopt;
}

// An MPEG audio frame header: 11 sync bits, a defined version and layer, a
// usable bitrate and sampling rate.
bool MpegAudioFrame(std::string_view b) {
  if (b.size() < 4) return false;
  auto u = [&](size_t i) { return static_cast<uint8_t>(b[i]); };
  if (u(0) != 0xFF || (u(1) & 0xE0) != 0xE0) return false;
  if (((u(1) >> 3) & 3) == 1 || ((u(1) >> 1) & 3) == 0) return false;
  int bitrate = u(2) >> 4, rate = (u(2) >> 2) & 3;
  return bitrate != 0 && bitrate != 15 && rate != 3;
}

}  // namespace

std::optional<AttachmentType> DetectAttachmentType(std::string_view b) {
  if (StartsWith(b, "\xFF\xD8\xFF")) return AttachmentType{"image/jpeg", AttachmentKind::kImage};
  if (StartsWith(b, "\x89PNG\r\n\x1A\n")) {
    return AttachmentType{"image/png", AttachmentKind::kImage};
  }
  if (StartsWith(b, "GIF87a") || StartsWith(b, "GIF89a")) {
    return AttachmentType{"image/gif", AttachmentKind::kImage};
  }
  if (StartsWith(b, "RIFF") && At(b, 8, "WEBP")) {
    return AttachmentType{"image/webp", AttachmentKind::kImage};
  }
  if (StartsWith(b, "RIFF") && At(b, 8, "WAVE")) {
    return AttachmentType{"audio/wav", AttachmentKind::kAudio};
  }
  if (StartsWith(b, "%PDF-")) return AttachmentType{"application/pdf", AttachmentKind::kPdf};
  if (StartsWith(b, "PK\x03\x04")) return OfficeOpenXml(b);
  if (StartsWith(b, std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))) {
    return LegacyOffice(b);
  }
  if (auto iso = IsoMedia(b)) return iso;
  if (StartsWith(b, "\x1A\x45\xDF\xA3")) {
    // EBML: only the WebM doc type (declared in the header) is allowed.
    if (b.substr(0, 64).find("webm") != std::string_view::npos) {
      return AttachmentType{"video/webm", AttachmentKind::kVideo};
    }
    return std::nullopt;
  }
  if (StartsWith(b, "ID3") || MpegAudioFrame(b)) {
    return AttachmentType{"audio/mpeg", AttachmentKind::kAudio};
  }
  return std::nullopt;
}

bool DeclaresImage(std::string_view declared_type, std::string_view file_name) {
  std::string type(declared_type);
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (StartsWith(type, "image/")) return true;
  size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext(file_name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (std::string_view image : {"jpg", "jpeg", "png", "gif", "webp", "heic", "heif"}) {
    if (ext == image) return true;
  }
  return false;
}

}  // namespace tsunagu::care
