#include "cli/acl_file.h"

#include <algorithm>
#include <cctype>

#include "queue/function_definition.h"
#include "queue/keys.h"

namespace hutch::cli {
namespace {

using enum KeyAccess;

std::string text(std::string_view view) { return std::string(view); }

// Every key pattern of the protocol (docs/protocol.md), from the names the code uses.
struct Patterns {
  std::string jobs = text(keys::kJobsStream);
  std::string records = keys::execution_record("*");
  std::string logs = keys::execution_logs("*");
  std::string index = text(keys::kExecutionsIndex);
  std::string uploads = keys::uploaded_file("*");
  std::string outputs = keys::default_output_prefix("*");  // <prefix>/<file name>
  std::string definitions = keys::function_definition("*");
  std::string functions = keys::kFunctionsSet;
  std::string blobs = keys::package_blob("*");
  std::string packages = keys::package_record("*");
  std::string package_names = keys::kPackagesSet;
  std::string counts = keys::kFunctionExecutions;
};

// What every reading verb of the CLI sends: status, ls, logs [-f], get, function list|show, package list|show
// (cli/function_store.cc reads definitions with plain commands: no role but hutchd's may run Lua).
const std::vector<std::string> kReadCommands = {"exists",   "get",       "hget",    "hgetall", "hkeys",
                                                "hlen",     "hmget",     "hstrlen", "select",  "smembers",
                                                "subscribe", "type",     "xinfo|groups", "xrange", "xread",
                                                "xrevrange", "zrevrange"};

std::vector<std::string> with(std::vector<std::string> commands, std::vector<std::string> more) {
  commands.insert(commands.end(), more.begin(), more.end());
  std::sort(commands.begin(), commands.end());
  commands.erase(std::unique(commands.begin(), commands.end()), commands.end());
  return commands;
}

std::vector<AclRole> make_roles() {
  Patterns p;
  // What hutchd sends: on its connections (queue/redis_connection.cc, job_stream.cc), its log lines
  // (log_shipper.cc), its look-ups (user_functions.cc, supervisor.cc), and inside its Lua scripts
  // (queue/delivery_scripts.cc, job_files.cc, and the record's commands of queue/record.cc), which Redis
  // checks against the caller's user like any other command.
  AclRole supervisor{
      "supervisor",
      with({}, {"client|id", "client|setname", "client|unblock", "eval", "eval_ro", "exists", "get", "hget",
                "hgetall", "hincrby", "hkeys", "hlen", "hmget", "hset", "hstrlen", "pexpire", "publish", "select",
                "set", "strlen", "type",
                "xack", "xadd", "xautoclaim", "xclaim", "xgroup|create", "xinfo|groups", "xpending", "xrange",
                "xreadgroup", "xtrim", "zadd", "zremrangebyscore"}),
      {{kReadWrite, p.jobs}, {kReadWrite, p.records}, {kReadWrite, p.logs}, {kReadWrite, p.index},
       {kRead, p.uploads}, {kReadWrite, p.outputs}, {kRead, p.definitions}, {kRead, p.blobs},
       {kReadWrite, p.counts}},
      kReadWrite};
  // submit (XADD, and SET of --file uploads), put, and the reading verbs; function and package list|show.
  AclRole submitter{
      "submitter",
      with(kReadCommands, {"set", "xadd"}),
      {{kReadWrite, p.jobs}, {kRead, p.records}, {kRead, p.logs}, {kRead, p.index}, {kReadWrite, p.uploads},
       {kRead, p.outputs}, {kRead, p.definitions}, {kRead, p.functions}, {kRead, p.packages},
       {kRead, p.package_names}, {kRead, p.counts}},
      kReadWrite};
  // function create|update|delete and package push|delete (cli/function_store.cc, package.cc), and reading.
  AclRole operator_role{
      "operator",
      with(kReadCommands, {"del", "exec", "hdel", "hset", "multi", "sadd", "set", "srem", "strlen"}),
      {{kRead, p.jobs}, {kRead, p.records}, {kRead, p.logs}, {kRead, p.index}, {kRead, p.uploads},
       {kRead, p.outputs}, {kReadWrite, p.definitions}, {kReadWrite, p.functions}, {kReadWrite, p.blobs},
       {kReadWrite, p.packages}, {kReadWrite, p.package_names}, {kReadWrite, p.counts}},
      kRead};
  // Everything hutch keeps but the code of functions (hutch:blob:*), read only.
  AclRole viewer{
      "viewer",
      with(kReadCommands, {}),
      {{kRead, p.jobs}, {kRead, p.records}, {kRead, p.logs}, {kRead, p.index}, {kRead, p.uploads},
       {kRead, p.outputs}, {kRead, p.definitions}, {kRead, p.functions}, {kRead, p.packages},
       {kRead, p.package_names}, {kRead, p.counts}},
      kRead};
  return {submitter, operator_role, supervisor, viewer};
}

const char *key_prefix(KeyAccess access) {
  switch (access) {
    case kRead: return "%R~";
    case kWrite: return "%W~";
    case kReadWrite: return "%RW~";
  }
  return "%R~";
}

bool is_glob_special(char c) { return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\'; }

}  // namespace

const std::vector<AclRole> &acl_roles() {
  static const std::vector<AclRole> roles = make_roles();
  return roles;
}

Status check_data_prefix(const std::string &prefix) {
  const std::string reserved(keys::kReservedPrefix);
  const std::string rule = "; use 1-256 printable characters without spaces or *?[]\\, e.g. data:";
  if (prefix.empty() || prefix.size() > 256) return fail(make_error("acl: --data-prefix '" + prefix + "'" + rule));
  for (unsigned char c : prefix) {
    if (c <= 0x20 || c >= 0x7f || is_glob_special(static_cast<char>(c)))
      return fail(make_error("acl: --data-prefix '" + prefix + "' holds a space, a control or a glob character" + rule));
  }
  if (prefix.starts_with(reserved) || reserved.starts_with(prefix))
    return fail(make_error("acl: --data-prefix '" + prefix + "' would cover keys under hutch:, which are hutch's own "
                           "and have their roles; choose a prefix apart from it, e.g. data:"));
  return {};
}

Status check_user_prefix(const std::string &prefix) {
  bool valid = prefix.size() <= 64 && std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) {
                 return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == ':';
               });
  if (!valid)
    return fail(make_error("acl: --user-prefix '" + prefix + "': use at most 64 letters, digits, '-', '_', '.' or "
                           "':', e.g. hutch-"));
  return {};
}

std::string acl_file_text(const std::vector<AclUser> &users, const std::vector<std::string> &data_prefixes) {
  std::string file = "user default reset off\n";
  for (const AclUser &user : users) {
    std::string line = "user " + user.name + " reset on #" + user.password_sha256;
    for (const KeyRule &rule : user.role->keys) line += std::string(" ") + key_prefix(rule.access) + rule.pattern;
    for (const std::string &prefix : data_prefixes) line += std::string(" ") + key_prefix(user.role->data_access) + prefix + "*";
    line += " resetchannels &" + std::string(keys::kEventsChannel) + " -@all";
    for (const std::string &command : user.role->commands) line += " +" + command;
    file += line + "\n";
  }
  return file;
}

}  // namespace hutch::cli
