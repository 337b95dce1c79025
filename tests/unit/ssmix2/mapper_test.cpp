#include "ssmix2/mapper.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "core/text.hpp"
#include "hl7v2/message.hpp"

namespace tsunagu::ssmix2 {
namespace {

namespace json = boost::json;

const char kPid[] = "PID|0001||0000123^^^^PI||山田^太郎^^^^^L^I~ヤマダ^タロウ^^^^^L^P||19700415|M";

std::string Msh(std::string_view type, std::string_view time = "20240404110000") {
  return "MSH|^~\\&|HIS|SEND|GW|RCV|" + std::string(time) + "||" + std::string(type) +
         "|C1|P|2.5||||||~ISO IR87";
}

hl7v2::Message Parse(const std::string& utf8) {
  auto encoded = core::EncodeIso2022Jp(utf8);
  EXPECT_TRUE(encoded.has_value());
  auto m = hl7v2::Message::Parse(*encoded);
  EXPECT_TRUE(m.has_value()) << m.error().message();
  return std::move(m).value();
}

SourceContext Context() {
  SourceContext c;
  c.facility_id = 3;
  c.facility_code = "1310000017";
  return c;
}

const char kPrescription[] =
    "ORC|NW|12345678||12345678_01|||||20240404105500\r"
    "RXE||103835401^ムコダイン錠２５０ｍｇ^HOT|1||TAB^錠^MR9P|||||21|TAB^錠^MR9P\r"
    "TQ1|||1013044400000000&内服・経口・１日３回朝昼夕食後&JAMISDP01|||7^D&日&ISO+|20240404\r"
    "RXR|PO^口^HL70162\r";

TEST(MapperTest, PrescriptionEndsOnTheLastDayOfIntake) {
  auto m = Parse(Msh("RDE^O11") + "\r" + kPid + "\r" + kPrescription);
  auto records = MapMessage(m, Context());
  ASSERT_TRUE(records.has_value()) << records.error().message();
  ASSERT_EQ(records->size(), 1u);
  const auto& r = records->front();
  EXPECT_EQ(r.resource_type, "MedicationRequest");
  EXPECT_EQ(r.category, clinical::Category::kPrescription);
  EXPECT_EQ(r.source_key, "OMP-01|12345678|1");
  EXPECT_EQ(r.code_system, "urn:oid:1.2.392.200119.4.403.1");
  EXPECT_EQ(r.code, "103835401");
  EXPECT_EQ(r.effective, "2024-04-04");
  EXPECT_EQ(r.effective_end, "2024-04-10");  // 7 days: 04-04 .. 04-10
  EXPECT_EQ(r.local_patient_id, "0000123");
  EXPECT_EQ(r.source_facility_id, 3);
  EXPECT_FALSE(r.retracted);
  json::object j = json::parse(r.json).as_object();
  EXPECT_EQ(j["resourceType"], "MedicationRequest");
  EXPECT_FALSE(j.contains("id"));
  EXPECT_EQ(j["subject"].at("identifier").at("system"),
            "urn:oid:1.2.392.100495.20.3.51.11310000017");
  EXPECT_EQ(j["subject"].at("identifier").at("value"), "0000123");
  EXPECT_EQ(j["meta"].at("source"), "urn:tsunagu:facility:3");
  EXPECT_EQ(j["dispenseRequest"].at("expectedSupplyDuration").at("value"), 7);
}

TEST(MapperTest, ContextOverridesMessage) {
  auto m = Parse(Msh("RDE^O11") + "\r" + kPid + "\r" + kPrescription);
  SourceContext c = Context();
  c.data_type = "OMP-01";
  c.order_number = "0009999";
  c.patient_id = "0000123";
  c.file_time = 1712196000000;
  c.cancelled = true;
  auto records = MapMessage(m, c);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  const auto& r = records->front();
  EXPECT_EQ(r.source_key, "OMP-01|0009999|1");
  EXPECT_EQ(r.source_time, 1712196000000);
  EXPECT_TRUE(r.retracted);
  EXPECT_EQ(json::parse(r.json).at("status"), "cancelled");
}

TEST(MapperTest, SourceTimeFromMsh7IsJapanTime) {
  auto m = Parse(Msh("RDE^O11", "20240401090000") + "\r" + kPid + "\r" + kPrescription);
  auto records = MapMessage(m, Context());
  ASSERT_TRUE(records.has_value());
  EXPECT_EQ(records->front().source_time, 1711929600000);  // 2024-04-01T00:00:00Z
}

TEST(MapperTest, MissingFacilityCodeUsesTsunaguSystem) {
  auto m = Parse(Msh("ADT^A08") + "\r" + kPid + "\r");
  SourceContext c = Context();
  c.facility_code.clear();
  auto records = MapMessage(m, c);
  ASSERT_TRUE(records.has_value());
  json::value j = json::parse(records->front().json);
  EXPECT_EQ(j.at("identifier").at(0).at("system"), "urn:tsunagu:facility:3:patient-id");
  EXPECT_EQ(records->front().source_key, "ADT-00|0000123|patient");
}

TEST(MapperTest, KanaNameWithoutRepresentationCodeIsSyllabic) {
  auto m = Parse(Msh("ADT^A08") + "\rPID|1||42^^^^PI||鈴木^花子~スズキ^ハナコ||19800101|F\r");
  auto records = MapMessage(m, Context());
  ASSERT_TRUE(records.has_value());
  json::value j = json::parse(records->front().json);
  EXPECT_EQ(j.at("name").at(0).at("extension").at(0).at("valueCode"), "IDE");
  EXPECT_EQ(j.at("name").at(1).at("extension").at(0).at("valueCode"), "SYL");
  EXPECT_EQ(j.at("name").at(1).at("text"), "スズキ ハナコ");
  EXPECT_EQ(j.at("gender"), "female");
}

TEST(MapperTest, DeletedProblemIsRetracted) {
  auto m = Parse(Msh("PPR^ZD1") + "\r" + kPid +
                 "\rPRB|DE|20240403100000|20061234^高血圧症^MDCDX2|P0001\r");
  auto records = MapMessage(m, Context());
  ASSERT_TRUE(records.has_value()) << records.error().message();
  EXPECT_TRUE(records->front().retracted);
  EXPECT_EQ(records->front().source_key, "PPR-01|-|P0001");
}

struct BadCase {
  const char* name;
  std::string utf8;
  const char* reason;
};

TEST(MapperTest, BadInputIsRejectedWithReason) {
  const BadCase cases[] = {
      {"unknown type", Msh("QRY^A19") + "\r" + kPid, "unsupported message type QRY^A19"},
      {"missing PID", Msh("RDE^O11") + "\r" + kPrescription, "no PID"},
      {"empty PID-3", Msh("ADT^A08") + "\rPID|1||||山田^太郎", "PID-3"},
      {"invalid birth date", Msh("ADT^A08") + "\rPID|1||1^^^^PI||山田^太郎||19701345", "PID-7"},
      {"invalid MSH-7", Msh("ADT^A08", "2024133") + "\r" + kPid, "MSH-7"},
      {"invalid TQ1-7",
       Msh("RDE^O11") + "\r" + kPid + "\rORC|NW|1\rRXE||1^A^HOT\rTQ1|||||||2024-04-04", "TQ1-7"},
      {"invalid OBX-14",
       Msh("OUL^R22") + "\r" + kPid + "\rOBR|1|1||X^Y\rOBX|1|NM|A^B^JC10||1|||||||||20240230",
       "OBX-14"},
      {"no RXE", Msh("RDE^O11") + "\r" + kPid + "\rORC|NW|1", "no RXE"},
      {"no OBX", Msh("OUL^R22") + "\r" + kPid + "\rOBR|1|1||X^Y", "OBX"},
      {"no IAM", Msh("ADT^A60") + "\r" + kPid, "IAM"},
      {"no PRB", Msh("PPR^ZD1") + "\r" + kPid, "PRB"},
      {"no PV1", Msh("ADT^A04") + "\r" + kPid, "PV1"},
      {"empty drug code", Msh("RDE^O11") + "\r" + kPid + "\rORC|NW|1\rRXE||", "RXE-2"},
      {"bad duration", Msh("RDE^O11") + "\r" + kPid + "\rORC|NW|1\rRXE||1^A^HOT\rTQ1||||||seven^D",
       "TQ1-6"},
  };
  for (const BadCase& c : cases) {
    auto m = Parse(c.utf8);
    auto records = MapMessage(m, Context());
    ASSERT_FALSE(records.has_value()) << c.name;
    EXPECT_EQ(records.error().code(), core::Code::kInvalidInput) << c.name;
    EXPECT_NE(records.error().message().find(c.reason), std::string::npos)
        << c.name << ": " << records.error().message();
    // Error messages never echo patient data.
    EXPECT_EQ(records.error().message().find("山田"), std::string::npos) << c.name;
  }
}

TEST(MapperTest, PatientIdMismatchWithStoragePathIsRejected) {
  auto m = Parse(Msh("ADT^A08") + "\r" + kPid);
  SourceContext c = Context();
  c.patient_id = "0000999";
  auto records = MapMessage(m, c);
  ASSERT_FALSE(records.has_value());
  EXPECT_NE(records.error().message().find("does not match"), std::string::npos);
}

// Malformed wire input never reaches the mapper: the parser names the fault.
TEST(MapperTest, MalformedWireInputFailsInParser) {
  const std::string good = *core::EncodeIso2022Jp(Msh("ADT^A08") + "\r" + kPid + "\r");
  std::string broken = good;
  broken.replace(broken.find("\x1b$B"), 3, "\x1b$Q");
  broken.erase(broken.find("\x1b$Q") + 3, 1);  // odd byte count and bad escape
  const std::pair<const char*, std::string> cases[] = {
      {"truncated", good.substr(0, 40)},
      {"wrong separators", Msh("ADT^A08") + "\rPID^1^^0000123^^^^PI"},
      {"broken escape", broken},
      {"broken HL7 escape", Msh("ADT^A08") + "\rPID|1||1^^^^PI||\\Zoops"},
  };
  for (const auto& [name, raw] : cases) {
    auto m = hl7v2::Message::Parse(raw);
    ASSERT_FALSE(m.has_value()) << name;
    EXPECT_EQ(m.error().code(), core::Code::kInvalidInput) << name;
  }
}

}  // namespace
}  // namespace tsunagu::ssmix2
