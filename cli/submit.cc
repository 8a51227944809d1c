// `hutch submit`: one XADD to hutch:jobs. Values go to hutchd as typed; hutchd validates them and a
// rejected job's record says why, which `--wait` prints.
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/execution_lookup.h"
#include "cli/log_follow.h"
#include "cli/status_words.h"
#include "cli/verbs.h"
#include "common/file_io.h"
#include "queue/keys.h"
#include "queue/status.h"

namespace hutch::cli {
namespace {

// hutchd accepts 1 MiB of input; a larger file is still sent so the rejection names the real size rule,
// but reading stops somewhere so `@/dev/zero` cannot eat the machine.
constexpr size_t kMaxInputFileBytes = 64 << 20;
constexpr auto kRecordPollInterval = std::chrono::milliseconds(100);
constexpr int kRecordPolls = 20;

// After the eof entry the record may lag behind it by a moment; wait a little for its final status.
Result<FieldList> await_final_record(RedisClient &redis, const std::string &id) {
  for (int poll = 0;; ++poll) {
    TRY_ASSIGN(FieldList record, fetch_record(redis, id));
    auto status = field_value(record, keys::record::kStatus);
    if ((status && is_final_status_word(*status)) || poll >= kRecordPolls) return record;
    std::this_thread::sleep_for(kRecordPollInterval);
  }
}

}  // namespace

Status resolve_submit_input(SubmitOptions &options) {
  if (!options.input || !options.input->starts_with("@")) return {};
  std::string path = options.input->substr(1);
  if (path == "-") path = "/dev/stdin";
  auto text = read_file(path, kMaxInputFileBytes + 1);
  if (!text) return fail(text.error().context("submit: cannot read the input file"));
  if (text->size() > kMaxInputFileBytes)
    return fail(make_error("submit: input file '" + path + "' is larger than 64 MiB"));
  options.input = std::move(*text);
  return {};
}

Result<int> run_submit(RedisClient &redis, const SubmitOptions &options) {
  std::vector<std::string> command{"XADD", std::string(keys::kJobsStream), "*", std::string(keys::job::kFunction),
                                   options.function};
  std::optional<std::string> files;
  if (!options.files.empty()) {
    TRY_ASSIGN(std::string uploaded, upload_submit_files(redis, options));
    files = std::move(uploaded);
  }
  for (auto [field, value] : {std::pair{keys::job::kInput, &options.input},
                              std::pair{keys::job::kTimeout, &options.timeout},
                              std::pair{keys::job::kMemory, &options.memory},
                              std::pair{keys::job::kCpu, &options.cpu},
                              std::pair{keys::job::kFiles, static_cast<const std::optional<std::string> *>(&files)},
                              std::pair{keys::job::kOut, &options.out}}) {
    if (!*value) continue;
    command.emplace_back(field);
    command.push_back(**value);
  }
  TRY_ASSIGN(Reply reply, redis.command(command));
  const std::string id = reply_text(reply.get());
  std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  if (!options.wait) return 0;

  const Output output = output_for(options.raw);
  TRY_ASSIGN(auto eof_status, print_execution_logs(redis, id, /*follow=*/true, output));
  TRY_ASSIGN(FieldList record, await_final_record(redis, id));
  if (record.empty()) record = {{std::string(keys::record::kId), id}};
  auto record_status = field_value(record, keys::record::kStatus);
  if (!record_status && eof_status) record.emplace_back(keys::record::kStatus, *eof_status);
  print_record(record, /*json=*/false, output);
  // The record is the truth once it is final; the eof entry speaks for it if the record lags behind.
  std::string status = record_status && is_final_status_word(*record_status) ? *record_status
                                                                               : eof_status.value_or("");
  return status == status_word(ExecutionStatus::kSucceeded) ? 0 : 1;
}

}  // namespace hutch::cli
