#include "cli/usage.h"

namespace hutch::cli {

const char kUsage[] = R"(usage:
  hutch [--redis URL] submit FUNCTION [--input JSON|@FILE] [--timeout S] [--memory SIZE] [--cpu N]
                             [--file [NAME=]PATH]... [--out PREFIX] [--wait]
  hutch [--redis URL] status ID [--json]
  hutch [--redis URL] ls [--function F] [--status S] [--limit N]
  hutch [--redis URL] logs ID [-f]
  hutch [--redis URL] logs -f
  hutch [--redis URL] put KEY FILE
  hutch [--redis URL] get KEY [FILE]
  hutch [--redis URL] function create NAME --entry 'CMD ARGS' (--file PATH | --package DIR|ZIP|TAR.GZ)
                                 [--timeout S] [--memory SIZE] [--cpu N] [--description TEXT]
  hutch [--redis URL] function update NAME [same options as create]
  hutch [--redis URL] function list | show NAME | delete NAME
  hutch [--redis URL] package push DIR|ZIP|TAR.GZ | list | show NAME | delete NAME
  hutch doctor [--uid-base N] [--concurrency N]
  hutch acl (--password-dir DIR | --password-file ROLE=FILE...) [--user-prefix P] [--data-prefix PREFIX]...

commands:
  submit   enqueue a job and print its execution id; --input @FILE reads the input from FILE (@- for stdin);
           --file uploads a file (as hutch:upload:<sha256>) and gives it to the job as $HUTCH_IN/NAME
           (NAME defaults to the file's own name); --out sets where output files go (<PREFIX>/<name>,
           default hutch:out:<id>); --wait follows its logs, prints the final record, and exits 0 only if it
           succeeded
  status   print the execution record (--json: one JSON object); a job not yet started shows `queued`
  ls       list executions, newest first (default limit 20)
  logs     print the lines logged so far by an execution; -f follows until it ends;
           without an ID, -f follows every execution, each line prefixed with its id and function
           (lines the function wrote on stderr go to stderr)
  put      store FILE (- for stdin) as the string value of KEY, byte for byte
  get      write the string value of KEY to FILE (default: stdout), byte for byte
  function user functions, stored in Redis and runnable by every hutchd: create (code from one file or a
           package), update (new code, entry or defaults), list, show (checksum, times, executions), delete
  package  several functions sharing one code base, named by hutch.toml or hutch.json: push registers them
           all as <package>.<function>; list, show, delete
  doctor   print what this machine offers hutchd and what it will enforce (as `hutchd --check`); exits 0
           only with real isolation (cgroups and seccomp); --uid-base and --concurrency as for hutchd
  acl      print a Redis 7 ACL file (for redis.conf's aclfile) with one user per role: submitter,
           operator, supervisor, viewer (<user prefix><role>, default prefix hutch-); each password is
           read from its file (--password-file ROLE=FILE, else DIR/ROLE), or made and written there when
           missing; --data-prefix lets submitters and hutchd keep input and output files under PREFIX

options:
  --redis URL   redis://[[user]:password@]host[:port][/db] or unix://[[user]:password@]/path/to.sock[?db=N]
                (default: $HUTCH_REDIS, then redis://127.0.0.1:6379); percent-encode special characters in
                the user and password; prefer HUTCH_REDIS for a password (others can read a command line)
  --raw         print what jobs and users stored byte for byte; by default control characters show as
                escapes (\x1b, \r, \u009b, ...), tabs and line breaks of log lines and records as they are
  -h, --help    show this text

exit status: 0 success, 1 failure (unknown id, job did not succeed, doctor found no real isolation),
             2 bad usage or Redis unreachable
)";

}  // namespace hutch::cli
