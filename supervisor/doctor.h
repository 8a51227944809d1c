// `hutchd --check` and `hutch doctor`: the host probe's findings (sandbox/host_probe.h) as one line per item,
//   ok    <item>: <detail>
//   warn  <item>: <detail>; <how to fix>
//   miss  <item>: <detail>; <how to fix>
// then `hutch will enforce: ...`. The exit code is 0 only when hutchd can run with real isolation: cgroup
// limits, seccomp, its helper programs, and (as root) the namespaces every job gets.
#pragma once

#include <string>
#include <vector>

#include "sandbox/host_probe.h"
#include "supervisor/config.h"

namespace hutch {

enum class DoctorLevel { kOk, kWarn, kMiss };

struct DoctorLine {
  DoctorLevel level = DoctorLevel::kOk;
  std::string item;    // "cgroup version", "namespace net"
  std::string detail;
  std::string fix;     // empty for ok lines
};

struct DoctorReport {
  std::vector<DoctorLine> lines;
  std::string enforced;  // the summary, after "hutch will enforce: "
  int exit_code = 1;
};

// Pure: findings in, lines out.
DoctorReport make_doctor_report(const HostFindings &findings);
std::string format_doctor_line(const DoctorLine &line);
// Every line and the summary, each ending in a newline.
std::string format_doctor_report(const DoctorReport &report);

HostProbeOptions host_probe_options(const SupervisorConfig &config);
// Probes this machine with hutchd's settings, prints the report on stdout and returns its exit code.
int print_doctor_report(const SupervisorConfig &config);

}  // namespace hutch
