// What every image codec returns: 8-bit pixels, row-major [height, width, channels], with one
// channel (gray) or three (RGB). Alpha is dropped by the codecs, as ImageDecoder outputs no alpha.
// Each decode_* function throws onyx::Error on malformed data (never crashes) and, when onyx
// was built without that codec's library, says which package is missing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace onyx::image {

struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int channels = 0;  // 1 or 3
  std::vector<uint8_t> pixels;
};

using EncodedBytes = std::span<const uint8_t>;

DecodedImage decode_jpeg(EncodedBytes data);
DecodedImage decode_png(EncodedBytes data);
DecodedImage decode_tiff(EncodedBytes data);
DecodedImage decode_webp(EncodedBytes data);
DecodedImage decode_jpeg2000(EncodedBytes data);
DecodedImage decode_bmp(EncodedBytes data);
DecodedImage decode_pnm(EncodedBytes data);

// Picks the codec from the leading magic bytes.
DecodedImage decode_any(EncodedBytes data);

// The largest image decoded: 256 Mpixel, 768 MiB of RGB.
constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// Refuses sizes that are empty or too large to allocate (a hostile header can claim anything).
void check_dimensions(int64_t width, int64_t height, const char* format);

}  // namespace onyx::image
