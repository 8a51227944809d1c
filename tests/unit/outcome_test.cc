// Status classification: which facts about an ended job give which status word and sentence.
#include "queue/outcome.h"

#include <gtest/gtest.h>

namespace hutch {
namespace {

Outcome exited(int code) {
  Outcome outcome;
  outcome.exit_code = code;
  outcome.timeout_seconds = 5;
  outcome.memory_limit_bytes = 64ULL << 20;
  outcome.grace_seconds = 30;
  return outcome;
}

Outcome signaled(int signal, const std::string &name) {
  Outcome outcome = exited(0);
  outcome.exit_code.reset();
  outcome.signal = signal;
  outcome.signal_name = name;
  return outcome;
}

TEST(OutcomeTest, ExitZeroSucceedsWithoutError) {
  Verdict verdict = classify_outcome(exited(0));
  EXPECT_EQ(verdict.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(verdict.error, "");
}

TEST(OutcomeTest, NonZeroExitFails) {
  Verdict verdict = classify_outcome(exited(3));
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_EQ(verdict.error, "the function exited with code 3");
}

TEST(OutcomeTest, AFailingFunctionsOwnSentenceFollowsTheExitCode) {
  Outcome outcome = exited(2);
  outcome.function_error = "'notes.txt' is not an image";
  EXPECT_EQ(classify_outcome(outcome).error, "the function exited with code 2: 'notes.txt' is not an image");
}

TEST(OutcomeTest, TimeoutExplainsTheKill) {
  Outcome outcome = signaled(9, "SIGKILL");
  outcome.timed_out = true;
  Verdict verdict = classify_outcome(outcome);
  EXPECT_EQ(verdict.status, ExecutionStatus::kTimeout);
  EXPECT_EQ(verdict.error, "the function ran longer than its 5 s timeout; every process of the job was killed");
}

TEST(OutcomeTest, OomKillIsOom) {
  Outcome outcome = signaled(9, "SIGKILL");
  outcome.oom_kills = 1;
  Verdict verdict = classify_outcome(outcome);
  EXPECT_EQ(verdict.status, ExecutionStatus::kOom);
  EXPECT_EQ(verdict.error, "the job went over its 64 MiB memory limit and the kernel killed it (out of memory)");
}

TEST(OutcomeTest, OomInAChildStillCountsWhenTheFirstProcessExitedNonZero) {
  Outcome outcome = exited(1);
  outcome.oom_kills = 1;
  EXPECT_EQ(classify_outcome(outcome).status, ExecutionStatus::kOom);
}

TEST(OutcomeTest, TimeoutWinsOverOom) {
  Outcome outcome = signaled(9, "SIGKILL");
  outcome.timed_out = true;
  outcome.oom_kills = 1;
  EXPECT_EQ(classify_outcome(outcome).status, ExecutionStatus::kTimeout);
}

TEST(OutcomeTest, SeccompKillNamesTheCallWhenKnown) {
  Outcome outcome = signaled(31, "SIGSYS");
  EXPECT_EQ(classify_outcome(outcome).error,
            "the function was killed by SIGSYS: it made a system call the sandbox forbids (seccomp)");
  outcome.seccomp_syscall = "ptrace";
  Verdict verdict = classify_outcome(outcome);
  EXPECT_EQ(verdict.status, ExecutionStatus::kKilled);
  EXPECT_EQ(verdict.error, "the function was killed by SIGSYS: it made the forbidden system call ptrace (seccomp)");
}

TEST(OutcomeTest, OtherSignalsAreKilled) {
  Verdict verdict = classify_outcome(signaled(11, "SIGSEGV"));
  EXPECT_EQ(verdict.status, ExecutionStatus::kKilled);
  EXPECT_EQ(verdict.error, "the function was killed by SIGSEGV");
}

TEST(OutcomeTest, SetupErrorIsErrorWithItsSentence) {
  Outcome outcome;
  outcome.setup_error = "could not start the sandbox: execute the function '/x': Permission denied";
  Verdict verdict = classify_outcome(outcome);
  EXPECT_EQ(verdict.status, ExecutionStatus::kError);
  EXPECT_EQ(verdict.error, *outcome.setup_error);
}

TEST(OutcomeTest, ShutdownKillIsErrorNamingTheGracePeriod) {
  Outcome outcome = signaled(9, "SIGKILL");
  outcome.stopped_by_shutdown = true;
  Verdict verdict = classify_outcome(outcome);
  EXPECT_EQ(verdict.status, ExecutionStatus::kError);
  EXPECT_NE(verdict.error.find("30 s grace period"), std::string::npos);
}

TEST(OutcomeTest, BadOutputFailsAnOtherwiseSuccessfulRun) {
  Outcome outcome = exited(0);
  outcome.output_error = "output: not JSON";
  Verdict verdict = classify_outcome(outcome);
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_EQ(verdict.error, "output: not JSON");
}

TEST(OutcomeTest, DescribesSizesAndSeconds) {
  EXPECT_EQ(describe_bytes(512), "512 bytes");
  EXPECT_EQ(describe_bytes(64ULL << 20), "64 MiB");
  EXPECT_EQ(describe_bytes(1536ULL << 20), "1.5 GiB");
  EXPECT_EQ(describe_seconds(2.5), "2.5 s");
}

TEST(StatusTest, WordsRoundTrip) {
  for (auto word : {"queued", "running", "succeeded", "failed", "timeout", "oom", "killed", "rejected", "error"}) {
    auto status = parse_status_word(word);
    ASSERT_TRUE(status) << word;
    EXPECT_EQ(status_word(*status), word);
  }
  EXPECT_FALSE(parse_status_word("done"));
  EXPECT_FALSE(is_final(ExecutionStatus::kRunning));
  EXPECT_TRUE(is_final(ExecutionStatus::kOom));
}

}  // namespace
}  // namespace hutch
