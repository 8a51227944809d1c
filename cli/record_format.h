// How execution records look to users: `field: value` lines, one JSON object, and the `ls` table. Pure
// functions over field lists so the formats are unit-tested without Redis.
#pragma once

#include <string>
#include <vector>

#include "cli/fields.h"
#include "cli/shown.h"

namespace hutch::cli {

// The record's fields in reading order: what ran and how it ended first (id, function, status, error,
// output, duration, ...), then limits and times; fields the protocol does not name come last, sorted.
FieldList ordered_record_fields(const FieldList &record);

// One `field: value` per line in ordered_record_fields order. Continuation lines of a multi-line value are
// indented so every line still starts with either a field name or whitespace. Escaped: every control
// character but tab and newline shows as an escape.
std::string format_record_text(const FieldList &record, Output output = Output::kEscaped);

// One JSON object on one line, fields in the same order. Numeric protocol fields become JSON numbers;
// `input` and `output` are embedded as JSON when they parse and nest at most kMaxEmbeddedDepth arrays and
// objects deep, else
// kept as strings. Escaped: ASCII only (\u001b, \u00e9, ...); raw: UTF-8 as stored. Bytes that are not
// UTF-8 become U+FFFD either way.
std::string format_record_json(const FieldList &record, Output output = Output::kEscaped);

// A value nested deeper than this is not embedded: building and printing a JSON tree recurses once per level,
// and the function chose the depth (400,000 levels fit in its 1 MiB of output).
inline constexpr int kMaxEmbeddedDepth = 256;

// What `status` shows for a job still in hutch:jobs without a record.
FieldList queued_record(const StreamEntry &job);

struct ExecutionRow {
  std::string id;
  std::string function;
  std::string status;
  std::string duration;
  std::string enqueued_at;
};

// Aligned columns with a header line; an empty value shows as `-`. Escaped: each cell stays one line.
std::string format_execution_table(const std::vector<ExecutionRow> &rows, Output output = Output::kEscaped);

}  // namespace hutch::cli
