// image_bench: what a built-in image function costs per image, outside hutchd, so the sandboxed run can be
// compared with it (the lead adds the through-hutch column once job files exist).
//
// For every function and every image of the test data directory it measures, each as the median of --runs:
//   opencv_ms   the OpenCV calls alone in this process, warm: imdecode + the operation + imencode of the
//               image's own format, with the same code hutch-image runs (hutch_image_ops), 1 thread;
//   op_ms       the operation alone (part of opencv_ms);
//   process_ms  hutch-image exec'd as a plain process on that one image (HUTCH_IN holding only it, a fresh
//               HUTCH_OUT), fork to exit: loader, OpenCV start-up, file reads and writes included;
// and first_ms, the first opencv_ms of this process for that function and image, where one-time set-up
// shows (OpenCV builds its LAB tables on the first BGR<->LAB conversion of a process).
// It also times `hutch-image --list` (start-up alone: loader and static initialisers, no image).
//
// Output, one line per measurement:
//   image_bench startup_ms=62.1
//   image_bench function=rgb2gray image=apple.jpg opencv_ms=.. op_ms=.. first_ms=.. process_ms=.. ratio=..
// ratio = process_ms / opencv_ms.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>

#include "functions/image/image_format.h"
#include "functions/image/image_ops.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Options {
  std::string testdata = HUTCH_TESTDATA_DIR;
  std::string hutch_image = HUTCH_IMAGE_PATH;
  int runs = 5;
};

struct Function {
  const char *name;
  hutch::Result<hutch::image::ImageOperation> (*parse)(const nlohmann::json &input);
};
constexpr Function kFunctions[] = {
    {"rgb2gray", hutch::image::parse_rgb2gray},
    {"clahe_equalization", hutch::image::parse_clahe},
    {"resize_image", hutch::image::parse_resize},
};

void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: image_bench [--testdata DIR] [--hutch-image PATH] [--runs N]\n"
               "Times rgb2gray, clahe_equalization and resize_image per image of DIR (default tests/data/images):\n"
               "the OpenCV calls in this process, and hutch-image exec'd on that image. Medians of N runs (5).\n");
}

// 0: go on; 1: usage error (printed); 2: help printed.
int parse_options(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage(stdout);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "image_bench: %s needs a value\n", flag.c_str());
      return 1;
    }
    std::string value = argv[++i];
    if (flag == "--testdata") {
      options.testdata = value;
    } else if (flag == "--hutch-image") {
      options.hutch_image = value;
    } else if (flag == "--runs") {
      char *end = nullptr;
      long runs = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || runs < 1 || runs > 1000) {
        std::fprintf(stderr, "image_bench: --runs '%s' is not a whole number from 1 to 1000\n", value.c_str());
        return 1;
      }
      options.runs = static_cast<int>(runs);
    } else {
      std::fprintf(stderr, "image_bench: unknown flag '%s'\n", flag.c_str());
      print_usage(stderr);
      return 1;
    }
  }
  return 0;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Runs argv with `environment`, stdin, stdout and stderr on /dev/null (so the result goes nowhere), and
// returns the wall milliseconds from fork to reaping; < 0 when it did not exit 0.
double time_process(std::vector<std::string> argv, std::vector<std::string> environment) {
  std::vector<char *> c_argv, c_environment;
  for (auto &arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  for (auto &variable : environment) c_environment.push_back(variable.data());
  c_environment.push_back(nullptr);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return -1;
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    if (std::getenv("IMAGE_BENCH_DEBUG") == nullptr) ::dup2(null_fd, 2);
    ::close_range(3, ~0U, 0);  // no fd 3: hutch-image then writes its result to stdout, /dev/null
    ::execve(c_argv[0], c_argv.data(), c_environment.data());
    ::_exit(127);
  }
  ::close(null_fd);
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  double elapsed = ms_since(start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "image_bench: %s %s ended with wait status 0x%x\n", argv[0].c_str(),
                 argv.size() > 1 ? argv[1].c_str() : "", status);
    return -1;
  }
  return elapsed;
}

struct InProcess {
  double first_ms = 0;
  double median_ms = 0;
  double op_median_ms = 0;
};

