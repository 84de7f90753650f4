// TIFF through libtiff's RGBA reader, which covers every photometric interpretation, bit depth
// and compression libtiff knows. The file is read from memory through client callbacks, and
// errors are collected per handle (libtiff >= 4.5) instead of printed to stderr.
#include "providers/cpu/image/decoded_image.h"
#include "runtime/common/error.h"

#ifdef ONYX_HAVE_TIFF
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <tiffio.h>
#endif

namespace onyx::image {

#ifdef ONYX_HAVE_TIFF
namespace {

struct MemoryFile {
  EncodedBytes data;
  toff_t position = 0;
  std::string message;
};

tmsize_t read_bytes(thandle_t handle, void* out, tmsize_t size) {
  auto* file = static_cast<MemoryFile*>(handle);
  if (file->position >= file->data.size()) return 0;
  const size_t n = std::min<size_t>(static_cast<size_t>(size), file->data.size() - file->position);
  std::memcpy(out, file->data.data() + file->position, n);
  file->position += n;
  return static_cast<tmsize_t>(n);
}
tmsize_t refuse_write(thandle_t, void*, tmsize_t) { return 0; }
toff_t seek(thandle_t handle, toff_t offset, int whence) {
  auto* file = static_cast<MemoryFile*>(handle);
  const toff_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? file->position : file->data.size();
  file->position = base + offset;
  return file->position;
}
int close_nothing(thandle_t) { return 0; }
toff_t file_size(thandle_t handle) { return static_cast<MemoryFile*>(handle)->data.size(); }
int no_map(thandle_t, void**, toff_t*) { return 0; }
void no_unmap(thandle_t, void*, toff_t) {}

int record_error(TIFF*, void* user_data, const char* module, const char* format, va_list args) {
  auto* file = static_cast<MemoryFile*>(user_data);
  char text[512];
  std::vsnprintf(text, sizeof(text), format, args);
  if (file->message.empty()) file->message = std::string(module ? module : "libtiff") + ": " + text;
  return 1;  // handled: libtiff does not print it
}
int ignore_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

}  // namespace

DecodedImage decode_tiff(EncodedBytes data) {
  MemoryFile file{data};
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, record_error, &file);
  TIFFOpenOptionsSetWarningHandlerExtR(options, ignore_warning, &file);
  TIFF* tiff = TIFFClientOpenExt("memory", "rm", &file, read_bytes, refuse_write, seek, close_nothing,
                                 file_size, no_map, no_unmap, options);
  TIFFOpenOptionsFree(options);
  if (!tiff) throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed TIFF data: ", file.message);
  uint32_t width = 0, height = 0;
  TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &height);
  try {
    check_dimensions(width, height, "TIFF");
  } catch (...) {
    TIFFClose(tiff);
    throw;
  }
  std::vector<uint32_t> raster(static_cast<size_t>(width) * height);
  const int ok = !raster.empty() &&
                 TIFFReadRGBAImageOriented(tiff, width, height, raster.data(), ORIENTATION_TOPLEFT, 0);
  TIFFClose(tiff);
  if (!ok) throw_error(ErrorCode::kInvalidArgument, "ImageDecoder: malformed TIFF data: ", file.message);
  DecodedImage img;
  img.height = height;
  img.width = width;
  img.channels = 3;
  img.pixels.resize(raster.size() * 3);
  for (size_t i = 0; i < raster.size(); ++i) {
    img.pixels[i * 3 + 0] = static_cast<uint8_t>(TIFFGetR(raster[i]));
    img.pixels[i * 3 + 1] = static_cast<uint8_t>(TIFFGetG(raster[i]));
    img.pixels[i * 3 + 2] = static_cast<uint8_t>(TIFFGetB(raster[i]));
  }
  return img;
}
#else
DecodedImage decode_tiff(EncodedBytes) {
  throw_error(ErrorCode::kNotImplemented,
              "ImageDecoder: onyx was built without libtiff (install libtiff-dev and rebuild)");
}
#endif

}  // namespace onyx::image
