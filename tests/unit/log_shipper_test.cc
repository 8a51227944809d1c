// The log shipper's bound on what waits for Redis (--buffer-cap): a connection that never connects holds
// every batch, so what the shipper admits and drops is all there is to see. No server, no fork.
#include "supervisor/log_shipper.h"

#include <gtest/gtest.h>

#include "queue/redis_url.h"

namespace hutch {
namespace {

TEST(LogShipperTest, LinesPastTheBufferCapAreDroppedAndCounted) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  {
    RedisConnection writer(&loop, *parse_redis_url("redis://127.0.0.1:1"), "test");  // never started
    LogShipper shipper(&loop, writer, 1 << 20);
    std::vector<LogLine> lines;
    for (int i = 0; i < 2000; ++i) lines.push_back({false, std::string(1000, 'x')});
    shipper.append("1-0", std::move(lines));
    shipper.flush();
    uint64_t dropped = shipper.take_dropped("1-0");
    // About 1 MiB of 1000-byte lines (plus their keys) is held; the rest is dropped.
    EXPECT_GT(dropped, 950u);
    EXPECT_LT(dropped, 1000u);
    EXPECT_EQ(shipper.take_dropped("1-0"), 0u) << "the count is handed over once";
    EXPECT_EQ(shipper.take_dropped("2-0"), 0u);
    EXPECT_EQ(shipper.dropped_line(982),
              "[hutch] 982 log lines were dropped: Redis was unreachable and the 1 MiB of log lines hutchd may hold "
              "for it (--buffer-cap) were full");
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // the handles' close callbacks
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace hutch
