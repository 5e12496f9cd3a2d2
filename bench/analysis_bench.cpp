// Analysis + routing micro-benchmark: sql::analyze() (parse, profile, fingerprint), then the
// routing decision (table facts with the catalog's pruned scan estimates + Router::decide) under
// a configuration's policy, per statement.
//
//   analysis_bench --statements=FILE --config=FILE [--lake=DIR] [--samples=N] [google benchmark flags]
//
// --lake loads the catalog (statistics from table metadata) from a demo lake, as the server does.
//
// FILE holds statements separated by lines that contain only ";;". Google Benchmark reports the
// mean per statement; the closing summary gives p50 and p99 over every timed sample of every
// statement, as JSON on the last line, for bench/parse_compare.py.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "routing/router.h"
#include "server/config.h"
#include "sql/analyzer.h"

namespace {

std::vector<std::string> read_statements(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line, current;
  while (std::getline(in, line)) {
    if (line == ";;") {
      if (current.find_first_not_of(" \n\t") != std::string::npos) out.push_back(current);
      current.clear();
    } else {
      current += line + "\n";
    }
  }
  if (current.find_first_not_of(" \n\t") != std::string::npos) out.push_back(current);
  return out;
}

// What the pipeline does before execution: analyze, resolve the tables, decide.
size_t analyze_and_route(const std::string& sql, const lakerouter::Catalog& catalog,
                         const lakerouter::routing::Router& router, const lakerouter::routing::RoutingPolicy& policy) {
  using namespace lakerouter;
  auto profile = sql::analyze(sql);
  if (!profile.ok()) return 0;
  static const Session session;
  const auto tables = routing::resolve_tables(*profile, catalog, policy.tables);
  const routing::RoutingInput input{.profile = *profile, .session = session, .tables = tables};
  return router.decide(input).reasons.size();
}

double percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string path, config_path, lake;
  int samples = 2000;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--statements=", 0) == 0) {
      path = arg.substr(13);
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (arg.rfind("--lake=", 0) == 0) {
      lake = arg.substr(7);
    } else if (arg.rfind("--samples=", 0) == 0) {
      samples = std::stoi(arg.substr(10));
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (path.empty() || config_path.empty()) {
    std::fprintf(stderr, "usage: analysis_bench --statements=FILE --config=FILE [--samples=N] [benchmark flags]\n");
    return 2;
  }
  auto config = lakerouter::load_config(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 2;
  }
  auto router = lakerouter::routing::Router::create(config->routing, config->engine_profiles);
  if (!router.ok()) {
    std::fprintf(stderr, "%s\n", router.error().message.c_str());
    return 2;
  }
  const auto& policy = config->routing;
  if (!lake.empty()) config->catalog.lake_dir = lake;
  auto catalog = lakerouter::Catalog::load(config->catalog);
  if (!catalog.ok()) {
    std::fprintf(stderr, "%s\n", catalog.error().message.c_str());
    return 2;
  }
  const auto statements = read_statements(path);
  for (size_t i = 0; i < statements.size(); ++i) {
    auto check = lakerouter::sql::analyze(statements[i]);
    if (!check.ok()) {
      std::fprintf(stderr, "statement %zu does not analyze: %s\n", i + 1, check.error().message.c_str());
      return 1;
    }
    benchmark::RegisterBenchmark(("analyze_and_route/stmt" + std::to_string(i + 1)).c_str(),
                                 [sql = statements[i], &catalog, &router, &policy](benchmark::State& state) {
                                   for (auto _ : state) {
                                     benchmark::DoNotOptimize(analyze_and_route(sql, *catalog, *router, policy));
                                   }
                                 });
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  // Percentiles over individual samples, statements interleaved so no one query dominates a run.
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(samples) * statements.size());
  for (int s = 0; s < samples; ++s) {
    for (const auto& sql : statements) {
      const auto t0 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(analyze_and_route(sql, *catalog, *router, policy));
      micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  const double p50 = percentile(micros, 0.50), p99 = percentile(micros, 0.99);
  std::printf("{\"statements\": %zu, \"samples\": %zu, \"catalog_tables\": %zu, \"p50_us\": %.2f, \"p99_us\": %.2f}\n",
              statements.size(), micros.size(), catalog->tables().size(), p50, p99);
  return 0;
}
