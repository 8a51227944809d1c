#include "sandbox/mounts.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "common/file_io.h"
#include "sandbox/mount_table.h"
#include "sandbox/namespaces.h"
#include "sandbox/user_namespace.h"

namespace hutch {
namespace {

// The skeleton is built under the host's /tmp, but only inside the helper's own mount namespace: the tmpfs
// mounted there hides the host's /tmp from the helper alone.
constexpr const char kStage[] = "/tmp";

struct SkeletonFile {
  std::string path;
  std::string content;
};

// The overlays' second lower layer, which adds nothing: a read-only overlay needs two lower layers, and the
// skeleton's /work is empty for good (every job mounts its own working directory over it).
constexpr const char kEmptyLowerLayer[] = "/work";

// Everything the helper does, decided before fork: paths, file contents, link targets.
struct SkeletonPlan {
  std::vector<std::string> directories;
  std::vector<std::pair<std::string, std::string>> symlinks;   // link path, target
  std::vector<std::pair<std::string, std::string>> read_only_binds;  // host source, skeleton path
  // Host directories shown through a read-only overlay of this skeleton's own (host source, skeleton path,
  // overlay options), then the host's mounts below them bound on top (host source, skeleton path).
  std::vector<std::array<std::string, 3>> read_only_overlays;
  std::vector<std::pair<std::string, std::string>> submount_binds;
  std::vector<std::pair<std::string, std::string>> device_binds;     // host node, skeleton path
  std::vector<SkeletonFile> files;
  std::string host_proc_target;  // the host's proc bound here, or empty (RootSkeletonSpec::user_namespace_fd)
};

std::string stage(const std::string &path) { return std::string(kStage) + path; }

// /usr (and /etc/alternatives) through an overlay of the skeleton's own rather than a bind of the host's:
// an overlay's files are inodes of its own, and file locks (flock, fcntl) live on the inode, so a job's
// lock on a file under /usr is neither seen by the host nor by a job of another slot (each slot has its own
// skeleton), and the host's locks are not seen by jobs. Filesystems mounted below it on the host are bound
// on top as they are (their files keep the host's inodes: docs/security.md). Without overlays (a kernel
// without overlayfs, or a user namespace that may not mount one), `directory` is bound as it is.
void show_read_only(SkeletonPlan &plan, const std::vector<MountEntry> &host_mounts, const std::string &directory,
                    bool overlay) {
  if (!overlay) {
    plan.read_only_binds.emplace_back(directory, stage(directory));
    return;
  }
  plan.read_only_overlays.push_back(
      {directory, stage(directory), "lowerdir=" + directory + ":" + stage(kEmptyLowerLayer)});
  for (const std::string &submount : mount_points_below(host_mounts, directory))
    plan.submount_binds.emplace_back(submount, stage(submount));
}

Result<SkeletonPlan> plan_skeleton(const RootSkeletonSpec &spec, bool overlays) {
  SkeletonPlan plan;
  for (const char *dir : {"/etc", "/dev", "/proc", "/tmp", "/work", "/function", "/usr", "/.old"})
    plan.directories.push_back(stage(dir));
  TRY_ASSIGN(std::vector<MountEntry> host_mounts, read_mount_table());
  show_read_only(plan, host_mounts, "/usr", overlays);
  // Debian's alternatives: libraries in /usr (liblapack, libblas: numpy and OpenCV's Python binding) are
  // symlinks through /etc/alternatives, so without it they dangle. It holds only symlinks.
  struct stat alternatives {};
  if (::stat("/etc/alternatives", &alternatives) == 0 && S_ISDIR(alternatives.st_mode)) {
    plan.directories.push_back(stage("/etc/alternatives"));
    show_read_only(plan, host_mounts, "/etc/alternatives", overlays);
  }
  // Debian 12 merges /usr: /bin, /lib... are symlinks there; elsewhere they are directories to bind.
  for (const char *top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    struct stat info {};
    if (::lstat(top, &info) != 0) continue;
    if (S_ISLNK(info.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(top, target, sizeof target - 1);
      if (n <= 0) return fail(errno_error(std::string("readlink('") + top + "')"));
      plan.symlinks.emplace_back(stage(top), std::string(target, static_cast<size_t>(n)));
    } else if (S_ISDIR(info.st_mode)) {
      plan.directories.push_back(stage(top));
      plan.read_only_binds.emplace_back(top, stage(top));
    }
  }
  for (const char *device : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string path = std::string("/dev/") + device;
    plan.files.push_back({stage(path), ""});  // a mount point for the bind
    plan.device_binds.emplace_back(path, stage(path));
  }
  if (spec.user_namespace_fd >= 0) plan.host_proc_target = stage("/proc");
  plan.symlinks.emplace_back(stage("/dev/fd"), "/proc/self/fd");
  plan.symlinks.emplace_back(stage("/dev/stdin"), "/proc/self/fd/0");
  plan.symlinks.emplace_back(stage("/dev/stdout"), "/proc/self/fd/1");
  plan.symlinks.emplace_back(stage("/dev/stderr"), "/proc/self/fd/2");

  std::string passwd, group;
  for (uid_t uid : spec.sandbox_uids) {
    std::string name = "hutch" + std::to_string(uid);
    passwd += name + ":x:" + std::to_string(uid) + ":" + std::to_string(uid) + ":hutch sandbox:/work:/usr/sbin/nologin\n";
    group += name + ":x:" + std::to_string(uid) + ":\n";
  }
  plan.files.push_back({stage("/etc/passwd"), passwd});
  plan.files.push_back({stage("/etc/group"), group});
  plan.files.push_back({stage("/etc/resolv.conf"), ""});  // no network: nothing to resolve
  plan.files.push_back({stage("/etc/hostname"), "hutch\n"});
  for (const char *copied : {"/etc/ld.so.cache", "/etc/localtime"}) {
    auto content = read_file(copied, 16 << 20);  // localtime is a symlink on Debian: this reads its target
    if (content) plan.files.push_back({stage(copied), *content});
  }
  return plan;
}

int bind_read_only(const std::string &source, const std::string &target) {
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) return errno;
  if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
    return errno;
  return 0;
}

// In the helper child: only system calls on the prepared plan.
int build_skeleton(const SkeletonPlan &plan) {
  if (::unshare(CLONE_NEWNS) != 0) return errno;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
  if (::mount("tmpfs", kStage, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755") != 0) return errno;
  for (const std::string &dir : plan.directories) {
    if (::mkdir(dir.c_str(), 0755) != 0) return errno;
  }
  if (::chmod((std::string(kStage) + "/tmp").c_str(), 01777) != 0) return errno;
  for (const auto &[link, target] : plan.symlinks) {
    if (::symlink(target.c_str(), link.c_str()) != 0) return errno;
  }
  for (const SkeletonFile &file : plan.files) {
    int fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    bool written = write_all(fd, file.content.data(), file.content.size()).has_value();
    ::close(fd);
    if (!written) return EIO;
  }
  for (const auto &[source, target] : plan.read_only_binds) {
    if (int error = bind_read_only(source, target)) return error;
  }
  for (const auto &[source, target, options] : plan.read_only_overlays) {
    if (::mount("overlay", target.c_str(), "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, options.c_str()) != 0)
      return errno;
  }
  for (const auto &[source, target] : plan.submount_binds) {
    if (int error = bind_read_only(source, target)) return error;
  }
  for (const auto &[source, target] : plan.device_binds) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) return errno;
  }
  // Recursive: a user namespace may bind a mount whose locked submounts come along, not one without them.
  if (!plan.host_proc_target.empty() &&
      ::mount("/proc", plan.host_proc_target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return errno;
  if (::syscall(SYS_pivot_root, kStage, (std::string(kStage) + "/.old").c_str()) != 0) return errno;
  if (::chdir("/") != 0) return errno;
  if (::umount2("/.old", MNT_DETACH) != 0) return errno;
  if (::rmdir("/.old") != 0) return errno;
  // Read-only from here: a job can write only to its own /tmp and /work.
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) return errno;
  return 0;
}

}  // namespace

std::string tmpfs_options(uint64_t size_bytes, const char *mode, int owner_uid) {
  std::string options = "size=" + std::to_string(size_bytes) + ",mode=" + mode;
  if (owner_uid >= 0) options += ",uid=" + std::to_string(owner_uid) + ",gid=" + std::to_string(owner_uid);
  return options;
}

Result<RootSkeleton> make_root_skeleton(const RootSkeletonSpec &spec) {
  auto build = [&spec](bool overlays) -> Result<UniqueFd> {
    TRY_ASSIGN(SkeletonPlan plan, plan_skeleton(spec, overlays));
    int user_namespace_fd = spec.user_namespace_fd;
    return hold_namespace_built_by_helper("mnt", [&plan, user_namespace_fd] {
      if (user_namespace_fd >= 0) {
        if (int error = enter_user_namespace(user_namespace_fd)) return error;
      }
      return build_skeleton(plan);
    });
  };
  auto with_overlays = build(true);
  if (with_overlays) return RootSkeleton{std::move(*with_overlays), ""};
  TRY_ASSIGN(UniqueFd with_binds, build(false));
  return RootSkeleton{std::move(with_binds), with_overlays.error().message};
}

Result<UniqueFd> clone_read_only_tree(int directory_fd, const std::string &shown) {
  UniqueFd tree(static_cast<int>(::open_tree(directory_fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!tree) return fail(errno_error("open_tree('" + shown + "')"));
  mount_attr attributes{};
  attributes.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attributes, sizeof attributes) != 0)
    return fail(errno_error("mount_setattr('" + shown + "', read-only)"));
  return tree;
}

ChildStage enter_job_root(const ChildPlan &plan) {
  // Joining the skeleton's namespace moves our root and cwd into it; unsharing gives this job a private
  // copy, whose propagation is private already, so nothing mounted below reaches the skeleton or the host.
  if (::setns(plan.root_skeleton_fd, CLONE_NEWNS) != 0) return ChildStage::kJoinRootSkeleton;
  if (::unshare(CLONE_NEWNS) != 0) return ChildStage::kUnshareMounts;
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return ChildStage::kMountProc;
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, plan.tmp_mount_options) != 0) return ChildStage::kMountTmp;
  if (plan.package_mount_fd >= 0 &&
      ::move_mount(plan.package_mount_fd, "", AT_FDCWD, kFunctionPackageDirectory, MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return ChildStage::kAttachPackage;
  // The working directory hutchd made (job_directory.h) is a detached mount: attaching it here puts it in
  // this job's namespace only.
  if (plan.work_mount_fd >= 0) {
    if (::move_mount(plan.work_mount_fd, "", AT_FDCWD, kJobWorkingDirectory, MOVE_MOUNT_F_EMPTY_PATH) != 0)
      return ChildStage::kAttachWorkingDirectory;
    return ChildStage::kNone;
  }
  if (::mount("tmpfs", kJobWorkingDirectory, "tmpfs", MS_NOSUID | MS_NODEV, plan.work_mount_options) != 0)
    return ChildStage::kMountWorkingDirectory;
  return ChildStage::kNone;
}

}  // namespace hutch
