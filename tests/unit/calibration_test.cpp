// Calibration (routing/calibration.h): the fit on synthetic runs, when learnt figures apply,
// what is ignored, the clamps, concurrent writers, and the `routing.calibration` configuration.
#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "routing/calibration.h"
#include "routing_test_util.h"

namespace lakerouter::routing {
namespace {

constexpr double kMB = 1e6;

// Trino's type defaults: start-up 150 ms, 2 GB/s.
Calibrator trino_calibrator(CalibrationOptions options = {}) {
  return Calibrator(std::move(options), {default_engine_profile("trino", EngineType::kTrino)});
}

double predicted_ms(const CalibratedFigures& f, double bytes) { return f.startup_ms + bytes / f.bytes_per_second * 1000; }

TEST(Calibration, SizeClassesFollowTheEstimatedScan) {
  const auto classes = default_size_classes();
  ASSERT_EQ(classes.size(), 4u);
  EXPECT_EQ(classes[size_class_of(classes, 0)].name, "tiny");
  EXPECT_EQ(classes[size_class_of(classes, 999'999)].name, "tiny");
  EXPECT_EQ(classes[size_class_of(classes, 1e6)].name, "small");
  EXPECT_EQ(classes[size_class_of(classes, 32e6)].name, "medium");
  EXPECT_EQ(classes[size_class_of(classes, 511e6)].name, "medium");
  EXPECT_EQ(classes[size_class_of(classes, 512e6)].name, "large");
  EXPECT_EQ(classes[size_class_of(classes, 1e13)].name, "large");
}

TEST(Calibration, ConvergesWithin5PercentAfter20NoisyRuns) {
  // The engine is really slower to start and scans at a quarter of the configured speed.
  constexpr double kStartupMs = 400;
  constexpr double kBytesPerSecond = 500 * kMB;
  Calibrator calibrator = trino_calibrator();
  std::mt19937 random(7);
  std::uniform_real_distribution<double> size(40 * kMB, 500 * kMB);  // the medium class
  std::uniform_real_distribution<double> noise(-0.03, 0.03);
  for (int i = 0; i < 20; ++i) {
    const double bytes = size(random);
    calibrator.observe("trino", bytes, (kStartupMs + bytes / kBytesPerSecond * 1000) * (1 + noise(random)));
  }
  const auto snapshot = calibrator.snapshot();
  const CalibratedFigures* f = snapshot->find("trino", "medium");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->samples, 20);
  EXPECT_TRUE(f->applied);
  EXPECT_TRUE(f->fitted_throughput);
  for (double bytes : {50 * kMB, 200 * kMB, 450 * kMB}) {
    const double truth = kStartupMs + bytes / kBytesPerSecond * 1000;
    EXPECT_NEAR(predicted_ms(*f, bytes), truth, 0.05 * truth) << bytes;
  }
  EXPECT_NEAR(f->bytes_per_second, kBytesPerSecond, 0.05 * kBytesPerSecond);
  EXPECT_NEAR(f->startup_ms, kStartupMs, 0.05 * kStartupMs);
  // Other classes and engines learnt nothing.
  EXPECT_EQ(snapshot->find("trino", "small"), nullptr);
  EXPECT_EQ(snapshot->find("duckdb", "medium"), nullptr);
}

TEST(Calibration, FollowsAnEngineThatChanges) {
  Calibrator calibrator = trino_calibrator();
  for (int i = 0; i < 20; ++i) calibrator.observe("trino", 100 * kMB + i * 10 * kMB, 200 + (100 + i * 10) * 2.0);
  // Now it is twice as slow to start: the old runs fade.
  for (int i = 0; i < 20; ++i) calibrator.observe("trino", 100 * kMB + i * 10 * kMB, 400 + (100 + i * 10) * 2.0);
  const CalibratedFigures* f = calibrator.snapshot()->find("trino", "medium");
  ASSERT_NE(f, nullptr);
  EXPECT_NEAR(f->startup_ms, 400, 0.05 * 400);
}

TEST(Calibration, AppliesOnlyAfterMinSamples) {
  CalibrationOptions options;
  options.min_samples = 3;
  Calibrator calibrator = trino_calibrator(options);
  for (int i = 1; i <= 3; ++i) {
    calibrator.observe("trino", 10 * kMB, 500);
    const CalibratedFigures* f = calibrator.snapshot()->find("trino", "small");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->samples, i);
    EXPECT_EQ(f->applied, i >= 3) << i;
  }
}

TEST(Calibration, AlikeSizesLearnStartUpAndKeepTheConfiguredThroughput) {
  Calibrator calibrator = trino_calibrator();
  // 10 MB at the configured 2 GB/s is 5 ms of scan: start-up is the rest.
  for (int i = 0; i < 10; ++i) calibrator.observe("trino", 10 * kMB, 305);
  const CalibratedFigures* f = calibrator.snapshot()->find("trino", "small");
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(f->fitted_throughput);
  EXPECT_DOUBLE_EQ(f->bytes_per_second, 2e9);
  EXPECT_NEAR(f->startup_ms, 300, 1e-6);
  // Nothing scanned at all (SELECT 1): the same.
  for (int i = 0; i < 5; ++i) calibrator.observe("trino", 0, 120);
  const CalibratedFigures* tiny = calibrator.snapshot()->find("trino", "tiny");
  ASSERT_NE(tiny, nullptr);
  EXPECT_FALSE(tiny->fitted_throughput);
  EXPECT_NEAR(tiny->startup_ms, 120, 1e-6);
}

TEST(Calibration, IgnoresUnknownEnginesAndImpossibleFigures) {
  Calibrator calibrator = trino_calibrator();
  calibrator.observe("oracle", 10 * kMB, 100);
  calibrator.observe("trino", -1, 100);
  calibrator.observe("trino", 10 * kMB, -5);
  calibrator.observe("trino", std::nan(""), 100);
  calibrator.observe("trino", 10 * kMB, std::numeric_limits<double>::infinity());
  EXPECT_EQ(calibrator.snapshot()->total_samples(), 0);
}

TEST(Calibration, LearntFiguresStayWithinTheClamps) {
  Calibrator calibrator = trino_calibrator();
  // Absurdly slow: 10 minutes for a few MB, with sizes that differ (a steep slope).
  for (int i = 0; i < 10; ++i) calibrator.observe("trino", (2 + i) * kMB, 600000.0 * (1 + i));
  const CalibratedFigures* slow = calibrator.snapshot()->find("trino", "small");
  ASSERT_NE(slow, nullptr);
  EXPECT_GE(slow->bytes_per_second, 2e9 * kCalibrationMinFactor);
  EXPECT_LE(slow->startup_ms, 150 * kCalibrationMaxFactor);
  EXPECT_GE(slow->startup_ms, 150 * kCalibrationMinFactor);
  // Absurdly fast: no time at all.
  for (int i = 0; i < 10; ++i) calibrator.observe("trino", 100 * kMB, 0);
  const CalibratedFigures* fast = calibrator.snapshot()->find("trino", "medium");
  ASSERT_NE(fast, nullptr);
  EXPECT_DOUBLE_EQ(fast->startup_ms, 150 * kCalibrationMinFactor);
  // A start-up configured at 0 ms is bounded as if it were 1 ms.
  Calibrator pg({}, {default_engine_profile("pg", EngineType::kPostgres)});
  for (int i = 0; i < 5; ++i) pg.observe("pg", 0, 1000);
  EXPECT_DOUBLE_EQ(pg.snapshot()->find("pg", "tiny")->startup_ms,
                   std::max(1.0, default_engine_profile("pg", EngineType::kPostgres).pricing.startup_ms) *
                       kCalibrationMaxFactor);
}

TEST(Calibration, ResetForgetsEverything) {
  Calibrator calibrator = trino_calibrator();
  for (int i = 0; i < 4; ++i) calibrator.observe("trino", 10 * kMB, 500);
  const auto before = calibrator.snapshot();
  EXPECT_EQ(calibrator.reset(), 4);
  EXPECT_EQ(calibrator.snapshot()->total_samples(), 0);
  EXPECT_EQ(calibrator.snapshot()->find("trino", "small"), nullptr);
  EXPECT_EQ(before->total_samples(), 4);  // a snapshot taken earlier does not change
}

TEST(Calibration, StateSurvivesARestartThroughJson) {
  Calibrator before = trino_calibrator();
  std::mt19937 random(3);
  std::uniform_real_distribution<double> size(40 * kMB, 500 * kMB);
  for (int i = 0; i < 12; ++i) {
    const double bytes = size(random);
    before.observe("trino", bytes, 300 + bytes / (800 * kMB) * 1000);
  }
  before.observe("trino", 10 * kMB, 180);  // one run in another class
  const uint64_t version = before.version();
  const auto text = before.state().to_json();
  EXPECT_EQ(before.version(), version);  // reading changes nothing

  auto state = CalibrationState::from_json(text);
  ASSERT_TRUE(state.ok()) << state.error().message;
  ASSERT_EQ(state->fits.size(), 2u);
  Calibrator after = trino_calibrator();
  EXPECT_EQ(after.restore(*state), 13);
  EXPECT_GT(after.version(), 0u);
  for (const char* size_class : {"small", "medium"}) {
    const CalibratedFigures* a = before.snapshot()->find("trino", size_class);
    const CalibratedFigures* b = after.snapshot()->find("trino", size_class);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->samples, b->samples);
    EXPECT_DOUBLE_EQ(a->startup_ms, b->startup_ms);
    EXPECT_DOUBLE_EQ(a->bytes_per_second, b->bytes_per_second);
    EXPECT_EQ(a->applied, b->applied);
  }
  // Learning goes on from where it was.
  after.observe("trino", 100 * kMB, 425);
  EXPECT_EQ(after.snapshot()->find("trino", "medium")->samples, 13);
}

TEST(Calibration, RestoreSkipsEnginesAndClassesConfiguredDifferently) {
  CalibrationState state;
  state.fits.push_back({"trino", "medium", 512e6, 5, 0.67, 100 * kMB, 250, 1e14, 1e8, 200});
  state.fits.push_back({"trino", "large", std::nullopt, 4, 0.59, 2e9, 1500, 1e16, 1e10, 500});
  state.fits.push_back({"spark", "medium", 512e6, 7, 0.79, 100 * kMB, 250, 1e14, 1e8, 200});  // not configured
  CalibrationOptions options;
  options.size_classes = {{"tiny", 1e6}, {"small", 32e6}, {"medium", 256e6}, {"large", std::nullopt}};
  Calibrator calibrator = trino_calibrator(options);
  EXPECT_EQ(calibrator.restore(state), 4);  // medium's bound moved: those runs measured other sizes
  EXPECT_EQ(calibrator.snapshot()->find("trino", "medium"), nullptr);
  ASSERT_NE(calibrator.snapshot()->find("trino", "large"), nullptr);
  EXPECT_EQ(calibrator.snapshot()->find("trino", "large")->samples, 4);
}

TEST(Calibration, UnreadableStateSaysWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not a JSON object"},
      {R"({"format": 2, "fits": []})", "unknown format"},
      {R"({"format": 1})", "no \"fits\" array"},
      {R"({"format": 1, "fits": [{"engine": "trino"}]})", "fits[0] needs \"engine\" and \"size_class\""},
      {R"({"format": 1, "fits": [{"engine": "trino", "size_class": "large", "samples": 0}]})",
       "fits[0].samples is not a positive integer"},
      {R"({"format": 1, "fits": [{"engine": "trino", "size_class": "large", "samples": 2, "weight": 0.4,
           "mean_x": 1, "mean_y": "x", "var_x": 0, "cov_xy": 0, "startup_residual": 0}]})",
       "fits[0].mean_y is not a finite number"},
      {R"({"format": 1, "fits": [{"engine": "trino", "size_class": "large", "samples": 2, "weight": 3,
           "mean_x": 1, "mean_y": 1, "var_x": 0, "cov_xy": 0, "startup_residual": 0}]})",
       "weight outside (0, 1]"},
  };
  for (const auto& [text, expected] : cases) {
    auto state = CalibrationState::from_json(text);
    ASSERT_FALSE(state.ok()) << text;
    EXPECT_NE(state.error().message.find(expected), std::string::npos) << state.error().message;
  }
  auto empty = CalibrationState::from_json(R"({"format": 1, "fits": []})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->fits.empty());
}

