#include "cli/record_format.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cli/execution_id.h"
#include "queue/keys.h"
#include "queue/status.h"

namespace hutch::cli {
namespace {

namespace record = keys::record;

constexpr std::string_view kFieldOrder[] = {
    record::kId,          record::kFunction,    record::kStatus,        record::kError,     record::kOutput,
    record::kDuration,    record::kExitCode,    record::kSignal,        record::kInput,     record::kTimeout,
    record::kMemoryLimit, record::kCpuLimit,    record::kEnqueuedAt,    record::kStartedAt, record::kFinishedAt,
    record::kCpuTime,     record::kMemoryPeak,  record::kLogsTruncated, record::kWorker,    record::kAttempt,
    record::kLimits,
};

constexpr std::string_view kNumericFields[] = {
    record::kTimeout,  record::kMemoryLimit, record::kCpuLimit,   record::kDuration,
    record::kExitCode, record::kCpuTime,     record::kMemoryPeak, record::kLogsTruncated, record::kAttempt,
};

size_t rank(const std::string &field) {
  auto found = std::find(std::begin(kFieldOrder), std::end(kFieldOrder), field);
  return static_cast<size_t>(found - std::begin(kFieldOrder));
}

bool is_numeric_field(const std::string &field) {
  return std::find(std::begin(kNumericFields), std::end(kNumericFields), field) != std::end(kNumericFields);
}

// The value as a JSON number when it is one, else as the string it is.
nlohmann::ordered_json number_or_string(const std::string &text) {
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_number()) return parsed;
  return text;
}

nlohmann::ordered_json json_or_string(const std::string &text) {
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

}  // namespace

FieldList ordered_record_fields(const FieldList &record) {
  FieldList ordered = record;
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto &left, const auto &right) {
    size_t left_rank = rank(left.first), right_rank = rank(right.first);
    if (left_rank != right_rank) return left_rank < right_rank;
    return left.first < right.first;  // both unknown: alphabetical, so the order is stable across runs
  });
  return ordered;
}

std::string format_record_text(const FieldList &record) {
  std::string text;
  for (const auto &[field, value] : ordered_record_fields(record)) {
    text += field + ": ";
    for (size_t i = 0; i < value.size(); ++i) {
      text += value[i];
      if (value[i] == '\n' && i + 1 < value.size()) text += "  ";
    }
    text += '\n';
  }
  return text;
}

std::string format_record_json(const FieldList &record) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto &[field, value] : ordered_record_fields(record)) {
    if (is_numeric_field(field))
      object[field] = number_or_string(value);
    else if (field == record::kInput || field == record::kOutput)
      object[field] = json_or_string(value);
    else
      object[field] = value;
  }
  // Values are bytes from Redis; replacing invalid UTF-8 keeps dump() from throwing on them.
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

FieldList queued_record(const StreamEntry &job) {
  FieldList fields{{std::string(record::kId), job.id}};
  if (auto function = field_value(job.fields, keys::job::kFunction))
    fields.emplace_back(record::kFunction, *function);
  fields.emplace_back(record::kStatus, status_word(ExecutionStatus::kQueued));
  if (auto input = field_value(job.fields, keys::job::kInput)) fields.emplace_back(record::kInput, *input);
  if (auto id = parse_stream_id(job.id))
    fields.emplace_back(record::kEnqueuedAt, iso_time_from_milliseconds(id->milliseconds));
  return fields;
}

std::string format_execution_table(const std::vector<ExecutionRow> &rows) {
  using Cells = std::array<std::string, 5>;
  std::vector<Cells> lines{{"ID", "FUNCTION", "STATUS", "DURATION", "ENQUEUED_AT"}};
  for (const auto &row : rows) lines.push_back({row.id, row.function, row.status, row.duration, row.enqueued_at});
  std::array<size_t, 5> widths{};
  for (auto &cells : lines) {
    for (size_t column = 0; column < cells.size(); ++column) {
      if (cells[column].empty()) cells[column].push_back('-');
      widths[column] = std::max(widths[column], cells[column].size());
    }
  }
  std::string table;
  for (const auto &cells : lines) {
    for (size_t column = 0; column < cells.size(); ++column) {
      table += cells[column];
      if (column + 1 < cells.size()) table += std::string(widths[column] - cells[column].size() + 2, ' ');
    }
    table += '\n';
  }
  return table;
}

}  // namespace hutch::cli
