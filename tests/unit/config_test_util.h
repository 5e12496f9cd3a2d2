// Helpers for tests of configuration files: write one, load it, expect a given error.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "server/config.h"
#include "test_util.h"

namespace lakerouter::testing {

// Writes `yaml` as lakerouter.yaml in `dir` and loads it.
inline Result<Config> load_yaml(const TempDir& dir, const std::string& yaml) {
  write_file(dir.path() / "lakerouter.yaml", yaml);
  return load_config((dir.path() / "lakerouter.yaml").string());
}

inline void expect_config_error(const Result<Config>& result, const std::string& fragment) {
  ASSERT_FALSE(result.ok()) << "expected an error containing: " << fragment;
  EXPECT_EQ(result.error().code, ErrorCode::kConfigError);
  EXPECT_NE(result.error().message.find(fragment), std::string::npos) << result.error().message;
}

}  // namespace lakerouter::testing
