// A hiredis reply tree built by hand for unit tests of reply parsers: no server needed.
#pragma once

#include <hiredis/hiredis.h>

#include <deque>
#include <string>
#include <vector>

namespace hutch {

// A reply tree built by hand, shaped as hiredis would hand it over.
class FakeReply {
 public:
  redisReply *array(std::vector<redisReply *> elements) {
    children_.push_back(elements);
    redisReply *reply = make(REDIS_REPLY_ARRAY);
    reply->elements = children_.back().size();
    reply->element = children_.back().data();
    return reply;
  }
  redisReply *string(const std::string &text, int type = REDIS_REPLY_STRING) {
    texts_.push_back(text);
    redisReply *reply = make(type);
    reply->str = texts_.back().data();
    reply->len = texts_.back().size();
    return reply;
  }
  redisReply *integer(long long value) {
    redisReply *reply = make(REDIS_REPLY_INTEGER);
    reply->integer = value;
    return reply;
  }

 private:
  redisReply *make(int type) {
    replies_.emplace_back();
    replies_.back().type = type;
    return &replies_.back();
  }
  std::deque<redisReply> replies_;
  std::deque<std::string> texts_;
  std::deque<std::vector<redisReply *>> children_;
};

}  // namespace hutch
