// Every Redis key, field and status word of hutch's public interface, mirrored in docs/protocol.md.
// Users script against these names: change them only together with that document.
#pragma once

#include <string>
#include <string_view>

namespace hutch::keys {

inline constexpr std::string_view kJobsStream = "hutch:jobs";
inline constexpr std::string_view kConsumerGroup = "hutchd";
inline constexpr std::string_view kExecutionsIndex = "hutch:execs";
inline constexpr std::string_view kEventsChannel = "hutch:events";

inline std::string execution_record(std::string_view id) { return "hutch:exec:" + std::string(id); }
inline std::string execution_logs(std::string_view id) { return "hutch:logs:" + std::string(id); }
// Every key under this prefix is hutch's own. A job's input files may be read from only two kinds of them
// (uploads and earlier outputs), and its output files written only under its own default prefix: hutchd's
// Redis rights reach the others, and a job must not borrow them (docs/protocol.md, "Files").
inline constexpr std::string_view kReservedPrefix = "hutch:";
inline constexpr std::string_view kUploadPrefix = "hutch:upload:";
inline constexpr std::string_view kOutputPrefix = "hutch:out:";

// `hutch submit --file` uploads: named by the SHA-256 of the content.
inline std::string uploaded_file(std::string_view sha256_hex) { return std::string(kUploadPrefix) + std::string(sha256_hex); }
// Where a job's output files go when the job names no `out`: <prefix>/<file name>.
inline std::string default_output_prefix(std::string_view id) { return std::string(kOutputPrefix) + std::string(id); }

// Job fields (stream entry of hutch:jobs).
namespace job {
inline constexpr std::string_view kFunction = "function";
inline constexpr std::string_view kInput = "input";
inline constexpr std::string_view kTimeout = "timeout";
inline constexpr std::string_view kMemory = "memory";
inline constexpr std::string_view kCpu = "cpu";
inline constexpr std::string_view kFiles = "files";
inline constexpr std::string_view kOut = "out";
}  // namespace job

// Record fields (hash hutch:exec:<id>).
namespace record {
inline constexpr std::string_view kId = "id";
inline constexpr std::string_view kFunction = "function";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kInput = "input";
inline constexpr std::string_view kTimeout = "timeout";
inline constexpr std::string_view kMemoryLimit = "memory_limit";
inline constexpr std::string_view kCpuLimit = "cpu_limit";
inline constexpr std::string_view kEnqueuedAt = "enqueued_at";
inline constexpr std::string_view kStartedAt = "started_at";
inline constexpr std::string_view kFinishedAt = "finished_at";
inline constexpr std::string_view kDuration = "duration";
inline constexpr std::string_view kExitCode = "exit_code";
inline constexpr std::string_view kSignal = "signal";
inline constexpr std::string_view kCpuTime = "cpu_time";
inline constexpr std::string_view kMemoryPeak = "memory_peak";
inline constexpr std::string_view kOutput = "output";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kWorker = "worker";
inline constexpr std::string_view kLimits = "limits";
inline constexpr std::string_view kLogsTruncated = "logs_truncated";
inline constexpr std::string_view kIsolation = "isolation";
inline constexpr std::string_view kFiles = "files";
inline constexpr std::string_view kFilesOut = "files_out";
// The attempt number of the execution that wrote the record: the entry's delivery count in the group.
inline constexpr std::string_view kAttempt = "attempt";
}  // namespace record

// Log stream fields (stream hutch:logs:<id>).
namespace log {
inline constexpr std::string_view kFd = "fd";
inline constexpr std::string_view kLine = "line";
inline constexpr std::string_view kEof = "eof";
inline constexpr std::string_view kStdout = "out";
inline constexpr std::string_view kStderr = "err";
}  // namespace log

}  // namespace hutch::keys
