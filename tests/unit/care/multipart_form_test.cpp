// MultipartForm: what browsers and curl send parses; malformed bodies are
// refused with InvalidInput.
#include "care/multipart_form.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tsunagu::care {
namespace {

constexpr const char* kType = "multipart/form-data; boundary=----WebKitFormBoundaryX3a";

std::string Body(const std::string& parts) { return parts + "------WebKitFormBoundaryX3a--\r\n"; }

std::string Part(const std::string& headers, const std::string& content) {
  return "------WebKitFormBoundaryX3a\r\n" + headers + "\r\n\r\n" + content + "\r\n";
}

TEST(MultipartFormTest, ParsesFieldsAndFilesWithBinaryContent) {
  std::string binary("\xFF\xD8\xFF\x00\r\n--not-a-boundary\r\n", 24);
  std::string body =
      Body(Part("Content-Disposition: form-data; name=\"post\"", R"({"kind":"photo"})") +
           Part("Content-Disposition: form-data; name=\"file\"; filename=\"残薬.jpg\"\r\n"
                "Content-Type: image/jpeg",
                binary));
  auto form = MultipartForm::Parse(kType, body);
  ASSERT_TRUE(form.has_value()) << form.error().ToString();
  ASSERT_EQ(form->parts().size(), 2u);
  EXPECT_EQ(form->parts()[0].name, "post");
  EXPECT_FALSE(form->parts()[0].filename.has_value());
  EXPECT_EQ(form->parts()[0].content, R"({"kind":"photo"})");
  EXPECT_EQ(form->parts()[1].name, "file");
  EXPECT_EQ(form->parts()[1].filename.value_or(""), "残薬.jpg");
  EXPECT_EQ(form->parts()[1].content_type, "image/jpeg");
  EXPECT_EQ(form->parts()[1].content, binary);
}

TEST(MultipartFormTest, AcceptsQuotedBoundaryCaseInsensitiveNamesPreambleAndEpilogue) {
  std::string body =
      "preamble to ignore\r\n--a'b c\r\n"
      "CONTENT-DISPOSITION: Form-Data; NAME=\"x\"\r\n\r\n1\r\n"
      "--a'b c\r\n"
      "content-disposition: form-data; name=file; filename*=UTF-8''%E5%86%99%E7%9C%9F"
      ".png; filename=\"fallback.png\"\r\n\r\n\r\n"
      "--a'b c--\r\nepilogue";
  auto form = MultipartForm::Parse("Multipart/Form-Data; charset=utf-8; boundary=\"a'b c\"", body);
  ASSERT_TRUE(form.has_value()) << form.error().ToString();
  ASSERT_EQ(form->parts().size(), 2u);
  EXPECT_EQ(form->parts()[0].name, "x");
  EXPECT_EQ(form->parts()[0].content, "1");
  EXPECT_EQ(form->parts()[1].filename.value_or(""), "写真.png");
  EXPECT_EQ(form->parts()[1].content, "");
}

TEST(MultipartFormTest, EscapedQuotesInFilenames) {
  std::string body =
      Body(Part(R"(Content-Disposition: form-data; name="file"; filename="a\"b.pdf")", "%PDF-"));
  auto form = MultipartForm::Parse(kType, body);
  ASSERT_TRUE(form.has_value()) << form.error().ToString();
  EXPECT_EQ(form->parts()[0].filename.value_or(""), "a\"b.pdf");
}

TEST(MultipartFormTest, RecognisesMultipartContentTypes) {
  EXPECT_TRUE(MultipartForm::IsMultipart("multipart/form-data; boundary=x"));
  EXPECT_TRUE(MultipartForm::IsMultipart("MULTIPART/FORM-DATA;boundary=x"));
  EXPECT_FALSE(MultipartForm::IsMultipart("application/json"));
  EXPECT_FALSE(MultipartForm::IsMultipart("multipart/mixed; boundary=x"));
  EXPECT_FALSE(MultipartForm::IsMultipart(""));
}

struct Malformed {
  const char* what;
  std::string content_type;
  std::string body;
  const char* message;
};

class MultipartFormMalformedTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MultipartFormMalformedTest, IsInvalidInput) {
  const Malformed& m = GetParam();
  auto form = MultipartForm::Parse(m.content_type, m.body);
  ASSERT_FALSE(form.has_value()) << m.what;
  EXPECT_EQ(form.error().code(), core::Code::kInvalidInput) << m.what;
  EXPECT_EQ(form.error().message(), m.message) << m.what;
}

const std::string kOk = Part("Content-Disposition: form-data; name=\"a\"", "1");

INSTANTIATE_TEST_SUITE_P(
    Cases, MultipartFormMalformedTest,
    ::testing::Values(
        Malformed{"not multipart", "application/json", "{}",
                  "Content-Type must be multipart/form-data"},
        Malformed{"no boundary", "multipart/form-data", Body(kOk),
                  "multipart/form-data needs a valid boundary"},
        Malformed{"boundary too long", "multipart/form-data; boundary=" + std::string(71, 'b'),
                  Body(kOk), "multipart/form-data needs a valid boundary"},
        Malformed{"bad boundary character", "multipart/form-data; boundary=\"a<b\"", Body(kOk),
                  "multipart/form-data needs a valid boundary"},
        Malformed{"unterminated quoted boundary", "multipart/form-data; boundary=\"abc", Body(kOk),
                  "malformed Content-Type"},
        Malformed{"boundary not in body", kType, "hello", "the multipart body has no boundary"},
        Malformed{"empty body", kType, "", "the multipart body has no boundary"},
        Malformed{"no closing delimiter", kType, kOk, "the multipart body has no closing boundary"},
        Malformed{
            "truncated part", kType,
            "------WebKitFormBoundaryX3a\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
            "12345",
            "the multipart body has no closing boundary"},
        Malformed{"garbage after delimiter", kType, "------WebKitFormBoundaryX3aXYZ\r\n" + kOk,
                  "malformed multipart boundary line"},
        Malformed{"header without colon", kType,
                  Body(Part("Content-Disposition form-data; name=\"a\"", "1")),
                  "malformed multipart part header"},
        Malformed{"folded header", kType,
                  Body(Part("Content-Disposition: form-data;\r\n name=\"a\"", "1")),
                  "malformed multipart part header"},
        Malformed{"no blank line after headers", kType,
                  "------WebKitFormBoundaryX3a\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                  "------WebKitFormBoundaryX3a--",
                  "malformed multipart part header"},
        Malformed{"no disposition", kType, Body(Part("Content-Type: text/plain", "1")),
                  "a multipart part has no Content-Disposition"},
        Malformed{"not form-data", kType,
                  Body(Part("Content-Disposition: attachment; name=\"a\"", "1")),
                  "a multipart part must be form-data"},
        Malformed{"no name", kType,
                  Body(Part("Content-Disposition: form-data; filename=\"a.jpg\"", "1")),
                  "a multipart part has no name"},
        Malformed{"unterminated quoted name", kType,
                  Body(Part("Content-Disposition: form-data; name=\"a", "1")),
                  "malformed Content-Disposition in a part"},
        Malformed{"duplicate parameter", kType,
                  Body(Part("Content-Disposition: form-data; name=\"a\"; name=\"b\"", "1")),
                  "duplicate parameter in Content-Disposition in a part"},
        Malformed{"duplicate disposition", kType,
                  Body(Part("Content-Disposition: form-data; name=\"a\"\r\n"
                            "Content-Disposition: form-data; name=\"b\"",
                            "1")),
                  "duplicate Content-Disposition in a part"},
        Malformed{
            "bad filename*", kType,
            Body(Part("Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E5%8", "1")),
            "malformed filename* in a multipart part"},
        Malformed{
            "filename* in another charset", kType,
            Body(Part("Content-Disposition: form-data; name=\"f\"; filename*=Shift_JIS''a", "1")),
            "malformed filename* in a multipart part"}),
    [](const ::testing::TestParamInfo<Malformed>& info) {
      std::string name;
      for (char c : std::string(info.param.what)) name += std::isalnum(c) ? c : '_';
      return name;
    });

TEST(MultipartFormTest, TooManyPartsAreRefused) {
  std::string parts;
  for (size_t i = 0; i <= MultipartForm::kMaxParts; ++i) parts += kOk;
  auto form = MultipartForm::Parse(kType, Body(parts));
  ASSERT_FALSE(form.has_value());
  EXPECT_EQ(form.error().message(), "too many multipart parts");
}

}  // namespace
}  // namespace tsunagu::care
