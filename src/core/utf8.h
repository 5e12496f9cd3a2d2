// UTF-8 validation for text arriving from clients (SQL, identifiers), per RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace lakerouter {

// The byte offset of the first invalid sequence, or nullopt when `text` is valid UTF-8.
std::optional<size_t> find_invalid_utf8(std::string_view text);

// The number of characters (code points) in the first `byte_offset` bytes of UTF-8 `text`.
size_t utf8_char_offset(std::string_view text, size_t byte_offset);

}  // namespace lakerouter
