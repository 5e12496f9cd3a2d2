// The concrete encoders behind make_encoder() (result_encoder.h). Internal to formats/ and its
// tests; front-ends use make_encoder().
#pragma once

#include <memory>

#include "frontends/formats/result_encoder.h"

namespace lakerouter::formats {

std::unique_ptr<ResultEncoder> make_csv_encoder();
std::unique_ptr<ResultEncoder> make_arrow_encoder();
std::unique_ptr<ResultEncoder> make_parquet_encoder(int64_t row_group_rows);

}  // namespace lakerouter::formats
