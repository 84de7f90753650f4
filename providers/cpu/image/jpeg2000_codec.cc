// JPEG 2000 (JP2 container or bare J2K codestream) through OpenJPEG. Components deeper than
// 8 bits keep their high 8 bits, signed ones are re-centred, subsampled chroma is repeated to
// full size and sYCC is converted to RGB, as OpenJPEG's own tools and Pillow do.
#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

#ifdef ONYX_HAVE_OPENJPEG
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include <openjpeg.h>
#endif

namespace onyx::image {

#ifdef ONYX_HAVE_OPENJPEG
namespace {

struct MemoryStream {
  EncodedBytes data;
  OPJ_OFF_T position = 0;
  std::string message;
};

OPJ_SIZE_T read_bytes(void* out, OPJ_SIZE_T size, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  const auto left = static_cast<OPJ_SIZE_T>(static_cast<OPJ_OFF_T>(s->data.size()) - s->position);
  if (left == 0) return static_cast<OPJ_SIZE_T>(-1);  // OpenJPEG's end-of-stream
  const OPJ_SIZE_T n = std::min(size, left);
  std::memcpy(out, s->data.data() + s->position, n);
  s->position += static_cast<OPJ_OFF_T>(n);
  return n;
}
OPJ_OFF_T skip_bytes(OPJ_OFF_T count, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  const OPJ_OFF_T target = std::clamp<OPJ_OFF_T>(s->position + count, 0, static_cast<OPJ_OFF_T>(s->data.size()));
  const OPJ_OFF_T moved = target - s->position;
  s->position = target;
  return moved;
}
OPJ_BOOL seek_to(OPJ_OFF_T offset, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (offset < 0 || offset > static_cast<OPJ_OFF_T>(s->data.size())) return OPJ_FALSE;
  s->position = offset;
  return OPJ_TRUE;
}
void record_error(const char* message, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (s->message.empty()) {
    s->message = message;
    while (!s->message.empty() && s->message.back() == '\n') s->message.pop_back();
  }
}
void ignore_message(const char*, void*) {}

// opj_codec_t and opj_stream_t are both void*, so each needs its own deleter type.
struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

uint8_t to_byte(const opj_image_comp_t& comp, int64_t x, int64_t y) {
  const int64_t cx = std::min<int64_t>(x / std::max<OPJ_UINT32>(comp.dx, 1), comp.w - 1);
  const int64_t cy = std::min<int64_t>(y / std::max<OPJ_UINT32>(comp.dy, 1), comp.h - 1);
  int64_t v = comp.data[cy * comp.w + cx];
  if (comp.sgnd) v += int64_t{1} << (comp.prec - 1);
  if (comp.prec > 8) v >>= (comp.prec - 8);
  if (comp.prec < 8) v = (v * 255 + ((int64_t{1} << comp.prec) - 1) / 2) / ((int64_t{1} << comp.prec) - 1);
  return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
}

uint8_t clamp_byte(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

DecodedImage decode_jpeg2000(EncodedBytes data) {
  MemoryStream source{data};
  const bool jp2 = data.size() >= 4 && data[0] == 0 && data[1] == 0;
  std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  opj_set_error_handler(codec.get(), record_error, &source);
  opj_set_warning_handler(codec.get(), ignore_message, &source);
  opj_set_info_handler(codec.get(), ignore_message, &source);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE));
  opj_stream_set_user_data(stream.get(), &source, nullptr);
  opj_stream_set_user_data_length(stream.get(), data.size());
  opj_stream_set_read_function(stream.get(), read_bytes);
  opj_stream_set_skip_function(stream.get(), skip_bytes);
  opj_stream_set_seek_function(stream.get(), seek_to);
  opj_image_t* raw = nullptr;
  const bool ok = opj_setup_decoder(codec.get(), &parameters) &&
                  opj_read_header(stream.get(), codec.get(), &raw);
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw);
  if (!ok || !opj_decode(codec.get(), stream.get(), image.get()) ||
      !opj_end_decompress(codec.get(), stream.get())) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed JPEG 2000 data: ", source.message);
  }
  if (image->numcomps == 0 || image->comps[0].data == nullptr) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: JPEG 2000 image has no decoded components");
  }
  DecodedImage img;
  img.width = image->x1 - image->x0;
  img.height = image->y1 - image->y0;
  check_dimensions(img.width, img.height, "JPEG 2000");
  const bool color = image->numcomps >= 3;
  img.channels = color ? 3 : 1;
  img.pixels.resize(static_cast<size_t>(img.width * img.height * img.channels));
  const bool sycc = color && image->color_space == OPJ_CLRSPC_SYCC;
  for (int64_t y = 0; y < img.height; ++y) {
    for (int64_t x = 0; x < img.width; ++x) {
      uint8_t* out = img.pixels.data() + (y * img.width + x) * img.channels;
      for (int c = 0; c < img.channels; ++c) out[c] = to_byte(image->comps[c], x, y);
      if (sycc) {
        const double luma = out[0], cb = out[1] - 128.0, cr = out[2] - 128.0;
        out[0] = clamp_byte(luma + 1.402 * cr);
        out[1] = clamp_byte(luma - 0.344136 * cb - 0.714136 * cr);
        out[2] = clamp_byte(luma + 1.772 * cb);
      }
    }
  }
  return img;
}
#else
DecodedImage decode_jpeg2000(EncodedBytes) {
  throw_error(ErrorCode::kNotImplemented,
              "ImageDecoder: onyx was built without OpenJPEG (install libopenjp2-7-dev and rebuild)");
}
#endif

}  // namespace onyx::image
