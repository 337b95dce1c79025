#include "tools/ssmix2_gen/generator.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text.hpp"

namespace tsunagu::ssmix2gen {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kJstOffsetMillis = 9LL * 3600 * 1000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

struct Name {
  const char* kanji;
  const char* kana;
};
constexpr std::array<Name, 20> kFamilyNames = {{
    {"佐藤", "サトウ"},   {"鈴木", "スズキ"},   {"高橋", "タカハシ"}, {"田中", "タナカ"},
    {"伊藤", "イトウ"},   {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
    {"小林", "コバヤシ"}, {"加藤", "カトウ"},   {"吉田", "ヨシダ"},   {"山田", "ヤマダ"},
    {"佐々木", "ササキ"}, {"松本", "マツモト"}, {"井上", "イノウエ"}, {"木村", "キムラ"},
    {"林", "ハヤシ"},     {"斎藤", "サイトウ"}, {"清水", "シミズ"},   {"阿部", "アベ"},
}};
constexpr std::array<Name, 8> kMaleNames = {{{"太郎", "タロウ"},
                                             {"一郎", "イチロウ"},
                                             {"健太", "ケンタ"},
                                             {"翔太", "ショウタ"},
                                             {"誠", "マコト"},
                                             {"博之", "ヒロユキ"},
                                             {"大輔", "ダイスケ"},
                                             {"隆", "タカシ"}}};
constexpr std::array<Name, 8> kFemaleNames = {{{"花子", "ハナコ"},
                                               {"美咲", "ミサキ"},
                                               {"陽子", "ヨウコ"},
                                               {"恵子", "ケイコ"},
                                               {"さくら", "サクラ"},
                                               {"由美", "ユミ"},
                                               {"和子", "カズコ"},
                                               {"千尋", "チヒロ"}}};
constexpr std::array<const char*, 6> kAddresses = {
    "福島県福島市杉妻町２－１６",       "福島県郡山市朝日一丁目２３番７号",
    "福島県いわき市平字梅本２１",       "福岡県福岡市博多区東公園７－７",
    "福岡県北九州市小倉北区城内１－１", "東京都千代田区霞が関１－２－２"};

struct Department {
  const char* code;
  const char* name;
};
constexpr std::array<Department, 5> kDepartments = {
    {{"01", "内科"}, {"02", "外科"}, {"05", "小児科"}, {"10", "整形外科"}, {"13", "循環器内科"}}};
constexpr std::array<const char*, 4> kDoctors = {
    "110^鈴木^一郎^^^^^^^L^^^^^I", "111^高橋^恵子^^^^^^^L^^^^^I", "112^田中^誠^^^^^^^L^^^^^I",
    "113^渡辺^陽子^^^^^^^L^^^^^I"};

struct Drug {
  const char* yj;
  const char* name;
  const char* unit;   // dose unit code^text
  const char* usage;  // JAMI usage code^text
  int per_day;
};
constexpr std::array<Drug, 10> kOralDrugs = {{
    {"1149019F1560", "ロキソニン錠６０ｍｇ", "TAB^錠^MR9P",
     "1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01", 3},
    {"2329021F1021", "ムコスタ錠１００ｍｇ", "TAB^錠^MR9P",
     "1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01", 3},
    {"2171022F1029", "アムロジン錠５ｍｇ", "TAB^錠^MR9P",
     "1011000400000000^内服・経口・１日１回朝食後^JAMISDP01", 1},
    {"2325003F2020", "ガスター錠２０ｍｇ", "TAB^錠^MR9P",
     "1012040400000000^内服・経口・１日２回朝夕食後^JAMISDP01", 2},
    {"3962002F1100", "メトグルコ錠２５０ｍｇ", "TAB^錠^MR9P",
     "1012040400000000^内服・経口・１日２回朝夕食後^JAMISDP01", 2},
    {"2344009F1029", "マグミット錠３３０ｍｇ", "TAB^錠^MR9P",
     "1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01", 3},
    {"1141007F1063", "カロナール錠２００", "TAB^錠^MR9P",
     "1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01", 3},
    {"6149003F2038", "クラリス錠２００", "TAB^錠^MR9P",
     "1012040400000000^内服・経口・１日２回朝夕食後^JAMISDP01", 2},
    {"2189015F1023", "リピトール錠１０ｍｇ", "TAB^錠^MR9P",
     "1011000400000000^内服・経口・１日１回朝食後^JAMISDP01", 1},
    {"2149040F2029", "ブロプレス錠８", "TAB^錠^MR9P",
     "1011000400000000^内服・経口・１日１回朝食後^JAMISDP01", 1},
}};
constexpr std::array<Drug, 5> kInjections = {{
    {"3311401A2021", "生理食塩液　５００ｍＬ", "BTL^瓶^MR9P", "", 1},
    {"3319550A2018", "ソリタ－Ｔ３号輸液　５００ｍＬ", "BAG^袋^MR9P", "", 1},
    {"6132400D1054", "セファゾリンナトリウム注射用１ｇ", "VIL^瓶^MR9P", "", 2},
    {"3334400A1136", "ヘパリンナトリウム注５千単位／５ｍＬ", "AMP^管^MR9P", "", 1},
    {"2399401A1070", "メトクロプラミド注射液１０ｍｇ", "AMP^管^MR9P", "", 1},
}};

struct LabItem {
  const char* jlac10;
  const char* name;
  const char* unit;
  double low;
  double high;
  int decimals;
};
constexpr std::array<LabItem, 16> kLabItems = {{
    {"3B035000002327201", "ＡＳＴ", "U/L", 13, 30, 0},
    {"3B045000002327201", "ＡＬＴ", "U/L", 10, 42, 0},
    {"3B090000002327201", "γ－ＧＴ", "U/L", 13, 64, 0},
    {"3C015000002327101", "クレアチニン", "mg/dL", 0.65, 1.07, 2},
    {"3C025000002327101", "尿素窒素", "mg/dL", 8, 20, 1},
    {"3C020000002327101", "尿酸", "mg/dL", 3.7, 7.8, 1},
    {"3A010000002327101", "総蛋白", "g/dL", 6.6, 8.1, 1},
    {"3A015000002327101", "アルブミン", "g/dL", 4.1, 5.1, 1},
    {"3F050000002327101", "総コレステロール", "mg/dL", 142, 248, 0},
    {"3F015000002327101", "中性脂肪", "mg/dL", 40, 149, 0},
    {"3D010000002227101", "グルコース", "mg/dL", 73, 109, 0},
    {"3D046000001906202", "ＨｂＡ１ｃ（ＮＧＳＰ）", "%", 4.9, 6.0, 1},
    {"2A990000001930101", "白血球数", "10*3/uL", 3.3, 8.6, 1},
    {"2A030000001930101", "ヘモグロビン", "g/dL", 11.6, 16.8, 1},
    {"2A050000001930101", "血小板数", "10*3/uL", 158, 348, 0},
    {"5C070000002306001", "ＣＲＰ", "mg/dL", 0.0, 0.14, 2},
}};

struct Disease {
  const char* medis;
  const char* name;
  const char* icd10;
};
constexpr std::array<Disease, 8> kDiseases = {{
    {"20054125", "本態性高血圧症", "I10"},
    {"20061279", "２型糖尿病", "E119"},
    {"20063412", "脂質異常症", "E785"},
    {"20059187", "気管支喘息", "J459"},
    {"20068532", "慢性胃炎", "K295"},
    {"20052245", "変形性膝関節症", "M179"},
    {"20089641", "骨粗鬆症", "M819"},
    {"20067790", "アレルギー性鼻炎", "J304"},
}};

struct Allergen {
  const char* type;  // HL7 0127
  const char* code;
  const char* name;
};
constexpr std::array<Allergen, 5> kAllergens = {{
    {"DA^薬剤アレルギー^HL70127", "1100001", "ペニシリン系抗生物質"},
    {"DA^薬剤アレルギー^HL70127", "1100002", "アスピリン"},
    {"FA^食物アレルギー^HL70127", "2100001", "卵"},
    {"FA^食物アレルギー^HL70127", "2100002", "そば"},
    {"EA^環境アレルギー^HL70127", "3100001", "スギ花粉"},
}};

struct Exam {
  const char* code;
  const char* name;
};
constexpr std::array<Exam, 4> kRadiology = {{
    {"1000000000000000", "胸部単純Ｘ線撮影"},
    {"2000000000000000", "頭部ＣＴ"},
    {"3000000000000000", "腹部超音波検査"},
    {"4000000000000000", "腰椎ＭＲＩ"},
}};

// Civil date from days since 1970-01-01.
void CivilFromDays(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

// Japan time digits of a UTC instant: 8 (date), 14 (to seconds) or 17 (ms).
std::string Jst(int64_t utc_millis, int digits) {
  int64_t local = utc_millis + kJstOffsetMillis;
  int64_t days = local / kDay;
  int64_t ms_of_day = local % kDay;
  int y, m, d;
  CivilFromDays(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%03d", y, m, d,
                static_cast<int>(ms_of_day / kHour), static_cast<int>(ms_of_day / kMinute % 60),
                static_cast<int>(ms_of_day / 1000 % 60), static_cast<int>(ms_of_day % 1000));
  return std::string(buf, static_cast<size_t>(digits));
}

// A segment from (field number, value) pairs; missing fields stay empty.
std::string Seg(std::string_view name, std::initializer_list<std::pair<int, std::string>> fields) {
  int max = 0;
  for (const auto& f : fields) max = std::max(max, f.first);
  std::vector<std::string> values(static_cast<size_t>(max) + 1);
  for (const auto& f : fields) values[static_cast<size_t>(f.first)] = f.second;
  std::string out(name);
  for (int i = 1; i <= max; ++i) {
    out += '|';
    out += values[static_cast<size_t>(i)];
  }
  return out;
}

struct Patient {
  std::string id;
  std::string family, given, family_kana, given_kana;
  char sex = 'M';
  std::string birth_date;
  std::string postcode;
  std::string address;
  std::string phone;
};

struct Order {
  std::string number;
  std::string type;
  std::string date;
  std::string dept;
  std::string last_file;  // path of the newest version
};

class Generator {
 public:
  explicit Generator(const GeneratorOptions& o) : o_(o), rng_(o.seed) {}

  core::Result<GeneratorStats> Run() {
    std::error_code ec;
    fs::create_directories(o_.out, ec);
    if (ec) return core::Internal("cannot create the output directory", ec.message());
    const int64_t patients =
        o_.given_patients.empty() ? o_.patients : static_cast<int64_t>(o_.given_patients.size());
    int64_t per = o_.messages / patients, extra = o_.messages % patients;
    for (int64_t i = 0; i < patients; ++i) {
      int64_t quota = per + (i < extra ? 1 : 0);
      if (quota < 1) quota = 1;
      TSUNAGU_RETURN_IF_ERROR(GeneratePatient(i, quota));
    }
    return stats_;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& a) {
    return a[static_cast<size_t>(Uniform(0, static_cast<int>(N) - 1))];
  }

  std::string NextOrder() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(++order_seq_));
    return buf;
  }
  std::string NextControlId() { return "M" + std::to_string(++control_seq_); }

  std::string Msh(const std::string& type, int64_t t) {
    return Seg("MSH", {{1, "^~\\&"},
                       {2, "HIS"},
                       {3, o_.facility_code},
                       {4, "SSMIX2"},
                       {5, ""},
                       {6, Jst(t, 14)},
                       {8, type},
                       {9, NextControlId()},
                       {10, "P"},
                       {11, "2.5"},
                       {17, "~ISO IR87"},
                       {19, "ISO 2022-1994"},
                       {20, "SS-MIX2_1.20^SS-MIX2^1.2.392.200250.2.1.100.1.2.120^ISO"}});
  }
  static std::string Pid(const Patient& p) {
    return Seg("PID", {{1, "0001"},
                       {3, p.id + "^^^^PI"},
                       {5, p.family + "^" + p.given + "^^^^^L^I~" + p.family_kana + "^" +
                               p.given_kana + "^^^^^L^P"},
                       {7, p.birth_date},
                       {8, std::string(1, p.sex)},
                       {11, "^^^^" + p.postcode + "^JPN^H^" + p.address},
                       {13, "^PRN^PH^^^^^^^^^" + p.phone}});
  }
  static std::string Pv1(char klass, const Department& dept, const std::string& doctor) {
    return Seg("PV1", {{1, "0001"},
                       {2, std::string(1, klass)},
                       {3, std::string(dept.code) + "^^^^^C"},
                       {7, doctor},
                       {10, std::string(dept.code) + "^" + dept.name + "^99Z01"}});
  }
  static std::string Orc(const std::string& control, const std::string& order, int64_t t,
                         const std::string& doctor, const Department& dept) {
    return Seg("ORC", {{1, control},
                       {2, order},
                       {9, Jst(t, 14)},
                       {12, doctor},
                       {15, Jst(t, 14)},
                       {17, std::string(dept.code) + "^" + dept.name + "^99Z01"}});
  }

  static std::string Join(const std::vector<std::string>& segments) {
    std::string out;
    for (const auto& s : segments) {
      out += s;
      out += '\r';
    }
    return out;
  }

  core::Result<std::string> Write(const Patient& p, const std::string& date,
                                  const std::string& type, const std::string& order, int64_t t,
                                  const std::string& dept, const std::string& utf8) {
    auto encoded = core::EncodeIso2022Jp(utf8);
    if (!encoded) return core::Internal("text not representable in ISO-2022-JP");
    fs::path dir = fs::path(o_.out) / p.id.substr(0, 3) / p.id.substr(3, 3) / p.id / date / type;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return core::Internal("cannot create a directory", ec.message());
    std::string name =
        p.id + "_" + date + "_" + type + "_" + order + "_" + Jst(t, 17) + "_" + dept + "_1";
    fs::path file = dir / name;
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f.write(encoded->data(), static_cast<std::streamsize>(encoded->size()));
    f.close();
    if (!f) return core::Internal("cannot write a file", file.string());
    ++stats_.files;
    ++stats_.per_type[type];
    return file.string();
  }

  Patient MakePatient(int64_t index) {
    if (!o_.given_patients.empty()) {
      const PatientSeed& g = o_.given_patients[static_cast<size_t>(index)];
      return Patient{g.id,  g.family,     g.given,    g.family_kana, g.given_kana,
                     g.sex, g.birth_date, g.postcode, g.address,     g.phone};
    }
    Patient p;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(1000000 + index * 37));
    p.id = buf;
    const Name& fam = Pick(kFamilyNames);
    p.sex = Chance(50) ? 'M' : 'F';
    const Name& giv = p.sex == 'M' ? Pick(kMaleNames) : Pick(kFemaleNames);
    p.family = fam.kanji;
    p.family_kana = fam.kana;
    p.given = giv.kanji;
    p.given_kana = giv.kana;
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", Uniform(1930, 2020), Uniform(1, 12),
                  Uniform(1, 28));
    p.birth_date = buf;
    std::snprintf(buf, sizeof buf, "%07d", Uniform(100000, 9999999));
    p.postcode = buf;
    p.address = Pick(kAddresses);
    std::snprintf(buf, sizeof buf, "0%d-%03d-%04d", Uniform(10, 99), Uniform(100, 999),
                  Uniform(0, 9999));
    p.phone = buf;
    return p;
  }

  core::Status GeneratePatient(int64_t index, int64_t quota) {
    Patient p = MakePatient(index);
    // 2024-01-01 00:00 JST plus up to ~500 days.
    int64_t t = 1704034800000LL + static_cast<int64_t>(Uniform(0, 500)) * kDay + 9 * kHour;
    int64_t written = 0;
    auto left = [&] { return quota - written; };

    {
      std::string msg = Join({Msh("ADT^A08^ADT_A01", t), Seg("EVN", {{2, Jst(t, 14)}}), Pid(p),
                              Seg("PV1", {{1, "0001"}, {2, "N"}})});
      TSUNAGU_RETURN_IF_ERROR(Write(p, "-", "ADT-00", "-", t, "-", msg).status());
      ++written;
    }
    std::vector<Order> orders;
    while (left() > 0) {
      t += static_cast<int64_t>(Uniform(1, 30)) * kDay;
      // Clinic hours: 08:30 to 16:30 Japan time on that day.
      t = t - (t + kJstOffsetMillis) % kDay + 8 * kHour + 30 * kMinute +
          static_cast<int64_t>(Uniform(0, 480)) * kMinute;
      const Department& dept = Pick(kDepartments);
      std::string doctor = Pick(kDoctors);
      std::string date = Jst(t, 8);
      int kind = Uniform(0, 99);
      if (kind < 12) {  // outpatient visit
        std::string msg =
            Join({Msh("ADT^A04^ADT_A01", t), Seg("EVN", {{2, Jst(t, 14)}}), Pid(p),
                  Seg("PV1", {{1, "0001"},
                              {2, "O"},
                              {3, std::string(dept.code) + "^^^^^C"},
                              {7, doctor},
                              {10, std::string(dept.code) + "^" + dept.name + "^99Z01"},
                              {44, Jst(t, 14)}})});
        TSUNAGU_RETURN_IF_ERROR(Write(p, date, "ADT-12", "-", t, dept.code, msg).status());
        ++written;
      } else if (kind < 42) {  // lab result
        std::string order = NextOrder();
        TSUNAGU_RETURN_IF_ERROR(LabResult(p, order, t, dept, doctor, written, orders, false));
      } else if (kind < 60) {  // prescription order (+ dispensing)
        std::string order = NextOrder();
        TSUNAGU_RETURN_IF_ERROR(Prescription(p, order, t, dept, doctor, false, written, orders));
        if (left() > 0 && Chance(70)) {
          TSUNAGU_RETURN_IF_ERROR(Dispense(p, order, t + 40 * kMinute, dept, doctor, written));
        }
      } else if (kind < 70) {  // injection order (+ administration)
        std::string order = NextOrder();
        TSUNAGU_RETURN_IF_ERROR(Prescription(p, order, t, dept, doctor, true, written, orders));
        if (left() > 0 && Chance(70)) {
          TSUNAGU_RETURN_IF_ERROR(Administer(p, order, t + 90 * kMinute, dept, doctor, written));
        }
      } else if (kind < 78) {  // disease
        const Disease& d = Pick(kDiseases);
        std::string msg =
            Join({Msh("PPR^ZD1^PPR_ZD1", t), Pid(p), Pv1('O', dept, doctor),
                  Seg("PRB", {{1, "AD"},
                              {2, Jst(t, 14)},
                              {3, std::string(d.medis) + "^" + d.name + "^MDCDX2^" + d.icd10 + "^" +
                                      d.name + "^I10"},
                              {4, "P" + std::to_string(order_seq_ + 1)},
                              {7, Jst(t, 8)},
                              {14, "AC^活動中^HL70766"},
                              {16, Jst(t - static_cast<int64_t>(Uniform(0, 365)) * kDay, 8)}})});
        TSUNAGU_RETURN_IF_ERROR(Write(p, "-", "PPR-01", NextOrder(), t, dept.code, msg).status());
        ++written;
      } else if (kind < 82) {  // allergy
        const Allergen& a = Pick(kAllergens);
        std::string msg = Join({Msh("ADT^A60^ADT_A60", t), Seg("EVN", {{2, Jst(t, 14)}}), Pid(p),
                                Pv1('O', dept, doctor),
                                Seg("IAM", {{1, "1"},
                                            {2, a.type},
                                            {3, std::string(a.code) + "^" + a.name + "^99XA1"},
                                            {4, Chance(30) ? "SV^重症^HL70128" : "MI^軽症^HL70128"},
                                            {5, "発疹"},
                                            {6, "A^追加^HL70323"},
                                            {7, "A" + std::to_string(order_seq_ + 1)},
                                            {11, Jst(t - 30 * kDay, 8)},
                                            {13, Jst(t, 14)}})});
        TSUNAGU_RETURN_IF_ERROR(Write(p, "-", "ADT-61", NextOrder(), t, dept.code, msg).status());
        ++written;
      } else if (kind < 90) {  // radiology order (+ done)
        const Exam& e = Pick(kRadiology);
        std::string order = NextOrder();
        std::string obr = Seg("OBR", {{1, "1"},
                                      {2, order},
                                      {4, std::string(e.code) + "^" + e.name + "^JJ1017-16P"},
                                      {7, Jst(t + kHour, 14)}});
        std::string msg = Join({Msh("OMI^O23^OMI_O23", t), Pid(p), Pv1('O', dept, doctor),
                                Orc("NW", order, t, doctor, dept), obr});
        TSUNAGU_RETURN_IF_ERROR(Write(p, date, "OMG-01", order, t, dept.code, msg).status());
        ++written;
        if (left() > 0) {
          int64_t t2 = t + 2 * kHour;
          msg = Join({Msh("OMI^Z23^OMI_O23", t2), Pid(p), Pv1('O', dept, doctor),
                      Orc("SC", order, t2, doctor, dept), obr});
          TSUNAGU_RETURN_IF_ERROR(Write(p, date, "OMG-11", order, t2, dept.code, msg).status());
          ++written;
        }
      } else {  // admission (+ discharge)
        std::string ward = "W" + std::to_string(Uniform(1, 8)) + "^" +
                           std::to_string(Uniform(201, 520)) + "^" + std::to_string(Uniform(1, 4));
        std::string msg =
            Join({Msh("ADT^A01^ADT_A01", t), Seg("EVN", {{2, Jst(t, 14)}}), Pid(p),
                  Seg("PV1", {{1, "0001"},
                              {2, "I"},
                              {3, ward},
                              {7, doctor},
                              {10, std::string(dept.code) + "^" + dept.name + "^99Z01"},
                              {44, Jst(t, 14)}})});
        TSUNAGU_RETURN_IF_ERROR(Write(p, date, "ADT-22", "-", t, dept.code, msg).status());
        ++written;
        if (left() > 0) {
          int64_t admitted = t;
          t += static_cast<int64_t>(Uniform(3, 20)) * kDay;
          msg = Join({Msh("ADT^A03^ADT_A03", t), Seg("EVN", {{2, Jst(t, 14)}}), Pid(p),
                      Seg("PV1", {{1, "0001"},
                                  {2, "I"},
                                  {3, ward},
                                  {7, doctor},
                                  {10, std::string(dept.code) + "^" + dept.name + "^99Z01"},
                                  {44, Jst(admitted, 14)},
                                  {45, Jst(t, 14)}})});
          TSUNAGU_RETURN_IF_ERROR(Write(p, Jst(t, 8), "ADT-52", "-", t, dept.code, msg).status());
          ++written;
        }
      }
      // A later version of a recent order, or its cancellation.
      if (!orders.empty() && left() > 0 && Chance(o_.update_percent)) {
        Order& o = orders.back();
        int64_t t2 = t + static_cast<int64_t>(Uniform(10, 120)) * kMinute;
        const Department& d2 = kDepartments[0];
        if (o.type == "OML-11") {
          TSUNAGU_RETURN_IF_ERROR(LabResult(p, o.number, t2, d2, doctor, written, orders, true));
        } else {
          TSUNAGU_RETURN_IF_ERROR(
              Prescription(p, o.number, t2, d2, doctor, o.type == "OMP-02", written, orders));
        }
        ++stats_.updates;
      } else if (!orders.empty() && Chance(o_.cancel_percent)) {
        Order o = orders.back();
        orders.pop_back();
        std::string cancelled = o.last_file.substr(0, o.last_file.size() - 1) + "0";
        std::error_code ec;
        fs::rename(o.last_file, cancelled, ec);
        if (ec) return core::Internal("cannot rename a file", ec.message());
        ++stats_.cancellations;
      }
    }
    return core::Status::Ok();
  }

  core::Status LabResult(const Patient& p, const std::string& order, int64_t t,
                         const Department& dept, const std::string& doctor, int64_t& written,
                         std::vector<Order>& orders, bool correction) {
    std::vector<std::string> segs = {
        Msh("OUL^R22^OUL_R22", t),
        Pid(p),
        Pv1('O', dept, doctor),
        Seg("SPM", {{1, "1"}, {4, "023^血清^JC10"}, {17, Jst(t - kHour, 14)}}),
        Seg("OBR", {{1, "1"},
                    {2, order},
                    {3, "L" + order},
                    {4, "B001^生化学検査^99LAB"},
                    {7, Jst(t - kHour, 14)},
                    {22, Jst(t, 14)},
                    {25, correction ? "C" : "F"}}),
        Seg("ORC", {{1, "SC"}, {2, order}, {3, "L" + order}, {5, "CM"}, {12, doctor}})};
    int items = Uniform(3, 8);
    size_t first = static_cast<size_t>(Uniform(0, static_cast<int>(kLabItems.size()) - 1));
    for (int i = 0; i < items; ++i) {
      const LabItem& item = kLabItems[(first + static_cast<size_t>(i)) % kLabItems.size()];
      double span = item.high - item.low;
      double v =
          item.low - span * 0.3 + span * 1.6 * std::uniform_real_distribution<double>(0, 1)(rng_);
      if (v < 0) v = 0;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.*f", item.decimals, v);
      char range[64];
      std::snprintf(range, sizeof range, "%.*f-%.*f", item.decimals, item.low, item.decimals,
                    item.high);
      const char* flag = v < item.low ? "L" : v > item.high ? "H" : "N";
      segs.push_back(Seg("OBX", {{1, std::to_string(i + 1)},
                                 {2, "NM"},
                                 {3, std::string(item.jlac10) + "^" + item.name + "^JC10"},
                                 {5, buf},
                                 {6, std::string(item.unit) + "^" + item.unit + "^ISO+"},
                                 {7, range},
                                 {8, flag},
                                 {11, correction ? "C" : "F"},
                                 {14, Jst(t - kHour, 14)}}));
    }
    TSUNAGU_ASSIGN_OR_RETURN(std::string file,
                             Write(p, Jst(t, 8), "OML-11", order, t, dept.code, Join(segs)));
    ++written;
    Remember(orders, order, "OML-11", file);
    return core::Status::Ok();
  }

  core::Status Prescription(const Patient& p, const std::string& order, int64_t t,
                            const Department& dept, const std::string& doctor, bool injection,
                            int64_t& written, std::vector<Order>& orders) {
    const Drug& drug = injection ? Pick(kInjections) : Pick(kOralDrugs);
    int days = injection ? 1 : Uniform(3, 30);
    int dose = drug.per_day;
    std::string unit_code = std::string(drug.unit).substr(0, 3);
    std::vector<std::string> segs = {Msh("RDE^O11^RDE_O11", t), Pid(p), Pv1('O', dept, doctor),
                                     Orc("NW", order, t, doctor, dept)};
    std::string give = std::string(drug.yj) + "^" + drug.name + "^YJ";
    if (injection) {
      segs.push_back(Seg("RXE", {{2, give},
                                 {3, std::to_string(dose)},
                                 {5, drug.unit},
                                 {10, std::to_string(dose)},
                                 {11, drug.unit},
                                 {21, "点滴静注"}}));
      segs.push_back(Seg("TQ1", {{1, "1"}, {7, Jst(t, 14)}, {8, Jst(t + kHour, 14)}}));
      segs.push_back(Seg("RXR", {{1, "IV^静脈内^HL70162"}}));
    } else {
      segs.push_back(Seg("RXE", {{2, give},
                                 {3, std::to_string(dose / drug.per_day)},
                                 {5, drug.unit},
                                 {10, std::to_string(dose * days)},
                                 {11, drug.unit},
                                 {21, "1日" + std::to_string(drug.per_day) + "回"},
                                 {27, std::to_string(dose) + "^" + drug.unit}}));
      segs.push_back(Seg(
          "TQ1",
          {{1, "1"}, {3, drug.usage}, {6, std::to_string(days) + "^D&日&ISO+"}, {7, Jst(t, 8)}}));
      segs.push_back(Seg("RXR", {{1, "PO^口^HL70162"}}));
    }
    std::string type = injection ? "OMP-02" : "OMP-01";
    TSUNAGU_ASSIGN_OR_RETURN(std::string file,
                             Write(p, Jst(t, 8), type, order, t, dept.code, Join(segs)));
    ++written;
    Remember(orders, order, type, file);
    last_drug_ = &drug;
    return core::Status::Ok();
  }

  core::Status Dispense(const Patient& p, const std::string& order, int64_t t,
                        const Department& dept, const std::string& doctor, int64_t& written) {
    // JAHIS: the prescription execution notice is RAS^O17 with the oral route.
    const Drug& drug = *last_drug_;
    std::string give = std::string(drug.yj) + "^" + drug.name + "^YJ";
    std::string msg = Join({Msh("RAS^O17^RAS_O17", t), Pid(p), Pv1('O', dept, doctor),
                            Orc("RE", order, t, doctor, dept),
                            Seg("RXA", {{1, "0"},
                                        {2, "1"},
                                        {3, Jst(t, 14)},
                                        {4, Jst(t, 14)},
                                        {5, give},
                                        {6, std::to_string(drug.per_day * 7)},
                                        {7, drug.unit}}),
                            Seg("RXR", {{1, "PO^口^HL70162"}})});
    TSUNAGU_RETURN_IF_ERROR(Write(p, Jst(t, 8), "OMP-11", order, t, dept.code, msg).status());
    ++written;
    return core::Status::Ok();
  }

  core::Status Administer(const Patient& p, const std::string& order, int64_t t,
                          const Department& dept, const std::string& doctor, int64_t& written) {
    const Drug& drug = *last_drug_;
    std::string give = std::string(drug.yj) + "^" + drug.name + "^YJ";
    std::string msg = Join({Msh("RAS^O17^RAS_O17", t), Pid(p), Pv1('O', dept, doctor),
                            Orc("RE", order, t, doctor, dept),
                            Seg("RXA", {{1, "0"},
                                        {2, "1"},
                                        {3, Jst(t, 14)},
                                        {4, Jst(t + 30 * kMinute, 14)},
                                        {5, give},
                                        {6, std::to_string(drug.per_day)},
                                        {7, drug.unit}}),
                            Seg("RXR", {{1, "IV^静脈内^HL70162"}})});
    TSUNAGU_RETURN_IF_ERROR(Write(p, Jst(t, 8), "OMP-12", order, t, dept.code, msg).status());
    ++written;
    return core::Status::Ok();
  }

  static void Remember(std::vector<Order>& orders, const std::string& number,
                       const std::string& type, const std::string& file) {
    for (auto& o : orders) {
      if (o.number == number) {
        o.last_file = file;
        return;
      }
    }
    orders.push_back({number, type, "", "", file});
    if (orders.size() > 8) orders.erase(orders.begin());
  }

  GeneratorOptions o_;
  std::mt19937_64 rng_;
  int64_t order_seq_ = 0;
  int64_t control_seq_ = 0;
  const Drug* last_drug_ = &kOralDrugs[0];
  GeneratorStats stats_;
};

}  // namespace

core::Result<GeneratorStats> GenerateTree(const GeneratorOptions& options) {
  if (options.out.empty()) return core::InvalidInput("--out is required");
  if (options.patients < 1) return core::InvalidInput("--patients must be at least 1");
  if (options.messages < options.patients) {
    return core::InvalidInput("--messages must be at least --patients (one ADT-00 each)");
  }
  if (options.facility_code.size() != 10) {
    return core::InvalidInput("the facility code must have 10 digits");
  }
  if (options.update_percent < 0 || options.update_percent > 100 || options.cancel_percent < 0 ||
      options.cancel_percent > 100) {
    return core::InvalidInput("percentages must be 0..100");
  }
  Generator g(options);
  return g.Run();
}

}  // namespace tsunagu::ssmix2gen
