#include "http/internal/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tsunagu::http::internal {
namespace {
namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tsunagu_static_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "www" / "assets");
    Write("www/index.html", "<html>app</html>");
    Write("www/assets/app.js", "console.log(1)");
    Write("www/assets/app.js.gz", "gzipped");
    Write("www/assets/app.js.br", "brotli");
    Write("www/.env", "SECRET=1");
    Write("secret.txt", "top secret");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  Request Get(std::string path, std::string accept_encoding = "") {
    Request r;
    r.method = "GET";
    r.path = std::move(path);
    if (!accept_encoding.empty()) r.headers.Set("accept-encoding", accept_encoding);
    return r;
  }
  fs::path dir_;
};

TEST_F(StaticFilesTest, ServesAssetWithImmutableCaching) {
  StaticFiles files((dir_ / "www").string());
  Response r = files.Serve(Get("/assets/app.js"));
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.file_path.has_value());
  EXPECT_EQ(fs::path(*r.file_path).filename(), "app.js");
  EXPECT_EQ(*r.headers.Get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(*r.headers.Get("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(*r.headers.Get("vary"), "Accept-Encoding");
  EXPECT_FALSE(r.headers.Get("content-encoding").has_value());
}

TEST_F(StaticFilesTest, PrefersBrotliThenGzip) {
  StaticFiles files((dir_ / "www").string());
  Response br = files.Serve(Get("/assets/app.js", "gzip, deflate, br"));
  EXPECT_EQ(*br.headers.Get("content-encoding"), "br");
  EXPECT_EQ(fs::path(*br.file_path).filename(), "app.js.br");
  EXPECT_EQ(*br.headers.Get("content-type"), "text/javascript; charset=utf-8");
  Response gz = files.Serve(Get("/assets/app.js", "gzip;q=0.8, br;q=0"));
  EXPECT_EQ(*gz.headers.Get("content-encoding"), "gzip");
  EXPECT_NE(*gz.headers.Get("etag"), *br.headers.Get("etag"));
}

TEST_F(StaticFilesTest, EtagRevalidation) {
  StaticFiles files((dir_ / "www").string());
  Response first = files.Serve(Get("/index.html"));
  std::string etag(*first.headers.Get("etag"));
  EXPECT_EQ(*first.headers.Get("cache-control"), "no-cache");
  Request again = Get("/index.html");
  again.headers.Set("if-none-match", etag);
  Response second = files.Serve(again);
  EXPECT_EQ(second.status, 304);
  EXPECT_FALSE(second.file_path.has_value());
}

TEST_F(StaticFilesTest, SpaFallbackOnlyForExtensionlessPaths) {
  StaticFiles files((dir_ / "www").string());
  Response spa = files.Serve(Get("/patients/123"));
  EXPECT_EQ(spa.status, 200);
  EXPECT_EQ(fs::path(*spa.file_path).filename(), "index.html");
  EXPECT_EQ(*spa.headers.Get("cache-control"), "no-cache");
  EXPECT_EQ(files.Serve(Get("/missing.js")).status, 404);
}

TEST_F(StaticFilesTest, NoTraversalNoDotFiles) {
  StaticFiles files((dir_ / "www").string());
  EXPECT_EQ(files.Serve(Get("/../secret.txt")).status, 404);
  EXPECT_EQ(files.Serve(Get("/assets/../../secret.txt")).status, 404);
  EXPECT_EQ(files.Serve(Get("/.env")).status, 404);
  fs::create_symlink(dir_ / "secret.txt", dir_ / "www" / "link.txt");
  EXPECT_EQ(files.Serve(Get("/link.txt")).status, 404);
}

}  // namespace
}  // namespace tsunagu::http::internal
