// Attack: reach the network from inside the sandbox: the Redis that feeds the queue on the host's loopback,
// other host ports, the host's own address. The job's network namespace has nothing but its own loopback,
// so every connection must fail (ENETUNREACH for a host address, ECONNREFUSED on a loopback nobody of the
// job listens on). Input {"targets": [{"name": N, "address": "127.0.0.1" or "::1", "port": P}, ...]} (at
// most 16); each is tried once with TCP, waiting at most 1 s. Returns {N: "connected" or the errno name}.
#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

int main() {
  constexpr const char *kProgram = "reach_network";
  auto input = hutch::programs::input_or_exit(kProgram);
  const nlohmann::json *targets = hutch::programs::field_or_null(input, "targets");
  if (targets == nullptr || !targets->is_array() || targets->size() > 16)
    hutch::programs::exit_bad_input(kProgram, "targets: use an array of at most 16 {name, address, port}");

  nlohmann::json report = nlohmann::json::object();
  for (const nlohmann::json &target : *targets) {
    std::string name = hutch::programs::string_param(kProgram, target, "name", "");
    std::string address = hutch::programs::string_param(kProgram, target, "address", "");
    long long port = hutch::programs::integer_param(kProgram, target, "port", 0, 1, 65535);
    if (name.empty() || address.empty() || port == 0)
      hutch::programs::exit_bad_input(kProgram, "targets: each needs a name, an address and a port (1-65535)");
    report[name] = hutch::attack::try_connect(address, static_cast<int>(port));
    std::printf("%s (%s port %lld): %s\n", name.c_str(), address.c_str(), port,
                report[name].get<std::string>().c_str());
  }
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
