// The default seccomp policy. Issue 2's contract: allow by default and kill the process on the calls that
// reach past a job's own processes and files. A later hardening turns this into an allowlist.
#include "sandbox/seccomp.h"

namespace hutch {

const SeccompPolicy &default_seccomp_policy() {
  static const SeccompPolicy policy{
      .default_action = SeccompAction::kAllow,
      .rules =
          {
              // Inspecting or steering another process.
              {"ptrace", SeccompAction::kKill},
              {"process_vm_readv", SeccompAction::kKill},
              {"process_vm_writev", SeccompAction::kKill},
              // Changing the filesystem view or escaping it.
              {"mount", SeccompAction::kKill},
              {"umount2", SeccompAction::kKill},
              {"pivot_root", SeccompAction::kKill},
              {"open_by_handle_at", SeccompAction::kKill},
              // Joining or making namespaces: the sandbox's are decided by the supervisor.
              {"setns", SeccompAction::kKill},
              {"unshare", SeccompAction::kKill},
              // The machine itself.
              {"reboot", SeccompAction::kKill},
              {"kexec_load", SeccompAction::kKill},
              {"kexec_file_load", SeccompAction::kKill},
              {"swapon", SeccompAction::kKill},
              {"swapoff", SeccompAction::kKill},
              // Kernel code and kernel attack surface.
              {"init_module", SeccompAction::kKill},
              {"finit_module", SeccompAction::kKill},
              {"delete_module", SeccompAction::kKill},
              {"bpf", SeccompAction::kKill},
              {"perf_event_open", SeccompAction::kKill},
              {"userfaultfd", SeccompAction::kKill},
              // The kernel keyring is shared beyond the job.
              {"keyctl", SeccompAction::kKill},
              {"add_key", SeccompAction::kKill},
              {"request_key", SeccompAction::kKill},
          },
  };
  return policy;
}

}  // namespace hutch
