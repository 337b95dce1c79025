#pragma once
// The JAHIS electronic medication notebook format (JAHIS 電子版お薬手帳データ
// フォーマット, Ver.2.x): the CSV that pharmacy systems and お薬手帳 apps
// exchange. A file starts with "JAHISTC<nn>,<出力元区分>" and holds records
// "<record no>,<fields...>": 1 patient, 2 patient remarks, 5 dispensing date
// (starts an event), 11 pharmacy, 15 pharmacist, 51 prescribing facility,
// 55 prescribing doctor, 201 drug, 281 drug supplement, 291 drug caution,
// 301 usage, 311 usage supplement, and notes (391, 401, 411, 421, 501, 601,
// ...). docs/jahis.md describes what is read.
//
// ParseNotebook is pure and thread-safe. Errors are InvalidInput naming the
// line and the reason, never a field's value (values are patient data).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::jahis {

// Largest file accepted (a notebook of many years is well under 1 MB).
inline constexpr size_t kMaxNotebookBytes = 2 * 1024 * 1024;

// 薬品コード種別 of record 201.
enum class DrugCodeType {
  kNone = 1,     // コードなし
  kReceipt = 2,  // レセプト電算処理システム用コード (9 digits)
  kMhlw = 3,     // 厚生労働省コード (薬価基準収載医薬品コード, 12 characters)
  kYj = 4,       // 個別医薬品コード (YJ コード, 12 characters)
  kHot = 6,      // HOT コード (7, 9 or 13 digits)
};

// 剤型コード of record 301 (0 when the file leaves it empty).
std::string_view DosageFormName(int code);  // 1 -> "内服", ..., unknown -> ""

struct NotebookPatient {
  int line = 0;
  std::string name;        // 氏名
  std::string sex;         // "1" male, "2" female, "" unknown
  std::string birth_date;  // YYYY-MM-DD or ""
  std::string postcode, address, phone, emergency_contact, blood_type, weight;
  std::string kana;  // 氏名カナ (as written; fold with core::FoldKana to compare)
};

// Record 2: allergy, side effect, past illness or other remarks.
struct PatientRemark {
  int line = 0;
  std::string kind;  // "1" allergy, "2" side effect, "3" past illness, "9" other
  std::string text;
};

// Records 11 and 51. The 10-digit medical institution code is
// prefecture (2) + score table (1) + institution (7).
struct NotebookFacility {
  std::string name;
  std::string prefecture;               // 都道府県コード, "07"
  std::string score_table;              // 点数表コード: 1 medical, 3 dental, 4 pharmacy
  std::string code;                     // 医療機関等コード, 7 digits
  std::string InstitutionCode() const;  // the 10 digits, or "" when incomplete
};

struct NotebookDrug {
  int line = 0;
  std::string name;                // 薬品名称
  std::string dose;                // 用量 (daily dose for 内服, per-use dose for 頓服)
  std::string unit;                // 単位名
  int code_type = 0;               // DrugCodeType value; 0 when the field is empty
  std::string code;                // 薬品コード
  std::vector<std::string> notes;  // 281 supplements and 291 cautions
};

// One RP (Rp.1, Rp.2, ...): the drugs taken together and their usage.
struct NotebookRp {
  int number = 0;             // RP番号
  int usage_line = 0;         // line of record 301, 0 when absent
  std::string usage;          // 用法名称, "1日3回毎食後"
  std::string quantity;       // 調剤数量 ("14")
  std::string quantity_unit;  // 調剤単位 ("日分", "回分", ...)
  int dosage_form = 0;        // 剤型コード
  std::string usage_code_type, usage_code;
  std::vector<std::string> usage_notes;  // 311
  std::vector<NotebookDrug> drugs;
  // Supply days when the unit is 日分 and the quantity a whole number > 0.
  std::optional<int> Days() const;
};

// Notes kept as text: unknown records and the free-text records.
struct NotebookNote {
  int line = 0;
  int record = 0;
  std::string text;  // the fields after the record number, joined by ","
};

// From record 5 up to the next record 5 (or the end).
struct DispensingEvent {
  int line = 0;
  std::string date;           // 調剤等年月日, YYYY-MM-DD
  NotebookFacility pharmacy;  // 11
  std::string pharmacy_postcode, pharmacy_address, pharmacy_phone;
  std::string pharmacist, pharmacist_contact;  // 15
  NotebookFacility prescriber;                 // 51
  std::string doctor, department;              // 55
  std::vector<NotebookRp> rps;                 // in order of first appearance
  std::vector<NotebookNote> notes;             // 391, 401, 411, 421, 501, 601, unknown
};

// A problem that does not stop the import (shown to the uploader).
struct ParseWarning {
  int line = 0;
  std::string message;
};

struct Notebook {
  std::string version;      // "JAHISTC04"
  std::string output_kind;  // 出力元区分: "1" facility, "2" patient, ...
  std::string encoding;     // "UTF-8" or "Shift_JIS": what the bytes were
  std::optional<NotebookPatient> patient;
  std::vector<PatientRemark> remarks;
  std::vector<DispensingEvent> events;
  std::vector<NotebookNote> notes;  // notes outside any event
  std::vector<ParseWarning> warnings;
};

// bytes: UTF-8 (with or without BOM) or Shift_JIS (Windows-31J), CRLF or LF.
// Errors (InvalidInput, "line N: reason"): empty file; not text in either
// encoding; a first line that is not a JAHISTC header; a record before the
// header; a record number that is not a number; an unterminated quoted
// field; a record with fewer fields than it needs; a bad date; a drug,
// usage, pharmacy or prescriber record outside a dispensing event (before
// the first record 5); a bad RP number; notebooks of two different people
// in one file. TooLarge beyond kMaxNotebookBytes.
core::Result<Notebook> ParseNotebook(std::string_view bytes);

}  // namespace tsunagu::jahis
