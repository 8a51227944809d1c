#include "functions/image/image_test_util.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "tests/support/process.h"

namespace hutch::image::test {

std::string testdata_dir() {
  const char *override_dir = std::getenv("HUTCH_TESTDATA");
  return override_dir != nullptr && *override_dir != '\0' ? override_dir : HUTCH_TESTDATA_DIR;
}

std::vector<std::string> file_names(const std::string &directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto &entry : std::filesystem::directory_iterator(directory, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ImageRun run_image_function(const std::string &function, const std::string &input, const std::string &in_dir,
                       const std::string &out_dir, const std::string &program) {
  hutch::test::TempDir scratch("hutch-image-run");
  std::string input_path = scratch.path() + "/input.json";
  std::string result_path = scratch.path() + "/result.json";
  write_bytes(input_path, input);
  write_bytes(result_path, "");
  std::vector<std::string> environment;
  if (!in_dir.empty()) environment.push_back("HUTCH_IN=" + in_dir);
  if (!out_dir.empty()) environment.push_back("HUTCH_OUT=" + out_dir);
  // A shell only for the redirections: stdin from the input file, fd 3 to the result file, as hutchd does.
  std::string executable = program.empty() ? hutch_image_path() : program;
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" $1 <\"$2\" 3>\"$3\"", executable,
                                   function, input_path, result_path};
  auto command = hutch::test::run_command(argv, std::chrono::seconds(60), environment);
  ImageRun run;
  run.exit_code = command.exit_code();
  run.out = command.out;
  run.err = command.err;
  run.result_text = read_bytes(result_path);
  run.result = nlohmann::json::parse(run.result_text, nullptr, /*allow_exceptions=*/false);
  if (run.result.is_discarded()) run.result = nullptr;
  return run;
}

std::string read_bytes(const std::string &path) { return hutch::test::read_file_text(path); }

void write_bytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

cv::Mat read_unchanged(const std::string &path) { return cv::imread(path, cv::IMREAD_UNCHANGED); }

cv::Mat encode_decode(const cv::Mat &image, const std::string &extension) {
  std::vector<unsigned char> bytes;
  if (!cv::imencode(extension, image, bytes)) return {};
  return cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
}

double max_difference(const cv::Mat &a, const cv::Mat &b) {
  if (a.empty() || b.empty() || a.size() != b.size() || a.type() != b.type()) return -1;
  return cv::norm(a, b, cv::NORM_INF);
}

std::string describe(const cv::Mat &image) {
  if (image.empty()) return "(no image)";
  return std::to_string(image.cols) + "x" + std::to_string(image.rows) + " " + std::to_string(image.channels()) +
         "ch depth " + std::to_string(image.depth());
}

}  // namespace hutch::image::test
