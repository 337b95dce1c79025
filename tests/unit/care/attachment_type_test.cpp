// DetectAttachmentType: allowed files are recognised by their bytes whatever
// their name; executables, scripts, plain archives and unknown containers are
// not.
#include "care/attachment_type.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tsunagu::care {
namespace {

void Le16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void Le32(std::string& out, uint32_t v) {
  Le16(out, v & 0xFFFF);
  Le16(out, v >> 16);
}

// A ZIP archive with stored (uncompressed) entries, as Office writes its
// package: local headers, then the central directory and its end record.
std::string Zip(const std::vector<std::string>& names) {
  std::string out, central;
  for (const auto& name : names) {
    uint32_t offset = static_cast<uint32_t>(out.size());
    out += "PK\x03\x04";
    Le16(out, 20);
    for (int i = 0; i < 4; ++i) Le16(out, 0);  // flags, method, time, date
    for (int i = 0; i < 3; ++i) Le32(out, 0);  // crc, sizes
    Le16(out, static_cast<uint32_t>(name.size()));
    Le16(out, 0);
    out += name;
    central += "PK\x01\x02";
    Le16(central, 20);
    Le16(central, 20);
    for (int i = 0; i < 4; ++i) Le16(central, 0);
    for (int i = 0; i < 3; ++i) Le32(central, 0);
    Le16(central, static_cast<uint32_t>(name.size()));
    for (int i = 0; i < 4; ++i) Le16(central, 0);  // extra, comment, disk, internal attrs
    Le32(central, 0);                              // external attrs
    Le32(central, offset);
    central += name;
  }
  uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  out += "PK\x05\x06";
  Le16(out, 0);
  Le16(out, 0);
  Le16(out, static_cast<uint32_t>(names.size()));
  Le16(out, static_cast<uint32_t>(names.size()));
  Le32(out, static_cast<uint32_t>(central.size()));
  Le32(out, cd_offset);
  Le16(out, 0);
  return out;
}

// An OLE compound file whose directory names the given stream.
std::string CompoundFile(const std::string& stream) {
  std::string out("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  out.resize(512, '\0');
  for (const char* name : {"Root Entry", stream.c_str()}) {
    std::string entry;
    for (const char* c = name; *c; ++c) {
      entry += *c;
      entry += '\0';
    }
    entry.resize(128, '\0');
    out += entry;
  }
  return out;
}

std::string Ftyp(const std::string& brand) {
  return std::string("\0\0\0\x18", 4) + "ftyp" + brand + std::string("\0\0\0\0", 4) + "isom";
}

struct Case {
  const char* what;
  std::string bytes;
  const char* content_type;  // nullptr: refused
  AttachmentKind kind;
};

class AttachmentTypeTest : public ::testing::TestWithParam<Case> {};

TEST_P(AttachmentTypeTest, DetectsByContent) {
  const Case& c = GetParam();
  auto type = DetectAttachmentType(c.bytes);
  if (!c.content_type) {
    EXPECT_FALSE(type.has_value()) << c.what << " detected as " << type->content_type;
    return;
  }
  ASSERT_TRUE(type.has_value()) << c.what;
  EXPECT_EQ(type->content_type, c.content_type) << c.what;
  EXPECT_EQ(type->kind, c.kind) << c.what;
}

const AttachmentKind kImage = AttachmentKind::kImage, kDoc = AttachmentKind::kDocument,
                     kAudio = AttachmentKind::kAudio, kVideo = AttachmentKind::kVideo;

INSTANTIATE_TEST_SUITE_P(
    Files, AttachmentTypeTest,
    ::testing::Values(
        Case{"jpeg", std::string("\xFF\xD8\xFF\xE0\0\x10JFIF", 10), "image/jpeg", kImage},
        Case{"png", std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16), "image/png", kImage},
        Case{"gif", "GIF89a\x01\x00\x01\x00", "image/gif", kImage},
        Case{"webp", std::string("RIFF\x24\0\0\0WEBPVP8 ", 16), "image/webp", kImage},
        Case{"heic", Ftyp("heic"), "image/heic", kImage},
        Case{"heif mif1", Ftyp("mif1"), "image/heic", kImage},
        Case{"pdf", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "application/pdf", AttachmentKind::kPdf},
        Case{"docx",
             Zip({"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml"}),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document", kDoc},
        Case{"xlsx", Zip({"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"}),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", kDoc},
        Case{"pptx", Zip({"[Content_Types].xml", "ppt/presentation.xml"}),
             "application/vnd.openxmlformats-officedocument.presentationml.presentation", kDoc},
        Case{"doc", CompoundFile("WordDocument"), "application/msword", kDoc},
        Case{"xls", CompoundFile("Workbook"), "application/vnd.ms-excel", kDoc},
        Case{"mp3 id3", "ID3\x04\0\0\0\0\0\0", "audio/mpeg", kAudio},
        Case{"mp3 frame", std::string("\xFF\xFB\x90\x64\0\0", 6), "audio/mpeg", kAudio},
        Case{"m4a", Ftyp("M4A "), "audio/mp4", kAudio},
        Case{"wav", std::string("RIFF\x24\0\0\0WAVEfmt ", 16), "audio/wav", kAudio},
        Case{"mp4", Ftyp("isom"), "video/mp4", kVideo},
        Case{"mov", Ftyp("qt  "), "video/quicktime", kVideo},
        Case{"webm", std::string("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm", 16),
             "video/webm", kVideo},
        // Refused.
        Case{"windows exe", std::string("MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF", 14), nullptr, kDoc},
        Case{"elf",
             "\x7F"
             "ELF\x02\x01\x01",
             nullptr, kDoc},
        Case{"shell script", "#!/bin/sh\nrm -rf /\n", nullptr, kDoc},
        Case{"html", "<!DOCTYPE html><script>alert(1)</script>", nullptr, kDoc},
        Case{"svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", nullptr, kDoc},
        Case{"plain text", "hello", nullptr, kDoc},
        Case{"plain zip", Zip({"readme.txt", "setup.exe"}), nullptr, kDoc},
        Case{"zip with content types only", Zip({"[Content_Types].xml", "other/x.xml"}), nullptr,
             kDoc},
        Case{"zip with broken directory", "PK\x03\x04" + std::string(40, '\0') + "PK\x05\x06",
             nullptr, kDoc},
        Case{"msi (compound file)", CompoundFile("SummaryInformation"), nullptr, kDoc},
        Case{"avif", Ftyp("avif"), nullptr, kDoc},
        Case{"matroska", std::string("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01matroska", 17), nullptr,
             kDoc},
        Case{"empty", "", nullptr, kDoc}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name;
      for (char c : std::string(info.param.what)) name += std::isalnum(c) ? c : '_';
      return name;
    });

TEST(AttachmentTypeTest, ImageClaimsComeFromTypeOrName) {
  EXPECT_TRUE(DeclaresImage("image/jpeg", "x.bin"));
  EXPECT_TRUE(DeclaresImage("IMAGE/PNG", ""));
  EXPECT_TRUE(DeclaresImage("application/octet-stream", "写真.JPG"));
  EXPECT_TRUE(DeclaresImage("", "scan.heic"));
  EXPECT_FALSE(DeclaresImage("application/pdf", "report.pdf"));
  EXPECT_FALSE(DeclaresImage("", "jpg"));
}

}  // namespace
}  // namespace tsunagu::care
