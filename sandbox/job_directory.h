// A job's working directory, made by hutchd: a tmpfs created with the new mount API (fsopen, fsmount) and
// attached to no mount namespace at all. It exists only through the fd this object owns; the job's init
// attaches it at /work (move_mount) inside the job's own mount namespace.
//
// Because hutchd keeps the fd, it can read out/ after the job, when the job's namespace and every process in
// it are gone; closing the fd frees it. The job's init fills in/ before the function starts, from inside the
// job's cgroup (input_files.h), so that the inputs count against the job's memory. So nothing is ever written to or
// read from a path on the host, nothing is left on disk by a crash, and the function cannot swap a
// path for a symlink to make hutchd read or write elsewhere.
//
//   /work        owned by the sandbox user, the function's working directory
//   /work/in     owned by root, read-only to the function: the job's input files ($HUTCH_IN), written by
//                the job's init
//   /work/out    owned by the sandbox user: files to hand back ($HUTCH_OUT)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

inline constexpr const char kJobInputDirectory[] = "/work/in";
inline constexpr const char kJobOutputDirectory[] = "/work/out";
inline constexpr size_t kMaxOutputFiles = 1000;

struct CollectedFile {
  std::string name;
  std::string content;
};

class JobDirectory {
 public:
  // Needs CAP_SYS_ADMIN (hutchd as root). `size_bytes` caps everything the tmpfs holds, inputs included.
  static Result<JobDirectory> create(uint64_t size_bytes, uid_t owner);

  // After the job: every file directly in out/, sorted by name. Anything else there (a directory, a
  // symlink, a name outside the file-name rule, too many or too large files) is an error whose sentence
  // names the file and the rule, because silently dropping what a function produced loses data.
  Result<std::vector<CollectedFile>> collect_outputs(uint64_t per_file_bytes, uint64_t total_bytes) const;

  int fd() const { return mount_.get(); }

 private:
  explicit JobDirectory(UniqueFd mount) : mount_(std::move(mount)) {}
  UniqueFd mount_;
};

}  // namespace hutch
