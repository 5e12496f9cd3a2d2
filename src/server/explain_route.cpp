#include "server/explain_route.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/rows_stream.h"

namespace lakerouter {

namespace {

ResultSchema explain_schema() {
  auto text = [](const char* name) { return ColumnInfo{name, ColumnType{TypeId::kVarchar, 0, 0, "VARCHAR"}}; };
  auto number = [](const char* name) { return ColumnInfo{name, ColumnType{TypeId::kDouble, 0, 0, "DOUBLE"}}; };
  return {text("item"), text("engine"), text("code"), text("detail"), number("est_latency_ms"), number("est_cost_usd")};
}

class RowWriter {
 public:
  explicit RowWriter(ResultBatch& batch) : batch_(batch) {}

  void add(std::string_view item, std::string_view engine, std::string_view code, std::string_view detail,
           std::optional<double> latency_ms = std::nullopt, std::optional<double> cost_usd = std::nullopt) {
    auto text = [&](size_t i, std::string_view v) {
      if (v.empty()) {
        batch_.column(i).append_null();
      } else {
        batch_.column(i).append_string(v);
      }
    };
    auto number = [&](size_t i, std::optional<double> v) {
      if (v) {
        batch_.column(i).append_double(*v);
      } else {
        batch_.column(i).append_null();
      }
    };
    text(0, item);
    text(1, engine);
    text(2, code);
    text(3, detail);
    number(4, latency_ms);
    number(5, cost_usd);
  }

 private:
  ResultBatch& batch_;
};

}  // namespace

std::unique_ptr<ResultStream> explain_route_rows(const routing::Decision& d) {
  ResultSchema schema = explain_schema();
  ResultBatch batch;
  batch.reset(schema);
  RowWriter rows(batch);

  std::string stage = std::string(routing::decision_stage_name(d.stage));
  rows.add("decision", d.engine, stage,
           d.ok() ? (d.rule.empty() ? fmt::format("chosen at the {} stage", stage)
                                    : fmt::format("chosen by rule '{}'", d.rule))
                  : "no engine can run the statement");
  for (const auto& r : d.reasons) rows.add("reason", "", routing::reason_code_name(r.code), r.message);
  for (const auto& c : d.candidates) {
    std::vector<std::string> why;
    for (const auto& w : c.why_not) why.push_back(w.message);
    rows.add("candidate", c.engine, c.capable ? "CAPABLE" : c.why_not.empty() ? "NOT_CAPABLE" : routing::reason_code_name(c.why_not.front().code),
             c.capable ? "can run the statement" : fmt::format("{}", fmt::join(why, "; ")), c.est_latency_ms,
             c.est_cost_usd);
  }
  for (const auto& t : d.scans) rows.add("scan", "", "TABLE", t.describe());
  std::string total;
  if (d.est_rows) total = fmt::format("~{:.0f} rows", *d.est_rows);
  if (d.est_bytes) total += (total.empty() ? "" : ", ") + routing::format_bytes(*d.est_bytes);
  rows.add("scan", "", "TOTAL", total.empty() ? "unknown" : "the statement scans " + total);
  return std::make_unique<RowsStream>(std::move(schema), std::move(batch));
}

}  // namespace lakerouter
