// Attack: a system call through the 32-bit ABI (int 0x80) from a 64-bit process, which a filter written
// for x86_64 numbers alone would not see. The seccomp filter must kill it (SIGSYS) before it runs.
// Calls 32-bit getpid (20); if it returns, prints the result and exits 3.
#include <cstdio>

int main() {
  long result = 20;  // __NR_getpid on i386
  asm volatile("int $0x80" : "+a"(result) : : "memory");
  std::printf("int 0x80 getpid returned %ld\n", result);
  return 3;
}
