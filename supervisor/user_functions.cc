#include "supervisor/user_functions.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/sha256.h"
#include "catalog/package.h"
#include "sandbox/mounts.h"
#include "supervisor/log.h"

namespace hutch {
namespace {

namespace fs = std::filesystem;

// Where a word of the entry that is no file of the package is looked for, on the host as in the sandbox.
constexpr const char *kSearchPath[] = {"/usr/local/bin", "/usr/bin", "/bin"};

bool is_file_in(const std::string &directory, const std::string &relative) {
  if (relative.empty() || relative[0] == '/' || relative.find("..") != std::string::npos) return false;
  struct stat info {};
  return ::stat((directory + "/" + relative).c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

FieldPairs reply_pairs(const redisReply *reply) {
  FieldPairs pairs;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return pairs;
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    pairs.emplace_back(std::string(reply->element[i]->str, reply->element[i]->len),
                       std::string(reply->element[i + 1]->str, reply->element[i + 1]->len));
  }
  return pairs;
}

}  // namespace

struct UserFunctions::Unpack {
  uv_work_t work{};
  UserFunctions *owner = nullptr;
  std::string sha256;
  std::string blob;
  std::string directory;
  Status result;
};

UserFunctions::UserFunctions(uv_loop_t *loop, RedisConnection &redis, std::string cache_directory)
    : loop_(loop), redis_(redis), cache_directory_(std::move(cache_directory)) {}

Status UserFunctions::prepare() {
  std::error_code error;
  fs::create_directories(cache_directory_, error);
  if (error) return fail(make_error("package cache '" + cache_directory_ + "': " + error.message()));
  // Readable by the sandbox users (through the read-only mount), writable only by hutchd.
  if (::chmod(cache_directory_.c_str(), 0755) != 0) return fail(errno_error("chmod('" + cache_directory_ + "')"));
  // Half-unpacked leftovers of a crash: never used (their names are not checksums), removed here.
  for (const auto &entry : fs::directory_iterator(cache_directory_, error)) {
    if (entry.path().filename().string().starts_with(".unpacking-")) fs::remove_all(entry.path(), error);
  }
  return {};
}

void UserFunctions::resolve(const std::string &name, std::function<void(Resolution)> done) {
  if (!disabled_reason_.empty()) {
    done({nullptr, false, "function: '" + name + "' is not built in here, and " + disabled_reason_});
    return;
  }
  ++pending_;
  auto finish = [this, done](Resolution resolution) {
    --pending_;
    done(std::move(resolution));
  };
  redis_.send({"HGETALL", keys::function_definition(name)}, [this, name, finish](const redisReply *reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
      finish({nullptr, false, "could not read the definition of function '" + name + "': " + reply_string(reply)});
      return;
    }
    if (reply->elements == 0) {
      finish({nullptr, true, ""});
      return;
    }
    auto definition = definition_from_fields(reply_pairs(reply));
    if (!definition) {
      finish({nullptr, false, "function '" + name + "': " + definition.error().message + "; recreate it"});
      return;
    }
    FunctionDefinition copy = *definition;
    ensure_package(copy, [this, copy, finish](Status ready) {
      if (!ready) {
        finish({nullptr, false, "function '" + copy.name + "': its package: " + ready.error().message});
        return;
      }
      auto built = build(copy);
      if (!built) {
        finish({nullptr, false, "function '" + copy.name + "': " + built.error().message});
        return;
      }
      finish({*built, false, ""});
    });
  });
}

void UserFunctions::ensure_package(const FunctionDefinition &definition, std::function<void(Status)> done) {
  const std::string &sha256 = definition.package_sha256;
  struct stat info {};
  if (::stat(package_directory(sha256).c_str(), &info) == 0) {
    done({});
    return;
  }
  auto &waiters = waiting_[sha256];
  waiters.push_back(std::move(done));
  if (waiters.size() > 1) return;  // already on its way for another job
  redis_.send({"GET", keys::package_blob(sha256)}, [this, sha256](const redisReply *reply) { on_blob(sha256, reply); });
}

void UserFunctions::on_blob(const std::string &sha256, const redisReply *reply) {
  auto finish_all = [this, sha256](Status status) {
    auto waiters = std::move(waiting_[sha256]);
    waiting_.erase(sha256);
    for (auto &waiter : waiters) waiter(status);
  };
  if (reply == nullptr || reply->type != REDIS_REPLY_STRING) {
    finish_all(fail(make_error("hutch:blob:" + sha256 + " is missing from Redis; update the function with its code again")));
    return;
  }
  auto *unpack = new Unpack;
  unpack->work.data = unpack;
  unpack->owner = this;
  unpack->sha256 = sha256;
  unpack->blob.assign(reply->str, reply->len);
  unpack->directory = package_directory(sha256);
  int queued = uv_queue_work(loop_, &unpack->work, unpack_in_thread, after_unpack);
  if (queued != 0) {
    delete unpack;
    finish_all(fail(make_error(std::string("could not queue the unpacking: ") + uv_strerror(queued))));
  }
}

void UserFunctions::unpack_in_thread(uv_work_t *work) {
  auto *unpack = static_cast<Unpack *>(work->data);
  unpack->result = [&]() -> Status {
    if (sha256_hex(unpack->blob) != unpack->sha256)
      return fail(make_error("the stored package does not match its checksum " + unpack->sha256));
    TRY_ASSIGN(auto entries, read_package_archive(unpack->blob));
    std::string staging = fs::path(unpack->directory).parent_path().string() + "/.unpacking-" + unpack->sha256 + "-" +
                          std::to_string(::getpid());
    std::error_code error;
    fs::remove_all(staging, error);
    if (!fs::create_directory(staging, error) || ::chmod(staging.c_str(), 0755) != 0)
      return fail(make_error("create '" + staging + "': " + (error ? error.message() : "failed")));
    auto unpacked = unpack_package(entries, staging);
    if (unpacked && ::rename(staging.c_str(), unpack->directory.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST)
      unpacked = fail(errno_error("rename into '" + unpack->directory + "'"));
    fs::remove_all(staging, error);  // gone after the rename; left only when another won the race
    return unpacked;
  }();
}

void UserFunctions::after_unpack(uv_work_t *work, int status) {
  std::unique_ptr<Unpack> unpack(static_cast<Unpack *>(work->data));
  Status result = status == 0 ? std::move(unpack->result) : fail(make_error("the unpacking was cancelled"));
  if (result) log_info("package " + unpack->sha256.substr(0, 12) + " unpacked into " + unpack->directory);
  auto waiters = std::move(unpack->owner->waiting_[unpack->sha256]);
  unpack->owner->waiting_.erase(unpack->sha256);
  for (auto &waiter : waiters) waiter(result);
}

Result<std::shared_ptr<const ResolvedFunction>> UserFunctions::build(FunctionDefinition definition) const {
  std::string directory = package_directory(definition.package_sha256);
  TRY_ASSIGN(std::vector<std::string> words, split_entry(definition.entry));
  FunctionSpec spec;
  spec.name = definition.name;
  spec.package_directory = directory;
  spec.name_in_package = definition.function;
  spec.package_name = definition.package;
  // Words naming a file of the package are given as its path in the sandbox; the first word is the
  // program, from the package or else the host's /usr.
  std::string host_program, sandbox_program;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string word = words[i];
    if (word.starts_with("./")) word = word.substr(2);
    bool packaged = is_file_in(directory, word);
    if (i == 0) {
      if (packaged) {
        host_program = directory + "/" + word;
        sandbox_program = std::string(kFunctionPackageDirectory) + "/" + word;
      } else if (words[0].find('/') != std::string::npos) {
        host_program = sandbox_program = words[0];
      } else {
        for (const char *search : kSearchPath) {
          std::string candidate = std::string(search) + "/" + words[0];
          if (::access(candidate.c_str(), X_OK) == 0) {
            host_program = sandbox_program = candidate;
            break;
          }
        }
      }
      bool visible_in_sandbox = host_program.starts_with(directory) || host_program.starts_with("/usr/") ||
                                host_program.starts_with("/bin/");
      if (host_program.empty() || !visible_in_sandbox)
        return fail(make_error("entry '" + definition.entry + "': '" + words[0] +
                               "' is neither a file of the package nor a program in /usr/local/bin, /usr/bin or /bin"));
      spec.argv.push_back(words[0]);
      continue;
    }
    spec.argv.push_back(packaged ? std::string(kFunctionPackageDirectory) + "/" + word : words[i]);
  }
  spec.executable = sandbox_program;
  TRY_ASSIGN(ExecTarget target, ExecTarget::open(host_program, sandbox_program));
  auto resolved = std::make_shared<ResolvedFunction>(ResolvedFunction{std::move(definition), std::move(spec), std::move(target)});
  return std::shared_ptr<const ResolvedFunction>(std::move(resolved));
}

}  // namespace hutch
