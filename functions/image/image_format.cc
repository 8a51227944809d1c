#include "functions/image/image_format.h"

#include <array>

using namespace std::string_view_literals;

namespace hutch::image {
namespace {

bool starts_with(std::string_view bytes, std::string_view prefix) { return bytes.substr(0, prefix.size()) == prefix; }

std::string quoted(const std::string &name) { return "'" + name + "'"; }

bool is_pnm_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Formats OpenCV here recognises but these functions do not take, with the reason in the sentence. Signatures
// are `sv` literals because several hold a NUL byte.
struct Unsupported {
  std::string_view signature;
  const char *what;
};

constexpr std::array kUnsupported{
    Unsupported{"GIF87a"sv, "a GIF image, which OpenCV 4.6 cannot read"},
    Unsupported{"GIF89a"sv, "a GIF image, which OpenCV 4.6 cannot read"},
    Unsupported{"\xff\x4f\xff\x51"sv, "a raw JPEG 2000 codestream (.j2k), which OpenCV here reads but cannot write"},
    Unsupported{"II+\0"sv, "a BigTIFF image, which these functions do not take"},
    Unsupported{"MM\0+"sv, "a BigTIFF image, which these functions do not take"},
    Unsupported{"v/1\x01"sv, "an OpenEXR image (floating point), which these functions do not take"},
    Unsupported{"#?RADIANCE"sv, "a Radiance HDR image (floating point), which these functions do not take"},
    Unsupported{"#?RGBE"sv, "a Radiance HDR image (floating point), which these functions do not take"},
    Unsupported{"\x59\xa6\x6a\x95"sv, "a Sun raster image, which these functions do not take"},
};

}  // namespace

Result<ImageFormat> detect_format(std::string_view bytes, const std::string &name) {
  if (bytes.empty()) return fail(make_error(quoted(name) + " is empty, not an image"));
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) return ImageFormat::kPng;
  if (starts_with(bytes, "\xff\xd8\xff")) return ImageFormat::kJpeg;
  if (starts_with(bytes, "BM")) return ImageFormat::kBmp;
  if (starts_with(bytes, "II*\0"sv) || starts_with(bytes, "MM\0*"sv))
    return ImageFormat::kTiff;
  if (starts_with(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP") return ImageFormat::kWebp;
  if (starts_with(bytes, "\0\0\0\x0cjP  \r\n\x87\n"sv)) return ImageFormat::kJpeg2000;
  if (bytes.size() >= 3 && bytes[0] == 'P' && is_pnm_space(bytes[2])) {
    switch (bytes[1]) {
      case '2': case '3': case '5': case '6': return ImageFormat::kPnm;
      case '1': case '4':
        return fail(make_error(quoted(name) + " is a PBM (1-bit) image, which these functions do not take; convert it to "
                               "PGM or PNG"));
      case '7':
        return fail(make_error(quoted(name) + " is a PAM image, which OpenCV 4.6 cannot read back reliably; convert it to "
                               "PNG"));
      default: break;
    }
  }
  for (const Unsupported &known : kUnsupported) {
    if (starts_with(bytes, known.signature)) {
      return fail(make_error(quoted(name) + " is " + known.what + "; use " + supported_formats_text()));
    }
  }
  return fail(make_error(quoted(name) + " is not an image in a supported format (" + supported_formats_text() +
                         "); the format is read from the file's first bytes, not from its name"));
}

const char *format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "png";
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kTiff: return "tiff";
    case ImageFormat::kWebp: return "webp";
    case ImageFormat::kJpeg2000: return "jpeg2000";
    case ImageFormat::kPnm: return "pnm";
  }
  return "unknown";
}

const char *encoder_extension(ImageFormat format, int channels) {
  switch (format) {
    case ImageFormat::kPng: return ".png";
    case ImageFormat::kJpeg: return ".jpg";
    case ImageFormat::kBmp: return ".bmp";
    case ImageFormat::kTiff: return ".tif";
    case ImageFormat::kWebp: return ".webp";
    case ImageFormat::kJpeg2000: return ".jp2";
    case ImageFormat::kPnm: return channels == 1 ? ".pgm" : ".ppm";
  }
  return ".png";
}

bool holds_16_bit(ImageFormat format) {
  return format == ImageFormat::kPng || format == ImageFormat::kTiff || format == ImageFormat::kJpeg2000 ||
         format == ImageFormat::kPnm;
}

bool holds_alpha(ImageFormat format) {
  return format == ImageFormat::kPng || format == ImageFormat::kTiff || format == ImageFormat::kWebp ||
         format == ImageFormat::kJpeg2000;
}

bool is_lossy(ImageFormat format) { return format == ImageFormat::kJpeg || format == ImageFormat::kJpeg2000; }

bool stores_gray_as_color(ImageFormat format) { return format == ImageFormat::kWebp; }

const char *supported_formats_text() { return "PNG, JPEG, BMP, TIFF, WebP, JPEG 2000 (.jp2), PGM/PPM"; }

}  // namespace hutch::image
