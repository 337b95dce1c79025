#include "hl7v2/message.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/text.hpp"

namespace tsunagu::hl7v2 {
namespace {

// JAHIS-style header; `charset` goes into MSH-18.
std::string Header(std::string_view charset, std::string_view type = "ADT^A08^ADT_A01") {
  return "MSH|^~\\&|HIS123|SEND|GW|RCV|20240401103000||" + std::string(type) +
         "|MSG0001|P|2.5||||||" + std::string(charset);
}

const char kPid[] = "PID|0001||0000123^^^^PI||山田^太郎^^^^^L^I~ヤマダ^タロウ^^^^^L^P||19700101|M";

TEST(MessageParseTest, SegmentsFieldsComponentsRepetitions) {
  std::string raw = Header("UNICODE UTF-8") + "\r" + kPid + "\rZXY|custom|data\r";
  auto m = Message::Parse(raw);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->Type(), "ADT");
  EXPECT_EQ(m->Event(), "A08");
  EXPECT_EQ(m->ControlId(), "MSG0001");
  EXPECT_EQ(m->Version(), "2.5");
  EXPECT_EQ(m->Charset(), "UNICODE UTF-8");
  ASSERT_EQ(m->segments().size(), 3u);
  const Segment& msh = m->Header();
  EXPECT_EQ(msh.Raw(1), "|");
  EXPECT_EQ(msh.Get(2), "^~\\&");
  EXPECT_EQ(msh.Get(3), "HIS123");
  EXPECT_EQ(msh.Get(9, 3), "ADT_A01");

  const Segment* pid = m->Find("PID");
  ASSERT_NE(pid, nullptr);
  struct Case {
    size_t field, component, subcomponent, repetition;
    const char* want;
  };
  const Case cases[] = {
      {1, 1, 1, 0, "0001"}, {3, 1, 1, 0, "0000123"},  {3, 5, 1, 0, "PI"},     {5, 1, 1, 0, "山田"},
      {5, 2, 1, 0, "太郎"}, {5, 8, 1, 0, "I"},        {5, 1, 1, 1, "ヤマダ"}, {5, 8, 1, 1, "P"},
      {5, 1, 1, 2, ""},     {7, 1, 1, 0, "19700101"}, {8, 1, 1, 0, "M"},      {30, 1, 1, 0, ""},
      {5, 9, 1, 0, ""},
  };
  for (const Case& c : cases)
    EXPECT_EQ(pid->Get(c.field, c.component, c.subcomponent, c.repetition), c.want)
        << "PID-" << c.field << "." << c.component << "." << c.subcomponent << " rep "
        << c.repetition;
  EXPECT_EQ(pid->Repetitions(5), 2u);
  EXPECT_EQ(pid->Repetitions(2), 0u);
  EXPECT_EQ(pid->Raw(3), "0000123^^^^PI");

  // Unknown segments are kept.
  const Segment* z = m->Find("ZXY");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->Get(2), "data");
  EXPECT_EQ(m->Find("PID", 1), nullptr);
  EXPECT_EQ(m->FindAll("ZXY").size(), 1u);
}

TEST(MessageParseTest, SubcomponentsAndCustomDelimiters) {
  std::string raw = "MSH#!*%$#A#B#C#D#20240401##OUL!R22#1#P#2.5\rOBX#1#NM#A$B$C!x*second#\r";
  auto m = Message::Parse(raw);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  const Segment& obx = *m->Find("OBX");
  EXPECT_EQ(obx.Get(3, 1, 1), "A");
  EXPECT_EQ(obx.Get(3, 1, 3), "C");
  EXPECT_EQ(obx.Get(3, 2), "x");
  EXPECT_EQ(obx.Get(3, 1, 1, 1), "second");
  EXPECT_EQ(m->delimiters().subcomponent, '$');
}

TEST(MessageParseTest, LineEndings) {
  for (const char* eol : {"\r", "\n", "\r\n"}) {
    std::string raw = Header("") + eol + kPid + eol + "PV1|1|O" + eol + eol;
    auto m = Message::Parse(raw);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(m->segments().size(), 3u);
    EXPECT_EQ(m->Find("PV1")->Get(2), "O");
  }
}

TEST(EscapeTest, Unescape) {
  const Delimiters d;
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"a\\F\\b", "a|b"},
      {"\\S\\", "^"},
      {"\\T\\", "&"},
      {"\\R\\", "~"},
      {"\\E\\", "\\"},
      {"1\\.br\\2", "1\n2"},
      {"\\X41\\", "A"},
      {"\\XE5B1B1\\", "山"},
      {"\\H\\bold\\N\\", "bold"},
      {"plain", "plain"},
      {"", ""},
      {"x\\.sp\\y", "x\ny"},
  };
  for (const Case& c : cases) EXPECT_EQ(Unescape(c.in, d), c.out) << c.in;
}

