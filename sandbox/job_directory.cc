#include "sandbox/job_directory.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/directory_stream.h"
#include "common/file_io.h"
#include "common/file_name.h"

namespace hutch {
namespace {

constexpr const char kIn[] = "in";
constexpr const char kOut[] = "out";

Status configure(int context, const char *key, const std::string &value) {
  if (::fsconfig(context, FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0)
    return fail(errno_error(std::string("fsconfig(tmpfs, ") + key + "=" + value + ")"));
  return {};
}

// Opens out/ strictly beneath the mount: the function owned it and could have replaced it with a symlink.
Result<UniqueFd> open_beneath(int directory_fd, const char *name, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd = static_cast<int>(::syscall(SYS_openat2, directory_fd, name, &how, sizeof how));
  if (fd < 0) return fail(errno_error(std::string("openat2('") + name + "')"));
  return UniqueFd(fd);
}

std::string out_name(const std::string &name) { return std::string("$HUTCH_OUT/") + name; }

std::string size_words(uint64_t bytes) {
  if (bytes % (1ULL << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

Result<std::string> read_regular_file(int fd, size_t size) {
  std::string content(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, content.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("read"));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  content.resize(done);
  return content;
}

}  // namespace

Result<JobDirectory> JobDirectory::create(uint64_t size_bytes, uid_t owner) {
  UniqueFd context(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!context) return fail(errno_error("fsopen(tmpfs)"));
  TRY_STATUS(configure(context.get(), "size", std::to_string(size_bytes)));
  TRY_STATUS(configure(context.get(), "mode", "0700"));
  TRY_STATUS(configure(context.get(), "uid", std::to_string(owner)));
  TRY_STATUS(configure(context.get(), "gid", std::to_string(owner)));
  if (::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return fail(errno_error("fsconfig(tmpfs, create)"));
  UniqueFd mount(::fsmount(context.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  if (!mount) return fail(errno_error("fsmount(tmpfs)"));
  // in/ stays root's: the function may read its inputs but neither change nor replace them.
  if (::mkdirat(mount.get(), kIn, 0555) != 0) return fail(errno_error("mkdir(in)"));
  if (::mkdirat(mount.get(), kOut, 0700) != 0) return fail(errno_error("mkdir(out)"));
  if (::fchownat(mount.get(), kOut, owner, owner, AT_SYMLINK_NOFOLLOW) != 0) return fail(errno_error("chown(out)"));
  return JobDirectory(std::move(mount));
}

Result<std::vector<CollectedFile>> JobDirectory::collect_outputs(uint64_t per_file_bytes, uint64_t total_bytes) const {
  auto out = open_beneath(mount_.get(), kOut, O_RDONLY | O_DIRECTORY);
  if (!out) {
    if (out.error().errno_value == ENOENT) return std::vector<CollectedFile>{};  // the function removed it
    return fail(make_error("$HUTCH_OUT is no longer a directory the function could hand files back in (" +
                           out.error().message + ")"));
  }
  // `out` stays usable for the openat calls below: the listing has a duplicate of it.
  TRY_ASSIGN(DirectoryStream listing, DirectoryStream::open_fd(out->get(), "$HUTCH_OUT"));
  std::vector<std::string> names;
  while (const dirent *entry = listing.next()) {
    if (names.size() == kMaxOutputFiles)
      return fail(make_error("$HUTCH_OUT holds more than " + std::to_string(kMaxOutputFiles) +
                             " files; hand back at most " + std::to_string(kMaxOutputFiles)));
    names.emplace_back(entry->d_name);
  }
  if (listing.read_error() != 0) return fail(errno_error(listing.read_error(), "list $HUTCH_OUT"));
  std::sort(names.begin(), names.end());

  std::vector<CollectedFile> files;
  uint64_t total = 0;
  for (const std::string &name : names) {
    if (!is_valid_file_name(name))
      return fail(make_error("$HUTCH_OUT holds a file named '" + name + "', which cannot be handed back; " +
                             kFileNameRule));
    struct stat info {};
    if (::fstatat(out->get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0)
      return fail(errno_error("stat " + out_name(name)));
    if (!S_ISREG(info.st_mode))
      return fail(make_error(out_name(name) + " is not a regular file (a directory, link or device); only files "
                             "directly in $HUTCH_OUT are handed back"));
    auto size = static_cast<uint64_t>(info.st_size);
    if (size > per_file_bytes)
      return fail(make_error(out_name(name) + " holds " + std::to_string(size) + " bytes; at most " +
                             size_words(per_file_bytes) + " per file are handed back"));
    total += size;
    if (total > total_bytes)
      return fail(make_error("the files in $HUTCH_OUT hold more than " + size_words(total_bytes) +
                             " together, the most a job hands back"));
    TRY_ASSIGN(UniqueFd file, open_beneath(out->get(), name.c_str(), O_RDONLY));
    TRY_ASSIGN(std::string content, read_regular_file(file.get(), static_cast<size_t>(size)));
    files.push_back({name, std::move(content)});
  }
  return files;
}

}  // namespace hutch