// decode + operation + encode, as hutch-image does them, `runs` times after one first (recorded) run.
bool time_in_process(const std::vector<unsigned char> &bytes, hutch::image::ImageFormat format,
                     const hutch::image::ImageOperation &operation, int runs, InProcess &out) {
  std::vector<double> totals, ops;
  for (int run = 0; run <= runs; ++run) {
    auto start = Clock::now();
    cv::Mat image = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    if (image.empty()) return false;
    auto op_start = Clock::now();
    cv::Mat result = operation.apply(image);
    double op_ms = ms_since(op_start);
    std::vector<unsigned char> encoded;
    if (!cv::imencode(hutch::image::encoder_extension(format, result.channels()), result, encoded)) return false;
    double total_ms = ms_since(start);
    if (run == 0) {
      out.first_ms = total_ms;
      continue;
    }
    totals.push_back(total_ms);
    ops.push_back(op_ms);
  }
  out.median_ms = median(totals);
  out.op_median_ms = median(ops);
  return true;
}

// hutch-image on one image, `runs` times, each with a fresh HUTCH_OUT.
double time_hutch_image(const Options &options, const std::string &function, const fs::path &image, int runs) {
  fs::path work = fs::temp_directory_path() / ("image_bench." + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work / "in");
  fs::copy_file(image, work / "in" / image.filename());
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    fs::path out = work / ("out" + std::to_string(run));
    fs::create_directories(out);
    double ms = time_process({options.hutch_image, function},
                             {"PATH=/usr/bin:/bin", "HUTCH_IN=" + (work / "in").string(), "HUTCH_OUT=" + out.string()});
    if (ms < 0) {
      fs::remove_all(work);
      return -1;
    }
    times.push_back(ms);
  }
  fs::remove_all(work);
  return median(times);
}

std::vector<unsigned char> read_all(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  if (int parsed = parse_options(argc, argv, options); parsed != 0) return parsed == 2 ? 0 : 1;
  std::vector<fs::path> images;
  std::error_code error;
  for (const auto &entry : fs::directory_iterator(options.testdata, error)) images.push_back(entry.path());
  std::sort(images.begin(), images.end());
  if (error || images.empty()) {
    std::fprintf(stderr, "image_bench: no images in '%s'; give --testdata DIR\n", options.testdata.c_str());
    return 1;
  }
  cv::setNumThreads(1);  // as hutch-image runs by default (threads 1)

  std::vector<double> startup;
  for (int run = 0; run < options.runs; ++run) {
    double ms = time_process({options.hutch_image, "--list"}, {"PATH=/usr/bin:/bin"});
    if (ms < 0) return 1;
    startup.push_back(ms);
  }
  std::printf("image_bench startup_ms=%.1f runs=%d\n", median(startup), options.runs);
  std::fflush(stdout);

  for (const Function &function : kFunctions) {
    auto operation = function.parse(nullptr);
    if (!operation) return 1;
    for (const fs::path &image : images) {
      std::vector<unsigned char> bytes = read_all(image);
      auto format = hutch::image::detect_format(
          std::string_view(reinterpret_cast<const char *>(bytes.data()), std::min<size_t>(bytes.size(), 16)),
          image.filename().string());
      if (!format) {
        std::fprintf(stderr, "image_bench: %s\n", format.error().message.c_str());
        return 1;
      }
      InProcess in_process;
      if (!time_in_process(bytes, *format, *operation, options.runs, in_process)) {
        std::fprintf(stderr, "image_bench: OpenCV could not decode or encode '%s'\n", image.c_str());
        return 1;
      }
      double process_ms = time_hutch_image(options, function.name, image, options.runs);
      if (process_ms < 0) return 1;
      std::printf("image_bench function=%s image=%s opencv_ms=%.1f op_ms=%.1f first_ms=%.1f process_ms=%.1f "
                  "ratio=%.2f\n",
                  function.name, image.filename().c_str(), in_process.median_ms, in_process.op_median_ms,
                  in_process.first_ms, process_ms, process_ms / in_process.median_ms);
      std::fflush(stdout);
    }
  }
  return 0;
}
