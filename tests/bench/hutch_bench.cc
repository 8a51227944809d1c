// hutch_bench: how fast a running hutchd turns jobs into final records.
//
// It enqueues N jobs in one pipelined burst (XADD hutch:jobs * function F), waits on the consumer group
// until every entry is delivered and acknowledged (hutchd acks with the final record), then reads the
// records hutch:exec:<id> and reports from them:
//   - jobs/s over records: N / (last finished_at - first enqueued_at). Both clocks are this machine's
//     (enqueued_at comes from the stream id Redis assigned, finished_at from hutchd), so polling delay does not
//     count. This is the number the speed target uses (`per_sec`).
//   - jobs/s over wall clock: N / (first XADD sent -> all records seen final), which includes up to one 20 ms
//     polling interval (`wall_per_sec`).
//   - enqueue-to-start latency p50/p99 (started_at - enqueued_at). In a burst this is mostly queue wait: job k
//     waits for the k-1 before it.
//   - run time p50 (finished_at - started_at), and the count per status.
//
// Polling must not steal the CPU it measures: each round walks the pending ids oldest first in pipelined
// batches of status reads and stops at the first batch where nothing finished (jobs are taken in stream order,
// so later ones are not done either), with a full walk at least once a second in case one was redelivered.
// The other record fields are read once, at the end.
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "queue/keys.h"
#include "queue/redis_url.h"
#include "queue/status.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBatch = 500;

struct Options {
  std::string redis_url;
  int jobs = 2000;
  std::string function = "hello";
  std::string input;        // empty: no input field
  int wait_seconds = 120;
  int concurrency = 0;      // only a label for the summary line; 0: not given
};

void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: hutch_bench [--redis URL] [--jobs N] [--function NAME] [--input JSON] [--wait SECONDS]\n"
               "                   [--concurrency C]\n"
               "\n"
               "Enqueues N jobs (default 2000) of NAME (default hello) on hutch:jobs in one pipelined burst, waits\n"
               "up to SECONDS (default 120) for every record to be final, and prints rates, latencies and statuses.\n"
               "A running hutchd must serve the same Redis. --redis defaults to HUTCH_REDIS, then\n"
               "redis://127.0.0.1:6379. --concurrency only labels the summary line with hutchd's concurrency.\n"
               "Last line: hutch_rate concurrency=C jobs=N per_sec=R wall_per_sec=R p50_start_ms=.. p99_start_ms=..\n"
               "           p50_run_ms=.. succeeded=N\n"
               "Exit status: 0 when every job succeeded, 2 when some did not, 1 on errors and timeouts.\n");
}

bool parse_positive(const char *text, int &value) {
  char *end = nullptr;
  errno = 0;
  long parsed = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || parsed <= 0 || parsed > 10'000'000) return false;
  value = static_cast<int>(parsed);
  return true;
}

// Returns 0 to go on, 1 after a usage error, 2 after printing help.
int parse_options(int argc, char **argv, Options &options) {
  const char *env_url = std::getenv("HUTCH_REDIS");
  options.redis_url = env_url && *env_url ? env_url : "redis://127.0.0.1:6379";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage(stdout);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "hutch_bench: %s needs a value\n", flag.c_str());
      return 1;
    }
    const char *value = argv[++i];
    bool ok = true;
    if (flag == "--redis") options.redis_url = value;
    else if (flag == "--jobs") ok = parse_positive(value, options.jobs);
    else if (flag == "--function") options.function = value;
    else if (flag == "--input") options.input = value;
    else if (flag == "--wait") ok = parse_positive(value, options.wait_seconds);
    else if (flag == "--concurrency") ok = parse_positive(value, options.concurrency);
    else {
      std::fprintf(stderr, "hutch_bench: unknown flag '%s'\n", flag.c_str());
      print_usage(stderr);
      return 1;
    }
    if (!ok) {
      std::fprintf(stderr, "hutch_bench: %s '%s' is not a positive number\n", flag.c_str(), value);
      return 1;
    }
  }
  return 0;
}

struct ContextDeleter {
  void operator()(redisContext *context) const { redisFree(context); }
};
using Connection = std::unique_ptr<redisContext, ContextDeleter>;
struct ReplyDeleter {
  void operator()(redisReply *reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "hutch_bench: %s\n", message.c_str());
  std::exit(1);
}