TEST(EscapeTest, EscapeRoundTrip) {
  const Delimiters d;
  const std::string text = "a|b^c&d~e\\f\r\ng";
  const std::string escaped = Escape(text, d);
  EXPECT_EQ(escaped, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g");
  EXPECT_EQ(Unescape(escaped, d), "a|b^c&d~e\\f\ng");
}

TEST(EscapeTest, EscapedFieldInMessage) {
  std::string raw = Header("") + "\rOBX|1|TX|X^Y||所見\\.br\\異常なし \\F\\ 1\\S\\2\r";
  auto m = Message::Parse(raw);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->Find("OBX")->Get(5), "所見\n異常なし | 1^2");
}

// Charsets: the same Japanese names arrive in each encoding.
TEST(CharsetTest, Iso2022Jp) {
  for (const char* charset : {"~ISO IR87", "ISO IR87", "ISO IR6~ISO IR87", "ISO 2022-1994"}) {
    std::string utf8 = Header(charset) + "\r" + kPid + "\r";
    auto encoded = core::EncodeIso2022Jp(utf8);
    ASSERT_TRUE(encoded.has_value());
    ASSERT_NE(*encoded, utf8);  // really escaped
    auto m = Message::Parse(*encoded);
    ASSERT_TRUE(m.has_value()) << charset << ": " << m.error().message();
    EXPECT_EQ(m->Encoding(), TextEncoding::kIso2022Jp);
    EXPECT_EQ(m->Find("PID")->Get(5), "山田");
    EXPECT_EQ(m->Find("PID")->Get(5, 1, 1, 1), "ヤマダ");
  }
}

TEST(CharsetTest, Msh20Iso2022WithoutMsh18) {
  std::string utf8 = "MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5||||||||ISO 2022-1994\r" +
                     std::string(kPid) + "\r";
  auto m = Message::Parse(*core::EncodeIso2022Jp(utf8));
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->Find("PID")->Get(5, 2), "太郎");
}

TEST(CharsetTest, ShiftJis) {
  for (const char* charset : {"SHIFT_JIS", "SJIS", "Shift_JIS"}) {
    // "ソ" and "表" end in 0x5C in Shift_JIS: splitting must come after decoding.
    std::string utf8 = Header(charset) + "\rPID|1||1^^^^PI||ソ表^能||20000101|F\r";
    auto encoded = core::EncodeShiftJis(utf8);
    ASSERT_TRUE(encoded.has_value());
    auto m = Message::Parse(*encoded);
    ASSERT_TRUE(m.has_value()) << charset << ": " << m.error().message();
    EXPECT_EQ(m->Encoding(), TextEncoding::kShiftJis);
    EXPECT_EQ(m->Find("PID")->Get(5), "ソ表");
    EXPECT_EQ(m->Find("PID")->Get(5, 2), "能");
  }
}

TEST(CharsetTest, Utf8) {
  for (const char* charset : {"UNICODE UTF-8", ""}) {
    auto m = Message::Parse(Header(charset) + "\r" + kPid);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(m->Find("PID")->Get(5), "山田");
  }
}

TEST(CharsetTest, MovedMessageKeepsViews) {
  auto m = Message::Parse(Header("") + "\r" + kPid);
  ASSERT_TRUE(m.has_value());
  Message moved = std::move(*m);
  Message again = std::move(moved);
  EXPECT_EQ(again.Find("PID")->Get(5, 2), "太郎");
}

struct BadCase {
  const char* name;
  std::string raw;
  const char* reason;  // substring of the error message
};

