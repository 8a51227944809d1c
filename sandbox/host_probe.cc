// The host probe's small parts (identity, seccomp, filesystems, the audit log, helper programs) and the
// whole. Cgroups and namespaces have files of their own.
#include "sandbox/host_probe.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "common/directory_stream.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "sandbox/user_namespace.h"

namespace hutch {
namespace {

bool in_range(long uid, uint32_t first, uint32_t last) { return uid >= first && uid <= last; }

// Every uid a process holds (real, effective, saved, filesystem) counts: any of them lets it signal or
// ptrace a sandbox running as that uid.
void add_processes_in_range(IdentityFindings &found) {
  auto proc = DirectoryStream::open("/proc");
  if (!proc) return;  // no /proc: nothing to compare against, and the namespace probes will say so
  while (const dirent *entry = proc->next()) {
    char *end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    // A process may exit between readdir and open: its file is then gone, which is not an error here.
    auto status = read_file("/proc/" + std::string(entry->d_name) + "/status", 8192);
    if (!status) continue;
    std::istringstream lines(*status);
    std::string line, name;
    while (std::getline(lines, line)) {
      if (line.rfind("Name:", 0) == 0) name = line.size() > 6 ? line.substr(6) : "";  // "Name:\tsshd"
      if (line.rfind("Uid:", 0) != 0) continue;
      std::istringstream uids(line.substr(4));
      for (long uid; uids >> uid;) {
        if (!in_range(uid, found.uid_first, found.uid_last)) continue;
        found.uid_users.push_back({static_cast<uint32_t>(uid), "process " + std::to_string(pid) + " (" + name + ")"});
        break;
      }
    }
  }
}

void add_passwd_entries_in_range(IdentityFindings &found) {
  auto passwd = read_file("/etc/passwd", 16 << 20);
  if (!passwd) {
    found.passwd_read = fail(passwd.error());
    return;
  }
  std::istringstream lines(*passwd);
  for (std::string line; std::getline(lines, line);) {
    // name:password:uid:gid:...
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    char *end = nullptr;
    long uid = std::strtol(line.c_str() + second + 1, &end, 10);
    if (*end != ':' || !in_range(uid, found.uid_first, found.uid_last)) continue;
    found.uid_users.push_back({static_cast<uint32_t>(uid), "/etc/passwd entry '" + line.substr(0, first) + "'"});
  }
}

std::vector<std::string> words_of(const std::string &text) {
  std::vector<std::string> words;
  std::istringstream stream(text);
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

FilesystemFindings probe_filesystems() {
  FilesystemFindings found;
  auto text = read_file("/proc/filesystems");
  if (!text) {
    found.read = fail(text.error());
    return found;
  }
  // "nodev\ttmpfs" lines: the last word is the file system's name.
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> words = words_of(line);
    if (words.empty()) continue;
    if (words.back() == "tmpfs") found.tmpfs = true;
    if (words.back() == "overlay") found.overlay = true;
  }
  return found;
}

Status probe_kmsg() {
  // Opening for reading is where the kernel checks syslog permission (CAP_SYSLOG, dmesg_restrict).
  UniqueFd kmsg(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!kmsg) return fail(errno_error("open('/dev/kmsg')"));
  return {};
}

HelperProgram probe_helper(const std::string &name, const std::string &path) {
  HelperProgram helper{name, path, {}};
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    helper.executable = fail(errno_error("'" + path + "'"));
  } else if (!S_ISREG(info.st_mode)) {
    helper.executable = fail(make_error("'" + path + "' is not a regular file"));
  } else if (::access(path.c_str(), X_OK) != 0) {
    helper.executable = fail(errno_error("'" + path + "' is not executable"));
  }
  return helper;
}

}  // namespace

bool SeccompFindings::can_kill_process() const {
  return std::find(actions_avail.begin(), actions_avail.end(), "kill_process") != actions_avail.end();
}

IdentityFindings probe_identity(uint32_t uid_base, int concurrency) {
  IdentityFindings found;
  found.effective_uid = ::geteuid();
  found.effective_gid = ::getegid();
  found.supplementary_groups = own_supplementary_groups();
  found.uid_first = uid_base;
  found.uid_last = uid_base + static_cast<uint32_t>(std::max(concurrency, 1)) - 1;
  add_processes_in_range(found);
  add_passwd_entries_in_range(found);
  return found;
}

SeccompFindings probe_seccomp() {
  SeccompFindings found;
  int mode = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (mode < 0) found.available = fail(errno_error("prctl(PR_GET_SECCOMP)"));
  else found.current_mode = mode;
  auto actions = read_file("/proc/sys/kernel/seccomp/actions_avail");
  if (actions) found.actions_avail = words_of(*actions);
  else found.actions_read = fail(actions.error());
  const scmp_version *version = seccomp_version();
  if (version != nullptr) {
    found.libseccomp_version = std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
                               std::to_string(version->micro);
  }
  return found;
}

HostFindings probe_host(const HostProbeOptions &options) {
  HostFindings found;
  found.identity = probe_identity(options.uid_base, options.concurrency);
  found.cgroups = probe_cgroups();
  found.namespaces = probe_namespaces();
  found.seccomp = probe_seccomp();
  found.filesystems = probe_filesystems();
  found.kmsg_readable = probe_kmsg();
  found.helpers.push_back(probe_helper("hutch-fn", options.hutch_fn_path));
  found.helpers.push_back(probe_helper("hutch-spawner", options.spawner_path));
  return found;
}

}  // namespace hutch
