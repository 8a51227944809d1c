#include "catalog/entry_program.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <vector>

#include "common/open_beneath.h"
#include "common/quote.h"

namespace hutch {
namespace {

// The kernel's own limit on links followed in one lookup.
constexpr int kMaxLinks = 40;
constexpr const char kWhereFrom[] = "the program must be a file of the package or a program under /usr";

using Parts = std::vector<std::string>;

Parts components(const std::string &path) {
  Parts parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string joined(const Parts &parts) {
  std::string path;
  for (const std::string &part : parts) path += "/" + part;
  return path.empty() ? "/" : path;
}

// '.' and '..' applied to the text, from the root, as the kernel walks an absolute path with no links.
Parts normalised(const Parts &parts) {
  Parts out;
  for (const std::string &part : parts) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(part);
  }
  return out;
}

// Whether the job's skeleton shows `parts` (from the root) as the host has them (sandbox/mounts.cc).
bool shown_to_sandbox(const Parts &parts) {
  if (parts.empty()) return true;
  const std::string &top = parts[0];
  if (top == "usr") return true;
  if (top == "etc") return parts.size() == 1 || parts[1] == "alternatives";
  for (const char *linked : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    if (top == linked) return true;
  }
  return false;
}

bool under_usr(const Parts &parts) { return parts.size() >= 2 && parts[0] == "usr"; }

std::string mode_text(mode_t mode) {
  char text[8];
  snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// How a sentence starts: "'/bin/x' is" when the word is the path, "'x' leads to '/usr/bin/y'," otherwise.
std::string subject(const std::string &word, const std::string &path) {
  if (word == path) return quote_value(word) + " is";
  return quote_value(word) + " leads to " + quote_value(path) + ",";
}

// "'/bin/x' does not exist", or "'x' leads to '/usr/bin/y', which does not exist".
std::string which(const std::string &word, const std::string &path, const std::string &predicate) {
  if (word == path) return quote_value(word) + " " + predicate;
  return quote_value(word) + " leads to " + quote_value(path) + ", which " + predicate;
}

class Walk {
 public:
  explicit Walk(std::string word) : word_(std::move(word)) {}

  // Follows `start` (absolute) component by component; the final path, or why not.
  Result<std::string> run(const std::string &start) {
    Parts whole = normalised(components(start));
    if (!shown_to_sandbox(whole)) return fail(outside(joined(whole)));
    std::deque<std::string> pending(whole.begin(), whole.end());
    Parts done;
    struct stat info {};
    info.st_mode = S_IFDIR | 0755;  // the root
    while (!pending.empty()) {
      std::string part = std::move(pending.front());
      pending.pop_front();
      if (part == ".") continue;
      if (part == "..") {
        if (!done.empty()) done.pop_back();
        continue;
      }
      done.push_back(std::move(part));
      if (!shown_to_sandbox(done)) {
        Parts rest = done;
        rest.insert(rest.end(), pending.begin(), pending.end());
        return fail(outside(joined(normalised(rest))));
      }
      const std::string path = joined(done);
      if (::lstat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) return fail(make_error(which(word_, path, "does not exist")));
        return fail(errno_error(quote_value(word_) + ": lstat(" + quote_value(path) + ")"));
      }
      if (S_ISLNK(info.st_mode)) {
        TRY_STATUS(follow(path, done, pending));
        continue;
      }
      if (pending.empty()) break;
      if (!S_ISDIR(info.st_mode)) return fail(make_error(which(word_, path, "is not a directory")));
      // The sandbox's users are neither the owner nor in the group of anything in /usr: "others" decides.
      if ((info.st_mode & S_IXOTH) == 0)
        return fail(make_error(quote_value(word_) + " cannot be reached by the sandbox's users: " + quote_value(path) +
                               " has mode " + mode_text(info.st_mode)));
    }
    const std::string final_path = joined(done);
    if (!under_usr(done)) return fail(outside(final_path));
    if (!S_ISREG(info.st_mode))
      return fail(make_error(subject(word_, final_path) + " " + file_type_name(info.st_mode) + ", not a regular file"));
    if ((info.st_mode & S_IXOTH) == 0)
      return fail(make_error(subject(word_, final_path) + " not executable by the sandbox's users (mode " +
                             mode_text(info.st_mode) + ")"));
    return final_path;
  }

 private:
  Status follow(const std::string &path, Parts &done, std::deque<std::string> &pending) {
    if (++links_ > kMaxLinks)
      return fail(make_error(quote_value(word_) + " goes through more than " + std::to_string(kMaxLinks) +
                             " symbolic links"));
    char target[4096];
    ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
    if (length <= 0) return fail(errno_error(quote_value(word_) + ": readlink(" + quote_value(path) + ")"));
    std::string text(target, static_cast<size_t>(length));
    done.pop_back();  // a relative link is read from the link's own directory
    if (text[0] == '/') done.clear();
    Parts parts = components(text);
    pending.insert(pending.begin(), parts.begin(), parts.end());
    return {};
  }

  Error outside(const std::string &path) const {
    return make_error(subject(word_, path) + " outside /usr; " + kWhereFrom);
  }

  std::string word_;
  int links_ = 0;
};

}  // namespace

Result<std::string> resolve_usr_program(const std::string &word) {
  if (word.find('/') == std::string::npos) {
    for (const char *directory : kEntrySearchPath) {
      std::string candidate = std::string(directory) + "/" + word;
      struct stat info {};
      if (word == "." || word == ".." || ::lstat(candidate.c_str(), &info) != 0) continue;
      return Walk(word).run(candidate);
    }
  } else if (word[0] == '/') {
    return Walk(word).run(word);
  }
  return fail(make_error(quote_value(word) +
                         " is neither a file of the package nor a program in /usr/local/bin, /usr/bin or /bin"));
}

}  // namespace hutch