TEST(Calibration, ConcurrentObserversLoseNoRun) {
  Calibrator calibrator({}, {default_engine_profile("duckdb", EngineType::kDuckDB),
                             default_engine_profile("trino", EngineType::kTrino)});
  constexpr int kThreads = 4;
  constexpr int kRuns = 500;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    // Snapshots stay consistent while writers go on.
    while (!done.load()) {
      const auto snapshot = calibrator.snapshot();
      const CalibratedFigures* f = snapshot->find("trino", "medium");
      if (f && f->applied) {
        ASSERT_GT(f->bytes_per_second, 0);
      }
    }
  });
  std::vector<std::thread> writers;
  writers.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        calibrator.observe(t % 2 == 0 ? "duckdb" : "trino", (40 + i % 100) * kMB, 100 + i % 100);
      }
    });
  }
  for (auto& w : writers) w.join();
  done.store(true);
  reader.join();
  const auto snapshot = calibrator.snapshot();
  EXPECT_EQ(snapshot->total_samples(), kThreads * kRuns);
  EXPECT_EQ(snapshot->find("duckdb", "medium")->samples, kThreads / 2 * kRuns);
}

// ---- routing.calibration in the configuration ---------------------------------------------------

void expect_invalid(const std::string& routing, const std::string& fragment) {
  auto router = testing::router_from_yaml("engines:\n  duckdb: {}\nrouting:\n" + routing, "policy.yaml");
  ASSERT_FALSE(router.ok()) << "accepted, expected: " << fragment;
  EXPECT_EQ(router.error().code, ErrorCode::kConfigError);
  EXPECT_NE(router.error().message.find(fragment), std::string::npos) << router.error().message;
}

