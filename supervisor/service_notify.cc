#include "supervisor/service_notify.h"

#include <systemd/sd-daemon.h>

namespace hutch {

void notify_service(const std::string &state) {
  // A failed notification is not worth a log line: systemd then reports the unit itself (a start that never
  // becomes ready times out with TimeoutStartSec and says so), and outside systemd there is no one to tell.
  (void)sd_notify(0, state.c_str());
}

}  // namespace hutch
