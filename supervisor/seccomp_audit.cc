#include "supervisor/seccomp_audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "sandbox/seccomp.h"

namespace hutch {
namespace {

// "... pid=1234 ..." -> 1234; -1 when absent.
long field_number(const std::string &record, const std::string &name) {
  std::string needle = " " + name + "=";
  auto at = record.find(needle);
  if (at == std::string::npos) return -1;
  return std::strtol(record.c_str() + at + needle.size(), nullptr, 10);
}

}  // namespace

SeccompAudit::SeccompAudit() {
  kmsg_.reset(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (kmsg_) ::lseek(kmsg_.get(), 0, SEEK_END);
}

std::string SeccompAudit::syscall_that_killed(pid_t pid) {
  if (!kmsg_) return {};
  char buffer[8192];
  // Bounded: /dev/kmsg returns one record per read, and only what was logged since the last call.
  for (int records = 0; records < 10000; ++records) {
    ssize_t n = ::read(kmsg_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EPIPE) continue;  // older records were overwritten; the next read goes on
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;                      // EAGAIN: nothing more logged
    std::string record(buffer, static_cast<size_t>(n));
    if (record.find("type=1326") == std::string::npos) continue;
    long number = field_number(record, "syscall");
    if (number < 0) continue;
    if (seen_.size() >= 256) seen_.erase(seen_.begin());
    seen_[static_cast<pid_t>(field_number(record, "pid"))] = syscall_name(static_cast<int>(number));
  }
  auto it = seen_.find(pid);
  if (it == seen_.end()) return {};
  std::string name = it->second;
  seen_.erase(it);
  return name;
}

}  // namespace hutch
