// Windows BMP, parsed directly: uncompressed 1/4/8-bit palette, 24-bit BGR and 16/32-bit (plain
// or BI_BITFIELDS masks), bottom-up or top-down rows padded to 4 bytes. RLE compression is
// refused with a clear message. Every read is bounds-checked against the buffer.
#include <bit>
#include <string>

#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

namespace onyx::image {
namespace {

class BmpReader {
 public:
  explicit BmpReader(EncodedBytes data) : data_(data) {}

  uint32_t u32(size_t at) const { need(at, 4); return data_[at] | data_[at + 1] << 8 | data_[at + 2] << 16 | uint32_t{data_[at + 3]} << 24; }
  uint16_t u16(size_t at) const { need(at, 2); return static_cast<uint16_t>(data_[at] | data_[at + 1] << 8); }
  int32_t i32(size_t at) const { return static_cast<int32_t>(u32(at)); }
  const uint8_t* bytes(size_t at, size_t count) const { need(at, count); return data_.data() + at; }

 private:
  void need(size_t at, size_t count) const {
    if (at > data_.size() || data_.size() - at < count) {
      throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: truncated BMP data (", data_.size(), " bytes)");
    }
  }
  EncodedBytes data_;
};

// Scales a masked channel to 8 bits.
uint8_t channel(uint32_t pixel, uint32_t mask) {
  if (mask == 0) return 0;
  const int shift = std::countr_zero(mask);
  const int bits = std::popcount(mask);
  const uint32_t v = (pixel & mask) >> shift;
  const uint32_t max = (bits >= 32) ? 0xFFFFFFFFu : ((1u << bits) - 1);
  return static_cast<uint8_t>((static_cast<uint64_t>(v) * 255 + max / 2) / max);
}

}  // namespace

DecodedImage decode_bmp(EncodedBytes data) {
  BmpReader in(data);
  const uint32_t pixel_offset = in.u32(10);
  const uint32_t header_size = in.u32(14);
  int64_t width, height;
  uint16_t bits;
  uint32_t compression = 0, palette_size = 0;
  if (header_size == 12) {  // OS/2 BITMAPCOREHEADER
    width = in.u16(18);
    height = static_cast<int16_t>(in.u16(20));
    bits = in.u16(24);
  } else if (header_size >= 40) {
    width = in.i32(18);
    height = in.i32(22);
    bits = in.u16(28);
    compression = in.u32(30);
    palette_size = in.u32(46);
  } else {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: BMP header of ", header_size, " bytes is not supported");
  }
  const bool top_down = height < 0;
  height = top_down ? -height : height;
  check_dimensions(width, height, "BMP");
  uint32_t masks[3] = {0, 0, 0};
  if (compression == 3 || compression == 6) {  // BI_BITFIELDS, BI_ALPHABITFIELDS
    // Masks follow a 40-byte header; larger headers hold them inside.
    for (int c = 0; c < 3; ++c) masks[c] = in.u32(54 + 4 * c);
  } else if (compression != 0) {
    throw_error(ErrorCode::kNotImplemented, "ImageDecoder: compressed BMP (compression ", compression,
                ") is not supported");
  } else if (bits == 16) {
    masks[0] = 0x7C00, masks[1] = 0x03E0, masks[2] = 0x001F;  // 5-5-5
  } else if (bits == 32) {
    masks[0] = 0xFF0000, masks[1] = 0xFF00, masks[2] = 0xFF;
  }
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: BMP with ", bits, " bits per pixel is not supported");
  }
  const uint8_t* palette = nullptr;
  const size_t palette_entry = header_size == 12 ? 3 : 4;
  size_t palette_count = 0;
  if (bits <= 8) {
    palette_count = palette_size ? palette_size : (size_t{1} << bits);
    palette = in.bytes(14 + header_size, palette_count * palette_entry);
  }
  const size_t stride = ((static_cast<size_t>(width) * bits + 31) / 32) * 4;
  const uint8_t* rows = in.bytes(pixel_offset, stride * static_cast<size_t>(height));
  DecodedImage img;
  img.width = width;
  img.height = height;
  img.channels = 3;
  img.pixels.resize(static_cast<size_t>(width * height * 3));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = rows + stride * static_cast<size_t>(top_down ? y : height - 1 - y);
    uint8_t* out = img.pixels.data() + y * width * 3;
    for (int64_t x = 0; x < width; ++x, out += 3) {
      if (bits <= 8) {
        const size_t bit = static_cast<size_t>(x) * bits;
        const size_t index = (row[bit / 8] >> (8 - bits - bit % 8)) & ((1u << bits) - 1);
        if (index >= palette_count) {
          throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: BMP palette index ", index, " out of range");
        }
        const uint8_t* bgr = palette + index * palette_entry;
        out[0] = bgr[2], out[1] = bgr[1], out[2] = bgr[0];
      } else if (bits == 24) {
        out[0] = row[x * 3 + 2], out[1] = row[x * 3 + 1], out[2] = row[x * 3];
      } else {
        const uint32_t pixel = bits == 16 ? uint32_t{row[x * 2]} | uint32_t{row[x * 2 + 1]} << 8
                                          : uint32_t{row[x * 4]} | uint32_t{row[x * 4 + 1]} << 8 |
                                                uint32_t{row[x * 4 + 2]} << 16 | uint32_t{row[x * 4 + 3]} << 24;
        for (int c = 0; c < 3; ++c) out[c] = channel(pixel, masks[c]);
      }
    }
  }
  return img;
}

}  // namespace onyx::image
