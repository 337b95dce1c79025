#include "store/blob_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "support/test_database.hpp"

namespace tsunagu::store {
namespace {

namespace fs = std::filesystem;

// SHA-256 of "abc" (FIPS 180-2 example).
constexpr const char* kAbcHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

class BlobStoreTest : public ::testing::Test {
 protected:
  BlobStoreTest() : scratch_(testing::Backend::kSqlite), root_(scratch_.dir() + "/blobs") {}

  // Every regular file under the root (temporary files included).
  std::vector<std::string> AllFiles() const {
    std::vector<std::string> files;
    if (!fs::exists(root_)) return files;
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), root_).string());
    }
    return files;
  }

  testing::TestDatabase scratch_;
  std::string root_;
};

TEST_F(BlobStoreTest, PutReturnsSha256AndGetReturnsTheBytes) {
  BlobStore store(root_);
  auto hash = store.Put("abc");
  ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
  EXPECT_EQ(*hash, kAbcHash);
  auto bytes = store.Get(*hash);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
  EXPECT_EQ(*bytes, "abc");
  EXPECT_TRUE(store.Exists(*hash));
  // Layout: <root>/ab/cd/<hex>.
  EXPECT_EQ(AllFiles(), (std::vector<std::string>{std::string("ba/78/") + kAbcHash}));
  EXPECT_EQ(store.PathOf(*hash), root_ + "/ba/78/" + kAbcHash);
}

TEST_F(BlobStoreTest, BinaryAndEmptyContentRoundTrip) {
  BlobStore store(root_);
  std::string binary;
  for (int i = 0; i < 100'000; ++i) binary.push_back(static_cast<char>(i * 31));
  auto big = store.Put(binary);
  auto empty = store.Put("");
  ASSERT_TRUE(big.has_value());
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(store.Get(*big).value_or(""), binary);
  auto got_empty = store.Get(*empty);
  ASSERT_TRUE(got_empty.has_value());
  EXPECT_EQ(*got_empty, "");
}

TEST_F(BlobStoreTest, PutIsIdempotentAndLeavesNoTemporaryFiles) {
  BlobStore store(root_);
  auto first = store.Put("same content");
  auto second = store.Put("same content");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first, *second);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { EXPECT_TRUE(store.Put("same content").has_value()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(AllFiles().size(), 1u);  // no ".tmp-" leftovers
}

TEST_F(BlobStoreTest, MalformedHashesAreNotFound) {
  BlobStore store(root_);
  ASSERT_TRUE(store.Put("abc").has_value());
  const std::string upper = [] {
    std::string s = kAbcHash;
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }();
  for (const std::string& bad :
       {std::string(), std::string("ba78"), upper, std::string("../../../../etc/passwd"),
        std::string(kAbcHash) + "0", std::string(62, 'a') + "/."}) {
    auto got = store.Get(bad);
    ASSERT_FALSE(got.has_value()) << bad;
    EXPECT_EQ(got.error().code(), core::Code::kNotFound) << bad;
    EXPECT_FALSE(store.Exists(bad)) << bad;
    EXPECT_EQ(store.PathOf(bad), std::nullopt) << bad;
    EXPECT_EQ(store.Remove(bad).code(), core::Code::kNotFound) << bad;
  }
  EXPECT_TRUE(store.Exists(kAbcHash));  // nothing was removed
}

TEST_F(BlobStoreTest, UnknownHashIsNotFoundAndRemoveDeletes) {
  BlobStore store(root_);
  const std::string unknown(64, '0');
  EXPECT_EQ(store.Get(unknown).error().code(), core::Code::kNotFound);
  EXPECT_FALSE(store.Exists(unknown));
  EXPECT_EQ(store.Remove(unknown).code(), core::Code::kNotFound);

  auto hash = store.Put("to be removed");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(store.Remove(*hash).ok());
  EXPECT_FALSE(store.Exists(*hash));
  EXPECT_EQ(store.Get(*hash).error().code(), core::Code::kNotFound);
  EXPECT_EQ(store.Remove(*hash).code(), core::Code::kNotFound);
}

TEST_F(BlobStoreTest, DamagedFileIsReportedNotReturned) {
  BlobStore store(root_);
  auto hash = store.Put("original");
  ASSERT_TRUE(hash.has_value());
  {
    std::FILE* f = std::fopen(store.PathOf(*hash)->c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("tampered", f);
    std::fclose(f);
  }
  auto got = store.Get(*hash);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), core::Code::kInternal);
}

TEST_F(BlobStoreTest, UnwritableRootIsInternalError) {
  const std::string file_as_root = scratch_.dir() + "/not-a-dir";
  std::FILE* f = std::fopen(file_as_root.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  BlobStore store(file_as_root);
  auto put = store.Put("x");
  ASSERT_FALSE(put.has_value());
  EXPECT_EQ(put.error().code(), core::Code::kInternal);
}

}  // namespace
}  // namespace tsunagu::store
