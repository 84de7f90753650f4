// JPEG through libjpeg(-turbo) with its default (accurate integer) IDCT and fancy upsampling,
// the settings Pillow decodes with. libjpeg reports errors by longjmp; everything touched after
// setjmp lives in a heap state object, so the jump skips no destructors.
#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

#ifdef ONYX_HAVE_JPEG
#include <csetjmp>
#include <cstdio>
#include <memory>

#include <jpeglib.h>
#endif

namespace onyx::image {

#ifdef ONYX_HAVE_JPEG
namespace {

struct JpegState {
  jpeg_decompress_struct decoder{};
  jpeg_error_mgr errors{};
  std::jmp_buf on_error;
  char message[JMSG_LENGTH_MAX] = {};
  DecodedImage image;
};

[[noreturn]] void jump_on_error(j_common_ptr info) {
  auto* state = static_cast<JpegState*>(info->client_data);
  info->err->format_message(info, state->message);
  std::longjmp(state->on_error, 1);
}

void ignore_message(j_common_ptr) {}

}  // namespace

DecodedImage decode_jpeg(EncodedBytes data) {
  auto state = std::make_unique<JpegState>();
  jpeg_decompress_struct& d = state->decoder;
  d.err = jpeg_std_error(&state->errors);
  state->errors.error_exit = jump_on_error;
  state->errors.output_message = ignore_message;  // warnings (e.g. trailing garbage) are not fatal
  d.client_data = state.get();
  if (setjmp(state->on_error)) {
    jpeg_destroy_decompress(&d);
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed JPEG data: ", state->message);
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, data.data(), static_cast<unsigned long>(data.size()));
  jpeg_read_header(&d, TRUE);
  if (d.jpeg_color_space == JCS_CMYK || d.jpeg_color_space == JCS_YCCK) {
    std::snprintf(state->message, sizeof(state->message), "CMYK JPEG images are not supported");
    std::longjmp(state->on_error, 1);
  }
  d.out_color_space = d.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  // check_dimensions would throw past jpeg_destroy_decompress; this frame reports by longjmp.
  if (static_cast<int64_t>(d.image_width) * d.image_height > kMaxImagePixels) {
    std::snprintf(state->message, sizeof(state->message), "image of %ux%u is too large", d.image_width,
                  d.image_height);
    std::longjmp(state->on_error, 1);
  }
  jpeg_start_decompress(&d);
  DecodedImage& img = state->image;
  img.height = d.output_height;
  img.width = d.output_width;
  img.channels = d.output_components;
  const size_t stride = static_cast<size_t>(img.width) * static_cast<size_t>(img.channels);
  img.pixels.resize(stride * static_cast<size_t>(img.height));
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = img.pixels.data() + stride * d.output_scanline;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return std::move(img);
}
#else
DecodedImage decode_jpeg(EncodedBytes) {
  throw_error(ErrorCode::kNotImplemented,
              "ImageDecoder: onyx was built without libjpeg (install libjpeg-dev and rebuild)");
}
#endif

}  // namespace onyx::image
