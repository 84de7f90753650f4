// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). ONNX
// strings are bytes; ops that read them as text (case changes, regular expressions, splitting)
// check them with this and refuse what is not text, instead of producing garbage.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace onyx {

// The offset of the first byte that does not begin or continue a valid sequence, or nullopt
// when all of `text` is valid UTF-8.
std::optional<size_t> first_invalid_utf8_byte(std::string_view text);

}  // namespace onyx
