// Which program the first word of a user function's entry names, decided the way the sandbox will see it.
// The entry comes from Redis, so whoever can write `hutch:fn:<name>` chose it: it may say `/usr/../tmp/x`,
// name a FIFO, a directory, a device, or a link out of /usr.
//
// A word that is not a file of the package must be a program under /usr as the job's skeleton shows it
// (sandbox/mounts.cc): /usr and /etc/alternatives are the host's own, read-only; /bin, /sbin and /lib* are
// the host's merged-/usr links (or binds of the host's directories). The path is normalised first ('.' and
// '..' applied to the text, as the kernel would from the sandbox's root), then walked one component at a
// time with lstat and readlink, links followed as the sandbox would follow them (relative to their
// directory, absolute ones from the root), never through anything the sandbox does not show. It must end at
// a regular file under /usr that the sandbox's users (never the owner, never in the group) may execute,
// through directories they may search: hutchd opens the program as root, so the walk is what keeps a job
// from running a program it could not reach itself.
//
// Only lstat and readlink: nothing here opens a file, so nothing can block on a FIFO. Both hutchd (before it
// opens the program) and the CLI (before it stores an entry) ask, with the same sentences.
#pragma once

#include <string>

#include "common/error.h"

namespace hutch {

// The programs a bare word (no '/') is looked for in, in order, as in the sandbox's PATH.
inline constexpr const char *kEntrySearchPath[] = {"/usr/local/bin", "/usr/bin", "/bin"};

// `word` ("python3", "/usr/bin/python3", "/bin/sh") -> the program's path without links, the same on the
// host and in the sandbox ("/usr/bin/python3.11"). The error is a sentence about `word`, e.g.
// "'/usr/../tmp/x' leads to '/tmp/x', outside /usr; ...".
Result<std::string> resolve_usr_program(const std::string &word);

}  // namespace hutch
