// The fenced scripts' arguments and how their replies are read (queue/delivery_scripts.h). What the scripts
// do in Redis is tested for real in tests/integration/delivery_test.cc.
#include "queue/delivery_scripts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/fake_reply.h"

namespace hutch {
namespace {

TEST(DeliveryScriptsTest, CommandsAreFlattenedAsCountThenArgcAndArguments) {
  EXPECT_EQ(flatten_commands({{"SET", "k", "v"}, {"XACK", "hutch:jobs", "hutchd", "1-0"}}),
            (std::vector<std::string>{"2", "3", "SET", "k", "v", "4", "XACK", "hutch:jobs", "hutchd", "1-0"}));
  EXPECT_EQ(flatten_commands({}), (std::vector<std::string>{"0"}));
}

TEST(DeliveryScriptsTest, TheFinalWriteNamesStreamAndRecordThenTheFence) {
  Command command = final_write_command("1-0", {"host:1", 2}, "f", {{"HSET", "hutch:exec:1-0", "a", "b"}});
  ASSERT_EQ(command.size(), 18u);
  EXPECT_EQ(command[0], "EVAL");
  EXPECT_NE(command[1].find("XPENDING"), std::string::npos) << "the script checks the pending entry";
  // The definition key is only checked for existence; the count goes to a hash of its own.
  EXPECT_EQ(std::vector<std::string>(command.begin() + 2, command.end()),
            (std::vector<std::string>{"2", "hutch:jobs", "hutch:exec:1-0", "hutchd", "host:1", "2", "1-0", "hutch:fn:f",
                                      "hutch:fn-executions", "f", "1", "4", "HSET", "hutch:exec:1-0", "a", "b"}));
  Command uncounted = final_write_command("1-0", {"host:1", 2}, "", {});
  EXPECT_EQ(uncounted[9], "") << "no user function: nothing to count";
}

TEST(DeliveryScriptsTest, HeartbeatAndHandBackCarryIdsAttemptsAndLease) {
  Command heartbeat = heartbeat_command("me", {{"1-0", 1}, {"2-0", 3}});
  EXPECT_EQ(std::vector<std::string>(heartbeat.begin() + 2, heartbeat.end()),
            (std::vector<std::string>{"1", "hutch:jobs", "hutchd", "me", "1-0", "1", "2-0", "3"}));
  Command hand_back = hand_back_command("1-0", {"me", 2}, 1500, "[hutch] bye");
  EXPECT_EQ(std::vector<std::string>(hand_back.begin() + 2, hand_back.end()),
            (std::vector<std::string>{"2", "hutch:jobs", "hutch:logs:1-0", "hutchd", "me", "2", "1-0", "1500",
                                      "[hutch] bye"}));
  Command claim = claim_command("me", 30000, 4);
  EXPECT_EQ(std::vector<std::string>(claim.begin() + 2, claim.end()),
            (std::vector<std::string>{"1", "hutch:jobs", "hutchd", "me", "30000", "4"}));
  Command maintenance = maintenance_command(std::nullopt);
  EXPECT_EQ(maintenance.back(), "") << "no retention: hutch:execs is not pruned";
  EXPECT_EQ(maintenance_command(1000).back(), "1000");
}

TEST(DeliveryScriptsTest, WriteRepliesBecomeOutcomes) {
  FakeReply replies;
  EXPECT_EQ(parse_write_reply(replies.string("written")).value(), WriteOutcome::kWritten);
  EXPECT_EQ(parse_write_reply(replies.string("done")).value(), WriteOutcome::kDone);
  EXPECT_EQ(parse_write_reply(replies.string("final")).value(), WriteOutcome::kFinal);
  EXPECT_EQ(parse_write_reply(replies.string("stale")).value(), WriteOutcome::kStale);
  auto error = parse_write_reply(replies.string("ERR boom", REDIS_REPLY_ERROR));
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().message, "ERR boom");
  EXPECT_FALSE(parse_write_reply(nullptr));
  EXPECT_FALSE(parse_write_reply(replies.string("maybe")));
}

TEST(DeliveryScriptsTest, ClaimRepliesCarryIdAttemptAndFields) {
  FakeReply r;
  redisReply *fields = r.array({r.string("function"), r.string("hello")});
  redisReply *reply = r.array({r.string("5-0"), r.array({r.array({r.string("5-0"), r.integer(2), fields})})});
  auto batch = parse_claim_reply(reply);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(batch->cursor, "5-0");
  ASSERT_EQ(batch->entries.size(), 1u);
  EXPECT_EQ(batch->entries[0].id, "5-0");
  EXPECT_EQ(batch->entries[0].attempt, 2);
  EXPECT_EQ(batch->entries[0].fields, (StreamFields{{"function", "hello"}}));

  EXPECT_TRUE(parse_claim_reply(r.array({r.string(""), r.array({})})));
  EXPECT_FALSE(parse_claim_reply(r.array({r.string(""), r.array({r.array({r.string("5-0")})})})));
  EXPECT_FALSE(parse_claim_reply(r.string("NOGROUP no group", REDIS_REPLY_ERROR)));
}

TEST(DeliveryScriptsTest, HeartbeatRepliesListTheLostIds) {
  FakeReply r;
  auto lost = parse_heartbeat_reply(r.array({r.string("1-0"), r.string("3-0")}));
  ASSERT_TRUE(lost);
  EXPECT_EQ(*lost, (std::vector<std::string>{"1-0", "3-0"}));
  EXPECT_TRUE(parse_heartbeat_reply(r.array({}))->empty());
  EXPECT_FALSE(parse_heartbeat_reply(r.integer(1)));
}

}  // namespace
}  // namespace hutch
