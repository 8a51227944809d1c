// escape_control_characters: what hutchd's log and the CLI's printers let through (common/text_escape.h).
#include "common/text_escape.h"

#include <gtest/gtest.h>

namespace hutch {
namespace {

TEST(TextEscape, PrintableTextAndUtf8StayAsTheyAre) {
  EXPECT_EQ(escape_control_characters("Hello, Ada: 100% {\"a\": [1]} \\x1b"), "Hello, Ada: 100% {\"a\": [1]} \\x1b");
  EXPECT_EQ(escape_control_characters("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb9"),
            "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb9");
  EXPECT_EQ(escape_control_characters(""), "");
}

TEST(TextEscape, ControlCharactersBecomeEscapes) {
  EXPECT_EQ(escape_control_characters("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_control_characters("\x1b]0;owned\x07\x1b[2J"), "\\x1b]0;owned\\x07\\x1b[2J");
  EXPECT_EQ(escape_control_characters(std::string("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
  // A forged journal line stays on the line of the event that carried it.
  EXPECT_EQ(escape_control_characters("x\n2026-01-01T00:00:00.000Z ERROR forged"),
            "x\\n2026-01-01T00:00:00.000Z ERROR forged");
}

TEST(TextEscape, MultiLineKeepsTabAndNewlineOnly) {
  EXPECT_EQ(escape_control_characters("a\tb\nc\rd\x1b", Layout::kMultiLine), "a\tb\nc\\rd\\x1b");
}

TEST(TextEscape, C1AndBidiControlsAreEscaped) {
  EXPECT_EQ(escape_control_characters("csi \xc2\x9b" "31m"), "csi \\u009b31m");
  EXPECT_EQ(escape_control_characters("nel \xc2\x85"), "nel \\u0085");
  EXPECT_EQ(escape_control_characters("rlo \xe2\x80\xae lre \xe2\x80\xaa iso \xe2\x81\xa6 ls \xe2\x80\xa8"),
            "rlo \\u202e lre \\u202a iso \\u2066 ls \\u2028");
  EXPECT_EQ(escape_control_characters("nbsp \xc2\xa0 ok"), "nbsp \xc2\xa0 ok") << "U+00A0 is not a control";
}

TEST(TextEscape, BytesThatAreNotUtf8AreShownAsHex) {
  EXPECT_EQ(escape_control_characters("raw \x9b" "31m"), "raw \\x9b31m") << "a lone C1 byte";
  EXPECT_EQ(escape_control_characters("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_control_characters("\xc0\xaf"), "\\xc0\\xaf") << "overlong '/'";
  EXPECT_EQ(escape_control_characters("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a surrogate";
  EXPECT_EQ(escape_control_characters("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "past U+10FFFF";
  EXPECT_EQ(escape_control_characters("cut \xe2\x80"), "cut \\xe2\\x80") << "a sequence cut short";
}

}  // namespace
}  // namespace hutch
