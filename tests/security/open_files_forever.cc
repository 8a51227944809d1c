// Attack: open files without end. The open-files limit must stop it (EMFILE) long before the host's table
// fills. Bounded by itself at 100000 opens. Writes {"opened": N, "error": "EMFILE"} to fd 3.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

int main() {
  int opened = 0;
  std::string error = "none";
  for (; opened < 100000; ++opened) {
    if (::open("/dev/null", O_RDONLY) < 0) {
      error = ::strerrorname_np(errno);
      break;
    }
  }
  std::string result = "{\"opened\":" + std::to_string(opened) + ",\"error\":\"" + error + "\"}";
  ssize_t written = ::write(3, result.data(), result.size());
  return written == static_cast<ssize_t>(result.size()) ? 0 : 1;
}
