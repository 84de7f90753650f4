// PNG through libpng's classic API: palettes and low bit depths expanded, 16-bit samples cut to
// their high byte and alpha stripped, as Pillow does (libpng's simplified API would instead
// treat 16-bit data as linear light and gamma-encode it). libpng reports errors by longjmp;
// everything touched after setjmp lives in a heap state object.
#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

#ifdef ONYX_HAVE_PNG
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <png.h>
#endif

namespace onyx::image {

#ifdef ONYX_HAVE_PNG
namespace {

struct PngState {
  png_structp reader = nullptr;
  png_infop info = nullptr;
  EncodedBytes data;
  size_t position = 0;
  std::string message;
  std::vector<png_bytep> rows;
  DecodedImage image;
};

void read_from_memory(png_structp reader, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(reader));
  if (state->data.size() - state->position < length) png_error(reader, "truncated data");
  std::memcpy(out, state->data.data() + state->position, length);
  state->position += length;
}

[[noreturn]] void record_error(png_structp reader, png_const_charp message) {
  static_cast<PngState*>(png_get_error_ptr(reader))->message = message;
  png_longjmp(reader, 1);
}

void ignore_warning(png_structp, png_const_charp) {}

}  // namespace

DecodedImage decode_png(EncodedBytes data) {
  auto state = std::make_unique<PngState>();
  state->data = data;
  state->reader = png_create_read_struct(PNG_LIBPNG_VER_STRING, state.get(), record_error, ignore_warning);
  if (state->reader) state->info = png_create_info_struct(state->reader);
  if (!state->reader || !state->info) {
    png_destroy_read_struct(&state->reader, &state->info, nullptr);
    throw_error(ErrorCode::kRuntimeFailure, "ImageDecoder: libpng could not allocate a reader");
  }
  if (setjmp(png_jmpbuf(state->reader))) {
    png_destroy_read_struct(&state->reader, &state->info, nullptr);
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed PNG data: ", state->message);
  }
  png_set_read_fn(state->reader, state.get(), read_from_memory);
  png_read_info(state->reader, state->info);
  png_set_expand(state->reader);
  png_set_strip_16(state->reader);
  png_set_strip_alpha(state->reader);
  png_set_interlace_handling(state->reader);
  png_read_update_info(state->reader, state->info);
  DecodedImage& img = state->image;
  img.width = png_get_image_width(state->reader, state->info);
  img.height = png_get_image_height(state->reader, state->info);
  img.channels = png_get_channels(state->reader, state->info);
  const size_t stride = png_get_rowbytes(state->reader, state->info);
  img.pixels.resize(stride * static_cast<size_t>(img.height));
  state->rows.resize(static_cast<size_t>(img.height));
  for (size_t r = 0; r < state->rows.size(); ++r) state->rows[r] = img.pixels.data() + r * stride;
  png_read_image(state->reader, state->rows.data());
  png_read_end(state->reader, nullptr);
  png_destroy_read_struct(&state->reader, &state->info, nullptr);
  return std::move(img);
}
#else
DecodedImage decode_png(EncodedBytes) {
  throw_error(ErrorCode::kNotImplemented,
              "ImageDecoder: onyx was built without libpng (install libpng-dev and rebuild)");
}
#endif

}  // namespace onyx::image
