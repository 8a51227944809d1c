#include "functions/image/image_job.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>

#include "functions/function_io.h"
#include "functions/image/image_dir.h"
#include "functions/image/image_format.h"
#include "functions/image/image_params.h"

namespace hutch::image {
namespace {

constexpr int kExitFailed = 1;

constexpr ImageFunction kFunctions[] = {
    {"rgb2gray", parse_rgb2gray},
    {"clahe_equalization", parse_clahe},
    {"resize_image", parse_resize},
};

// A failure and the exit code it earns: 2 (kExitBadInput) for what the user gave, 1 for the rest.
struct Failure {
  Error error;
  int exit_code;
};

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double rounded(double ms) { return std::round(ms * 100) / 100; }

int bits(const cv::Mat &image) { return image.depth() == CV_16U ? 16 : 8; }

nlohmann::json geometry(const cv::Mat &image) {
  return {{"width", image.cols}, {"height", image.rows}, {"channels", image.channels()}, {"depth", bits(image)}};
}

std::string describe(const cv::Mat &image) {
  return std::to_string(image.cols) + "x" + std::to_string(image.rows) + " " + std::to_string(image.channels()) +
         "ch " + std::to_string(bits(image)) + "-bit";
}

// The CPUs this process may run on. The job's CPU quota is not visible inside the sandbox (no /sys), so
// this is only the upper bound for `threads`; the default stays 1, the default job's quota.
int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

Result<cv::Mat> decode(const std::vector<unsigned char> &bytes, const std::string &name, ImageFormat format) {
  if (bytes.size() > INT_MAX) {
    return fail(make_error("'" + name + "' is larger than the 2 GiB OpenCV can decode from memory"));
  }
  cv::Mat image;
  std::string why;
  try {
    image = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<unsigned char *>(bytes.data())),
                         cv::IMREAD_UNCHANGED);
  } catch (const std::exception &exception) {
    why = std::string(": ") + exception.what();
  }
  if (image.empty()) {
    return fail(make_error("'" + name + "' starts like a " + format_name(format) +
                           " image but could not be decoded; it may be damaged or truncated" + why));
  }
  if (image.depth() != CV_8U && image.depth() != CV_16U) {
    return fail(make_error("'" + name + "' has samples that are neither 8- nor 16-bit unsigned integers (OpenCV "
                           "depth " + std::to_string(image.depth()) + "); image functions take 8- and 16-bit images"));
  }
  if (image.channels() != 1 && image.channels() != 3 && image.channels() != 4) {
    return fail(make_error("'" + name + "' has " + std::to_string(image.channels()) +
                           " channels; image functions take 1 (gray), 3 (colour) or 4 (colour and alpha)"));
  }
  return image;
}

Result<std::vector<unsigned char>> encode(const cv::Mat &image, const std::string &name, ImageFormat format) {
  std::vector<unsigned char> bytes;
  bool encoded = false;
  std::string why;
  try {
    encoded = cv::imencode(encoder_extension(format, image.channels()), image, bytes);
  } catch (const std::exception &exception) {
    why = std::string(": ") + exception.what();
  }
  if (!encoded) {
    return fail(make_error("'" + name + "': OpenCV could not encode the " + describe(image) + " result as " +
                           format_name(format) + why));
  }
  return bytes;
}

// What a reader of the output should know that the numbers do not say.
nlohmann::json notes_for(ImageFormat format, const cv::Mat &output) {
  nlohmann::json notes = nlohmann::json::array();
  if (format == ImageFormat::kJpeg) notes.push_back("JPEG is lossy: the result was encoded at OpenCV's default quality, 95");
  if (format == ImageFormat::kJpeg2000) notes.push_back("JPEG 2000 is written with OpenCV's default settings, which are not lossless");
  if (stores_gray_as_color(format) && output.channels() == 1)
    notes.push_back("WebP has no grayscale: the gray image is stored as equal R, G and B");
  return notes;
}

struct Input {
  std::string name;
  ImageFormat format;
};

// Every file must be an image before any is processed: a bad file fails the job in milliseconds.
std::expected<std::vector<Input>, Failure> check_inputs(const JobDirectory &in) {
  auto names = list_names(in);
  if (!names) return std::unexpected(Failure{names.error(), kExitFailed});
  if (names->empty()) {
    return std::unexpected(Failure{make_error("no input files: HUTCH_IN ('" + in.path + "') is empty; give the job "
                                              "the images to work on"),
                                   fn::kExitBadInput});
  }
  std::vector<Input> inputs;
  for (const std::string &name : *names) {
    auto head = read_input_file(in, name, kSignatureBytes);
    if (!head) return std::unexpected(Failure{head.error(), fn::kExitBadInput});
    auto format = detect_format(std::string_view(reinterpret_cast<const char *>(head->data()), head->size()), name);
    if (!format) return std::unexpected(Failure{format.error(), fn::kExitBadInput});
    inputs.push_back({name, *format});
  }
  return inputs;
}

