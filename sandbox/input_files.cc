#include "sandbox/input_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_io.h"

namespace hutch {
namespace {

// sendfile moves at most this much per call (the kernel caps a call just below 2 GiB anyway).
constexpr uint64_t kMaxCopyPerCall = 1ULL << 30;

// Closes `fd` without letting close() change the errno a failure is reported with.
void close_keeping_errno(int fd) {
  int saved = errno;
  ::close(fd);
  errno = saved;
}

bool copy_one(int directory_fd, const char *name, int source_fd, off_t &offset, uint64_t size) {
  // O_EXCL and O_NOFOLLOW: in/ is fresh and root's, so nothing can be there; refuse rather than follow.
  int file = ::openat(directory_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
  if (file < 0) return false;
  while (size > 0) {
    ssize_t copied = ::sendfile(file, source_fd, &offset, size < kMaxCopyPerCall ? size : kMaxCopyPerCall);
    if (copied < 0 && errno == EINTR) continue;
    if (copied <= 0) {
      if (copied == 0) errno = EIO;  // the memfd is shorter than hutchd said
      close_keeping_errno(file);
      return false;
    }
    size -= static_cast<uint64_t>(copied);
  }
  return ::close(file) == 0;
}

}  // namespace

Result<InputFiles> InputFiles::create() {
  UniqueFd memfd(::memfd_create("hutch-input-files", MFD_CLOEXEC));
  if (!memfd) return fail(errno_error("memfd_create(input files)"));
  return InputFiles(std::move(memfd));
}

Status InputFiles::add(const std::string &name, std::string_view content) {
  auto written = write_all(memfd_.get(), content.data(), content.size());
  if (!written) return fail(written.error().context("pack $HUTCH_IN/" + name));
  names_.push_back(name);
  sizes_.push_back(content.size());
  total_bytes_ += content.size();
  return {};
}

bool copy_input_files(const ChildPlan &plan) {
  if (plan.input_files_fd < 0) return true;
  int directory = ::openat(plan.work_mount_fd, "in", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (directory < 0) return false;
  off_t offset = 0;
  for (int i = 0; i < plan.input_file_count; ++i) {
    if (!copy_one(directory, plan.input_file_names[i], plan.input_files_fd, offset, plan.input_file_sizes[i])) {
      close_keeping_errno(directory);
      return false;
    }
  }
  ::close(directory);
  // Its pages are hutchd's memory until the last holder closes it; the function must not inherit it either.
  ::close(plan.input_files_fd);
  return true;
}

}  // namespace hutch
