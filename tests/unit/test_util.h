// Helpers shared by the unit tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace lakerouter::testing {

// A fresh temporary directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("lakerouter-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

inline std::string extension_dir() { return LAKEROUTER_TEST_EXTENSION_DIR; }

// Delta log fixtures. A table's first commit starts with its protocol and metaData actions.
inline const std::string kDeltaLogHeader =
    R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n"
    R"({"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{}","partitionColumns":[]}})" "\n";

// An `add` action for a data file of `size` bytes holding `records` rows (in its stats).
inline std::string delta_add(const std::string& path, int64_t size, int64_t records) {
  return R"({"add":{"path":")" + path + R"(","size":)" + std::to_string(size) +
         R"(,"stats":"{\"numRecords\":)" + std::to_string(records) + R"(}"}})" "\n";
}

}  // namespace lakerouter::testing
