// Format detection by magic bytes, as image libraries do (the container carries no other hint).
#include <cstring>

#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

namespace onyx::image {
namespace {

bool starts_with(EncodedBytes data, const char* magic, size_t length, size_t offset = 0) {
  return data.size() >= offset + length && std::memcmp(data.data() + offset, magic, length) == 0;
}

}  // namespace

DecodedImage decode_any(EncodedBytes data) {
  if (starts_with(data, "\xFF\xD8\xFF", 3)) return decode_jpeg(data);
  if (starts_with(data, "\x89PNG\r\n\x1A\n", 8)) return decode_png(data);
  if (starts_with(data, "II*\0", 4) || starts_with(data, "MM\0*", 4)) return decode_tiff(data);
  if (starts_with(data, "RIFF", 4) && starts_with(data, "WEBP", 4, 8)) return decode_webp(data);
  // JPEG 2000: the JP2 container's signature box, or a bare codestream's SOC + SIZ markers.
  if (starts_with(data, "\0\0\0\x0CjP  \r\n\x87\n", 12) || starts_with(data, "\xFF\x4F\xFF\x51", 4)) {
    return decode_jpeg2000(data);
  }
  if (starts_with(data, "BM", 2)) return decode_bmp(data);
  if (data.size() >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6') return decode_pnm(data);
  throw_error(ErrorCode::kInvalidArgument,
              "ImageDecoder: unrecognised image format (expected JPEG, PNG, TIFF, WebP, JPEG 2000, "
              "BMP or PNM data; got ", data.size(), " bytes)");
}

void check_dimensions(int64_t width, int64_t height, const char* format) {
  if (width <= 0 || height <= 0 || width > kMaxImagePixels / height) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: ", format, " image has unsupported size ",
                width, "x", height);
  }
}

}  // namespace onyx::image