TEST(MessageParseTest, MalformedInputIsRejectedWithReason) {
  const std::string jp = *core::EncodeIso2022Jp(Header("~ISO IR87") + "\r" + kPid + "\r");
  std::string broken_escape = jp;
  broken_escape.replace(broken_escape.find("\x1b$B"), 3, "\x1b$Z");
  std::string unterminated = jp;
  unterminated.insert(unterminated.find("\x1b$B") + 4, "\r");  // CR inside a kanji run
  const BadCase cases[] = {
      {"empty", "", "empty"},
      {"blank", "\r\n\r\n", "empty"},
      {"no MSH", std::string(kPid), "does not start with an MSH"},
      {"short MSH", "MSH|^~", "truncated"},
      {"few fields", "MSH|^~\\&|A|B|C|D|20240401||ADT^A08|1", "at least 12"},
      {"bad encoding chars", "MSH|^~|A|B|C|D|20240401||ADT^A08|1|P|2.5", "MSH-2"},
      {"duplicate delimiters", "MSH|^^\\&|A|B|C|D|20240401||ADT^A08|1|P|2.5", "differ"},
      {"alnum field sep", "MSHA^~\\&A", "MSH-1"},
      {"wrong separator in segment", Header("") + "\rPID^1^^123", "line 2"},
      {"segment before MSH", "PID|1\r" + Header(""), "does not start with an MSH"},
      {"unknown charset", Header("EBCDIC"), "unsupported character set"},
      {"broken ISO-2022-JP escape", broken_escape, "ISO-2022-JP"},
      {"control char in kanji run", unterminated, "ISO-2022-JP"},
      {"invalid UTF-8", Header("UNICODE UTF-8") + "\rPID|1||\xff\xfe", "UTF-8"},
      {"8-bit in ISO-2022-JP", Header("ISO IR87") + "\rPID|1||\xe5\xb1\xb1", "ISO-2022-JP"},
      {"unterminated escape", Header("") + "\rOBX|1|ST|A||abc\\Fdef", "escape"},
      {"unknown escape", Header("") + "\rOBX|1|ST|A||\\Q\\", "escape"},
      {"odd hex escape", Header("") + "\rOBX|1|ST|A||\\X4\\", "escape"},
      {"non-UTF-8 hex escape", Header("") + "\rOBX|1|ST|A||\\XFF\\", "escape"},
      {"empty message type", "MSH|^~\\&|A|B|C|D|20240401|||1|P|2.5", "MSH-9"},
  };
  for (const BadCase& c : cases) {
    auto m = Message::Parse(c.raw);
    ASSERT_FALSE(m.has_value()) << c.name;
    EXPECT_EQ(m.error().code(), core::Code::kInvalidInput) << c.name;
    EXPECT_NE(m.error().message().find(c.reason), std::string::npos)
        << c.name << ": " << m.error().message();
  }
}

TEST(MessageParseTest, EscapeErrorNamesTheField) {
  auto m = Message::Parse(Header("") + "\rOBX|1|ST|A||\\Q\\");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("OBX-5"), std::string::npos) << m.error().message();
}

TEST(MessageParseTest, FieldsOfEveryLengthAndPositionAreSplitAlike) {
  // Fields of 0 to 40 bytes in a pseudo-random order, so that separators
  // fall at every place of a 16-byte block, as the last byte of a line and
  // next to each other.
  uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> want;
    std::string line = "ZXY";
    const size_t count = 1 + next() % 60;
    for (size_t i = 0; i < count; ++i) {
      std::string field;
      const size_t length = (next() >> 8) % 41;
      for (size_t k = 0; k < length; ++k)
        field.push_back(static_cast<char>('a' + (next() >> 8) % 26));
      want.push_back(field);
      line += "|" + field;
    }
    auto m = Message::Parse(Header("") + "\r" + line + (round % 2 == 0 ? "\r" : ""));
    ASSERT_TRUE(m.has_value()) << m.error().message();
    const Segment* z = m->Find("ZXY");
    ASSERT_NE(z, nullptr);
    ASSERT_EQ(z->FieldCount(), want.size()) << line;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(z->Raw(i + 1), want[i]) << line;
  }
}

TEST(MessageParseTest, EscapeErrorNamesAFieldFarIntoTheSegment) {
  auto m = Message::Parse(Header("") +
                          "\rOBX|1|NM|3B035000002327201^AST^JC10||45|U/L|10-40|H|||F||||||\\Z");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("OBX-17"), std::string::npos) << m.error().message();
  auto msh = Message::Parse("MSH|^~\\&|A\\Q\\|B|C|D|20240401||ADT^A08|1|P|2.5\rPID|1");
  ASSERT_FALSE(msh.has_value());
  EXPECT_NE(msh.error().message().find("MSH-3"), std::string::npos) << msh.error().message();
}

TEST(EncodingFromMsh18Test, Names) {
  EXPECT_EQ(*EncodingFromMsh18(""), TextEncoding::kUtf8);
  EXPECT_EQ(*EncodingFromMsh18("~ISO IR87"), TextEncoding::kIso2022Jp);
  EXPECT_EQ(*EncodingFromMsh18("iso ir87"), TextEncoding::kIso2022Jp);
  EXPECT_EQ(*EncodingFromMsh18("ISO IR13"), TextEncoding::kIso2022Jp);
  EXPECT_EQ(*EncodingFromMsh18("Shift_JIS"), TextEncoding::kShiftJis);
  EXPECT_FALSE(EncodingFromMsh18("KOI8-R").has_value());
  EXPECT_FALSE(EncodingFromMsh18("SJIS~ISO IR87").has_value());
}

}  // namespace
}  // namespace tsunagu::hl7v2
