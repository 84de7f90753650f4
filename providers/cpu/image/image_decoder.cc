// ImageDecoder-20: decodes an encoded image (a 1-D uint8 tensor) into [H, W, 3] RGB or BGR,
// or [H, W, 1] grayscale. Gray from colour uses the ITU-R 601 luma weights in the fixed-point
// form Pillow uses (the ONNX reference decodes with Pillow), so results match it bit for bit.
#include <string>

#include "providers/cpu/image/decoded_image.h"
#include "providers/kernel_registry.h"
#include "runtime/common/error.h"

namespace onyx {
namespace {

enum class PixelFormat { kRgb, kBgr, kGrayscale };

PixelFormat parse_pixel_format(const std::string& name) {
  if (name == "RGB") return PixelFormat::kRgb;
  if (name == "BGR") return PixelFormat::kBgr;
  if (name == "Grayscale") return PixelFormat::kGrayscale;
  throw_error(ErrorCode::kInvalidModel, "ImageDecoder: pixel_format must be RGB, BGR or Grayscale, not '",
              name, "'");
}

inline uint8_t luma(const uint8_t* rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

class ImageDecoderKernel final : public Kernel {
 public:
  explicit ImageDecoderKernel(const KernelInfo& info)
      : format_(parse_pixel_format(info.attributes().get_string("pixel_format", "RGB"))) {}

  void compute(KernelContext& ctx) override {
    const Tensor& encoded = ctx.input(0);
    if (encoded.dtype() != DataType::kUInt8 || encoded.rank() != 1) {
      throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: encoded_stream must be a 1-D uint8 tensor");
    }
    image::DecodedImage img = image::decode_any(
        {encoded.data<uint8_t>(), static_cast<size_t>(encoded.element_count())});
    const int64_t pixels = img.height * img.width;
    const int channels = format_ == PixelFormat::kGrayscale ? 1 : 3;
    Tensor& out = ctx.output(0, DataType::kUInt8, {img.height, img.width, channels});
    uint8_t* dst = out.mutable_data<uint8_t>();
    const uint8_t* src = img.pixels.data();
    for (int64_t p = 0; p < pixels; ++p) {
      const uint8_t* px = src + p * img.channels;
      uint8_t* o = dst + p * channels;
      if (format_ == PixelFormat::kGrayscale) {
        o[0] = img.channels == 1 ? px[0] : luma(px);
      } else if (img.channels == 1) {
        o[0] = o[1] = o[2] = px[0];
      } else if (format_ == PixelFormat::kRgb) {
        o[0] = px[0], o[1] = px[1], o[2] = px[2];
      } else {
        o[0] = px[2], o[1] = px[1], o[2] = px[0];
      }
    }
  }

 private:
  PixelFormat format_;
};

ONYX_REGISTER_KERNEL("CPU", "", "ImageDecoder", 20, kOpsetOpenEnded, ImageDecoderKernel);

}  // namespace
}  // namespace onyx