void append(redisContext *redis, const std::vector<std::string> &args) {
  std::vector<const char *> argv;
  std::vector<size_t> lengths;
  for (const auto &arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(redis, static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK)
    die(std::string("redis: cannot queue ") + args[0] + ": " + redis->errstr);
}

Reply next_reply(redisContext *redis, const char *what) {
  void *raw = nullptr;
  if (redisGetReply(redis, &raw) != REDIS_OK || raw == nullptr)
    die(std::string("redis: ") + what + ": " + redis->errstr);
  Reply reply(static_cast<redisReply *>(raw));
  if (reply->type == REDIS_REPLY_ERROR) die(std::string("redis: ") + what + ": " + reply->str);
  return reply;
}

Connection connect(const std::string &url) {
  auto address = hutch::parse_redis_url(url);
  if (!address) die(address.error().message);
  timeval connect_timeout{5, 0};
  Connection redis(address->is_unix()
                       ? redisConnectUnixWithTimeout(address->unix_path.c_str(), connect_timeout)
                       : redisConnectWithTimeout(address->host.c_str(), address->port, connect_timeout));
  if (!redis) die("redis: cannot allocate a connection");
  if (redis->err) die("redis " + address->describe() + ": " + redis->errstr);
  timeval command_timeout{30, 0};
  redisSetTimeout(redis.get(), command_timeout);
  if (!address->password.empty()) {
    append(redis.get(), {"AUTH", address->password});
    next_reply(redis.get(), "AUTH");
  }
  if (address->database != 0) {
    append(redis.get(), {"SELECT", std::to_string(address->database)});
    next_reply(redis.get(), "SELECT");
  }
  return redis;
}

std::vector<std::string> enqueue(redisContext *redis, const Options &options) {
  std::vector<std::string> ids;
  ids.reserve(options.jobs);
  std::vector<std::string> command = {"XADD", std::string(hutch::keys::kJobsStream), "*",
                                      std::string(hutch::keys::job::kFunction), options.function};
  if (!options.input.empty()) {
    command.emplace_back(hutch::keys::job::kInput);
    command.push_back(options.input);
  }
  for (int sent = 0; sent < options.jobs;) {
    int batch = std::min<int>(kBatch, options.jobs - sent);
    for (int i = 0; i < batch; ++i) append(redis, command);
    for (int i = 0; i < batch; ++i) {
      Reply reply = next_reply(redis, "XADD");
      if (reply->type != REDIS_REPLY_STRING) die("redis: XADD did not answer an id");
      ids.emplace_back(reply->str, reply->len);
    }
    sent += batch;
  }
  return ids;
}

// Waits until every id has a final status; returns false when the deadline passed first.
// hutchd acknowledges an entry in the same MULTI/EXEC as its final record, so "the group has delivered the
// last id and nothing is pending" means every record is final. One XINFO GROUPS per poll keeps the bench's
// own load on the two measured cores (Redis and this client) negligible, unlike reading every record.
bool wait_until_final(redisContext *redis, const std::vector<std::string> &ids, Clock::time_point deadline,
                      size_t &missing) {
  const std::string &last_id = ids.back();
  for (;;) {
    append(redis, {"XINFO", "GROUPS", std::string(hutch::keys::kJobsStream)});
    Reply reply = next_reply(redis, "XINFO GROUPS");
    long long pending = -1;
    std::string last_delivered;
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t g = 0; g < reply->elements; ++g) {
        const redisReply *group = reply->element[g];
        std::map<std::string, const redisReply *> fields;
        for (size_t i = 0; i + 1 < group->elements; i += 2)
          fields[std::string(group->element[i]->str, group->element[i]->len)] = group->element[i + 1];
        const redisReply *name = fields["name"];
        if (name == nullptr || std::string(name->str, name->len) != hutch::keys::kConsumerGroup) continue;
        if (fields["pending"] != nullptr) pending = fields["pending"]->integer;
        if (const redisReply *delivered = fields["last-delivered-id"]; delivered != nullptr)
          last_delivered.assign(delivered->str, delivered->len);
      }
    }
    if (pending == 0 && last_delivered == last_id) {
      missing = 0;
      return true;
    }
    if (Clock::now() >= deadline) {
      // Enough to say how far it got: the records themselves are read (and checked) afterwards.
      missing = pending < 0 ? ids.size() : static_cast<size_t>(pending);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// "2026-11-21T23:30:47.123Z" -> milliseconds since the epoch.
std::optional<long long> parse_iso_ms(const redisReply *reply) {
  if (reply->type != REDIS_REPLY_STRING) return std::nullopt;
  std::string text(reply->str, reply->len);
  std::tm parts{};
  int millis = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                  &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &millis, &consumed) != 7 ||
      consumed != static_cast<int>(text.size()))
    return std::nullopt;
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return static_cast<long long>(timegm(&parts)) * 1000 + millis;
}

struct Record {
  std::string status;
  std::string error;
  std::optional<long long> enqueued_ms, started_ms, finished_ms;
};

std::vector<Record> read_records(redisContext *redis, const std::vector<std::string> &ids) {
  namespace field = hutch::keys::record;
  std::vector<Record> records;
  records.reserve(ids.size());
  for (size_t start = 0; start < ids.size(); start += kBatch) {
    size_t end = std::min(ids.size(), start + kBatch);
    for (size_t i = start; i < end; ++i)
      append(redis, {"HMGET", hutch::keys::execution_record(ids[i]), std::string(field::kStatus),
                     std::string(field::kEnqueuedAt), std::string(field::kStartedAt),
                     std::string(field::kFinishedAt), std::string(field::kError)});
    for (size_t i = start; i < end; ++i) {
      Reply reply = next_reply(redis, "HMGET record");
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5) die("redis: HMGET did not answer 5 values");
      redisReply **values = reply->element;
      Record record;
      if (values[0]->type == REDIS_REPLY_STRING) record.status.assign(values[0]->str, values[0]->len);
      if (values[4]->type == REDIS_REPLY_STRING) record.error.assign(values[4]->str, values[4]->len);
      record.enqueued_ms = parse_iso_ms(values[1]);
      record.started_ms = parse_iso_ms(values[2]);
      record.finished_ms = parse_iso_ms(values[3]);
      records.push_back(std::move(record));
    }
  }
  return records;
}