TEST(CalibrationConfig, DefaultsAndOverrides) {
  auto defaults = testing::router_from_yaml("engines:\n  duckdb: {}\n");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  const CalibrationOptions& d = defaults->policy().calibration;
  EXPECT_TRUE(d.enabled);
  EXPECT_DOUBLE_EQ(d.alpha, 0.2);
  EXPECT_EQ(d.min_samples, 3);
  EXPECT_EQ(d.size_classes.size(), 4u);

  auto custom = testing::router_from_yaml(R"(
engines:
  duckdb: {}
routing:
  calibration:
    enabled: false
    alpha: 0.5
    min_samples: 5
    size_classes:
      - {name: small, below: 10MB}
      - {name: big}
)");
  ASSERT_TRUE(custom.ok()) << custom.error().message;
  const CalibrationOptions& c = custom->policy().calibration;
  EXPECT_FALSE(c.enabled);
  EXPECT_DOUBLE_EQ(c.alpha, 0.5);
  EXPECT_EQ(c.min_samples, 5);
  ASSERT_EQ(c.size_classes.size(), 2u);
  EXPECT_EQ(c.size_classes[0].name, "small");
  EXPECT_DOUBLE_EQ(*c.size_classes[0].below_bytes, 10e6);
  EXPECT_FALSE(c.size_classes[1].below_bytes);
}

