#include "supervisor/user_functions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/entry_program.h"
#include "common/open_beneath.h"
#include "common/quote.h"
#include "sandbox/mounts.h"
#include "supervisor/log.h"

namespace hutch {
namespace {

constexpr const char kRecreate[] = "; recreate the function with hutch function update";

// Whether `relative` is a regular file beneath the package's directory (openat2: no link, never out of it).
bool is_package_file(int package_fd, const std::string &relative) {
  if (relative.empty()) return false;
  UniqueFd fd = open_beneath(package_fd, relative, O_PATH);
  struct stat info {};
  return fd && ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string without_dot_slash(const std::string &word) { return word.starts_with("./") ? word.substr(2) : word; }

}  // namespace

struct UserFunctions::Unpack {
  uv_work_t work{};
  PackageCache *cache = nullptr;
  std::weak_ptr<UserFunctions *> owner;
  std::string sha256;
  std::string blob;
  Result<PackageCache::Installed> result = fail(make_error("the unpacking never ran"));
};

struct UserFunctions::Trim {
  uv_work_t work{};
  PackageCache *cache = nullptr;
  std::weak_ptr<UserFunctions *> owner;
  PackageCache::Report report;
};

UserFunctions::UserFunctions(uv_loop_t *loop, RedisConnection &redis, std::string cache_directory, uint64_t cache_bytes)
    : loop_(loop),
      redis_(redis),
      cache_directory_(std::move(cache_directory)),
      cache_bytes_(cache_bytes),
      self_(std::make_shared<UserFunctions *>(this)) {}

UserFunctions::~UserFunctions() = default;

Status UserFunctions::prepare() {
  TRY_ASSIGN(cache_, PackageCache::open(cache_directory_, cache_bytes_));
  usr_fd_.reset(::open("/usr", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!usr_fd_) return fail(errno_error("open('/usr')"));
  PackageCache::Report report = cache_->sweep();
  log_report(report);
  log_info("package cache: " + cache_directory_ + ", " + std::to_string(report.total_bytes) + " bytes of at most " +
           std::to_string(cache_bytes_) + " (--cache-size)");
  return {};
}

void UserFunctions::log_report(const PackageCache::Report &report) {
  for (const std::string &removed : report.removed) log_info("package cache: removed " + removed);
  for (const auto &[sha256, bytes] : report.evicted)
    log_info("package " + sha256.substr(0, 12) + " evicted from the cache (" + std::to_string(bytes) + " bytes)");
  over_bound_ = report.over_bound;
  if (report.over_bound)
    log_warning("package cache: " + std::to_string(report.total_bytes) + " bytes, over its " +
                std::to_string(cache_bytes_) + " (--cache-size): running jobs use the rest; trimmed when they end");
}

void UserFunctions::resolve(const std::string &name, std::function<void(Resolution)> done) {
  if (!disabled_reason_.empty()) {
    done({nullptr, false, "function: " + quote_value(name) + " is not built in here, and " + disabled_reason_});
    return;
  }
  ++pending_;
  auto finish = [this, done](Resolution resolution) {
    --pending_;
    done(std::move(resolution));
  };
  const std::string who = "function " + quote_value(name) + ": ";
  redis_.send(read_definition_command(name), [this, name, who, finish](const redisReply *reply) {
    auto pairs = parse_definition_reply(name, reply);
    if (pairs && !pairs->has_value()) {
      finish({nullptr, true, ""});
      return;
    }
    auto definition = pairs ? definition_from_fields(**pairs, name) : Result<FunctionDefinition>(fail(pairs.error()));
    if (!definition) {
      finish({nullptr, false, who + definition.error().message + kRecreate});
      return;
    }
    FunctionDefinition copy = *definition;
    ensure_package(copy.package_sha256, [this, copy, who, finish](Result<PackageLease> lease) {
      if (!lease) {
        finish({nullptr, false, who + "its package: " + lease.error().message});
        return;
      }
      auto built = build(copy, std::move(*lease));
      if (!built) {
        finish({nullptr, false, who + built.error().message + kRecreate});
        return;
      }
      finish({*built, false, ""});
    });
  });
}

void UserFunctions::ensure_package(const std::string &sha256, LeaseCallback done) {
  if (auto lease = cache_->lease(sha256)) {
    done(std::move(*lease));
    return;
  }
  auto &waiters = waiting_[sha256];
  waiters.push_back(std::move(done));
  if (waiters.size() > 1) return;  // already on its way for another job
  redis_.send(read_blob_command(sha256), [this, sha256](const redisReply *reply) { on_blob(sha256, reply); });
}

void UserFunctions::finish_waiters(const std::string &sha256, const Status &status) {
  auto waiters = std::move(waiting_[sha256]);
  waiting_.erase(sha256);
  for (auto &waiter : waiters) {
    if (!status) {
      waiter(fail(status.error()));
      continue;
    }
    // Each job its own lease; the unpack's own one still holds the package while these are taken.
    auto lease = cache_->lease(sha256);
    if (lease) waiter(std::move(*lease));
    else waiter(fail(make_error("the unpacked package " + sha256 + " is no longer in the cache")));
  }
}

void UserFunctions::on_blob(const std::string &sha256, const redisReply *reply) {
  auto blob = parse_blob_reply(sha256, reply);
  if (!blob) {
    finish_waiters(sha256, fail(blob.error()));
    return;
  }
  auto *unpack = new Unpack;
  unpack->work.data = unpack;
  unpack->cache = cache_.get();
  unpack->owner = self_;
  unpack->sha256 = sha256;
  unpack->blob = std::move(*blob);
  int queued = uv_queue_work(loop_, &unpack->work, unpack_in_thread, after_unpack);
  if (queued != 0) {
    delete unpack;
    finish_waiters(sha256, fail(make_error(std::string("could not queue the unpacking: ") + uv_strerror(queued))));
  }
}

void UserFunctions::unpack_in_thread(uv_work_t *work) {
  auto *unpack = static_cast<Unpack *>(work->data);
  unpack->result = unpack->cache->install(unpack->sha256, unpack->blob);
  std::string().swap(unpack->blob);  // up to 64 MiB, not kept until the loop gets round to it
}

void UserFunctions::after_unpack(uv_work_t *work, int status) {
  std::unique_ptr<Unpack> unpack(static_cast<Unpack *>(work->data));
  auto owner = unpack->owner.lock();
  if (!owner) return;
  UserFunctions &self = **owner;
  Status result = status != 0 ? fail(make_error("the unpacking was cancelled"))
                  : unpack->result ? Status{}
                                   : Status(fail(unpack->result.error()));
  if (unpack->result) {
    log_info("package " + unpack->sha256.substr(0, 12) + " unpacked into " + unpack->result->lease.path());
    self.log_report(unpack->result->report);
  }
  self.finish_waiters(unpack->sha256, result);
}

void UserFunctions::trim_later() {
  if (!over_bound_ || trimming_ || !cache_) return;
  auto *trim = new Trim;
  trim->work.data = trim;
  trim->cache = cache_.get();
  trim->owner = self_;
  if (uv_queue_work(loop_, &trim->work, trim_in_thread, after_trim) != 0) {
    delete trim;  // the next lease to end tries again
    return;
  }
  trimming_ = true;
}

void UserFunctions::trim_in_thread(uv_work_t *work) {
  auto *trim = static_cast<Trim *>(work->data);
  trim->report = trim->cache->trim();
}

void UserFunctions::after_trim(uv_work_t *work, int status) {
  std::unique_ptr<Trim> trim(static_cast<Trim *>(work->data));
  auto owner = trim->owner.lock();
  if (!owner) return;
  (*owner)->trimming_ = false;
  if (status == 0) (*owner)->log_report(trim->report);
}

Result<std::shared_ptr<const ResolvedFunction>> UserFunctions::build(FunctionDefinition definition, PackageLease lease) const {
  const std::string field = keys::function_definition(definition.name) + ": entry " + quote_value(definition.entry);
  auto with_field = [&](const Error &error) { return fail(error.context(field)); };
  auto words = split_entry(definition.entry);
  if (!words) return with_field(words.error());
  const int package_fd = lease.directory_fd();
  FunctionSpec spec;
  spec.name = definition.name;
  spec.package_directory = lease.path();
  spec.package_directory_fd = package_fd;
  spec.name_in_package = definition.function;
  spec.package_name = definition.package;
  // Words naming a file of the package are given as its path in the sandbox; the first word is the
  // program, from the package or else from /usr as the sandbox sees it.
  std::optional<ExecTarget> target;
  for (size_t i = 0; i < words->size(); ++i) {
    const std::string &word = (*words)[i];
    const std::string relative = without_dot_slash(word);
    const bool packaged = is_package_file(package_fd, relative);
    const std::string in_sandbox = std::string(kFunctionPackageDirectory) + "/" + relative;
    if (i == 0) {
      auto opened = [&]() -> Result<ExecTarget> {
        if (packaged) return ExecTarget::open_beneath(package_fd, relative, in_sandbox);
        TRY_ASSIGN(std::string program, resolve_usr_program(word));
        return ExecTarget::open_beneath(usr_fd_.get(), program.substr(std::string("/usr/").size()), program);
      }();
      if (!opened) return with_field(opened.error());
      target.emplace(std::move(*opened));
      spec.argv.push_back(word);
      continue;
    }
    spec.argv.push_back(packaged ? in_sandbox : word);
  }
  spec.executable = target->path();
  std::weak_ptr<UserFunctions *> owner = self_;
  auto on_release = [owner] {
    if (auto alive = owner.lock()) (*alive)->trim_later();
  };
  return std::shared_ptr<const ResolvedFunction>(std::make_shared<ResolvedFunction>(
      std::move(definition), std::move(spec), std::move(*target), std::move(lease), on_release));
}

}  // namespace hutch
