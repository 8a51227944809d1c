// A job's input files on their way into its working directory's in/ ($HUTCH_IN).
//
// Why not write them from hutchd: a tmpfs page is charged to the memory cgroup of the process that writes
// it, and hutchd is in a cgroup of its own, so files hutchd wrote into the job's /work were paid for by
// hutchd (60 MiB of input under a 24 MiB job). Instead hutchd packs them back to back into one memfd, and
// the job's own init, which lives in the job's cgroup, copies them into in/ before the function starts
// (copy_input_files, in the child): the job's memory pays for its inputs, and a job whose inputs do not
// fit is held by its own limit. hutchd refuses up front inputs larger than the job's memory limit
// (queue/job_files.cc). The memfd is hutchd's memory only until the copy is done: hutchd closes its fd
// once the sandbox has it, and the init closes its own after copying.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/child_plan.h"

namespace hutch {

class InputFiles {
 public:
  static Result<InputFiles> create();

  // Appends one file's bytes; `name` must already be a valid file name (common/file_name.h).
  Status add(const std::string &name, std::string_view content);

  int fd() const { return memfd_.get(); }
  size_t count() const { return names_.size(); }
  uint64_t total_bytes() const { return total_bytes_; }
  const std::vector<std::string> &names() const { return names_; }
  const std::vector<uint64_t> &sizes() const { return sizes_; }

 private:
  explicit InputFiles(UniqueFd memfd) : memfd_(std::move(memfd)) {}
  UniqueFd memfd_;
  std::vector<std::string> names_;
  std::vector<uint64_t> sizes_;
  uint64_t total_bytes_ = 0;
};

// Child side, in the job's init (after /work is attached, before the function): creates in/<name> for each
// file of plan.input_files_fd, read-only (root's, mode 0444), copies its bytes there and closes the memfd.
// True when there is nothing to copy. Only system calls; errno says what failed.
bool copy_input_files(const ChildPlan &plan);

}  // namespace hutch