// Nearest-rank percentile of sorted values; NaN when there are none.
double percentile(const std::vector<double> &sorted, double fraction) {
  if (sorted.empty()) return NAN;
  size_t rank = static_cast<size_t>(std::ceil(fraction * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// Prints the report; returns the exit status.
int report(const Options &options, const std::vector<std::string> &ids, const std::vector<Record> &records,
           double wall_seconds) {
  std::map<std::string, int> per_status;
  std::vector<double> start_ms, run_ms;
  long long first_enqueued = 0, last_finished = 0;
  bool have_span = false;
  size_t missing_times = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record &record = records[i];
    ++per_status[record.status.empty() ? "(no record)" : record.status];
    if (record.status != hutch::status_word(hutch::ExecutionStatus::kSucceeded) && !record.error.empty() &&
        per_status[record.status] <= 3)
      std::fprintf(stderr, "hutch_bench: %s %s: %s\n", ids[i].c_str(), record.status.c_str(), record.error.c_str());
    if (!record.enqueued_ms || !record.finished_ms) {
      ++missing_times;
      continue;
    }
    first_enqueued = have_span ? std::min(first_enqueued, *record.enqueued_ms) : *record.enqueued_ms;
    last_finished = have_span ? std::max(last_finished, *record.finished_ms) : *record.finished_ms;
    have_span = true;
    if (record.started_ms) {
      start_ms.push_back(static_cast<double>(*record.started_ms - *record.enqueued_ms));
      run_ms.push_back(static_cast<double>(*record.finished_ms - *record.started_ms));
    }
  }
  std::sort(start_ms.begin(), start_ms.end());
  std::sort(run_ms.begin(), run_ms.end());
  int jobs = static_cast<int>(ids.size());
  double span_seconds = have_span ? std::max<long long>(last_finished - first_enqueued, 1) / 1000.0 : NAN;
  double per_sec = jobs / span_seconds;
  double wall_per_sec = jobs / wall_seconds;
  int succeeded = per_status[std::string(hutch::status_word(hutch::ExecutionStatus::kSucceeded))];

  std::printf("jobs:                  %d x %s\n", jobs, options.function.c_str());
  std::printf("jobs/s (records):      %.1f  (N / (last finished_at - first enqueued_at) = %d / %.3f s)\n", per_sec,
              jobs, span_seconds);
  std::printf("jobs/s (wall clock):   %.1f  (N / (first XADD sent -> all final seen) = %d / %.3f s)\n",
              wall_per_sec, jobs, wall_seconds);
  std::printf("enqueue->start:        p50 %.0f ms, p99 %.0f ms, max %.0f ms  (burst: mostly queue wait)\n",
              percentile(start_ms, 0.50), percentile(start_ms, 0.99), start_ms.empty() ? NAN : start_ms.back());
  std::printf("start->finish:         p50 %.0f ms, p99 %.0f ms\n", percentile(run_ms, 0.50),
              percentile(run_ms, 0.99));
  for (const auto &[status, count] : per_status) std::printf("status %-15s %d\n", (status + ":").c_str(), count);
  if (missing_times > 0)
    std::printf("records without enqueued_at/finished_at: %zu (left out of the times)\n", missing_times);
  std::string label = options.concurrency > 0 ? " concurrency=" + std::to_string(options.concurrency) : "";
  std::printf("hutch_rate%s jobs=%d per_sec=%.1f wall_per_sec=%.1f p50_start_ms=%.0f p99_start_ms=%.0f "
              "p50_run_ms=%.0f succeeded=%d\n",
              label.c_str(), jobs, per_sec, wall_per_sec, percentile(start_ms, 0.50), percentile(start_ms, 0.99),
              percentile(run_ms, 0.50), succeeded);
  std::fflush(stdout);
  if (succeeded != jobs) {
    std::fprintf(stderr, "hutch_bench: only %d of %d jobs succeeded; the rate above is not a valid result\n",
                 succeeded, jobs);
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  if (int parsed = parse_options(argc, argv, options); parsed != 0) return parsed == 2 ? 0 : 1;
  Connection redis = connect(options.redis_url);

  auto started = Clock::now();
  std::vector<std::string> ids = enqueue(redis.get(), options);
  auto deadline = started + std::chrono::seconds(options.wait_seconds);
  size_t missing = 0;
  if (!wait_until_final(redis.get(), ids, deadline, missing)) {
    std::fprintf(stderr,
                 "hutch_bench: timeout: %zu of %zu jobs have no final record after %d s (is a hutchd serving this "
                 "Redis, with function '%s'?)\n",
                 missing, ids.size(), options.wait_seconds, options.function.c_str());
    return 1;
  }
  double wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report(options, ids, read_records(redis.get(), ids), wall_seconds);
}
