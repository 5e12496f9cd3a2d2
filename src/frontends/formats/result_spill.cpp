#include "frontends/formats/result_spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace lakerouter::formats {

namespace {

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
T get(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}

Error io_error(std::string_view what, const std::string& path) {
  return Error(ErrorCode::kIoError, fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

Result<std::unique_ptr<ResultSpill>> ResultSpill::create(std::string path, ResultSchema schema, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create the result file", path);
  return std::make_unique<ResultSpill>(Key{}, std::move(path), fd, std::move(schema), max_bytes);
}

ResultSpill::~ResultSpill() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

Status ResultSpill::append(const ResultBatch& batch) {
  const size_t rows = batch.row_count();
  if (rows == 0) return Status::Ok();
  if (sealed_) return Error(ErrorCode::kInternal, "append to a sealed result");
  auto& out = scratch_;
  out.clear();
  for (size_t c = 0; c < batch.column_count(); ++c) {
    const ColumnData& col = batch.column(c);
    for (size_t r = 0; r < rows; ++r) out.push_back(col.is_null(r) ? '\0' : '\1');
    switch (col.kind()) {
      case PhysicalKind::kInt64:
        for (size_t r = 0; r < rows; ++r) put(out, col.is_null(r) ? int64_t{0} : col.int64_at(r));
        break;
      case PhysicalKind::kInt128:
        for (size_t r = 0; r < rows; ++r) put(out, col.is_null(r) ? __int128{0} : col.int128_at(r));
        break;
      case PhysicalKind::kDouble:
        for (size_t r = 0; r < rows; ++r) put(out, col.is_null(r) ? 0.0 : col.double_at(r));
        break;
      case PhysicalKind::kString:
        for (size_t r = 0; r < rows; ++r) {
          put(out, static_cast<uint32_t>(col.is_null(r) ? 0 : col.string_at(r).size()));
        }
        for (size_t r = 0; r < rows; ++r) {
          if (!col.is_null(r)) out.append(col.string_at(r));
        }
        break;
    }
  }
  if (bytes_ + out.size() > max_bytes_) {
    return Error(ErrorCode::kResultTooLarge,
                 fmt::format("the result exceeds server.results.async_max_result_bytes ({} bytes) after {} rows; "
                             "add a LIMIT or select fewer columns, or run it synchronously (POST /v1/query without "
                             "\"async\" streams results of any size)",
                             max_bytes_, rows_));
  }
  size_t written = 0;
  while (written < out.size()) {
    const ssize_t n = ::pwrite(fd_, out.data() + written, out.size() - written, static_cast<off_t>(bytes_ + written));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write the result file", path_);
    }
    written += static_cast<size_t>(n);
  }
  chunks_.push_back({bytes_, out.size(), rows_, static_cast<uint32_t>(rows)});
  bytes_ += out.size();
  rows_ += static_cast<int64_t>(rows);
  if (out.capacity() > (size_t{4} << 20)) std::string().swap(out);  // keep no huge buffer around
  return Status::Ok();
}

Status ResultSpill::read(int64_t first, int64_t count, ResultBatch& out) const {
  out.reset(schema_);
  first = std::max<int64_t>(first, 0);
  const int64_t end = std::min(rows_, first + std::max<int64_t>(count, 0));
  if (first >= end) return Status::Ok();
  // The first chunk that holds `first`.
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), first,
                             [](int64_t row, const Chunk& c) { return row < c.first_row; });
  --it;
  std::string record;
  for (; it != chunks_.end() && it->first_row < end; ++it) {
    record.resize(it->size);
    size_t got = 0;
    while (got < record.size()) {
      const ssize_t n = ::pread(fd_, record.data() + got, record.size() - got, static_cast<off_t>(it->offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("cannot read the result file", path_);
      got += static_cast<size_t>(n);
    }
    const size_t rows = it->rows;
    const size_t from = static_cast<size_t>(std::max<int64_t>(first - it->first_row, 0));
    const size_t to = static_cast<size_t>(std::min<int64_t>(end - it->first_row, static_cast<int64_t>(rows)));
    const char* p = record.data();
    for (size_t c = 0; c < schema_.size(); ++c) {
      ColumnData& col = out.column(c);
      const char* valid = p;
      p += rows;
      switch (col.kind()) {
        case PhysicalKind::kInt64: {
          for (size_t r = from; r < to; ++r) {
            int64_t v;
            std::memcpy(&v, p + r * sizeof(int64_t), sizeof(v));
            if (valid[r] != 0) { col.append_int64(v); } else { col.append_null(); }
          }
          p += rows * sizeof(int64_t);
          break;
        }
        case PhysicalKind::kInt128: {
          for (size_t r = from; r < to; ++r) {
            __int128 v;
            std::memcpy(&v, p + r * sizeof(__int128), sizeof(v));
            if (valid[r] != 0) { col.append_int128(v); } else { col.append_null(); }
          }
          p += rows * sizeof(__int128);
          break;
        }
        case PhysicalKind::kDouble: {
          for (size_t r = from; r < to; ++r) {
            double v;
            std::memcpy(&v, p + r * sizeof(double), sizeof(v));
            if (valid[r] != 0) { col.append_double(v); } else { col.append_null(); }
          }
          p += rows * sizeof(double);
          break;
        }
        case PhysicalKind::kString: {
          const char* lengths = p;
          p += rows * sizeof(uint32_t);
          for (size_t r = 0; r < rows; ++r) {
            const auto len = get<uint32_t>(lengths);
            if (r >= from && r < to) {
              if (valid[r] != 0) { col.append_string({p, len}); } else { col.append_null(); }
            }
            p += len;
          }
          break;
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace lakerouter::formats
