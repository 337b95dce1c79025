#include "hl7v2/ack.hpp"

#include <gtest/gtest.h>

#include "core/text.hpp"

namespace tsunagu::hl7v2 {
namespace {

const char kMessage[] =
    "MSH|^~\\&|HIS123|SEND|GW|RCV|20240401103000||ADT^A08^ADT_A01|MSG0001|P|2.5||||||~ISO IR87\r"
    "PID|0001||0000123^^^^PI||山田^太郎\r";

TEST(AckTest, AcceptSwapsSenderAndReceiver) {
  core::FakeClock clock(1711929600000);  // 2024-04-01 09:00 JST
  auto m = Message::Parse(*core::EncodeIso2022Jp(kMessage));
  ASSERT_TRUE(m.has_value());
  std::string raw = BuildAck(*m, AckCode::kAccept, "stored", clock);
  auto ack = Message::Parse(raw);
  ASSERT_TRUE(ack.has_value()) << ack.error().message();
  EXPECT_EQ(ack->Type(), "ACK");
  EXPECT_EQ(ack->Event(), "A08");
  const Segment& msh = ack->Header();
  EXPECT_EQ(msh.Get(3), "GW");
  EXPECT_EQ(msh.Get(4), "RCV");
  EXPECT_EQ(msh.Get(5), "HIS123");
  EXPECT_EQ(msh.Get(6), "SEND");
  EXPECT_EQ(msh.Get(7), "20240401090000");
  EXPECT_EQ(msh.Get(12), "2.5");
  EXPECT_EQ(ack->Charset(), "~ISO IR87");
  const Segment* msa = ack->Find("MSA");
  ASSERT_NE(msa, nullptr);
  EXPECT_EQ(msa->Get(1), "AA");
  EXPECT_EQ(msa->Get(2), "MSG0001");
  EXPECT_EQ(msa->Get(3), "stored");
  EXPECT_EQ(ack->Find("ERR"), nullptr);
  EXPECT_EQ(raw.back(), '\r');
}

TEST(AckTest, ErrorCarriesErrSegmentAndEncodesJapanese) {
  core::FakeClock clock;
  auto m = Message::Parse(*core::EncodeIso2022Jp(kMessage));
  ASSERT_TRUE(m.has_value());
  std::string raw = BuildAck(*m, AckCode::kError, "患者不明|ID", clock);
  EXPECT_NE(raw.find("\x1b$B"), std::string::npos);  // ISO-2022-JP like the request
  auto ack = Message::Parse(raw);
  ASSERT_TRUE(ack.has_value()) << ack.error().message();
  EXPECT_EQ(ack->Find("MSA")->Get(1), "AE");
  EXPECT_EQ(ack->Find("MSA")->Get(3), "患者不明|ID");
  const Segment* err = ack->Find("ERR");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->Get(3), "207");
  EXPECT_EQ(err->Get(4), "E");
  EXPECT_EQ(err->Get(8), "患者不明|ID");
}

TEST(AckTest, RejectForUtf8Message) {
  core::FakeClock clock;
  std::string utf8 = kMessage;
  utf8.replace(utf8.find("~ISO IR87"), 9, "UNICODE UTF-8");
  auto m = Message::Parse(utf8);
  ASSERT_TRUE(m.has_value());
  auto ack = Message::Parse(BuildAck(*m, AckCode::kReject, "unsupported message type", clock));
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->Find("MSA")->Get(1), "AR");
  EXPECT_EQ(ack->Find("ERR")->Get(3), "200");
}

TEST(AckTest, RejectForUnparsedBytes) {
  core::FakeClock clock;
  auto ack = Message::Parse(BuildRejectForUnparsed(
      "MSH|^~\\&|HIS|F|GW|R|20240401||OUL^R22|C42|P|2.5\rPID|\x1b$Zbroken", "bad text", clock));
  ASSERT_TRUE(ack.has_value()) << ack.error().message();
  EXPECT_EQ(ack->Event(), "R22");
  EXPECT_EQ(ack->Find("MSA")->Get(2), "C42");
  EXPECT_EQ(ack->Header().Get(5), "HIS");
  auto garbage = Message::Parse(BuildRejectForUnparsed("\x01\x02 not hl7", "bad", clock));
  ASSERT_TRUE(garbage.has_value()) << garbage.error().message();
  EXPECT_EQ(garbage->Find("MSA")->Get(1), "AR");
}

}  // namespace
}  // namespace tsunagu::hl7v2

namespace tsunagu::hl7v2 {
namespace {

// Found by the fuzzer: with "." as the escape character the default version
// "2.5" written into the ACK was itself a broken escape sequence.
TEST(AckTest, RegressionDotEscapeCharacterInDefaults) {
  core::FakeClock clock;
  auto m2 = Message::Parse("MSH|^~.&|HIS|FAC|GW|GW|20240401||ADT^A08|R|P|\rPID|1");
  ASSERT_TRUE(m2.has_value()) << m2.error().message();
  auto ack = Message::Parse(BuildAck(*m2, AckCode::kError, "x", clock));
  ASSERT_TRUE(ack.has_value()) << ack.error().message();
  EXPECT_EQ(ack->Version(), "2.5");
}

}  // namespace
}  // namespace tsunagu::hl7v2
