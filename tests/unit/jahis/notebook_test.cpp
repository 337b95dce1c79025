// The JAHIS notebook parser: the golden files (UTF-8 and Shift_JIS), quoted
// fields, notes and warnings, and the errors that name a line and a reason.
#include "jahis/notebook.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/text.hpp"

namespace tsunagu::jahis {
namespace {

namespace fs = std::filesystem;

std::string Golden(const std::string& name) {
  const char* root = std::getenv("TSUNAGU_SOURCE_DIR");
  fs::path p = fs::path(root != nullptr ? root : ".") / "tests" / "golden" / "jahis" / name;
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << p;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Notebook MustParse(std::string_view bytes) {
  auto nb = ParseNotebook(bytes);
  EXPECT_TRUE(nb.has_value()) << nb.error().ToString();
  return nb.value_or(Notebook{});
}

// The error message of a file that must not parse.
std::string ErrorOf(std::string_view bytes) {
  auto nb = ParseNotebook(bytes);
  EXPECT_FALSE(nb.has_value()) << "parsed although it should not";
  if (nb) return {};
  EXPECT_EQ(nb.error().code(), core::Code::kInvalidInput);
  return nb.error().message();
}

constexpr const char* kMinimal =
    "JAHISTC04,1\n"
    "1,山田　太郎,1,19480503,,,,,,,ヤマダ　タロウ\n"
    "5,20250601,1\n"
    "201,1,アムロジピン錠５ｍｇ,1,錠,4,2171022F1193,1\n"
    "301,1,１日１回朝食後,28,日分,1,,,1\n";

TEST(NotebookTest, Utf8GoldenFileWithTwoEvents) {
  Notebook nb = MustParse(Golden("notebook_utf8.csv"));
  EXPECT_EQ(nb.version, "JAHISTC04");
  EXPECT_EQ(nb.output_kind, "1");
  EXPECT_EQ(nb.encoding, "UTF-8");
  ASSERT_TRUE(nb.patient.has_value());
  EXPECT_EQ(nb.patient->name, "山田　太郎");
  EXPECT_EQ(nb.patient->sex, "1");
  EXPECT_EQ(nb.patient->birth_date, "1948-05-03");
  EXPECT_EQ(nb.patient->kana, "ヤマダ　タロウ");
  EXPECT_EQ(nb.patient->weight, "62.5");
  ASSERT_EQ(nb.remarks.size(), 1u);
  EXPECT_EQ(nb.remarks[0].kind, "1");
  EXPECT_EQ(nb.remarks[0].text, "ペニシリン系抗生物質で発疹");

  ASSERT_EQ(nb.events.size(), 2u);
  const DispensingEvent& first = nb.events[0];
  EXPECT_EQ(first.line, 4);
  EXPECT_EQ(first.date, "2025-06-01");
  EXPECT_EQ(first.pharmacy.name, "県北みどり薬局");
  EXPECT_EQ(first.pharmacy.InstitutionCode(), "0741234567");
  EXPECT_EQ(first.pharmacist, "田中　洋子");
  EXPECT_EQ(first.prescriber.name, "信夫山内科クリニック");
  EXPECT_EQ(first.prescriber.InstitutionCode(), "0717654321");
  EXPECT_EQ(first.doctor, "佐藤　一郎");
  EXPECT_EQ(first.department, "内科");
  ASSERT_EQ(first.rps.size(), 2u);

  const NotebookRp& rp1 = first.rps[0];
  EXPECT_EQ(rp1.number, 1);
  EXPECT_EQ(rp1.usage, "１日１回朝食後");
  EXPECT_EQ(rp1.quantity, "28");
  EXPECT_EQ(rp1.quantity_unit, "日分");
  EXPECT_EQ(rp1.Days(), 28);
  EXPECT_EQ(rp1.dosage_form, 1);
  EXPECT_EQ(rp1.usage_notes, std::vector<std::string>{"朝食後すぐに服用"});
  ASSERT_EQ(rp1.drugs.size(), 2u);
  EXPECT_EQ(rp1.drugs[0].name, "アムロジピン錠５ｍｇ「サワイ」");
  EXPECT_EQ(rp1.drugs[0].code_type, static_cast<int>(DrugCodeType::kYj));
  EXPECT_EQ(rp1.drugs[0].code, "2171022F1193");
  EXPECT_EQ(rp1.drugs[0].dose, "1");
  EXPECT_EQ(rp1.drugs[0].unit, "錠");
  EXPECT_EQ(rp1.drugs[1].code_type, static_cast<int>(DrugCodeType::kReceipt));
  // 281 and 291 qualify the drug before them.
  EXPECT_EQ(
      rp1.drugs[1].notes,
      (std::vector<std::string>{"粉砕不可", "グレープフルーツジュースと一緒に飲まないでください"}));

  const NotebookRp& rp2 = first.rps[1];
  EXPECT_EQ(rp2.drugs.at(0).name, "ロキソプロフェンＮａ錠６０ｍｇ「サワイ」");  // was quoted
  EXPECT_EQ(rp2.drugs.at(0).code_type, static_cast<int>(DrugCodeType::kHot));
  EXPECT_EQ(rp2.quantity_unit, "回分");
  EXPECT_EQ(rp2.Days(), std::nullopt);
  EXPECT_EQ(DosageFormName(rp2.dosage_form), "頓服");
  ASSERT_EQ(first.notes.size(), 1u);
  EXPECT_EQ(first.notes[0].record, 401);
  EXPECT_EQ(first.notes[0].text, "眠気に注意してください");

  const DispensingEvent& second = nb.events[1];
  EXPECT_EQ(second.date, "2025-07-15");
  ASSERT_EQ(second.rps.size(), 1u);
  EXPECT_EQ(second.rps[0].drugs.at(0).code_type, static_cast<int>(DrugCodeType::kNone));
  EXPECT_EQ(second.rps[0].drugs.at(0).code, "");
  EXPECT_EQ(DosageFormName(second.rps[0].dosage_form), "外用");
  EXPECT_EQ(second.notes.at(0).record, 501);
  EXPECT_TRUE(nb.warnings.empty()) << nb.warnings[0].message;
}

TEST(NotebookTest, ShiftJisGoldenFileIsDecodedAndUnknownRecordsAreNotes) {
  std::string bytes = Golden("notebook_sjis.csv");
  ASSERT_FALSE(core::IsValidUtf8(bytes)) << "the golden file must stay Shift_JIS";
  Notebook nb = MustParse(bytes);
  EXPECT_EQ(nb.encoding, "Shift_JIS");
  EXPECT_EQ(nb.version, "JAHISTC08");
  ASSERT_TRUE(nb.patient.has_value());
  EXPECT_EQ(nb.patient->kana, "ﾔﾏﾀﾞ ﾀﾛｳ");
  EXPECT_EQ(core::FoldKana(nb.patient->kana), "ヤマダタロウ");
  ASSERT_EQ(nb.events.size(), 1u);
  const DispensingEvent& e = nb.events[0];
  EXPECT_EQ(e.pharmacist, "髙橋　美咲");  // a CP932 extension character
  ASSERT_EQ(e.rps.size(), 1u);
  EXPECT_EQ(e.rps[0].usage, "１日３回毎食後～就寝前");
  EXPECT_EQ(e.rps[0].drugs.size(), 2u);
  ASSERT_EQ(e.notes.size(), 2u);
  EXPECT_EQ(e.notes[0].text, "残薬：①アムロジン２錠");
  EXPECT_EQ(e.notes[1].record, 999);
  ASSERT_EQ(nb.warnings.size(), 1u);
  EXPECT_EQ(nb.warnings[0].line, 12);
  EXPECT_EQ(nb.warnings[0].message, "record 999 is not known; kept as a note");
}

TEST(NotebookTest, Utf8WithBomAndLfLineEndings) {
  Notebook nb = MustParse(std::string("\xEF\xBB\xBF") + kMinimal);
  EXPECT_EQ(nb.encoding, "UTF-8");
  ASSERT_EQ(nb.events.size(), 1u);
  EXPECT_EQ(nb.events[0].rps[0].drugs[0].code, "2171022F1193");
}

TEST(NotebookTest, QuotedFieldsKeepCommasAndQuotes) {
  Notebook nb = MustParse(
      "JAHISTC04,1\n5,20250601\n"
      "201,1,\"薬A, \"\"特別\"\"\",1,錠,1,,1\n301,1,\"朝,夕\",7,日分,1\n");
  EXPECT_EQ(nb.events.at(0).rps.at(0).drugs.at(0).name, "薬A, \"特別\"");
  EXPECT_EQ(nb.events[0].rps[0].usage, "朝,夕");
}

TEST(NotebookTest, SeveralNotebooksOfOnePersonInOneFile) {
  std::string twice = std::string(kMinimal) + kMinimal;
  Notebook nb = MustParse(twice);
  EXPECT_EQ(nb.events.size(), 2u);
  std::string other =
      std::string(kMinimal) + "JAHISTC04,1\n1,鈴木　花子,2,19500101,,,,,,,スズキ　ハナコ\n";
  EXPECT_EQ(ErrorOf(other), "line 7: the file holds notebooks of more than one person");
}

TEST(NotebookTest, WarningsDoNotStopTheParse) {
  Notebook nb = MustParse(
      "JAHISTC04,1\n5,20250601\n"
      "201,1,薬A,1,錠,4,2171022,1\n"  // YJ code too short
      "201,2,薬B,1,錠,4,,1\n"         // code type without code
      "281,3,補足,1\n"                // RP 3 has no drug
      "301,4,１日１回,7,日分,1\n"     // usage without drugs
      "5,20250602\n");                // event without drugs
  std::vector<int> lines;
  for (const auto& w : nb.warnings) lines.push_back(w.line);
  EXPECT_EQ(lines, (std::vector<int>{3, 3, 4, 4, 5, 6, 7}));
  EXPECT_EQ(nb.events.at(0).rps.at(1).drugs.at(0).code_type, static_cast<int>(DrugCodeType::kNone));
}

TEST(NotebookTest, ErrorsNameTheLineAndTheReason) {
  EXPECT_EQ(ErrorOf(""), "line 1: the file is empty");
  EXPECT_EQ(ErrorOf("\r\n\r\n"), "line 2: the file is empty");
  EXPECT_EQ(ErrorOf("HELLO,1\n"),
            "line 1: not a JAHIS medication notebook file (no JAHISTC header)");
  EXPECT_EQ(ErrorOf("JAHISTCX,1\n"),
            "line 1: unknown header (expected JAHISTC followed by two digits)");
  EXPECT_EQ(ErrorOf("1,山田　太郎,1,19480503\n"), "line 1: record 1 before the JAHISTC header");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n1,山田　太郎,1,19481303\n"),
            "line 2: the birth date is not a date (YYYYMMDD)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n1,山田　太郎,3,19480503\n"),
            "line 2: sex must be 1 (male) or 2 (female)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250230\n"),
            "line 2: the dispensing date is not a date (YYYYMMDD)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,2025-06-01\n"),
            "line 2: the dispensing date is not a date (YYYYMMDD)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n1,山田　太郎\n"),
            "line 2: record 1 (patient) is cut short: 4 fields needed, 2 found");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250601\n201,1,アムロ"),
            "line 3: record 201 (drug) is cut short: 5 fields needed, 3 found");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250601\n201,1,\"アムロジピン,1,錠\n"),
            "line 3: a quoted field is not closed (line cut short?)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n201,1,薬A,1,錠,4,2171022F1193\n"),
            "line 2: record 201 (drug) outside a dispensing event (no record 5 before it)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n11,薬局,07,4,1234567\n"),
            "line 2: record 11 (pharmacy) outside a dispensing event (no record 5 before it)");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\nX1,abc\n"), "line 2: the record number is not a number");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250601\n201,0,薬A,1,錠\n"),
            "line 3: the RP number must be a number from 1 to 999");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250601\n201,1,薬A,一,錠\n"),
            "line 3: the dose must be a number");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250601\n201,1,,1,錠\n"), "line 3: the drug name is empty");
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n5,20250601\n301,1,毎食後,七,日分\n"),
            "line 3: the dispensed quantity must be a number");
  // Neither UTF-8 nor Shift_JIS (0x7F never follows a Shift_JIS lead byte).
  EXPECT_EQ(ErrorOf("JAHISTC04,1\n1,\x81\x7F\n"), "the file is neither UTF-8 nor Shift_JIS text");
}

TEST(NotebookTest, ErrorsNeverEchoTheValues) {
  std::string message = ErrorOf("JAHISTC04,1\n1,山田　太郎,1,19481303\n");
  EXPECT_EQ(message.find("19481303"), std::string::npos);
  EXPECT_EQ(message.find("山田"), std::string::npos);
}

TEST(NotebookTest, TooLargeFileIsRefused) {
  std::string big(kMaxNotebookBytes + 1, 'a');
  auto nb = ParseNotebook(big);
  ASSERT_FALSE(nb.has_value());
  EXPECT_EQ(nb.error().code(), core::Code::kTooLarge);
}

}  // namespace
}  // namespace tsunagu::jahis
