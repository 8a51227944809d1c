#include "queue/redis_url.h"

#include <charconv>

namespace hutch {
namespace {

const char kUsage[] =
    "; use redis://[[user]:password@]host[:port][/db] or unix://[[user]:password@]/path/to/redis.sock[?db=N]";

Error url_error(const std::string &url, const std::string &problem) {
  return make_error("redis URL '" + redact_redis_url(url) + "'" + problem);
}

Result<int> parse_number(const std::string &text, const std::string &what, const std::string &url, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max)
    return fail(url_error(url, ": " + what + " '" + text + "' is not a number from 0 to " + std::to_string(max)));
  return value;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "p%40ss" -> "p@ss". The error names what was malformed, never the text itself (it is a secret).
Result<std::string> percent_decode(const std::string &text, const std::string &what, const std::string &url) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i]);
      continue;
    }
    int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0)
      return fail(url_error(url, ": the " + what + " is not percent-encoded properly: a '%' must be followed by two "
                                 "hex digits (write a '%' itself as %25)" + kUsage));
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

// Splits "user:password@rest" at the last '@' (a password may hold an unencoded '@'; a host never does).
// redis://secret@host, without a colon, is a password: the form older hutch versions documented.
Status take_credentials(std::string &rest, RedisAddress &address, const std::string &url) {
  auto at = rest.rfind('@');
  if (at == std::string::npos) return {};
  std::string credentials = rest.substr(0, at);
  rest = rest.substr(at + 1);
  auto colon = credentials.find(':');
  if (colon == std::string::npos) {
    TRY_ASSIGN(address.password, percent_decode(credentials, "password", url));
    return {};
  }
  TRY_ASSIGN(address.user, percent_decode(credentials.substr(0, colon), "user name", url));
  TRY_ASSIGN(address.password, percent_decode(credentials.substr(colon + 1), "password", url));
  return {};
}

Result<RedisAddress> parse_unix_url(const std::string &url) {
  RedisAddress address;
  std::string rest = url.substr(7);
  if (auto query = rest.find("?db="); query != std::string::npos) {
    TRY_ASSIGN(address.database, parse_number(rest.substr(query + 4), "database", url, 1 << 20));
    rest.resize(query);
  }
  // A path may hold '@': credentials only come before the path's first '/'.
  if (!rest.empty() && rest[0] != '/') TRY_STATUS(take_credentials(rest, address, url));
  if (rest.empty() || rest[0] != '/') return fail(url_error(url, ": the socket path must be absolute" + std::string(kUsage)));
  address.unix_path = rest;
  return address;
}

}  // namespace

std::string RedisAddress::describe() const {
  std::string where = is_unix() ? "unix:" + unix_path : host + ":" + std::to_string(port);
  where += "/" + std::to_string(database);
  if (!user.empty()) where += " as user " + user;
  return where;
}

std::vector<std::string> RedisAddress::auth_command() const {
  if (!user.empty()) return {"AUTH", user, password};
  if (!password.empty()) return {"AUTH", password};
  return {};
}

std::string redact_redis_url(const std::string &url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme + 3) return url;
  std::string credentials = url.substr(scheme + 3, at - scheme - 3);
  auto colon = credentials.find(':');
  std::string shown = colon == std::string::npos ? "***" : credentials.substr(0, colon) + ":***";
  return url.substr(0, scheme + 3) + shown + url.substr(at);
}

Result<RedisAddress> parse_redis_url(const std::string &url) {
  if (url.rfind("unix://", 0) == 0) return parse_unix_url(url);
  if (url.rfind("redis://", 0) != 0) return fail(url_error(url, " has an unknown scheme" + std::string(kUsage)));
  RedisAddress address;
  std::string rest = url.substr(8);
  TRY_STATUS(take_credentials(rest, address, url));
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      TRY_ASSIGN(address.database, parse_number(db, "database", url, 1 << 20));
    }
    rest.resize(slash);
  }
  if (!rest.empty() && rest[0] == '[') {  // [::1]:6379
    auto close = rest.find(']');
    if (close == std::string::npos) return fail(url_error(url, ": unclosed '['" + std::string(kUsage)));
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
  if (address.host.empty()) return fail(url_error(url, " names no host" + std::string(kUsage)));
  return address;
}

}  // namespace hutch
