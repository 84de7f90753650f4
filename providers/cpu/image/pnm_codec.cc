// Netpbm images, parsed directly: P1/P4 bitmaps, P2/P5 graymaps and P3/P6 pixmaps, with
// comments in the header and maxval up to 65535 (samples rescaled to 8 bits).
#include <cctype>
#include <string>

#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

namespace onyx::image {
namespace {

class PnmReader {
 public:
  explicit PnmReader(EncodedBytes data) : data_(data) {}

  // The next decimal number, skipping whitespace and '#' comments.
  int64_t number() {
    skip_space_and_comments();
    if (pos_ >= data_.size() || !std::isdigit(data_[pos_])) fail();
    int64_t v = 0;
    while (pos_ < data_.size() && std::isdigit(data_[pos_])) {
      v = v * 10 + (data_[pos_++] - '0');
      if (v > (int64_t{1} << 32)) fail();
    }
    return v;
  }
  // One ASCII bit of P1 ('0' or '1'); digits may be packed without spaces.
  int ascii_bit() {
    skip_space_and_comments();
    if (pos_ >= data_.size() || (data_[pos_] != '0' && data_[pos_] != '1')) fail();
    return data_[pos_++] - '0';
  }
  // Binary data starts after exactly one whitespace byte following the header.
  void skip_one_space() {
    if (pos_ >= data_.size() || !std::isspace(data_[pos_])) fail();
    ++pos_;
  }
  const uint8_t* bytes(size_t count) {
    if (data_.size() - pos_ < count) fail();
    const uint8_t* p = data_.data() + pos_;
    pos_ += count;
    return p;
  }
  void skip(size_t n) { pos_ += n; }

 private:
  void skip_space_and_comments() {
    while (pos_ < data_.size()) {
      if (std::isspace(data_[pos_])) {
        ++pos_;
      } else if (data_[pos_] == '#') {
        while (pos_ < data_.size() && data_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  [[noreturn]] void fail() const {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed or truncated PNM data at byte ", pos_);
  }
  EncodedBytes data_;
  size_t pos_ = 0;
};

}  // namespace

DecodedImage decode_pnm(EncodedBytes data) {
  PnmReader in(data);
  const char kind = static_cast<char>(data[1]);
  in.skip(2);
  DecodedImage img;
  img.width = in.number();
  img.height = in.number();
  check_dimensions(img.width, img.height, "PNM");
  const bool bitmap = kind == '1' || kind == '4';
  const int64_t maxval = bitmap ? 1 : in.number();
  if (maxval < 1 || maxval > 65535) {
    throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: PNM maxval ", maxval, " is out of range");
  }
  img.channels = (kind == '3' || kind == '6') ? 3 : 1;
  const size_t samples = static_cast<size_t>(img.width * img.height * img.channels);
  img.pixels.resize(samples);
  auto scale = [&](int64_t v) {
    if (v > maxval) throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: PNM sample ", v, " exceeds maxval ", maxval);
    return static_cast<uint8_t>((v * 255 + maxval / 2) / maxval);
  };
  if (kind == '1') {
    for (size_t i = 0; i < samples; ++i) img.pixels[i] = in.ascii_bit() ? 0 : 255;  // 1 is black
  } else if (kind == '4') {
    in.skip_one_space();
    const size_t row_bytes = static_cast<size_t>((img.width + 7) / 8);
    for (int64_t y = 0; y < img.height; ++y) {
      const uint8_t* row = in.bytes(row_bytes);
      for (int64_t x = 0; x < img.width; ++x) {
        img.pixels[static_cast<size_t>(y * img.width + x)] = (row[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
      }
    }
  } else if (kind == '2' || kind == '3') {
    for (size_t i = 0; i < samples; ++i) img.pixels[i] = scale(in.number());
  } else {
    in.skip_one_space();
    const bool wide = maxval > 255;  // two bytes per sample, most significant first
    const uint8_t* raw = in.bytes(samples * (wide ? 2 : 1));
    for (size_t i = 0; i < samples; ++i) {
      img.pixels[i] = scale(wide ? (raw[2 * i] << 8 | raw[2 * i + 1]) : raw[i]);
    }
  }
  return img;
}

}  // namespace onyx::image
