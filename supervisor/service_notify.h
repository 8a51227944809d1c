// Tells systemd (Type=notify) how hutchd is doing: READY=1 once it reads the queue, STOPPING=1 when it
// drains, STATUS= lines for `systemctl status`. Without NOTIFY_SOCKET (not started by systemd) it does
// nothing.
#pragma once

#include <string>

namespace hutch {

// `state` is newline-separated assignments, as sd_notify(3) takes them: "READY=1\nSTATUS=reading".
void notify_service(const std::string &state);

}  // namespace hutch
