// Attack: write anywhere but the job's /tmp and working directory: create files and directories in /, /usr,
// /etc, /dev, /proc, /proc/sys, the working directory's parent; open host files and kernel knobs for
// writing (/etc/passwd, a binary, /proc/sys/kernel/core_pattern, /proc/sysrq-trigger). All must fail; /tmp
// and the working directory must work, which shows the program could write at all.
// Returns {"create": {directory: result}, "mkdir": {directory: result}, "overwrite": {file: result}}, each
// result "ok" or the errno name.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

constexpr const char *kName = "hutch-attack-write";

std::string inside(const std::string &directory) {
  return directory + (directory == "/" ? "" : "/") + kName;
}

std::string try_create(const std::string &directory) {
  std::string path = inside(directory);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return hutch::attack::errno_name(errno);
  ::close(fd);
  ::unlink(path.c_str());
  return "ok";
}

std::string try_mkdir(const std::string &directory) {
  std::string path = inside(directory) + "-dir";
  if (::mkdir(path.c_str(), 0700) != 0) return hutch::attack::errno_name(errno);
  ::rmdir(path.c_str());
  return "ok";
}

}  // namespace

int main() {
  constexpr const char *kProgram = "write_outside";
  hutch::programs::input_or_exit(kProgram);
  char cwd[4096] = {};
  std::string working_directory = ::getcwd(cwd, sizeof cwd - 1) != nullptr ? cwd : ".";

  nlohmann::json create = nlohmann::json::object(), mkdir = nlohmann::json::object();
  for (const std::string &directory : std::initializer_list<std::string>{
           "/", "/usr", "/usr/local", "/usr/lib", "/bin", "/etc", "/dev", "/proc", "/proc/sys", "/proc/sys/kernel",
           "/tmp", working_directory, working_directory + "/.."}) {
    create[directory] = try_create(directory);
    mkdir[directory] = try_mkdir(directory);
  }
  nlohmann::json overwrite = nlohmann::json::object();
  using hutch::attack::Access;
  for (const char *file : {"/etc/passwd", "/etc/ld.so.cache", "/usr/bin/env", "/proc/sys/kernel/core_pattern",
                           "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches", "/proc/sysrq-trigger", "/dev/null"})
    overwrite[file] = hutch::attack::try_open(file, Access::kWrite);

  for (const auto &[what, results] : {std::pair{"create", &create}, {"mkdir", &mkdir}, {"overwrite", &overwrite}}) {
    for (const auto &[path, result] : results->items())
      std::printf("%s %s: %s\n", what, path.c_str(), result.get<std::string>().c_str());
  }
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(
      kProgram, {{"cwd", working_directory}, {"create", create}, {"mkdir", mkdir}, {"overwrite", overwrite}});
  return 0;
}
