// hutch's roles as Redis ACL users (docs/security.md, "Roles"): the one table that says which commands,
// keys and channel each role may use, and the Redis 7.0 ACL file lines made from it (`hutch acl`). Redis
// enforces them, so a stolen password reaches what its role reaches and nothing more. Pure: no Redis, no
// files; the verb (cli/acl.cc) finds the passwords.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace hutch::cli {

enum class KeyAccess { kRead, kWrite, kReadWrite };  // %R~, %W~, %RW~

struct KeyRule {
  KeyAccess access;
  std::string pattern;  // a Redis glob: "hutch:exec:*"
};

struct AclRole {
  std::string name;                   // "submitter": the user is <prefix><name>
  std::vector<std::string> commands;  // "xadd", "xinfo|groups": every command its programs send, sorted
  std::vector<KeyRule> keys;
  KeyAccess data_access;              // on each --data-prefix (the deployment's own input and output keys)
};

// submitter, operator, supervisor, viewer.
const std::vector<AclRole> &acl_roles();

// A data prefix (`hutch acl --data-prefix`): where input and output files may live besides hutch's uploads
// and outputs. Printable, no spaces or glob characters, and apart from hutch: (neither under it nor a
// start of it: "hu" would make "hu*" cover every key of hutch's).
Status check_data_prefix(const std::string &prefix);
// The user names' prefix: letters, digits, '-', '_', '.', ':' (a user name in an ACL file has no spaces).
Status check_user_prefix(const std::string &prefix);

struct AclUser {
  const AclRole *role;
  std::string name;             // "hutch-submitter"
  std::string password_sha256;  // lowercase hex of the password's SHA-256: the file never holds a password
};

// The ACL file: the default user off (no connection without a password does anything), then one line per
// user. Redis 7.0 loads it with `aclfile`; the format has no comments.
std::string acl_file_text(const std::vector<AclUser> &users, const std::vector<std::string> &data_prefixes);

}  // namespace hutch::cli
