// Attack: read what belongs to the host or the supervisor: /etc/shadow, /root, the environment and memory
// of pid 1 (inside the sandbox: the job's init, which runs as root) and of hutchd itself (its host pid given
// as {"supervisor_pid": N}), and the host's root through /proc/<pid>/root. Each read must fail: the files are
// not in the job's filesystem, hutchd is not in its PID namespace, and init is another uid.
// Returns {"read": {path: "ok" or the errno name}}.
#include <dirent.h>

#include <string>
#include <vector>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

std::string try_list(const std::string &path) {
  DIR *directory = ::opendir(path.c_str());
  if (directory == nullptr) return hutch::attack::errno_name(errno);
  ::closedir(directory);
  return "ok";
}

}  // namespace

int main() {
  constexpr const char *kProgram = "read_secrets";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long supervisor = hutch::programs::integer_param(kProgram, input, "supervisor_pid", 0, 0, 1 << 22);

  using hutch::attack::Access;
  std::vector<std::pair<std::string, Access>> files = {
      {"/etc/shadow", Access::kRead},
      {"/etc/gshadow", Access::kRead},
      {"/proc/1/environ", Access::kRead},
      {"/proc/1/mem", Access::kOpen},
      {"/proc/1/root/etc/shadow", Access::kRead},
      {"/proc/kcore", Access::kOpen},
  };
  if (supervisor > 0) {
    std::string proc = "/proc/" + std::to_string(supervisor);
    files.emplace_back(proc + "/environ", Access::kRead);
    files.emplace_back(proc + "/mem", Access::kOpen);
    files.emplace_back(proc + "/root/etc/shadow", Access::kRead);
  }
  nlohmann::json report = nlohmann::json::object();
  for (const auto &[path, access] : files) report[path] = hutch::attack::try_open(path, access);
  for (const char *directory : {"/root", "/home", "/proc/1/root/root"}) report[directory] = try_list(directory);
  for (const auto &[path, result] : report.items())
    std::printf("%s: %s\n", path.c_str(), result.get<std::string>().c_str());
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(kProgram, {{"read", report}});
  return 0;
}
