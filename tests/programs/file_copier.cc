// file_copier: the files-in/files-out contract from the function's side.
//   Copies every file in $HUTCH_IN to $HUTCH_OUT under the same name (unless {"copy": false}), and tries
//   to change each input (write, unlink, chmod), reporting the errno of each attempt.
//   {"extra": [{"name": "x", "bytes": N, "kind": "file"|"dir"|"symlink"}]} also makes these in $HUTCH_OUT
//     (files of N bytes up to 600 MiB, filled with 'x');
//   {"exit": N} ends with that code after all of it.
// Result on fd 3: {"in": [{"name", "bytes", "write_errno", "unlink_errno", "chmod_errno"}], "in_dir", "out_dir"}.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/programs/program_input.h"

namespace {

constexpr const char *kProgram = "file_copier";

int errno_of(int result) { return result == 0 ? 0 : errno; }

std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

bool write_file(const std::string &path, const std::string &content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return static_cast<bool>(out);
}

void make_extra(const std::string &out_dir, const nlohmann::json &extra) {
  using namespace hutch::programs;
  std::string name = string_param(kProgram, extra, "name", "extra");
  std::string kind = string_param(kProgram, extra, "kind", "file");
  std::string path = out_dir + "/" + name;
  if (kind == "dir") {
    if (::mkdir(path.c_str(), 0755) != 0) std::perror("mkdir");
  } else if (kind == "symlink") {
    if (::symlink("/etc/passwd", path.c_str()) != 0) std::perror("symlink");
  } else if (kind == "file") {
    long long bytes = integer_param(kProgram, extra, "bytes", 0, 0, 600LL << 20);
    if (!write_file(path, std::string(static_cast<size_t>(bytes), 'x'))) std::fprintf(stderr, "could not write %s\n", path.c_str());
  } else {
    exit_bad_input(kProgram, "extra.kind: use file, dir or symlink");
  }
}

}  // namespace

int main() {
  using namespace hutch::programs;
  auto input = input_or_exit(kProgram);
  const char *in_dir = std::getenv("HUTCH_IN");
  const char *out_dir = std::getenv("HUTCH_OUT");
  if (in_dir == nullptr || out_dir == nullptr) {
    std::fprintf(stderr, "file_copier: HUTCH_IN or HUTCH_OUT is not set\n");
    return 3;
  }
  bool copy = bool_param(kProgram, input, "copy", true);
  nlohmann::json inputs = nlohmann::json::array();
  if (DIR *listing = ::opendir(in_dir)) {
    while (dirent *entry = ::readdir(listing)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      std::string path = std::string(in_dir) + "/" + name;
      std::string content = read_all(path);
      int write_errno = errno_of(::open(path.c_str(), O_WRONLY | O_APPEND) >= 0 ? 0 : -1);
      int chmod_errno = errno_of(::chmod(path.c_str(), 0666));
      int unlink_errno = errno_of(::unlink(path.c_str()));
      inputs.push_back({{"name", name}, {"bytes", content.size()}, {"write_errno", write_errno},
                        {"chmod_errno", chmod_errno}, {"unlink_errno", unlink_errno}});
      if (copy && !write_file(std::string(out_dir) + "/" + name, content)) {
        std::fprintf(stderr, "file_copier: could not write %s/%s\n", out_dir, name.c_str());
        return 4;
      }
      std::printf("copied %s (%zu bytes)\n", name.c_str(), content.size());
    }
    ::closedir(listing);
  }
  if (const nlohmann::json *extras = field_or_null(input, "extra"); extras != nullptr && extras->is_array()) {
    for (const nlohmann::json &extra : *extras) make_extra(out_dir, extra);
  }
  write_result_or_exit(kProgram, {{"in", inputs}, {"in_dir", in_dir}, {"out_dir", out_dir}});
  return static_cast<int>(integer_param(kProgram, input, "exit", 0, 0, 255));
}
