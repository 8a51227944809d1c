// hutch-fn: the multi-call binary of built-in functions, exec'd once per job as `hutch-fn NAME`. It links
// nothing heavy (libstdc++ and libc only) because its start-up time is part of every job's latency.
#include <cstdio>
#include <cstring>
#include <string>

#include "functions/builtins.h"
#include "functions/function_io.h"
#include "functions/builtin_names.h"

namespace {

struct Builtin {
  const char *name;
  int (*run)(const nlohmann::json &input);
};

// Every name of hutch::builtin_function_names() has an entry; the ctest `hutch_fn_contract` checks.
constexpr Builtin kBuiltins[] = {
    {"hello", hutch::fn::run_hello},
    {"sleep", hutch::fn::run_sleep},
};

int usage(FILE *stream) {
  std::fprintf(stream, "usage: hutch-fn NAME < input.json 3> result.json\n       hutch-fn --list\nfunctions:");
  for (const auto &name : hutch::builtin_function_names()) std::fprintf(stream, " %s", name.c_str());
  std::fprintf(stream, "\n");
  return stream == stdout ? 0 : hutch::fn::kExitBadInput;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) return usage(stderr);
  std::string name = argv[1];
  if (name == "--help" || name == "-h") return usage(stdout);
  if (name == "--list") {
    for (const auto &builtin : hutch::builtin_function_names()) std::printf("%s\n", builtin.c_str());
    return 0;
  }
  for (const auto &builtin : kBuiltins) {
    if (name != builtin.name) continue;
    auto input = hutch::fn::read_input();
    if (!input) {
      std::fprintf(stderr, "%s: %s\n", builtin.name, input.error().message.c_str());
      return hutch::fn::kExitBadInput;
    }
    return builtin.run(*input);
  }
  std::fprintf(stderr, "hutch-fn: no built-in function '%s'; `hutch-fn --list` shows them\n", name.c_str());
  return hutch::fn::kExitBadInput;
}
