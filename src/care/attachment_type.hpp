#pragma once
// Recognises the file types a care post may carry by their content (magic
// numbers and container structure), never by the file name: JPEG, PNG, GIF,
// WebP, HEIC; PDF; Office Open XML (docx, xlsx, pptx: a ZIP whose central
// directory lists [Content_Types].xml and the application's parts); legacy
// Word/Excel (OLE compound file with a WordDocument or Workbook stream); MP3,
// M4A, WAV; MP4, MOV, WebM. Everything else (executables, scripts, HTML,
// plain ZIP, ...) is not recognised. Thread-safety: pure functions.
#include <optional>
#include <string>
#include <string_view>

#include "care/types.hpp"

namespace tsunagu::care {

struct AttachmentType {
  std::string_view content_type;  // "image/jpeg"
  AttachmentKind kind = AttachmentKind::kDocument;
};

// The type of `bytes`, or nullopt when it is not one of the allowed types.
std::optional<AttachmentType> DetectAttachmentType(std::string_view bytes);

// True when a client-supplied MIME type or file name claims an image
// ("image/...", or a .jpg/.jpeg/.png/.gif/.webp/.heic/.heif name).
bool DeclaresImage(std::string_view declared_type, std::string_view file_name);

}  // namespace tsunagu::care
