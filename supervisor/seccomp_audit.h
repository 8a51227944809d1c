// Which system call got a process killed by seccomp. The wait status only says SIGSYS; the kernel's audit
// record (type=1326, written to /dev/kmsg before the process dies) names the call. Best effort: without
// read access to /dev/kmsg, or when the kernel rate-limits its log, the call stays unknown.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "common/unique_fd.h"

namespace hutch {

class SeccompAudit {
 public:
  SeccompAudit();  // opens /dev/kmsg positioned at its end
  bool available() const { return kmsg_.valid(); }
  // The name of the call that got a process of `uid` killed at or after `since_unix_ms`, or "" when the
  // log does not say. Matched by uid, not pid: the record names the global pid of a process inside the
  // job's PID namespace, which hutchd never learns, while each running job has a uid of its own.
  std::string syscall_that_killed(uid_t uid, int64_t since_unix_ms);
  // A job is starting as `uid`: a kill of the previous job on that uid, already logged, must not be taken
  // for this job's when this job's own record never comes (the kernel rate-limits its log).
  void forget(uid_t uid);

 private:
  void read_new_records();

  struct Kill {
    int64_t at_unix_ms;
    std::string syscall;
  };
  UniqueFd kmsg_;
  // Records read while looking for another uid (two jobs killed at once), kept for their own lookup.
  std::map<uid_t, Kill> seen_;
};

}  // namespace hutch
