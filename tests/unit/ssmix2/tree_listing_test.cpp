// Listing the files of a patient directory (the importer's reading side).
#include "ssmix2/tree_listing.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace tsunagu::ssmix2 {
namespace {

namespace fs = std::filesystem;

class TreeListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tsunagu-listing-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& relative, const std::string& bytes) {
    fs::path p = root_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
  }

  // path -> size, listed through a descriptor of `relative`.
  std::map<std::string, int64_t> List(const std::string& relative, core::Status* status) {
    int fd = ::open((root_ / relative).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    std::vector<ListedFile> files;
    *status = ListFilesBelow(fd, files);
    ::close(fd);
    std::map<std::string, int64_t> out;
    for (const auto& f : files) {
      EXPECT_TRUE(out.emplace(f.path, f.size).second) << "listed twice: " << f.path;
    }
    return out;
  }

  fs::path root_;
};

TEST_F(TreeListingTest, ListsEveryFileBelowWithSizeAndTime) {
  Write("p/20240401/OMP-01/a_1", "MSH|1");
  Write("p/20240401/OMP-01/a_2", "MSH|12");
  Write("p/20240402/OML-11/b_1", "MSH|123");
  Write("p/-/ADT-00/c_1", "");
  fs::create_directories(root_ / "p/20240403/empty");
  core::Status status;
  auto files = List("p", &status);
  ASSERT_TRUE(status.ok()) << status.message();
  std::map<std::string, int64_t> expected{{"20240401/OMP-01/a_1", 5},
                                          {"20240401/OMP-01/a_2", 6},
                                          {"20240402/OML-11/b_1", 7},
                                          {"-/ADT-00/c_1", 0}};
  EXPECT_EQ(files, expected);

  // The time is the file's modification time in nanoseconds.
  int fd = ::open((root_ / "p").c_str(), O_RDONLY | O_DIRECTORY);
  std::vector<ListedFile> listed;
  ASSERT_TRUE(ListFilesBelow(fd, listed).ok());
  ::close(fd);
  for (const auto& f : listed) {
    struct stat st {};
    ASSERT_EQ(::stat((root_ / "p" / f.path).c_str(), &st), 0);
    EXPECT_EQ(f.mtime, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec) << f.path;
  }
}

TEST_F(TreeListingTest, ADirectoryLargerThanOneReadIsListedWhole) {
  // 1,500 entries of 60-byte names need several getdents64 calls.
  for (int i = 0; i < 1500; ++i) {
    Write("p/d/" + std::string(50, 'x') + std::to_string(10000 + i), "x");
  }
  core::Status status;
  auto files = List("p", &status);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(files.size(), 1500u);
  EXPECT_EQ(files.begin()->first, "d/" + std::string(50, 'x') + "10000");
}

TEST_F(TreeListingTest, EntriesOfTheLongestNamesAroundTheEndOfARead) {
  // A read holds at most 58 entries of 255-byte names: directories of 50 to
  // 70 of them end just before, at and just after the end of a read.
  for (int count = 50; count <= 70; ++count) {
    const std::string dir = "p/n" + std::to_string(count) + "/";
    for (int i = 0; i < count; ++i)
      Write(dir + std::to_string(100 + i) + std::string(252, 'y'), "x");
  }
  core::Status status;
  auto files = List("p", &status);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(files.size(), static_cast<size_t>((50 + 70) * 21 / 2));
  for (int count = 50; count <= 70; ++count) {
    const std::string last =
        "n" + std::to_string(count) + "/" + std::to_string(99 + count) + std::string(252, 'y');
    EXPECT_EQ(files.count(last), 1u) << last;
  }
}

TEST_F(TreeListingTest, LinksToFilesCountAndLinksToDirectoriesAreNotFollowed) {
  Write("outside/target", "0123456789");
  Write("outside/dir/hidden", "x");
  Write("p/real", "ab");
  fs::create_symlink(root_ / "outside/target", root_ / "p/link");
  fs::create_directory_symlink(root_ / "outside/dir", root_ / "p/dirlink");
  fs::create_symlink(root_ / "nowhere", root_ / "p/dangling");
  core::Status status;
  auto files = List("p", &status);
  ASSERT_TRUE(status.ok()) << status.message();
  std::map<std::string, int64_t> expected{{"real", 2}, {"link", 10}};
  EXPECT_EQ(files, expected);
}

TEST_F(TreeListingTest, AnEmptyDirectoryListsNothingAndABadDescriptorFails) {
  fs::create_directories(root_ / "p");
  core::Status status;
  EXPECT_TRUE(List("p", &status).empty());
  EXPECT_TRUE(status.ok());
  std::vector<ListedFile> files;
  core::Status bad = ListFilesBelow(-1, files);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), core::Code::kInternal);
  EXPECT_TRUE(files.empty());
}

}  // namespace
}  // namespace tsunagu::ssmix2
