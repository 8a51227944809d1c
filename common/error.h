// Errors are values: an errno (0 when none applies) and a sentence a user can act on. Every layer returns
// Result<T>; callers add context on the way up ("cgroup v1: write memory.limit_in_bytes: ...") instead of
// logging and continuing. No exceptions cross the event loop or the fork boundary.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace hutch {

struct Error {
  int errno_value = 0;
  std::string message;

  // Prefixes context: Error{"EBUSY"}.context("write memory.limit_in_bytes") reads outer-to-inner.
  Error context(const std::string &what) const & { return Error{errno_value, what + ": " + message}; }
  Error context(const std::string &what) && { return Error{errno_value, what + ": " + std::move(message)}; }
};

// An error from the current errno: "open('/x'): No such file or directory".
inline Error errno_error(const std::string &what) {
  int saved = errno;
  return Error{saved, what + ": " + std::strerror(saved)};
}
inline Error errno_error(int errno_value, const std::string &what) {
  return Error{errno_value, what + ": " + std::strerror(errno_value)};
}
inline Error make_error(std::string message) { return Error{0, std::move(message)}; }

// A value or an Error. A class rather than an alias of std::expected so that it can be [[nodiscard]]: a
// dropped Result does not compile under -Werror. Where ignoring one is right, say why and cast to void.
template <typename T>
class [[nodiscard]] Result : public std::expected<T, Error> {
 public:
  using std::expected<T, Error>::expected;
  Result(std::expected<T, Error> other) : std::expected<T, Error>(std::move(other)) {}
};
using Status = Result<void>;

inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }

}  // namespace hutch

// GCC 12's std::expected lacks and_then/transform; TRY keeps propagation to one line.
#define HUTCH_CONCAT_INNER(a, b) a##b
#define HUTCH_CONCAT(a, b) HUTCH_CONCAT_INNER(a, b)
#define TRY_STATUS(expr)                                                 \
  do {                                                                   \
    auto hutch_try_result_ = (expr);                                     \
    if (!hutch_try_result_) return std::unexpected(hutch_try_result_.error()); \
  } while (0)
#define TRY_ASSIGN_IMPL(tmp, lhs, expr)                  \
  auto tmp = (expr);                                     \
  if (!tmp) return std::unexpected(std::move(tmp.error())); \
  lhs = std::move(*tmp)
// Expands to several statements: use it as a statement of its own block, never as an unbraced if body.
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL(HUTCH_CONCAT(hutch_try_, __LINE__), lhs, expr)
