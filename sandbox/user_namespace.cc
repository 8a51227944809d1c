#include "sandbox/user_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "common/file_io.h"
#include "sandbox/namespaces.h"

namespace hutch {
namespace {

// In the helper only: open, write, close.
int write_proc_file(const char *path, const std::string &content) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  int error = written ? 0 : errno;
  ::close(fd);
  return error;
}

std::optional<long> read_number(const char *path) {
  auto text = read_file(path, 64);
  if (!text) return std::nullopt;  // absent on this kernel
  char *end = nullptr;
  long value = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return value;
}

}  // namespace

UserNamespaceSwitches read_user_namespace_switches() {
  return {read_number("/proc/sys/user/max_user_namespaces"), read_number("/proc/sys/kernel/unprivileged_userns_clone")};
}

std::vector<gid_t> own_supplementary_groups() {
  std::vector<gid_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
  int count = ::getgroups(static_cast<int>(groups.size()), groups.data());
  groups.resize(static_cast<size_t>(std::max(count, 0)));
  return groups;
}

Result<UniqueFd> make_user_namespace(uint32_t inside_uid, uint32_t inside_gid) {
  // "inside outside count", prepared before fork. The helper writes its own maps: after unshare it holds
  // CAP_SETUID and CAP_SETGID in the new namespace, which is all an unprivileged one-line map needs.
  const std::string uid_map = std::to_string(inside_uid) + " " + std::to_string(::geteuid()) + " 1";
  const std::string gid_map = std::to_string(inside_gid) + " " + std::to_string(::getegid()) + " 1";
  return hold_namespace_built_by_helper("user", [&] {
    if (::unshare(CLONE_NEWUSER) != 0) return errno;
    // The kernel refuses an unprivileged gid map while setgroups is allowed (a process could otherwise
    // drop a group that was denying it access).
    if (int error = write_proc_file("/proc/self/setgroups", "deny")) return error;
    if (int error = write_proc_file("/proc/self/uid_map", uid_map)) return error;
    if (int error = write_proc_file("/proc/self/gid_map", gid_map)) return error;
    // No user namespace may be made inside this one: the jobs have no use for one, and each would give a
    // job every capability over namespaces of its own, a large part of the kernel to probe. The limit is
    // this namespace's own (user.* sysctls are per user namespace), so the host keeps its own.
    return write_proc_file("/proc/sys/user/max_user_namespaces", "0");
  });
}

int enter_user_namespace(int user_namespace_fd) {
  return ::setns(user_namespace_fd, CLONE_NEWUSER) == 0 ? 0 : errno;
}

}  // namespace hutch
