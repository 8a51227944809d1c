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

// "audit(1795304544.615:2)" -> 1795304544615; -1 when absent.
int64_t audit_time_ms(const std::string &record) {
  auto at = record.find("audit(");
  if (at == std::string::npos) return -1;
  char *end = nullptr;
  double seconds = std::strtod(record.c_str() + at + 6, &end);
  return static_cast<int64_t>(seconds * 1000);
}

// "... arch=c000003e ..." -> 0xc000003e; 0 when absent.
unsigned long field_hex(const std::string &record, const std::string &name) {
  std::string needle = " " + name + "=";
  auto at = record.find(needle);
  if (at == std::string::npos) return 0;
  return std::strtoul(record.c_str() + at + needle.size(), nullptr, 16);
}

}  // namespace

SeccompAudit::SeccompAudit() {
  kmsg_.reset(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (kmsg_) ::lseek(kmsg_.get(), 0, SEEK_END);
}

void SeccompAudit::read_new_records() {
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
    auto arch = static_cast<uint32_t>(field_hex(record, "arch"));
    seen_[static_cast<uid_t>(field_number(record, "uid"))] = {audit_time_ms(record),
                                                             describe_syscall(static_cast<int>(number), arch)};
  }
}

void SeccompAudit::forget(uid_t uid) {
  if (!kmsg_) return;
  read_new_records();
  seen_.erase(uid);
}

std::string SeccompAudit::syscall_that_killed(uid_t uid, int64_t since_unix_ms) {
  if (!kmsg_) return {};
  read_new_records();
  auto it = seen_.find(uid);
  if (it == seen_.end()) return {};
  Kill kill = it->second;
  seen_.erase(it);
  // A second's slack: the audit clock and ours are both the real-time clock, but rounded differently.
  return kill.at_unix_ms >= since_unix_ms - 1000 ? kill.syscall : std::string();
}

}  // namespace hutch