TEST(CalibrationConfig, BadValuesSayWhatIsAllowed) {
  expect_invalid("  calibration: {alpha: 0}\n",
                 "policy.yaml:4: 'routing.calibration.alpha' must be more than 0 and at most 1, not 0");
  expect_invalid("  calibration: {alpha: 1.5}\n", "must be more than 0 and at most 1, not 1.5");
  expect_invalid("  calibration: {alpha: fast}\n", "'routing.calibration.alpha' must be a number");
  expect_invalid("  calibration: {min_samples: 0}\n", "'routing.calibration.min_samples' must be at least 1, not 0");
  expect_invalid("  calibration: {enabled: sometimes}\n", "'routing.calibration.enabled' must be true or false");
  expect_invalid("  calibration: {min_sample: 3}\n", "(did you mean 'min_samples'?)");
  expect_invalid("  calibration: on\n", "'routing.calibration' must be a mapping");
}

TEST(CalibrationConfig, SizeClassesAreCheckedInOrder) {
  expect_invalid("  calibration:\n    size_classes: []\n", "must be a list of classes from the smallest");
  expect_invalid("  calibration:\n    size_classes:\n      - {name: a, below: 10MB}\n      - {name: b, below: 5MB}\n"
                 "      - {name: c}\n",
                 "policy.yaml:7: size class 'b' ends below 5 MB, which is not above where 'a' ends (10 MB); list the "
                 "classes from the smallest");
  expect_invalid("  calibration:\n    size_classes:\n      - {name: a}\n      - {name: b}\n",
                 "policy.yaml:6: size class 'a' needs 'below'");
  expect_invalid("  calibration:\n    size_classes:\n      - {name: a, below: 1MB}\n      - {name: b, below: 2MB}\n",
                 "the last size class 'b' must not have 'below': it takes every larger scan");
  expect_invalid("  calibration:\n    size_classes:\n      - {name: a, below: 1MB}\n      - {name: a}\n",
                 "size class 'a' is listed twice (lines 6 and 7); rename one");
  expect_invalid("  calibration:\n    size_classes:\n      - {below: 1MB}\n      - {name: a}\n", "needs a 'name'");
  expect_invalid("  calibration:\n    size_classes:\n      - {name: a, below: 0}\n      - {name: b}\n",
                 "must be at least 1");
}

}  // namespace
}  // namespace lakerouter::routing
