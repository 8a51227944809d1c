// The job's file directories, as the function sees them: HUTCH_IN (read-only, the job's input files) and
// HUTCH_OUT (where each result goes under its input's name). Names are flat: hutchd gives files, not trees.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch::image {

struct JobDirectory {
  std::string path;
  UniqueFd fd;
};

// The directory named by environment variable `variable` (HUTCH_IN or HUTCH_OUT); the sentence says what
// the variable is for when it is unset or the directory cannot be opened.
Result<JobDirectory> open_job_directory(const char *variable);

// Every entry of the directory but . and .., sorted by name (bytes), so results come in a stable order.
Result<std::vector<std::string>> list_names(const JobDirectory &directory);

// Up to `max_bytes` from the start of the regular file `name`, or all of it with max_bytes 0. A symbolic
// link, a directory or anything else that is not a regular file fails with a sentence naming it.
Result<std::vector<unsigned char>> read_input_file(const JobDirectory &directory, const std::string &name,
                                                   size_t max_bytes);

// Creates `name` (it must not exist yet) and writes `bytes`.
Status write_output_file(const JobDirectory &directory, const std::string &name,
                         const std::vector<unsigned char> &bytes);

}  // namespace hutch::image
