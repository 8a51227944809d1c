// exec_argv: {"argv": ["/usr/bin/python3", "-c", "..."]} executes that program (by absolute path, with the
// job's environment), so a test can run an interpreter with a script of its own inside the sandbox: a
// script file outside /usr is not in the sandbox's filesystem view, while /usr/bin/python3 is. The
// interpreter inherits the seccomp filter like any child. Exits 2 for bad input, 127 when exec fails.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/programs/program_input.h"

int main() {
  constexpr const char *kProgram = "exec_argv";
  auto input = hutch::programs::input_or_exit(kProgram);
  const nlohmann::json *argv_field = hutch::programs::field_or_null(input, "argv");
  if (argv_field == nullptr || !argv_field->is_array() || argv_field->empty() || argv_field->size() > 64)
    hutch::programs::exit_bad_input(kProgram, "argv: use an array of 1 to 64 strings, the program's absolute path first");
  std::vector<std::string> arguments;
  for (const auto &item : *argv_field) {
    if (!item.is_string()) hutch::programs::exit_bad_input(kProgram, "argv: every item must be a string");
    arguments.push_back(item.get<std::string>());
  }
  if (arguments[0].empty() || arguments[0][0] != '/')
    hutch::programs::exit_bad_input(kProgram, "argv: the first item must be an absolute path");
  std::vector<char *> argv;
  for (std::string &argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::fprintf(stderr, "%s: execv('%s'): %s\n", kProgram, argv[0], std::strerror(errno));
  return 127;
}
