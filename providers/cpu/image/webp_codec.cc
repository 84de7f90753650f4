// WebP through libwebp's one-call decoder.
#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

#ifdef ONYX_HAVE_WEBP
#include <webp/decode.h>
#endif

namespace onyx::image {

#ifdef ONYX_HAVE_WEBP
DecodedImage decode_webp(EncodedBytes data) {
  int width = 0, height = 0;
  if (!WebPGetInfo(data.data(), data.size(), &width, &height)) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed WebP data");
  }
  check_dimensions(width, height, "WebP");
  DecodedImage img;
  img.height = height;
  img.width = width;
  img.channels = 3;
  img.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  if (!WebPDecodeRGBInto(data.data(), data.size(), img.pixels.data(), img.pixels.size(), width * 3)) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed WebP data");
  }
  return img;
}
#else
DecodedImage decode_webp(EncodedBytes) {
  throw_error(ErrorCode::kNotImplemented,
              "ImageDecoder: onyx was built without libwebp (install libwebp-dev and rebuild)");
}
#endif

}  // namespace onyx::image
