// Attack: reach the hardware and the kernel through device files: physical memory (/dev/mem, /dev/kmem,
// /dev/port), the kernel log (/dev/kmsg), the disks (/dev/sda, /dev/vda, /dev/nvme0n1, /dev/loop0...), and
// failing those, make the device nodes itself with mknod in /tmp and the working directory. The job's /dev
// holds only null, zero, full, random, urandom and tty, so every open must say ENOENT, and mknod of a
// device must fail (no CAP_MKNOD; the tmpfs mounts are nodev as well).
// Returns {"open": {path: result}, "mknod": {path: result}, "devices": {name: "char M:N" or "block M:N"}}
// with every device node found in /dev.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

nlohmann::json device_nodes(const std::string &directory) {
  nlohmann::json nodes = nlohmann::json::object();
  DIR *listing = ::opendir(directory.c_str());
  if (listing == nullptr) return nodes;
  while (dirent *entry = ::readdir(listing)) {
    struct stat info {};
    std::string path = directory + "/" + entry->d_name;
    if (::lstat(path.c_str(), &info) != 0) continue;
    if (!S_ISCHR(info.st_mode) && !S_ISBLK(info.st_mode)) continue;
    nodes[entry->d_name] = std::string(S_ISCHR(info.st_mode) ? "char " : "block ") +
                           std::to_string(major(info.st_rdev)) + ":" + std::to_string(minor(info.st_rdev));
  }
  ::closedir(listing);
  return nodes;
}

// mknod, then (should the kernel allow it) whether the new node opens.
std::string try_mknod(const std::string &path, mode_t type, dev_t device) {
  if (::mknod(path.c_str(), type | 0666, device) != 0) return hutch::attack::errno_name(errno);
  std::string opened = hutch::attack::try_open(path, hutch::attack::Access::kOpen);
  ::unlink(path.c_str());
  return "made, open: " + opened;
}

}  // namespace

int main() {
  constexpr const char *kProgram = "open_devices";
  hutch::programs::input_or_exit(kProgram);
  nlohmann::json open = nlohmann::json::object();
  for (const char *path :
       {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/loop0",
        "/dev/loop-control", "/dev/mapper/control", "/dev/net/tun", "/dev/fuse", "/dev/console", "/dev/kvm"})
    open[path] = hutch::attack::try_open(path, hutch::attack::Access::kOpen);
  nlohmann::json mknod = nlohmann::json::object();
  mknod["/tmp/mem"] = try_mknod("/tmp/mem", S_IFCHR, makedev(1, 1));
  mknod["/tmp/sda"] = try_mknod("/tmp/sda", S_IFBLK, makedev(8, 0));
  mknod["/work/kmsg"] = try_mknod("/work/kmsg", S_IFCHR, makedev(1, 11));
  for (const auto &[what, results] : {std::pair{"open", &open}, {"mknod", &mknod}}) {
    for (const auto &[path, result] : results->items())
      std::printf("%s %s: %s\n", what, path.c_str(), result.get<std::string>().c_str());
  }
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(kProgram,
                                        {{"open", open}, {"mknod", mknod}, {"devices", device_nodes("/dev")}});
  return 0;
}
