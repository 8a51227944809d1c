#include "supervisor/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <thread>

#include "common/directory_stream.h"
#include "common/file_io.h"
#include "sandbox/cgroup_mounts.h"

namespace hutch {
namespace {

constexpr const char *kFilePrefix = "consumer-";
constexpr const char *kFileSuffix = ".lock";

// A directory only this uid may write, so nobody else can plant the lock file or a symlink in its place.
Status ensure_private_directory(const std::string &path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return fail(errno_error("mkdir('" + path + "')"));
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return fail(errno_error("lstat('" + path + "')"));
  if (!S_ISDIR(info.st_mode) || info.st_uid != ::geteuid() || (info.st_mode & 022) != 0)
    return fail(make_error("'" + path + "' is not a directory owned by uid " + std::to_string(::geteuid()) +
                           " and writable by it alone; remove it or fix its owner and mode"));
  return {};
}

std::string lock_path(const std::string &directory, const std::string &instance) {
  return directory + "/" + kFilePrefix + instance + kFileSuffix;
}

pid_t read_holder(int fd) {
  char text[32] = {};
  ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  pid_t pid = 0;
  if (n > 0) std::from_chars(text, text + n, pid);
  return pid;
}

// True when `fd` is the file at `path` now (not one deleted and replaced since it was opened).
bool still_at_path(int fd, const std::string &path) {
  struct stat held {}, named {};
  if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

}  // namespace

Result<std::string> instance_lock_directory() {
  if (::geteuid() == 0) {
    TRY_STATUS(ensure_private_directory("/run/hutch", 0755));
    return std::string("/run/hutch");
  }
  const char *runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && *runtime == '/') {
    std::string directory = std::string(runtime) + "/hutch";
    // Another user's runtime directory (an environment passed on by su) is no use: fall through.
    if (ensure_private_directory(directory, 0700)) return directory;
  }
  std::string directory = "/tmp/hutch-" + std::to_string(::geteuid());
  TRY_STATUS(ensure_private_directory(directory, 0700));
  return directory;
}

Result<InstanceLock> InstanceLock::acquire(const std::string &consumer) {
  TRY_ASSIGN(std::string directory, instance_lock_directory());
  std::string path = lock_path(directory, sanitize_cgroup_name(consumer));
  pid_t holder = 0;
  // A holder that is exiting lets go within milliseconds; one that runs never does. 20 tries cover the
  // first (and a sweep that holds a dead consumer's lock while it removes its cgroups) at a cost of one
  // second for the second.
  for (int attempt = 0; attempt < 20; ++attempt) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) return fail(errno_error("open('" + path + "')"));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return fail(errno_error("flock('" + path + "', LOCK_EX)"));
      holder = read_holder(fd.get());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!still_at_path(fd.get(), path)) continue;  // removed by its last holder meanwhile: take the new one
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0) return fail(errno_error("ftruncate('" + path + "')"));
    TRY_STATUS(write_all(fd.get(), pid.data(), pid.size()));
    return InstanceLock(std::move(fd), path);
  }
  std::string who = holder > 0 ? " (pid " + std::to_string(holder) + ")" : "";
  return fail(make_error("another hutchd on this machine runs as consumer " + consumer + who +
                         "; give each one its own --consumer (it holds " + path + ")"));
}

Result<LockProbe> InstanceLock::probe(const std::string &instance) {
  TRY_ASSIGN(std::string directory, instance_lock_directory());
  std::string path = lock_path(directory, instance);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return LockProbe{};
    return fail(errno_error("open('" + path + "')"));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return fail(errno_error("flock('" + path + "', LOCK_EX)"));
    return LockProbe{.state = LockState::kHeld, .lock = std::nullopt, .holder = read_holder(fd.get())};
  }
  // Replaced since we opened it: someone new owns the name; leave it to them.
  if (!still_at_path(fd.get(), path)) return LockProbe{.state = LockState::kHeld, .lock = std::nullopt, .holder = 0};
  return LockProbe{.state = LockState::kFree, .lock = InstanceLock(std::move(fd), path), .holder = 0};
}

Result<std::vector<std::string>> InstanceLock::list_instances() {
  TRY_ASSIGN(std::string directory, instance_lock_directory());
  TRY_ASSIGN(DirectoryStream listing, DirectoryStream::open(directory));
  std::vector<std::string> instances;
  std::string prefix = kFilePrefix, suffix = kFileSuffix;
  while (const dirent *entry = listing.next()) {
    std::string name = entry->d_name;
    if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    instances.push_back(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  }
  if (listing.read_error() != 0) return fail(errno_error(listing.read_error(), "readdir('" + directory + "')"));
  return instances;
}

void InstanceLock::remove_file() {
  // Failing leaves a free lock file behind, which the next start-up's sweep removes: nothing to report.
  if (fd_) (void)::unlink(path_.c_str());
}

}  // namespace hutch
