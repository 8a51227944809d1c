#include "functions/function_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/file_io.h"

namespace hutch::fn {
namespace {

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

// A value as an error sentence quotes it: its JSON text, at most 64 characters.
std::string quote_json(const nlohmann::json &value) {
  std::string text = to_json_text(value);
  if (text.size() > 64) text = text.substr(0, 61) + "...";
  return text;
}

}  // namespace

Result<nlohmann::json> read_input() {
  // A person running `hutch-fn hello` in a terminal means "no input", not "wait for me to type JSON".
  if (::isatty(STDIN_FILENO)) return nlohmann::json(nullptr);
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    // A closed stdin (EBADF) reads as no input, like an empty one.
    if (n < 0 && errno == EBADF) break;
    if (n < 0) return fail(errno_error("read(stdin)"));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json(nullptr);
  auto input = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return fail(make_error("input is not valid JSON"));
  return input;
}

int result_fd() {
  const char *value = std::getenv("HUTCH_RESULT_FD");
  if (value == nullptr || *value == '\0') return 3;
  char *end = nullptr;
  long fd = std::strtol(value, &end, 10);
  if (*end != '\0' || fd < 0 || fd > 1 << 20) return 3;
  return static_cast<int>(fd);
}

void reserve_result_fd() {
  int fd = result_fd();
  // Nothing to do when hutchd gave the fd; and without stdout there is nowhere better to point it.
  if (!fd_is_open(fd) && fd_is_open(STDOUT_FILENO)) ::dup2(STDOUT_FILENO, fd);
}

Status write_result_text(std::string_view text) {
  int fd = result_fd();
  if (fd_is_open(fd)) {
    auto written = write_all(fd, text.data(), text.size());
    if (!written) return fail(written.error().context("result fd " + std::to_string(fd)));
    return {};
  }
  std::string line(text);
  line += '\n';
  auto written = write_all(STDOUT_FILENO, line.data(), line.size());
  if (!written) return fail(written.error().context("stdout"));
  return {};
}

Status write_result(const nlohmann::json &result) { return write_result_text(to_json_text(result)); }

Result<const nlohmann::json *> find_field(const nlohmann::json &input, const char *key) {
  if (input.is_null()) return nullptr;
  if (!input.is_object()) {
    return fail(make_error("input must be a JSON object or null, not " + std::string(input.type_name())));
  }
  auto found = input.find(key);
  if (found == input.end()) return nullptr;
  return &*found;
}

Result<double> number_field(const nlohmann::json &input, const char *key, double default_value, double min_value,
                            double max_value) {
  const nlohmann::json *field = nullptr;
  TRY_ASSIGN(field, find_field(input, key));
  if (field == nullptr || field->is_null()) return default_value;
  auto rule = [&] { return "use a number >= " + format_number(min_value) + " and <= " + format_number(max_value); };
  if (!field->is_number()) {
    return fail(make_error(std::string(key) + ": " + quote_json(*field) + " is not a number; " + rule()));
  }
  double value = field->get<double>();
  if (!std::isfinite(value) || value < min_value || value > max_value) {
    return fail(make_error(std::string(key) + ": " + quote_json(*field) + " is out of range; " + rule()));
  }
  return value;
}

int report_failure(const std::string &function, const std::string &sentence, int exit_code) {
  std::fprintf(stderr, "%s: %s\n", function.c_str(), sentence.c_str());
  std::fflush(stderr);
  // Best effort: the sentence is already in the logs when the result fd cannot take it.
  (void)write_result(nlohmann::json{{"error", sentence}});
  return exit_code;
}

std::string to_json_text(const nlohmann::json &value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_number(double value) {
  // Whole numbers print without nlohmann's ".0"; others with the shortest text that reads back the same.
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  return to_json_text(value);
}

}  // namespace hutch::fn
