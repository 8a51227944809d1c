#include "queue/redis_url.h"

#include <charconv>

namespace hutch {
namespace {

Result<int> parse_number(const std::string &text, const std::string &what, const std::string &url, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max)
    return fail(make_error("redis URL '" + url + "': " + what + " '" + text + "' is not a number from 0 to " +
                           std::to_string(max)));
  return value;
}

}  // namespace

std::string RedisAddress::describe() const {
  std::string where = is_unix() ? "unix:" + unix_path : host + ":" + std::to_string(port);
  return where + "/" + std::to_string(database);
}

Result<RedisAddress> parse_redis_url(const std::string &url) {
  RedisAddress address;
  const std::string usage = "; use redis://host:port/db or unix:///path/to/redis.sock";
  if (url.rfind("unix://", 0) == 0) {
    std::string rest = url.substr(7);
    if (auto query = rest.find("?db="); query != std::string::npos) {
      TRY_ASSIGN(address.database, parse_number(rest.substr(query + 4), "database", url, 1 << 20));
      rest.resize(query);
    }
    if (rest.empty() || rest[0] != '/')
      return fail(make_error("redis URL '" + url + "': the socket path must be absolute" + usage));
    address.unix_path = rest;
    return address;
  }
  if (url.rfind("redis://", 0) != 0)
    return fail(make_error("redis URL '" + url + "' has an unknown scheme" + usage));
  std::string rest = url.substr(8);
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      TRY_ASSIGN(address.database, parse_number(db, "database", url, 1 << 20));
    }
    rest.resize(slash);
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string credentials = rest.substr(0, at);
    // redis://:password@host and redis://user:password@host both carry the password after the colon.
    auto colon = credentials.find(':');
    address.password = colon == std::string::npos ? credentials : credentials.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (!rest.empty() && rest[0] == '[') {  // [::1]:6379
    auto close = rest.find(']');
    if (close == std::string::npos) return fail(make_error("redis URL '" + url + "': unclosed '['" + usage));
    address.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest[0] == ':') {
      TRY_ASSIGN(address.port, parse_number(rest.substr(1), "port", url, 65535));
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    address.host = rest.substr(0, colon);
    TRY_ASSIGN(address.port, parse_number(rest.substr(colon + 1), "port", url, 65535));
  } else {
    address.host = rest;
  }
  if (address.host.empty()) return fail(make_error("redis URL '" + url + "' names no host" + usage));
  return address;
}

}  // namespace hutch
