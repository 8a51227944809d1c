// hutchd: flags, signals and wiring only. See supervisor.h for the parts and docs/architecture.md for the
// flow of a job.
#include <signal.h>
#include <uv.h>

#include <cstdio>

#include "supervisor/config.h"
#include "supervisor/doctor.h"
#include "supervisor/instance_lock.h"
#include "supervisor/log.h"
#include "supervisor/stale_sweep.h"
#include "supervisor/supervisor.h"

int main(int argc, char **argv) {
  auto config = hutch::parse_supervisor_config(argc, argv);
  if (!config) {
    std::fprintf(stderr, "hutchd: %s\n", config.error().message.c_str());
    return 2;
  }
  if (config->help) {
    std::fputs(hutch::supervisor_usage(), stdout);
    return 0;
  }
  if (config->verbose) hutch::set_log_level(hutch::LogLevel::kDebug);
  // Before any Redis connection: the check is about this machine alone.
  if (config->check) return hutch::print_doctor_report(*config);
  // A Redis that hangs up must not kill the supervisor mid-write; sandboxes get SIGPIPE back at spawn.
  ::signal(SIGPIPE, SIG_IGN);

  // One hutchd per consumer name on this machine, held until exit; then the cgroups of those that are gone.
  auto lock = hutch::InstanceLock::acquire(config->consumer);
  if (!lock) {
    hutch::log_error("cannot start: " + lock.error().message);
    return 1;
  }
  hutch::sweep_stale_cgroups(config->consumer);

  uv_loop_t *loop = uv_default_loop();
  hutch::Supervisor supervisor(loop, *config);
  if (auto prepared = supervisor.prepare(); !prepared) {
    hutch::log_error("cannot start: " + prepared.error().message);
    return 1;
  }

  // Without its handlers SIGTERM would kill hutchd mid-job instead of draining: a failure is a refusal to start.
  uv_signal_t term, interrupt;
  for (auto [handle, number] : {std::pair{&term, SIGTERM}, std::pair{&interrupt, SIGINT}}) {
    const char *name = number == SIGTERM ? "SIGTERM" : "SIGINT";
    if (int initialised = uv_signal_init(loop, handle); initialised != 0) {
      hutch::log_error(std::string("cannot start: uv_signal_init(") + name + "): " + uv_strerror(initialised));
      return 1;
    }
    handle->data = &supervisor;
    int started = uv_signal_start(
        handle,
        [](uv_signal_t *signal_handle, int signal_number) {
          static_cast<hutch::Supervisor *>(signal_handle->data)
              ->request_shutdown(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
        },
        number);
    if (started != 0) {
      hutch::log_error(std::string("cannot start: uv_signal_start(") + name + "): " + uv_strerror(started));
      return 1;
    }
    uv_unref(reinterpret_cast<uv_handle_t *>(handle));  // signals alone must not keep hutchd alive
  }
  auto ran = supervisor.run();
  if (!ran) hutch::log_error("stopped: " + ran.error().message);
  uv_close(reinterpret_cast<uv_handle_t *>(&term), nullptr);
  uv_close(reinterpret_cast<uv_handle_t *>(&interrupt), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return ran ? 0 : 1;
}
