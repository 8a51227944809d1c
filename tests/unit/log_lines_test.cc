// Line splitting of stdout/stderr bytes and the per-execution log cap.
#include "queue/log_lines.h"

#include <gtest/gtest.h>

namespace hutch {
namespace {

TEST(LineSplitterTest, SplitsAcrossChunksAndKeepsThePartialLine) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  splitter.feed("one\ntw", lines);
  splitter.feed("o\nthr", lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(splitter.flush(lines));
  EXPECT_EQ(lines.back(), "thr");
  EXPECT_FALSE(splitter.flush(lines));
}

TEST(LineSplitterTest, EmptyLinesAreLines) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  splitter.feed("\n\nx\n", lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"", "", "x"}));
}

TEST(LineSplitterTest, CutsLongLinesIntoPieces) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  std::string long_line(kMaxLogLineBytes * 2 + 10, 'a');
  splitter.feed(long_line + "\nnext\n", lines);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].size(), kMaxLogLineBytes);
  EXPECT_EQ(lines[1].size(), kMaxLogLineBytes);
  EXPECT_EQ(lines[2].size(), 10u);
  EXPECT_EQ(lines[3], "next");
}

TEST(LineSplitterTest, ALineOfExactlyTheLimitIsOneLine) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  splitter.feed(std::string(kMaxLogLineBytes, 'b') + "\nc\n", lines);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "c");
}

TEST(LogBudgetTest, AdmitsUpToTheCapThenOneMarkerThenNothing) {
  LogBudget budget(72);
  std::vector<LogLine> out;
  budget.admit(false, "1234", out);  // 4 bytes + 32 of overhead: 36
  budget.admit(true, "5678", out);   // 72
  budget.admit(false, "x", out);     // over: marker
  budget.admit(false, "y", out);     // dropped
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[0].is_stderr);
  EXPECT_TRUE(out[1].is_stderr);
  EXPECT_EQ(out[2].text, LogBudget::marker(72));
  EXPECT_NE(out[2].text.find("truncated"), std::string::npos);
  EXPECT_TRUE(budget.truncated());
  EXPECT_EQ(budget.used_bytes(), 72u);
}

// An empty line costs what its stream entry costs Redis, so a flood of them stops at cap / 32 lines.
TEST(LogBudgetTest, EmptyLinesCostTheirEntry) {
  LogBudget budget(1 << 20);
  std::vector<LogLine> out;
  for (int i = 0; i < 100000; ++i) budget.admit(false, "", out);
  ASSERT_EQ(out.size(), (1u << 20) / kLogLineOverheadBytes + 1);
  EXPECT_EQ(out.back().text, LogBudget::marker(1 << 20));
}

}  // namespace
}  // namespace hutch
