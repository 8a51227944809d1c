// `hutch acl`: prints a Redis ACL file with one user per role (cli/acl_file.h, docs/security.md). Each role's
// password lives in a file of its own, made with 32 random bytes when it is missing, so the command can run
// again (a new data prefix, a new hutch version's commands) without changing anyone's password. The ACL file
// holds only the passwords' SHA-256.
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/acl_file.h"
#include "cli/verbs.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace hutch::cli {
namespace {

constexpr size_t kPasswordBytes = 32;

std::string role_names() {
  std::string names;
  for (const AclRole &role : acl_roles()) names += (names.empty() ? "" : ", ") + role.name;
  return names;
}

Result<std::string> random_password() {
  unsigned char bytes[kPasswordBytes];
  size_t filled = 0;
  while (filled < sizeof bytes) {
    ssize_t got = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fail(errno_error("getrandom"));
    filled += static_cast<size_t>(got);
  }
  // Hex: nothing in it needs percent-encoding in a redis:// URL.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string password;
  for (unsigned char byte : bytes) {
    password.push_back(kHex[byte >> 4]);
    password.push_back(kHex[byte & 0x0f]);
  }
  return password;
}

// The password in `path` (its first line), or a new one written there, readable by its owner only.
Result<std::string> password_from(const std::string &path, bool &made) {
  made = false;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    TRY_ASSIGN(std::string content, read_file(path, 4096));
    std::string password = content.substr(0, content.find('\n'));
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty())
      return fail(make_error("acl: '" + path + "' holds no password on its first line; write one, or remove the "
                             "file to have one made"));
    if ((info.st_mode & 077) != 0)
      std::fprintf(stderr, "hutch acl: warning: '%s' can be read by other users; chmod 600 it\n", path.c_str());
    return password;
  }
  if (errno != ENOENT) return fail(errno_error("acl: stat('" + path + "')"));
  TRY_ASSIGN(std::string password, random_password());
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return fail(errno_error("acl: create '" + path + "'"));
  std::string line = password + "\n";
  TRY_STATUS(write_all(fd.get(), line.data(), line.size()));
  made = true;
  return password;
}

// ROLE -> file: --password-file first, then <--password-dir>/<role>.
Result<std::map<std::string, std::string>> password_paths(const AclOptions &options) {
  std::map<std::string, std::string> paths;
  for (const auto &[role, path] : options.password_files) {
    bool known = std::any_of(acl_roles().begin(), acl_roles().end(), [&](const AclRole &r) { return r.name == role; });
    if (!known) return fail(make_error("acl: --password-file: '" + role + "' is not a role; the roles are " + role_names()));
    if (!paths.emplace(role, path).second)
      return fail(make_error("acl: --password-file: the " + role + " role is given twice"));
  }
  for (const AclRole &role : acl_roles()) {
    if (paths.contains(role.name)) continue;
    if (!options.password_dir)
      return fail(make_error("acl: where is the " + role.name + " user's password? Give --password-dir DIR (one file "
                             "per role, made with a random password when missing) or --password-file " + role.name +
                             "=FILE"));
    paths[role.name] = *options.password_dir + "/" + role.name;
  }
  return paths;
}

}  // namespace

Result<int> run_acl(const AclOptions &options) {
  TRY_STATUS(check_user_prefix(options.user_prefix));
  for (const std::string &prefix : options.data_prefixes) TRY_STATUS(check_data_prefix(prefix));
  TRY_ASSIGN(auto paths, password_paths(options));
  if (options.password_dir) {
    // Made with the folders above it; the password folder itself is its owner's only.
    std::error_code error;
    if (std::filesystem::create_directories(*options.password_dir, error) &&
        ::chmod(options.password_dir->c_str(), 0700) != 0)
      return fail(errno_error("acl: chmod('" + *options.password_dir + "')"));
    if (error) return fail(make_error("acl: create '" + *options.password_dir + "': " + error.message()));
  }

  std::vector<AclUser> users;
  std::string summary;
  for (const AclRole &role : acl_roles()) {
    const std::string &path = paths.at(role.name);
    bool made = false;
    TRY_ASSIGN(std::string password, password_from(path, made));
    users.push_back({&role, options.user_prefix + role.name, sha256_hex(password)});
    summary += "  " + users.back().name + ": password in " + path + (made ? " (new)" : "") + "\n";
  }
  std::string file = acl_file_text(users, options.data_prefixes);
  std::fwrite(file.data(), 1, file.size(), stdout);
  std::fflush(stdout);
  std::fprintf(stderr,
               "hutch acl: the users, for redis://USER:PASSWORD@HOST:PORT in HUTCH_REDIS (docs/security.md):\n%s",
               summary.c_str());
  return 0;
}

}  // namespace hutch::cli
