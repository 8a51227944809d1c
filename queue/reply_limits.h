// Limits on what one reply from Redis may cost hutchd, applied by hiredis while it builds the reply.
//
// The reader connection's replies carry job entries, which anyone who may XADD to hutch:jobs wrote: a
// 64 MiB `input` or an entry of a million fields. hiredis buffers a reply's bytes as they arrive and then
// copies every string into an object of its own; hutchd then copied each value again into the job, the
// record command and the write buffer, ~7 times the entry in all. With these limits a string longer than
// `max_string_bytes` (more than any job field may hold) becomes an empty string that keeps only its size,
// and an array keeps its first `max_array_elements` elements and the count of the rest. So an entry costs
// hutchd its bytes once, in hiredis' read buffer until the next reply arrives, whatever it holds; the job is
// rejected from the sizes alone (queue/job.cc) and nothing of what broke a rule is stored.
//
// The sizes still cross the socket first: a blocking XREADGROUP returns the entry's bytes, and Redis 7.0
// refuses BLOCK inside a script, so no script can wait for new entries and answer with sizes instead
// (docs/security.md, "The control plane's own memory", has the rest and the Redis-side knob).
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "queue/job.h"

namespace hutch {

struct ReplyLimits {
  size_t max_string_bytes = 0;
  size_t max_array_elements = 0;
};

// The reader connection's limits: no job field may hold more than kMaxFieldBytes, and a read asks for at
// most kMaxEntriesPerRead entries, so a legitimate reply never loses anything (an entry of a job holds 7
// fields, 14 elements).
inline constexpr ReplyLimits kJobEntryReplyLimits{kMaxFieldBytes, 16};
inline constexpr size_t kMaxEntriesPerRead = 16;

// Makes `reader` (a connection's, context->reader) build replies within `limits`, which must outlive it.
void limit_replies(redisReader *reader, const ReplyLimits *limits);

// The size of a string the limits left unread; nullopt for a string that was read, or another type.
std::optional<uint64_t> unread_string_bytes(const redisReply *reply);
// The elements an array had in all, when the limits kept only the first `reply->elements`; else its size.
uint64_t total_elements(const redisReply *reply);

// A stream entry's field array ([name, value, name, value, ...]) as StreamFields, oversized names and values
// as their sizes. An array that is not one gives no fields.
StreamFields stream_fields_of(const redisReply *fields);

}  // namespace hutch
