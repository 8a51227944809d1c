// `hutch doctor`: the report of `hutchd --check`, from the CLI. hutchd's own flag parser reads the options
// and the HUTCH_* environment, so both commands look for the same uids and the same helper programs.
#include <string>
#include <vector>

#include "cli/verbs.h"
#include "supervisor/config.h"
#include "supervisor/doctor.h"

namespace hutch::cli {

Result<int> run_doctor(const DoctorOptions &options) {
  std::vector<std::string> args = {"hutch doctor"};
  if (options.uid_base) args.insert(args.end(), {"--uid-base", *options.uid_base});
  if (options.concurrency) args.insert(args.end(), {"--concurrency", *options.concurrency});
  std::vector<char *> argv;
  for (std::string &arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto config = parse_supervisor_config(static_cast<int>(args.size()), argv.data());
  if (!config) return fail(config.error().context("doctor"));
  return print_doctor_report(*config);
}

}  // namespace hutch::cli
