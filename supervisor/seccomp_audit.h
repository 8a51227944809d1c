// Which system call got a process killed by seccomp. The wait status only says SIGSYS; the kernel's audit
// record (type=1326, written to /dev/kmsg before the process dies) names the call. Best effort: without
// read access to /dev/kmsg, or when the kernel rate-limits its log, the call stays unknown.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "common/unique_fd.h"

namespace hutch {

class SeccompAudit {
 public:
  SeccompAudit();  // opens /dev/kmsg positioned at its end
  bool available() const { return kmsg_.valid(); }
  // The name of the call that killed `pid`, or "" when the log does not say.
  std::string syscall_that_killed(pid_t pid);

 private:
  UniqueFd kmsg_;
  // Records read while looking for another pid (two jobs killed at once), kept for their own lookup.
  std::map<pid_t, std::string> seen_;
};

}  // namespace hutch
