#include "queue/reply_limits.h"

#include <algorithm>

namespace hutch {
namespace {

// hiredis' own reply functions (the same static table for every reader), which these wrap.
const redisReplyObjectFunctions *default_functions = nullptr;

// Stands for every object the limits drop: its parent keeps no slot for it, and children of a dropped array
// are dropped too. Never attached to a reply, so never freed.
redisReply dropped{REDIS_REPLY_NIL, 0, 0, nullptr, 0, nullptr};

const ReplyLimits &limits_of(const redisReadTask *task) { return *static_cast<const ReplyLimits *>(task->privdata); }

bool is_dropped(const redisReadTask *task) {
  if (task->parent == nullptr) return false;
  const auto *parent = static_cast<const redisReply *>(task->parent->obj);
  return parent == &dropped || static_cast<size_t>(task->idx) >= parent->elements;
}

void *create_string(const redisReadTask *task, char *text, size_t length) {
  if (is_dropped(task)) return &dropped;
  if (task->type != REDIS_REPLY_STRING || length <= limits_of(task).max_string_bytes)
    return default_functions->createString(task, text, length);
  auto *reply = static_cast<redisReply *>(default_functions->createString(task, text, 0));
  if (reply != nullptr) reply->integer = static_cast<long long>(length);
  return reply;
}

void *create_array(const redisReadTask *task, int elements) {
  if (is_dropped(task)) return &dropped;
  int kept = std::min(elements, static_cast<int>(limits_of(task).max_array_elements));
  auto *reply = static_cast<redisReply *>(default_functions->createArray(task, kept));
  if (reply != nullptr && elements > kept) reply->integer = elements;
  return reply;
}

void *create_integer(const redisReadTask *task, long long value) {
  if (is_dropped(task)) return &dropped;
  return default_functions->createInteger(task, value);
}

void *create_nil(const redisReadTask *task) {
  if (is_dropped(task)) return &dropped;
  return default_functions->createNil(task);
}

void free_object(void *reply) {
  if (reply != &dropped) default_functions->freeObject(reply);
}

redisReplyObjectFunctions limited_functions{create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

void limit_replies(redisReader *reader, const ReplyLimits *limits) {
  if (reader->fn != &limited_functions) {
    if (default_functions == nullptr) default_functions = reader->fn;
    reader->fn = &limited_functions;
  }
  reader->privdata = const_cast<ReplyLimits *>(limits);
}

std::optional<uint64_t> unread_string_bytes(const redisReply *reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_STRING || reply->len != 0 || reply->integer <= 0)
    return std::nullopt;
  return static_cast<uint64_t>(reply->integer);
}

uint64_t total_elements(const redisReply *reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return 0;
  return std::max<uint64_t>(reply->elements, reply->integer > 0 ? static_cast<uint64_t>(reply->integer) : 0);
}

StreamFields stream_fields_of(const redisReply *fields) {
  StreamFields out;
  if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY) return out;
  auto text = [](const redisReply *reply) {
    return reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : std::string();
  };
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    StreamField field(text(fields->element[i]), text(fields->element[i + 1]));
    field.unread_name_bytes = unread_string_bytes(fields->element[i]).value_or(0);
    field.unread_value_bytes = unread_string_bytes(fields->element[i + 1]).value_or(0);
    out.fields.push_back(std::move(field));
  }
  out.total_fields = total_elements(fields) / 2;
  return out;
}

}  // namespace hutch
