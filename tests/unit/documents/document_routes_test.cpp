// The document routes through the router: upload with a raw body and the
// metadata in the query, the list's JSON shape, the content's headers, and
// the error answers (401 / 403 / 404 / 400).
#include "documents/document_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/principal_context.hpp"
#include "http/router.hpp"
#include "unit/documents/document_fixture.hpp"

namespace tsunagu::documents {
namespace {

namespace json = boost::json;

class DocumentRoutesTest : public DocumentDbTest {
 protected:
  void SetUp() override {
    DocumentDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    deps_ = std::make_unique<DocumentDeps>(DocumentDeps{*documents_, *facilities_});
    // Stands in for the session middleware: "X-Test-Facility" logs a
    // physician of that facility in.
    router_.Use([](http::Request& req, const http::Handler& next) {
      if (auto f = req.Header("X-Test-Facility")) {
        auth::Principal p;
        p.user_id = 7;
        p.facility_id = std::stoll(std::string(*f));
        p.login_id = "doctor";
        p.display_name = "佐藤　一郎";
        p.occupation = auth::Occupation::kPhysician;
        auth::SetPrincipal(req, p);
      }
      return next(req);
    });
    RegisterDocumentRoutes(router_, *deps_);
  }

  http::Response Call(const std::string& method, const std::string& path, int64_t facility,
                      std::map<std::string, std::string, std::less<>> query = {},
                      std::string body = {}, const std::string& content_type = "") {
    http::Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.query = std::move(query);
    req.body = std::move(body);
    req.client_address = "127.0.0.1";
    if (facility) req.headers.Set("X-Test-Facility", std::to_string(facility));
    if (!content_type.empty()) req.headers.Set("Content-Type", content_type);
    return router_.Dispatch(req);
  }

  std::string DocumentsPath() { return "/api/v1/patients/" + patient_.regional_id + "/documents"; }

  http::Router router_;
  std::unique_ptr<DocumentDeps> deps_;
};

TEST_P(DocumentRoutesTest, UploadListAndView) {
  std::map<std::string, std::string, std::less<>> meta = {
      {"type_code", "57133-1"}, {"title", "紹介状"}, {"date", "2025-07-01"}};
  auto created = Call("POST", DocumentsPath(), hospital_, meta, MinimalPdf(), "application/pdf");
  ASSERT_EQ(created.status, 201) << created.body;
  json::value doc = json::parse(created.body);
  EXPECT_EQ(doc.at("title").as_string(), "紹介状");
  EXPECT_EQ(doc.at("type_display").as_string(), "診療情報提供書");
  EXPECT_EQ(doc.at("author").as_string(), "佐藤　一郎");  // the uploader when not given
  EXPECT_EQ(doc.at("source_facility_name").as_string(), "県北総合病院");
  std::string content_url(doc.at("content_url").as_string());
  EXPECT_EQ(content_url,
            "/api/v1/documents/" + std::string(doc.at("binary_id").as_string()) + "/content");

  auto again = Call("POST", DocumentsPath(), hospital_, meta, MinimalPdf(), "application/pdf");
  EXPECT_EQ(again.status, 200);

  Consent(patient_, hospital_, clinic_);
  auto list = Call("GET", DocumentsPath(), clinic_);
  ASSERT_EQ(list.status, 200) << list.body;
  json::value l = json::parse(list.body);
  ASSERT_EQ(l.at("items").as_array().size(), 1u);
  EXPECT_EQ(l.at("items").at(0).at("content_url").as_string(), content_url);
  EXPECT_EQ(l.at("total").as_int64(), 1);

  auto content = Call("GET", content_url, clinic_);
  ASSERT_EQ(content.status, 200) << content.body;
  EXPECT_EQ(content.body, MinimalPdf());
  EXPECT_EQ(content.headers.Get("content-type").value_or(""), "application/pdf");
  EXPECT_EQ(content.headers.Get("x-content-type-options").value_or(""), "nosniff");
  EXPECT_EQ(content.headers.Get("cache-control").value_or(""), "private, no-store");
  EXPECT_EQ(content.headers.Get("content-security-policy").value_or("").substr(0, 7), "sandbox");
  EXPECT_EQ(content.headers.Get("content-disposition").value_or(""),
            "inline; filename=\"document.pdf\"; "
            "filename*=UTF-8''%E7%B4%B9%E4%BB%8B%E7%8A%B6.pdf");

  EXPECT_EQ(Call("GET", content_url, other_).status, 404);
  EXPECT_EQ(Call("GET", content_url, 0).status, 401);
  EXPECT_EQ(Call("GET", DocumentsPath(), other_).status, 403);
}

TEST_P(DocumentRoutesTest, UploadErrors) {
  std::map<std::string, std::string, std::less<>> meta = {{"type_code", "57133-1"},
                                                          {"date", "2025-07-01"}};
  auto unlinked = Call("POST", DocumentsPath(), other_, meta, MinimalPdf(), "application/pdf");
  EXPECT_EQ(unlinked.status, 403);
  EXPECT_NE(unlinked.body.find("register the patient"), std::string::npos);
  auto bad = Call("POST", DocumentsPath(), hospital_, meta, "not a pdf", "application/pdf");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("invalid_input"), std::string::npos) << bad.body;
  auto no_type = Call("POST", DocumentsPath(), hospital_, meta, MinimalPdf(), "");
  EXPECT_EQ(no_type.status, 400);
  auto unknown = Call("POST", "/api/v1/patients/000000000000/documents", hospital_, meta,
                      MinimalPdf(), "application/pdf");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Call("POST", DocumentsPath(), 0, meta, MinimalPdf(), "application/pdf").status, 401);
  EXPECT_EQ(BinaryRows(), 0);

  EXPECT_EQ(router_.BodyLimitFor("POST", DocumentsPath()), DocumentService::kMaxBytes);
}

INSTANTIATE_TEST_SUITE_P(Backends, DocumentRoutesTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::documents
