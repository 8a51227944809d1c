// Image formats as the bytes say, not as the file name says: a PNG named photo.jpg is a PNG, and its result
// is written as a PNG under the same name. Each supported format is one OpenCV imgcodecs codec that can both
// read and write it on Debian 12 (OpenCV 4.6); formats OpenCV reads but cannot write back (or reads wrongly)
// are recognised only to name them in the refusal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hutch::image {

enum class ImageFormat { kPng, kJpeg, kBmp, kTiff, kWebp, kJpeg2000, kPnm };

// Bytes needed to tell every format apart (the longest signatures, WebP and JPEG 2000, are 12).
inline constexpr size_t kSignatureBytes = 16;

// The format of a file from its first bytes; `name` only names the file in the sentence when the bytes are
// not a supported image ("'notes.txt' is not an image in a supported format (...)").
Result<ImageFormat> detect_format(std::string_view first_bytes, const std::string &name);

// "png", "jpeg", "bmp", "tiff", "webp", "jpeg2000", "pnm": the word in results and sentences.
const char *format_name(ImageFormat format);

// The extension imencode needs to pick the format's encoder for an image of `channels` channels
// (PNM: ".pgm" for one channel, ".ppm" for three).
const char *encoder_extension(ImageFormat format, int channels);

// What the codec can hold, so the functions never hand it an image it would quietly change.
bool holds_16_bit(ImageFormat format);  // PNG, TIFF, JPEG 2000, PNM
bool holds_alpha(ImageFormat format);   // PNG, TIFF, WebP, JPEG 2000
bool is_lossy(ImageFormat format);      // JPEG, JPEG 2000 (OpenCV's default settings)
bool stores_gray_as_color(ImageFormat format);  // WebP has no grayscale: gray is written as equal R, G, B

// The list for sentences: "PNG, JPEG, BMP, TIFF, WebP, JPEG 2000 (.jp2), PGM/PPM".
const char *supported_formats_text();

}  // namespace hutch::image
