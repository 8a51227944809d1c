// Which compiled seccomp program each function's sandboxes install.
//
// At start-up: read the policy (built in, or --seccomp-policy FILE), check every --seccomp-allow against it
// and record the calls in the function's definition, then compile one program per distinct list of extra
// calls (most functions share the policy's own). Never per job: a job only picks its function's program.
#pragma once

#include <linux/filter.h>

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "catalog/registry.h"
#include "sandbox/seccomp.h"
#include "supervisor/config.h"

namespace hutch {

class FunctionSeccomp {
 public:
  // Fails with a sentence for an unreadable or invalid policy file and for a --seccomp-allow naming an
  // unknown function, an unknown call, or a call the policy decides by name.
  static Result<FunctionSeccomp> prepare(const SupervisorConfig &config, FunctionRegistry &registry);

  // The program of a registered function; the policy's own for any other name.
  const sock_fprog *program_for(const std::string &function) const;
  // What hutchd logs at start-up, one line each.
  std::vector<std::string> describe() const;

 private:
  Status compile_for(const FunctionSpec &function);

  SeccompPolicy policy_;
  // Key: the extra calls joined with ',' ("" for the policy itself). Nodes of a map stay put, so the
  // pointers below survive moves of this object.
  std::map<std::string, SeccompProgram> programs_;
  std::map<std::string, const SeccompProgram *> by_function_;
  std::map<std::string, std::string> extras_by_function_;  // for describe(): only functions with extras
};

}  // namespace hutch
