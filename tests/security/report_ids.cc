// The target of the setuid attack: the test installs a copy of this program owned by root with mode 4755.
// It prints its real, effective and saved uids and its effective capabilities as one line,
// "uid=R euid=E suid=S capeff=HEX", so whoever ran it sees whether the setuid bit raised anything.
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main() {
  uid_t real = 0, effective = 0, saved = 0;
  if (::getresuid(&real, &effective, &saved) != 0) return 1;
  char capabilities[64] = "?";
  if (FILE *status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, status) != nullptr) {
      if (std::strncmp(line, "CapEff:", 7) == 0) std::sscanf(line + 7, "%63s", capabilities);
    }
    std::fclose(status);
  }
  std::printf("uid=%u euid=%u suid=%u capeff=%s\n", real, effective, saved, capabilities);
  return 0;
}
