// A static program that exits 0 at once: a /bin/true without the dynamic loader, so that seccomp_cost
// measures the exec and the filter, not the loading of libc.
int main() { return 0; }
