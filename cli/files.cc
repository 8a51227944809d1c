// `hutch put` and `hutch get`: files into and out of Redis keys, byte for byte (redis-cli adds or strips
// newlines depending on how it is called), and the uploads of `submit --file`.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/verbs.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "queue/keys.h"

namespace hutch::cli {
namespace {

// The most a Redis string holds.
constexpr size_t kMaxFileBytes = 512ULL << 20;

Result<std::string> read_local_file(const std::string &path) {
  std::string source = path == "-" ? "/dev/stdin" : path;
  auto content = read_file(source, kMaxFileBytes + 1);
  if (!content) return fail(content.error());
  if (content->size() > kMaxFileBytes)
    return fail(make_error("'" + path + "' is larger than 512 MiB, the most a Redis value holds"));
  return content;
}

// Writes next to the target and renames, so a reader never sees half a file.
Status write_local_file(const std::string &path, const std::string &content) {
  std::string temporary = path + ".hutch-partial";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return fail(errno_error("open('" + temporary + "')"));
  auto written = write_all(fd.get(), content.data(), content.size());
  if (written && ::fsync(fd.get()) != 0) written = fail(errno_error("fsync('" + temporary + "')"));
  if (written && ::rename(temporary.c_str(), path.c_str()) != 0) written = fail(errno_error("rename to '" + path + "'"));
  if (!written) ::unlink(temporary.c_str());
  return written;
}

}  // namespace

Result<int> run_put(RedisClient &redis, const PutOptions &options) {
  auto content = read_local_file(options.path);
  if (!content) return fail(content.error().context("put"));
  TRY_ASSIGN(Reply reply, redis.command({"SET", options.key, *content}));
  std::printf("%s: %zu bytes\n", options.key.c_str(), content->size());
  return 0;
}

Result<int> run_get(RedisClient &redis, const GetOptions &options) {
  TRY_ASSIGN(Reply type, redis.command({"TYPE", options.key}));
  std::string kind = reply_text(type.get());
  if (kind == "none") return fail(make_error("get: key '" + options.key + "' does not exist"));
  if (kind != "string")
    return fail(make_error("get: key '" + options.key + "' holds a " + kind + ", not a file (a string value)"));
  TRY_ASSIGN(Reply reply, redis.command({"GET", options.key}));
  if (reply_is_nil(reply.get())) return fail(make_error("get: key '" + options.key + "' vanished while it was read"));
  std::string content = reply_text(reply.get());
  if (!options.path || *options.path == "-") {
    auto written = write_all(STDOUT_FILENO, content.data(), content.size());
    if (!written) return fail(written.error().context("get: stdout"));
    return 0;
  }
  auto written = write_local_file(*options.path, content);
  if (!written) return fail(written.error().context("get"));
  std::fprintf(stderr, "%s: %zu bytes -> %s\n", options.key.c_str(), content.size(), options.path->c_str());
  return 0;
}

Result<std::string> upload_submit_files(RedisClient &redis, const SubmitOptions &options) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto &[name, path] : options.files) {
    auto content = read_local_file(path);
    if (!content) return fail(content.error().context("submit: --file " + name));
    // Content-addressed: the same bytes sent twice are stored once.
    std::string key = keys::uploaded_file(sha256_hex(*content));
    TRY_ASSIGN(Reply reply, redis.command({"SET", key, *content}));
    files[name] = key;
  }
  return files.dump();
}

}  // namespace hutch::cli
