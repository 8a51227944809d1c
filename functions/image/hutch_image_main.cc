// hutch-image: the built-in image functions, a multi-call binary like hutch-fn but its own program, so that
// hello and sleep never load OpenCV. Run as `hutch-image NAME` (what hutchd does) or through a link named
// after the function (`rgb2gray`), with the job's files in HUTCH_IN and results going to HUTCH_OUT.
#include <cstdio>
#include <cstring>
#include <string>

#include "functions/function_io.h"
#include "functions/image/image_job.h"
#include "functions/builtin_names.h"

namespace {

int usage(FILE *stream) {
  std::fprintf(stream,
               "usage: HUTCH_IN=DIR HUTCH_OUT=DIR hutch-image NAME < input.json 3> result.json\n"
               "       hutch-image --list\nfunctions:");
  for (const auto &name : hutch::image_function_names()) std::fprintf(stream, " %s", name.c_str());
  std::fprintf(stream, "\n");
  return stream == stdout ? 0 : hutch::fn::kExitBadInput;
}

int run(const hutch::image::ImageFunction &function) {
  auto input = hutch::fn::read_input();
  if (!input) return hutch::fn::report_failure(function.name, input.error().message, hutch::fn::kExitBadInput);
  return hutch::image::run_image_function(function, *input);
}

}  // namespace

int main(int argc, char **argv) {
  // Before HUTCH_IN and HUTCH_OUT are opened: run by hand without fd 3, the first of them would get fd 3.
  hutch::fn::reserve_result_fd();
  const char *slash = argc > 0 ? std::strrchr(argv[0], '/') : nullptr;
  std::string invoked_as = slash != nullptr ? slash + 1 : argc > 0 ? argv[0] : "";
  if (const auto *function = hutch::image::find_image_function(invoked_as); function != nullptr && argc == 1) {
    return run(*function);
  }
  if (argc != 2) return usage(stderr);
  std::string name = argv[1];
  if (name == "--help" || name == "-h") return usage(stdout);
  if (name == "--list") {
    for (const auto &known : hutch::image_function_names()) std::printf("%s\n", known.c_str());
    return 0;
  }
  if (const auto *function = hutch::image::find_image_function(name); function != nullptr) return run(*function);
  std::fprintf(stderr, "hutch-image: no image function '%s'; `hutch-image --list` shows them\n", name.c_str());
  return hutch::fn::kExitBadInput;
}
