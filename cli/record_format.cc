#include "cli/record_format.h"

#include <algorithm>
#include <array>
#include <optional>
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

// The text as a JSON value, unless it is not JSON or nests deeper than kMaxEmbeddedDepth. nlohmann's parser
// and its destructor work with heap stacks whatever the depth; the callback keeps the tree itself shallow,
// so dump() and copies, which recurse, stay bounded.
std::optional<nlohmann::ordered_json> parse_shallow(const std::string &text) {
  bool too_deep = false;
  using Event = nlohmann::ordered_json::parse_event_t;
  // `depth` counts the containers around the event: one more array or object here would be one too many.
  auto limit_depth = [&too_deep](int depth, Event event, nlohmann::ordered_json &) {
    if ((event == Event::array_start || event == Event::object_start) && depth >= kMaxEmbeddedDepth) too_deep = true;
    return !too_deep;
  };
  auto parsed = nlohmann::ordered_json::parse(text, limit_depth, /*allow_exceptions=*/false);
  if (too_deep || parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// The value as a JSON number when it is one, else as the string it is.
nlohmann::ordered_json number_or_string(const std::string &text) {
  auto parsed = parse_shallow(text);
  if (parsed && parsed->is_number()) return std::move(*parsed);
  return text;
}

nlohmann::ordered_json json_or_string(const std::string &text) {
  auto parsed = parse_shallow(text);
  if (!parsed) return text;
  return std::move(*parsed);
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

std::string format_record_text(const FieldList &record, Output output) {
  std::string text;
  for (const auto &[field, stored] : ordered_record_fields(record)) {
    text += shown(field, output) + ": ";
    std::string value = shown(stored, output, Layout::kMultiLine);
    for (size_t i = 0; i < value.size(); ++i) {
      text += value[i];
      if (value[i] == '\n' && i + 1 < value.size()) text += "  ";
    }
    text += '\n';
  }
  return text;
}

std::string format_record_json(const FieldList &record, Output output) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto &[field, value] : ordered_record_fields(record)) {
    if (is_numeric_field(field))
      object[field] = number_or_string(value);
    else if (field == record::kInput || field == record::kOutput)
      object[field] = json_or_string(value);
    else
      object[field] = value;
  }
  // Values are bytes from Redis; replacing invalid UTF-8 keeps dump() from throwing on them. JSON escapes C0
  // controls itself; ensure_ascii also covers DEL, C1 and the bidi controls a terminal would obey.
  return object.dump(-1, ' ', /*ensure_ascii=*/output == Output::kEscaped,
                     nlohmann::ordered_json::error_handler_t::replace);
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

std::string format_execution_table(const std::vector<ExecutionRow> &rows, Output output) {
  using Cells = std::array<std::string, 5>;
  std::vector<Cells> lines{{"ID", "FUNCTION", "STATUS", "DURATION", "ENQUEUED_AT"}};
  for (const auto &row : rows) {
    lines.push_back({shown(row.id, output), shown(row.function, output), shown(row.status, output),
                     shown(row.duration, output), shown(row.enqueued_at, output)});
  }
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
