// Turns the host probe's findings into the doctor's lines. Each line names one thing; a warn or miss line
// carries the fix an operator can apply, because "seccomp: missing" alone sends them searching.
#include "supervisor/doctor.h"

#include <cstdio>

#include "sandbox/cgroup.h"
#include "supervisor/protections.h"

namespace hutch {
namespace {

constexpr size_t kMostUidUsersShown = 5;
const char *const kSandboxNamespaces[] = {"pid", "mount", "net", "ipc", "uts", "cgroup"};

std::string joined(const std::vector<std::string> &parts, const std::string &separator = ", ") {
  std::string out;
  for (const std::string &part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

std::string uid_range(const IdentityFindings &identity) {
  return std::to_string(identity.uid_first) + ".." + std::to_string(identity.uid_last);
}

class ReportBuilder {
 public:
  explicit ReportBuilder(const HostFindings &findings) : findings_(findings) {}

  DoctorReport build() {
    add_identity();
    add_cgroups();
    add_namespaces();
    add_seccomp();
    add_filesystems();
    add_audit_log();
    add_helpers();
    report_.enforced = summary();
    report_.exit_code = can_isolate() ? 0 : 1;
    return std::move(report_);
  }

 private:
  void ok(std::string item, std::string detail) { report_.lines.push_back({DoctorLevel::kOk, item, detail, ""}); }
  void warn(std::string item, std::string detail, std::string fix) {
    report_.lines.push_back({DoctorLevel::kWarn, item, detail, fix});
  }
  void miss(std::string item, std::string detail, std::string fix) {
    report_.lines.push_back({DoctorLevel::kMiss, item, detail, fix});
  }

  bool root() const { return findings_.identity.effective_uid == 0; }

  // Not root: the same sentences hutchd logs at start-up (supervisor/protections.h).
  void add_identity() {
    const IdentityFindings &identity = findings_.identity;
    if (root()) {
      ok("identity", "running as root: each slot's job runs as a uid of its own, without capabilities");
    } else {
      std::string running = "running as uid " + std::to_string(identity.effective_uid) + ", not root: ";
      if (user_namespaces_ok()) {
        MissingProtection shared = shared_uid_in_user_namespace(identity.effective_uid, identity.uid_first);
        warn("identity", running + shared.problem, shared.fix);
        if (auto kept = kept_supplementary_groups(identity.supplementary_groups, identity.effective_gid))
          warn(kept->item, kept->problem, kept->fix);
      } else {
        MissingProtection shared = shared_uid_without_namespaces(identity.effective_uid);
        miss("identity", running + shared.problem, shared.fix);
      }
      // The host's uids do not matter then: the one uid is a name inside the jobs' user namespace.
      ok("uid range", std::to_string(identity.uid_first) + " inside the jobs' user namespace; no host uid is used");
      return;
    }
    std::string range = uid_range(identity);
    if (identity.uid_users.empty()) {
      std::string checked = identity.passwd_read ? "no running process or /etc/passwd entry uses them"
                                                 : "no running process uses them (" +
                                                       identity.passwd_read.error().message + ")";
      ok("uid range", range + ": " + checked);
      return;
    }
    std::vector<std::string> users;
    for (const UidUser &user : identity.uid_users) {
      if (users.size() == kMostUidUsersShown) {
        users.push_back("and " + std::to_string(identity.uid_users.size() - kMostUidUsersShown) + " more");
        break;
      }
      users.push_back("uid " + std::to_string(user.uid) + " by " + user.who);
    }
    warn("uid range", range + ": already in use: " + joined(users),
         "choose a free range with --uid-base (HUTCH_UID_BASE), or remove those users");
  }

  // The version whose hierarchies are worth reporting: the one in use, else the first that has the
  // controllers (its delegation is what is missing), else none.
  const CgroupVersionFindings *reported_version() const {
    const CgroupFindings &cgroups = findings_.cgroups;
    if (cgroups.mechanism == LimitsMechanism::kCgroupV2) return &cgroups.v2;
    if (cgroups.mechanism == LimitsMechanism::kCgroupV1) return &cgroups.v1;
    if (cgroups.v2.has_required) return &cgroups.v2;
    if (cgroups.v1.has_required) return &cgroups.v1;
    return nullptr;
  }

  std::string delegation_fix() const {
    if (reported_version() == &findings_.cgroups.v2) return kCgroupV2DelegationFix;
    return "run hutchd as root, or give its user write access to its own cgroup in each hierarchy";
  }

  // Why a version with the controllers cannot be used, pointing at the line that says more.
  static std::string cannot_use(const CgroupVersionFindings &version) {
    if (!version.other_processes.empty()) return "hutchd's cgroup is shared with other processes (see cgroup shared)";
    if (!version.own_cgroup_writable) return "hutchd's cgroup is not delegated to it (see cgroup delegation)";
    return "hutchd cannot make cgroups there (see cgroup child)";
  }

  // cgroup v2 only: hutchd needs its cgroup to itself, and delegated.
  void add_own_cgroup(const CgroupVersionFindings &version) {
    if (version.hierarchies.empty()) return;
    const std::string &directory = version.hierarchies.front().directory;
    if (!version.other_processes.empty()) {
      miss("cgroup shared", cgroup_v2_shared_problem(directory, version.other_processes), kCgroupV2DelegationFix);
    } else if (version.hierarchies.front().own_path != "/") {
      ok("cgroup shared", "no other process is in hutchd's cgroup");
    }
    if (!version.own_cgroup_writable) {
      miss("cgroup delegation",
           "hutchd's cgroup is not delegated to uid " + std::to_string(findings_.identity.effective_uid) + ": " +
               version.own_cgroup_writable.error().message,
           kCgroupV2DelegationFix);
    }
  }

  void add_cgroups() {
    const CgroupFindings &cgroups = findings_.cgroups;
    switch (cgroups.mechanism) {
      case LimitsMechanism::kCgroupV2:
        ok("cgroup version", "v2 (memory, cpu and pids are delegated to hutchd's cgroup)");
        break;
      case LimitsMechanism::kCgroupV1:
        ok("cgroup version", "v1 (memory, cpu and pids hierarchies are mounted; v2 not used: " +
                                 (cgroups.v2.problem.empty() ? "no delegation" : cgroups.v2.problem) + ")");
        break;
      case LimitsMechanism::kRlimit: {
        const CgroupVersionFindings *candidate = reported_version();
        std::string why = candidate == nullptr ? "v2: " + cgroups.v2.problem + "; v1: " + cgroups.v1.problem
                          : std::string(candidate == &cgroups.v2 ? "v2" : "v1") + " has memory, cpu and pids, but " +
                                cannot_use(*candidate);
        std::string fix = candidate != nullptr ? delegation_fix()
                          : cgroups.v2.problem.starts_with("no cgroup2")
                              ? "mount the memory, cpu and pids cgroup hierarchies"
                              : "with systemd, set Delegate=yes on the unit";
        miss("cgroup version", "none usable: " + no_cgroup_limits(why, root()).problem, fix);
        break;
      }
    }
    ok("cgroup controllers", "v1: " + (cgroups.v1.controllers.empty() ? "none" : joined(cgroups.v1.controllers)) +
                                 "; v2: " + (cgroups.v2.controllers.empty() ? "none" : joined(cgroups.v2.controllers)));
    const CgroupVersionFindings *version = reported_version();
    if (version == nullptr) return;
    std::vector<std::string> paths, directories, failures;
    for (const CgroupHierarchy &hierarchy : version->hierarchies) {
      std::string name = hierarchy.controller.empty() ? "" : hierarchy.controller + " ";
      if (!hierarchy.own_path.empty()) paths.push_back(name + hierarchy.own_path);
      if (!hierarchy.child_created) failures.push_back(hierarchy.child_created.error().message);
      else if (!hierarchy.directory.empty()) directories.push_back(hierarchy.directory);
    }
    ok("cgroup own path", joined(paths));
    if (version == &cgroups.v2) add_own_cgroup(*version);
    if (failures.empty()) {
      ok("cgroup child", "created and removed a test cgroup beneath " + joined(directories));
    } else {
      miss("cgroup child", "cannot create a cgroup beneath hutchd's own: " + joined(failures, "; "),
           delegation_fix());
    }
  }

  const NamespaceProbe *namespace_probe(const std::string &name) const {
    for (const NamespaceProbe &probe : findings_.namespaces.probes) {
      if (probe.name == name) return &probe;
    }
    return nullptr;
  }

  std::vector<std::string> missing_sandbox_namespaces() const {
    std::vector<std::string> missing;
    for (const char *name : kSandboxNamespaces) {
      const NamespaceProbe *probe = namespace_probe(name);
      if (probe == nullptr || !probe->created) missing.push_back(name);
    }
    return missing;
  }

  bool user_namespaces_ok() const {
    const NamespaceProbe *user = namespace_probe("user");
    return user != nullptr && user->created.has_value();
  }

  void add_namespaces() {
    const NamespaceFindings &namespaces = findings_.namespaces;
    for (const NamespaceProbe &probe : namespaces.probes) {
      std::string item = "namespace " + probe.name;
      bool inside = namespaces.inside_user_namespace && probe.name != "user";
      if (probe.created) {
        ok(item, inside ? "can be created inside a user namespace" : "can be created");
      } else if (probe.name != "user") {
        miss(item, probe.created.error().message,
             !inside               ? "run hutchd as root"
             : user_namespaces_ok() ? "a security module (AppArmor, SELinux) restricts it: allow it for hutchd, or "
                                     "run hutchd as root"
                                   : "allow user namespaces (see namespace user), or run hutchd as root");
      } else if (root()) {
        // As root hutchd makes the job namespaces without one; a missing one costs nothing.
        std::string fix = "allow user namespaces (sysctl user.max_user_namespaces=10000)";
        if (namespaces.unprivileged_userns_clone == 0) fix = "sysctl kernel.unprivileged_userns_clone=1";
        warn(item, probe.created.error().message, fix);
      } else {
        MissingProtection none = no_user_namespaces(user_namespace_cause(
            namespaces.max_user_namespaces, namespaces.unprivileged_userns_clone, probe.created.error().message));
        miss(item, none.item + ": " + none.problem, none.fix);
      }
    }
    std::string limits = "max_user_namespaces " + (namespaces.max_user_namespaces
                                                        ? std::to_string(*namespaces.max_user_namespaces)
                                                        : std::string("not present")) +
                         ", kernel.unprivileged_userns_clone " +
                         (namespaces.unprivileged_userns_clone
                              ? std::to_string(*namespaces.unprivileged_userns_clone)
                              : std::string("not present"));
    if (namespaces.max_user_namespaces == 0)
      warn("user namespaces", limits, "sysctl user.max_user_namespaces=10000");
    else if (namespaces.unprivileged_userns_clone == 0 && !root())
      warn("user namespaces", limits, "sysctl kernel.unprivileged_userns_clone=1");
    else
      ok("user namespaces", limits);
  }

  bool seccomp_ok() const {
    const SeccompFindings &seccomp = findings_.seccomp;
    return seccomp.available && seccomp.actions_read && seccomp.can_kill_process();
  }

  void add_seccomp() {
    const SeccompFindings &seccomp = findings_.seccomp;
    std::string library = "libseccomp " + (seccomp.libseccomp_version.empty() ? std::string("unknown")
                                                                              : seccomp.libseccomp_version);
    if (!seccomp.available) {
      miss("seccomp", seccomp.available.error().message + "; " + library,
           "use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER");
    } else if (!seccomp.actions_read) {
      miss("seccomp", seccomp.actions_read.error().message + "; " + library,
           "use a kernel with seccomp filters (Linux 4.14 or newer)");
    } else if (!seccomp.can_kill_process()) {
      miss("seccomp", "the kernel lacks the kill_process action (it offers: " + joined(seccomp.actions_avail) +
                          "); " + library,
           "use Linux 4.14 or newer");
    } else {
      std::string inherited = seccomp.current_mode == 2 ? "; this process already runs under a seccomp filter, "
                                                          "which jobs inherit"
                                                        : "";
      ok("seccomp", "available (kill_process in actions_avail), " + library + inherited);
    }
  }

  void add_filesystems() {
    const FilesystemFindings &filesystems = findings_.filesystems;
    if (!filesystems.read) {
      miss("filesystems", filesystems.read.error().message, "mount /proc");
    } else if (!filesystems.tmpfs) {
      miss("filesystems", std::string("tmpfs is not in /proc/filesystems") +
                              (filesystems.overlay ? "" : ", nor overlay"),
           "use a kernel built with CONFIG_TMPFS");
    } else if (!filesystems.overlay) {
      warn("filesystems",
           "tmpfs is supported, overlay is not in /proc/filesystems, so jobs see /usr as a bind of the host's and "
           "their file locks there are shared with the host",
           "modprobe overlay");
    } else {
      ok("filesystems", "tmpfs and overlay are supported");
    }
  }

  void add_audit_log() {
    if (findings_.kmsg_readable) {
      ok("audit log", "/dev/kmsg is readable, so a seccomp kill's record names the system call");
    } else {
      warn("audit log",
           findings_.kmsg_readable.error().message + ", so a seccomp kill's record cannot name the system call",
           "run hutchd as root or with CAP_SYSLOG");
    }
  }

  const HelperProgram *helper(const std::string &name) const {
    for (const HelperProgram &program : findings_.helpers) {
      if (program.name == name) return &program;
    }
    return nullptr;
  }

  // hutch-spawner runs under cgroup v1 (docs/architecture.md, "Why the spawner") and whenever hutchd is not
  // root but has user namespaces (the spawners clone the jobs inside hutchd's).
  bool helper_needed(const std::string &name) const {
    return name != "hutch-spawner" || findings_.cgroups.mechanism == LimitsMechanism::kCgroupV1 ||
           (!root() && user_namespaces_ok());
  }

  void add_helpers() {
    for (const HelperProgram &program : findings_.helpers) {
      std::string item = "helper " + program.name;
      if (program.executable) {
        ok(item, program.path);
        continue;
      }
      std::string flag = program.name == "hutch-fn" ? "--hutch-fn PATH (HUTCH_FN)" : "--spawner PATH (HUTCH_SPAWNER)";
      std::string fix = "build it or install it beside hutchd, or pass " + flag;
      if (helper_needed(program.name)) miss(item, program.executable.error().message, fix);
      else warn(item, program.executable.error().message + " (needed only under cgroup v1 or without root)", fix);
    }
  }

  bool helpers_ok() const {
    for (const HelperProgram &program : findings_.helpers) {
      if (helper_needed(program.name) && !program.executable) return false;
    }
    return helper("hutch-fn") != nullptr;
  }

  bool can_isolate() const {
    bool namespaces_ok = missing_sandbox_namespaces().empty() && (root() || user_namespaces_ok());
    return findings_.cgroups.mechanism != LimitsMechanism::kRlimit && seccomp_ok() && helpers_ok() &&
           namespaces_ok;
  }

  std::string summary() const {
    std::vector<std::string> enforced, missing;
    switch (findings_.cgroups.mechanism) {
      case LimitsMechanism::kCgroupV2: enforced.push_back("cgroup v2 limits (memory, cpu, pids)"); break;
      case LimitsMechanism::kCgroupV1: enforced.push_back("cgroup v1 limits (memory, cpu, pids)"); break;
      case LimitsMechanism::kRlimit:
        enforced.push_back("rlimits only (address space, CPU seconds, processes per uid)");
        missing.push_back("cgroup limits");
        break;
    }
    (seccomp_ok() ? enforced : missing).push_back("seccomp");
    std::vector<std::string> absent = missing_sandbox_namespaces();
    if (!root() && !user_namespaces_ok()) missing.push_back("namespaces (not root, and no user namespace)");
    else if (absent.empty()) enforced.push_back(std::string(root() ? "" : "a user namespace with ") +
                                                "pid, mount, net, ipc, uts and cgroup namespaces");
    else missing.push_back(joined(absent) + " namespaces, so every job would fail to start");
    if (root()) enforced.push_back("one uid per slot (" + uid_range(findings_.identity) + "), no capabilities");
    else if (user_namespaces_ok()) enforced.push_back("no capabilities");
    if (!root()) missing.push_back("separate uids (every job is one uid)");
    std::string text = joined(enforced);
    if (!missing.empty()) text += "; not enforced: " + joined(missing);
    if (!helpers_ok()) text += "; hutchd cannot start without its helper programs";
    return text;
  }

  const HostFindings &findings_;
  DoctorReport report_;
};

}  // namespace

DoctorReport make_doctor_report(const HostFindings &findings) { return ReportBuilder(findings).build(); }

std::string format_doctor_line(const DoctorLine &line) {
  const char *level = line.level == DoctorLevel::kOk ? "ok    " : line.level == DoctorLevel::kWarn ? "warn  " : "miss  ";
  std::string text = level + line.item + ": " + line.detail;
  if (!line.fix.empty()) text += "; " + line.fix;
  return text;
}

std::string format_doctor_report(const DoctorReport &report) {
  std::string text;
  for (const DoctorLine &line : report.lines) text += format_doctor_line(line) + "\n";
  text += "hutch will enforce: " + report.enforced + "\n";
  return text;
}

HostProbeOptions host_probe_options(const SupervisorConfig &config) {
  return HostProbeOptions{config.uid_base, config.concurrency, config.hutch_fn_path, config.spawner_path};
}

int print_doctor_report(const SupervisorConfig &config) {
  DoctorReport report = make_doctor_report(probe_host(host_probe_options(config)));
  std::fputs(format_doctor_report(report).c_str(), stdout);
  std::fflush(stdout);
  return report.exit_code;
}

}  // namespace hutch