std::expected<nlohmann::json, Failure> process(const Input &input, const ImageOperation &operation,
                                               const JobDirectory &in, const JobDirectory &out) {
  auto bad_input = [](Error error) { return std::unexpected(Failure{std::move(error), fn::kExitBadInput}); };
  auto failed = [](Error error) { return std::unexpected(Failure{std::move(error), kExitFailed}); };
  auto start = std::chrono::steady_clock::now();
  auto bytes = read_input_file(in, input.name, 0);
  if (!bytes) return failed(bytes.error());
  auto image = decode(*bytes, input.name, input.format);
  if (!image) return bad_input(image.error());
  bytes->clear();
  bytes->shrink_to_fit();  // the decoded image is what matters now; the memory limit counts both
  double decode_ms = milliseconds_since(start);

  auto step = std::chrono::steady_clock::now();
  cv::Mat result;
  try {
    result = operation.apply(*image);
  } catch (const std::exception &exception) {
    return failed(make_error("'" + input.name + "': OpenCV failed on the " + describe(*image) + " image: " + exception.what()));
  }
  double process_ms = milliseconds_since(step);

  step = std::chrono::steady_clock::now();
  auto encoded = encode(result, input.name, input.format);
  if (!encoded) return failed(encoded.error());
  double encode_ms = milliseconds_since(step);
  if (auto written = write_output_file(out, input.name, *encoded); !written) return failed(written.error());
  double total_ms = milliseconds_since(start);

  std::printf("%s: %s %s -> %s in %.1f ms\n", input.name.c_str(), format_name(input.format), describe(*image).c_str(),
              describe(result).c_str(), total_ms);
  std::fflush(stdout);
  nlohmann::json entry = {
      {"name", input.name},         {"format", format_name(input.format)},
      {"input", geometry(*image)},  {"output", geometry(result)},
      {"bytes", encoded->size()},   {"decode_ms", rounded(decode_ms)},
      {"process_ms", rounded(process_ms)}, {"encode_ms", rounded(encode_ms)},
      {"ms", rounded(total_ms)},
  };
  if (auto notes = notes_for(input.format, result); !notes.empty()) entry["notes"] = notes;
  return entry;
}

}  // namespace

const ImageFunction *find_image_function(const std::string &name) {
  for (const ImageFunction &function : kFunctions) {
    if (name == function.name) return &function;
  }
  return nullptr;
}

int run_image_function(const ImageFunction &function, const nlohmann::json &input) {
  auto operation = function.parse(input);
  if (!operation) return fn::report_failure(function.name, operation.error().message, fn::kExitBadInput);
  int cpus = usable_cpus();
  auto threads = whole_number_field(input, "threads", 1, 1, cpus);
  if (!threads) return fn::report_failure(function.name, threads.error().message, fn::kExitBadInput);
  // 1 makes OpenCV run sequentially on this thread: no pool to start, no threads fighting over a 1-core quota.
  cv::setNumThreads(*threads);
  cv::setUseOptimized(true);  // SIMD paths; the tests' reference calls run with the same default

  auto in = open_job_directory("HUTCH_IN");
  if (!in) return fn::report_failure(function.name, in.error().message, fn::kExitBadInput);
  auto out = open_job_directory("HUTCH_OUT");
  if (!out) return fn::report_failure(function.name, out.error().message, fn::kExitBadInput);
  auto inputs = check_inputs(*in);
  if (!inputs) return fn::report_failure(function.name, inputs.error().error.message, inputs.error().exit_code);

  nlohmann::json files = nlohmann::json::array();
  for (const Input &file : *inputs) {
    auto entry = process(file, *operation, *in, *out);
    if (!entry) return fn::report_failure(function.name, entry.error().error.message, entry.error().exit_code);
    files.push_back(std::move(*entry));
  }
  nlohmann::json result = {{"function", function.name}, {"parameters", operation->parameters},
                           {"threads", *threads}, {"files", files}};
  if (auto written = fn::write_result(result); !written) {
    return fn::report_failure(function.name, written.error().message, kExitFailed);
  }
  return 0;
}

}  // namespace hutch::image
