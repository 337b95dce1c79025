// Loads a synthetic regional network at scale into a data directory, for the
// at-scale read benchmark (bench/clinical_scale_bench.sh):
//   clinical_scale_load --data DIR [--patients N] [--resources N] [--db URL]
// It opens DIR the way `tsunagu serve --data DIR` does (Application::Open, so
// every migration is applied) and writes through the services:
//  - a secretariat, one large hospital (the source of all clinical data) and
//    one clinic (the viewer); a physician at each, password kDemoPassword, no
//    second factor (like the demo's staff);
//  - N patients registered at the hospital (PatientService::Register), linked
//    at the clinic, each with a clinical-sharing consent from the hospital to
//    the clinic (ConsentService::Create);
//  - the resources, spread over the patients (one in ten has five times the
//    data of the others), written by ResourceStore::Write in batches of
//    ResourceStore::kMaxBatch: per visit an Encounter, one or two
//    MedicationRequests (YJ codes) and a lab panel of Observations (30 JLAC10
//    codes, 2016-2025); per patient one to three Conditions and sometimes an
//    AllergyIntolerance. The JSON has the shape of the SS-MIX2 mapper's output
//    (tests/golden/ssmix2/*.json).
// Restartable: progress is kept in DIR/scale/state, and every record has a
// deterministic source key, so an interrupted load resumes (a re-written
// batch is "unchanged") and a finished one is left as it is. Writes, for the
// benchmark, DIR/scale/{patients.txt (regional IDs), observation_ids.txt,
// lab_codes.txt (system|code), network.env (logins, facility codes)}.
// The generated people and values are fictional.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "app/app_config.hpp"
#include "app/application.hpp"
#include "app/demo.hpp"
#include "auth/account_service.hpp"
#include "clinical/fhir_summary.hpp"
#include "clinical/resource_store.hpp"
#include "consent/consent_service.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"
#include "store/database.hpp"

namespace {

using tsunagu::app::Application;
using tsunagu::clinical::Category;
using tsunagu::clinical::ResourceRecord;
using tsunagu::clinical::ResourceStore;
namespace core = tsunagu::core;
namespace registry = tsunagu::registry;
namespace auth = tsunagu::auth;
namespace consent = tsunagu::consent;

constexpr const char* kJlac10 = "urn:oid:1.2.392.200119.4.504";
constexpr const char* kMedis = "urn:oid:1.2.392.200119.4.101.6";
constexpr const char* kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr const char* kSubjectSystemPrefix = "urn:oid:1.2.392.100495.20.3.51.1";
constexpr int64_t kFirstDay = 16801;  // 2016-01-01
constexpr int64_t kDays = 3592;       // through 2025-10-31

struct LabItem {
  const char* code;
  const char* name;
  const char* unit;
  double low, high;
  int decimals;
};
constexpr std::array<LabItem, 30> kLabItems{{
    {"3B035000002327201", "ＡＳＴ", "U/L", 13, 30, 0},
    {"3B045000002327201", "ＡＬＴ", "U/L", 10, 42, 0},
    {"3B090000002327201", "γ－ＧＴ", "U/L", 13, 64, 0},
    {"3B050000002327201", "ＬＤ", "U/L", 124, 222, 0},
    {"3B070000002327201", "ＡＬＰ", "U/L", 38, 113, 0},
    {"3B110000002327201", "ＣＫ", "U/L", 59, 248, 0},
    {"3B160000002327201", "アミラーゼ", "U/L", 44, 132, 0},
    {"3J010000002327101", "総ビリルビン", "mg/dL", 0.4, 1.5, 1},
    {"3C015000002327101", "クレアチニン", "mg/dL", 0.65, 1.07, 2},
    {"3C025000002327101", "尿素窒素", "mg/dL", 8, 20, 1},
    {"3C020000002327101", "尿酸", "mg/dL", 3.7, 7.8, 1},
    {"8A065000002391901", "ｅＧＦＲ", "mL/min/1.73m2", 60, 120, 1},
    {"3A010000002327101", "総蛋白", "g/dL", 6.6, 8.1, 1},
    {"3A015000002327101", "アルブミン", "g/dL", 4.1, 5.1, 1},
    {"3H010000002326101", "ナトリウム", "mmol/L", 138, 145, 0},
    {"3H015000002326101", "カリウム", "mmol/L", 3.6, 4.8, 1},
    {"3H020000002326101", "クロール", "mmol/L", 101, 108, 0},
    {"3H030000002326101", "カルシウム", "mg/dL", 8.8, 10.1, 1},
    {"3F050000002327101", "総コレステロール", "mg/dL", 142, 248, 0},
    {"3F070000002327101", "ＨＤＬコレステロール", "mg/dL", 38, 90, 0},
    {"3F077000002327101", "ＬＤＬコレステロール", "mg/dL", 65, 163, 0},
    {"3F015000002327101", "中性脂肪", "mg/dL", 40, 149, 0},
    {"3D010000002227101", "グルコース", "mg/dL", 73, 109, 0},
    {"3D046000001906202", "ＨｂＡ１ｃ（ＮＧＳＰ）", "%", 4.9, 6.0, 1},
    {"2A990000001930101", "白血球数", "10*3/uL", 3.3, 8.6, 1},
    {"2A020000001930101", "赤血球数", "10*6/uL", 3.86, 5.78, 2},
    {"2A030000001930101", "ヘモグロビン", "g/dL", 11.6, 16.8, 1},
    {"2A040000001930102", "ヘマトクリット", "%", 35.1, 48.9, 1},
    {"2A050000001930101", "血小板数", "10*3/uL", 158, 348, 0},
    {"5C070000002306001", "ＣＲＰ", "mg/dL", 0.0, 0.14, 2},
}};

struct Drug {
  const char* yj;
  const char* name;
  const char* usage_code;
  const char* usage;
  int per_day;
};
constexpr std::array<Drug, 10> kDrugs{{
    {"1149019F1560", "ロキソニン錠６０ｍｇ", "1013044400000000", "内服・経口・１日３回朝昼夕食後",
     3},
    {"2329021F1021", "ムコスタ錠１００ｍｇ", "1013044400000000", "内服・経口・１日３回朝昼夕食後",
     3},
    {"2171022F1029", "アムロジン錠５ｍｇ", "1011000400000000", "内服・経口・１日１回朝食後", 1},
    {"2325003F2020", "ガスター錠２０ｍｇ", "1012040400000000", "内服・経口・１日２回朝夕食後", 2},
    {"3962002F1100", "メトグルコ錠２５０ｍｇ", "1012040400000000", "内服・経口・１日２回朝夕食後",
     2},
    {"2344009F1029", "マグミット錠３３０ｍｇ", "1013044400000000", "内服・経口・１日３回朝昼夕食後",
     3},
    {"1141007F1063", "カロナール錠２００", "1013044400000000", "内服・経口・１日３回朝昼夕食後", 3},
    {"6149003F2038", "クラリス錠２００", "1012040400000000", "内服・経口・１日２回朝夕食後", 2},
    {"2189015F1023", "リピトール錠１０ｍｇ", "1011000400000000", "内服・経口・１日１回朝食後", 1},
    {"2149040F2029", "ブロプレス錠８", "1011000400000000", "内服・経口・１日１回朝食後", 1},
}};

struct Disease {
  const char* medis;
  const char* name;
  const char* icd10;
};
constexpr std::array<Disease, 8> kDiseases{{
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
  const char* code;
  const char* name;
  const char* category;
};
constexpr std::array<Allergen, 5> kAllergens{{
    {"1100001", "ペニシリン系抗生物質", "medication"},
    {"1100002", "アスピリン", "medication"},
    {"2100001", "卵", "food"},
    {"2100002", "そば", "food"},
    {"3100001", "スギ花粉", "environment"},
}};

constexpr std::array<const char*, 16> kFamily{"佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤",
                                              "山本", "中村", "小林", "加藤", "吉田", "山田",
                                              "斎藤", "菅野", "阿部", "遠藤"};
constexpr std::array<const char*, 16> kFamilyKana{
    "サトウ",   "スズキ", "タカハシ", "タナカ", "ワタナベ", "イトウ", "ヤマモト", "ナカムラ",
    "コバヤシ", "カトウ", "ヨシダ",   "ヤマダ", "サイトウ", "カンノ", "アベ",     "エンドウ"};
constexpr std::array<const char*, 8> kGiven{"太郎", "花子", "健一", "幸子",
                                            "誠",   "洋子", "浩",   "恵子"};
constexpr std::array<const char*, 8> kGivenKana{"タロウ", "ハナコ", "ケンイチ", "サチコ",
                                                "マコト", "ヨウコ", "ヒロシ",   "ケイコ"};

struct Options {
  std::string data_dir;
  std::string db_url;
  int64_t patients = 100000;
  int64_t resources = 10000000;
};

// Progress, one "key value" per line in DIR/scale/state.
struct State {
  int64_t hospital_id = 0, clinic_id = 0, secretariat_id = 0;
  std::string hospital_code, clinic_code;
  int64_t patients = 0, resources = 0;  // the targets of this data dir
  int64_t patients_registered = 0;      // prefix of the patient list done
  int64_t patients_with_resources = 0;  // prefix whose resources are written
  int64_t resources_written = 0;
  double load_seconds = 0;  // of earlier runs, when loaded; plus this run's when saved
  std::chrono::steady_clock::time_point run_start = std::chrono::steady_clock::now();
  double earlier_seconds = 0;

  static State Load(const std::string& path) {
    State s;
    std::ifstream in(path);
    std::string key;
    while (in >> key) {
      if (key == "hospital_code" || key == "clinic_code") {
        (key == "hospital_code" ? s.hospital_code : s.clinic_code).clear();
        in >> (key == "hospital_code" ? s.hospital_code : s.clinic_code);
        continue;
      }
      double v = 0;
      in >> v;
      std::map<std::string, int64_t*> ints{{"hospital_id", &s.hospital_id},
                                           {"clinic_id", &s.clinic_id},
                                           {"secretariat_id", &s.secretariat_id},
                                           {"patients", &s.patients},
                                           {"resources", &s.resources},
                                           {"patients_registered", &s.patients_registered},
                                           {"patients_with_resources", &s.patients_with_resources},
                                           {"resources_written", &s.resources_written}};
      if (auto it = ints.find(key); it != ints.end()) *it->second = static_cast<int64_t>(v);
      if (key == "load_seconds") s.load_seconds = s.earlier_seconds = v;
    }
    return s;
  }
  void Save(const std::string& path) {
    load_seconds =
        earlier_seconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "hospital_id " << hospital_id << "\nclinic_id " << clinic_id << "\nsecretariat_id "
          << secretariat_id << "\nhospital_code " << hospital_code << "\nclinic_code "
          << clinic_code << "\npatients " << patients << "\nresources " << resources
          << "\npatients_registered " << patients_registered << "\npatients_with_resources "
          << patients_with_resources << "\nresources_written " << resources_written
          << "\nload_seconds " << load_seconds << "\n";
    }
    std::filesystem::rename(tmp, path);
  }
};

std::string InstitutionCode(char table, int six) {
  char digits[7];
  std::snprintf(digits, sizeof digits, "%06d", six);
  std::string code = "07";
  code += table;
  code += digits;
  code += registry::InstitutionCheckDigit(digits);
  return code;
}

std::string FormatNumber(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string DateTime(int64_t day, int hour, int minute) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:00+09:00", core::DateFromDays(day).c_str(), hour,
                minute);
  return buf;
}

// ms UTC of a Japan local time on `day`.
int64_t SourceTime(int64_t day, int hour, int minute) {
  return ((day * 24 + hour - 9) * 60 + minute) * 60'000;
}

// Generates one patient's records; deterministic for (patient index, count).
class PatientRecords {
 public:
  PatientRecords(int64_t hospital_id, std::string hospital_code)
      : hospital_id_(hospital_id),
        facility_(std::to_string(hospital_id)),
        subject_system_(kSubjectSystemPrefix + hospital_code) {}

  void Generate(int64_t index, int64_t count, std::vector<ResourceRecord>& out) {
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ULL + 17);
    auto pick = [&rng](int64_t n) {
      return static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
    };
    index_ = index;
    local_ = LocalId(index);
    int64_t remaining = count;
    int64_t conditions = count >= 10 ? 1 + pick(3) : 0;
    int64_t allergies = count >= 10 && pick(5) == 0 ? 1 : 0;
    const int64_t first_day = kFirstDay + pick(kDays / 2);
    for (int64_t k = 0; k < conditions; ++k, --remaining) {
      out.push_back(Condition(k, kDiseases[pick(kDiseases.size())], first_day + pick(60)));
    }
    for (int64_t k = 0; k < allergies; ++k, --remaining) {
      out.push_back(Allergy(k, kAllergens[pick(kAllergens.size())], first_day));
    }
    // Visits, evenly spread from first_day to the end of the period.
    const int64_t visits = std::max<int64_t>(1, remaining / 16);
    const int64_t span = kFirstDay + kDays - first_day;
    for (int64_t v = 0; v < visits; ++v) {
      int64_t budget = remaining * (v + 1) / visits - remaining * v / visits;
      if (budget <= 0) continue;
      int64_t day = first_day + span * v / visits + pick(std::max<int64_t>(1, span / visits));
      day = std::min(day, kFirstDay + kDays - 1);
      out.push_back(Encounter(v, day));
      --budget;
      int64_t meds = std::min<int64_t>(budget, 1 + pick(2));
      for (int64_t m = 0; m < meds; ++m, --budget) {
        out.push_back(Medication(v, m, kDrugs[pick(kDrugs.size())], day, 7 * (1 + pick(8))));
      }
      const int64_t first = pick(kLabItems.size());
      for (int64_t item = 0; item < budget; ++item) {
        const LabItem& lab = kLabItems[(first + item) % kLabItems.size()];
        double spread = lab.high - lab.low;
        double value =
            lab.low - spread * 0.3 + spread * 1.6 * static_cast<double>(pick(1000)) / 1000;
        out.push_back(Observation(v, item, lab, std::max(0.0, value), day));
      }
    }
  }

  static std::string LocalId(int64_t index) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(index + 1));
    return buf;
  }

 private:
  ResourceRecord Base(const char* type, Category category, std::string key) {
    ResourceRecord r;
    r.resource_type = type;
    r.source_facility_id = hospital_id_;
    r.local_patient_id = local_;
    r.source_key = std::move(key);
    r.category = category;
    return r;
  }
  std::string Head(const char* type, const char* profile, const std::string& key) const {
    return std::string("{\"resourceType\":\"") + type +
           "\",\"meta\":{\"profile\":[\"http://jpfhir.jp/fhir/core/StructureDefinition/" + profile +
           "\"],\"source\":\"urn:tsunagu:facility:" + facility_ +
           "\"},\"identifier\":[{\"system\":\"urn:tsunagu:facility:" + facility_ + ":" + type +
           "\",\"value\":\"" + key + "\"}]";
  }
  std::string Subject(const char* field = "subject") const {
    return std::string(",\"") + field + "\":{\"identifier\":{\"system\":\"" + subject_system_ +
           "\",\"value\":\"" + local_ + "\"}}";
  }
  std::string Order(int64_t visit) const { return std::to_string((index_ + 1) * 1000 + visit); }

  ResourceRecord Observation(int64_t visit, int64_t item, const LabItem& lab, double value,
                             int64_t day) {
    ResourceRecord r = Base("Observation", Category::kLabResult,
                            "OML-11|" + Order(visit) + "|" + std::to_string(item + 1));
    r.code_system = kJlac10;
    r.code = lab.code;
    r.display = lab.name;
    r.effective = DateTime(day, 9, 30);
    r.source_time = SourceTime(day, 15, 0);
    std::string v = FormatNumber(value, lab.decimals);
    const char* flag = value > lab.high ? "H" : value < lab.low ? "L" : "";
    r.json = Head("Observation", "JP_Observation_LabResult", r.source_key) +
             ",\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":\"http://"
             "terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"laboratory\","
             "\"display\":\"Laboratory\"}]}],\"code\":{\"coding\":[{\"system\":\"" +
             kJlac10 + "\",\"code\":\"" + lab.code + "\",\"display\":\"" + lab.name +
             "\"}],\"text\":\"" + lab.name + "\"}" + Subject() + ",\"effectiveDateTime\":\"" +
             r.effective + "\",\"issued\":\"" + DateTime(day, 15, 0) +
             "\",\"valueQuantity\":{\"value\":" + v + ",\"unit\":\"" + lab.unit + "\"}";
    if (*flag) {
      r.json += std::string(
                    ",\"interpretation\":[{\"coding\":[{\"system\":\"http://"
                    "terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\","
                    "\"code\":\"") +
                flag + "\",\"display\":\"" + (*flag == 'H' ? "High" : "Low") + "\"}]}]";
    }
    r.json += ",\"referenceRange\":[{\"low\":{\"value\":" + FormatNumber(lab.low, lab.decimals) +
              ",\"unit\":\"" + lab.unit +
              "\"},\"high\":{\"value\":" + FormatNumber(lab.high, lab.decimals) + ",\"unit\":\"" +
              lab.unit + "\"}}],\"specimen\":{\"display\":\"血清\"}}";
    return r;
  }

  ResourceRecord Medication(int64_t visit, int64_t n, const Drug& drug, int64_t day, int64_t days) {
    ResourceRecord r = Base("MedicationRequest", Category::kPrescription,
                            "OMP-01|" + Order(visit) + "|" + std::to_string(n + 1));
    r.code_system = std::string(tsunagu::clinical::kYjCodeSystem);
    r.code = drug.yj;
    r.display = drug.name;
    r.effective = core::DateFromDays(day);
    r.effective_end = core::DateFromDays(day + days - 1);
    r.source_time = SourceTime(day, 10, 55);
    const std::string total = std::to_string(drug.per_day * days);
    r.json =
        Head("MedicationRequest", "JP_MedicationRequest", r.source_key) +
        ",\"status\":\"active\",\"intent\":\"order\",\"category\":[{\"coding\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/medicationrequest-category\",\"code\":"
        "\"outpatient\"}]},{\"coding\":[{\"system\":\"urn:tsunagu:codesystem:JHSP0003\","
        "\"code\":\"21\",\"display\":\"内服\"}],\"text\":\"内服\"}],"
        "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"" +
        r.code_system + "\",\"code\":\"" + drug.yj + "\",\"display\":\"" + drug.name +
        "\"}],\"text\":\"" + drug.name + "\"}" + Subject() + ",\"authoredOn\":\"" +
        DateTime(day, 10, 55) +
        "\",\"requester\":{\"display\":\"医師 一郎\"},\"dosageInstruction\":[{\"text\":\"" +
        drug.usage +
        "\",\"extension\":[{\"url\":\"http://jpfhir.jp/fhir/core/Extension/StructureDefinition/"
        "JP_MedicationRequest_DosageInstruction_PeriodOfUse\",\"valuePeriod\":{\"start\":\"" +
        r.effective +
        "\"}}],\"timing\":{\"code\":{\"coding\":[{\"system\":\"urn:oid:1.2.392.200250.2.2.20.20\","
        "\"code\":\"" +
        drug.usage_code + "\",\"display\":\"" + drug.usage + "\"}],\"text\":\"" + drug.usage +
        "\"},\"repeat\":{\"boundsDuration\":{\"value\":" + std::to_string(days) +
        ",\"unit\":\"日\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"d\"}}},"
        "\"route\":{\"coding\":[{\"system\":\"http://jpfhir.jp/fhir/Common/CodeSystem/"
        "route-codes\",\"code\":\"PO\",\"display\":\"口\"}],\"text\":\"口\"},\"doseAndRate\":[{"
        "\"doseQuantity\":{\"value\":1,\"unit\":\"錠\",\"system\":\"urn:oid:1.2.392.100495.20.2."
        "101\",\"code\":\"TAB\"},\"rateRatio\":{\"numerator\":{\"value\":" +
        std::to_string(drug.per_day) +
        ",\"unit\":\"錠\",\"system\":\"urn:oid:1.2.392.100495.20.2.101\",\"code\":\"TAB\"},"
        "\"denominator\":{\"value\":1,\"unit\":\"日\",\"system\":\"http://unitsofmeasure.org\","
        "\"code\":\"d\"}}}]}],\"dispenseRequest\":{\"quantity\":{\"value\":" +
        total +
        ",\"unit\":\"錠\",\"system\":\"urn:oid:1.2.392.100495.20.2.101\",\"code\":\"TAB\"},"
        "\"expectedSupplyDuration\":{\"value\":" +
        std::to_string(days) +
        ",\"unit\":\"日\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"d\"}}}";
    return r;
  }

  ResourceRecord Encounter(int64_t visit, int64_t day) {
    ResourceRecord r =
        Base("Encounter", Category::kEncounter, "ADT-12|V" + Order(visit) + "|encounter");
    r.code_system = kActCode;
    r.code = "AMB";
    r.display = "ambulatory";
    r.effective = DateTime(day, 9, 0);
    r.source_time = SourceTime(day, 9, 5);
    r.json = Head("Encounter", "JP_Encounter", r.source_key) +
             ",\"status\":\"arrived\",\"class\":{\"system\":\"" + kActCode +
             "\",\"code\":\"AMB\",\"display\":\"ambulatory\"},\"serviceType\":{\"coding\":[{"
             "\"system\":\"urn:tsunagu:facility:" +
             facility_ +
             ":codesystem:99Z01\",\"code\":\"01\",\"display\":\"内科\"}],\"text\":\"内科\"}" +
             Subject() + ",\"period\":{\"start\":\"" + r.effective +
             "\"},\"participant\":[{\"individual\":{\"display\":\"医師 一郎\"}}]}";
    return r;
  }

  ResourceRecord Condition(int64_t n, const Disease& d, int64_t day) {
    ResourceRecord r = Base("Condition", Category::kCondition,
                            "PPR-01|-|P" + Order(0) + "-" + std::to_string(n + 1));
    r.code_system = kMedis;
    r.code = d.medis;
    r.display = d.name;
    r.effective = core::DateFromDays(day);
    r.source_time = SourceTime(day, 11, 0);
    r.json = Head("Condition", "JP_Condition", r.source_key) +
             ",\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
             "CodeSystem/condition-clinical\",\"code\":\"active\"}]},\"verificationStatus\":{"
             "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
             "condition-ver-status\",\"code\":\"confirmed\"}]},\"category\":[{\"coding\":[{"
             "\"system\":\"http://terminology.hl7.org/CodeSystem/condition-category\",\"code\":"
             "\"encounter-diagnosis\"}]}],\"code\":{\"coding\":[{\"system\":\"" +
             kMedis + "\",\"code\":\"" + d.medis + "\",\"display\":\"" + d.name +
             "\"},{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"" + d.icd10 +
             "\",\"display\":\"" + d.name + "\"}],\"text\":\"" + d.name + "\"}" + Subject() +
             ",\"onsetDateTime\":\"" + r.effective + "\",\"recordedDate\":\"" + r.effective + "\"}";
    return r;
  }

  ResourceRecord Allergy(int64_t n, const Allergen& a, int64_t day) {
    ResourceRecord r = Base("AllergyIntolerance", Category::kAllergy,
                            "ADT-61|-|A" + Order(0) + "-" + std::to_string(n + 1));
    r.code_system = "urn:tsunagu:facility:" + facility_ + ":codesystem:99XYZ";
    r.code = a.code;
    r.display = a.name;
    r.effective = core::DateFromDays(day);
    r.source_time = SourceTime(day, 9, 15);
    r.json = Head("AllergyIntolerance", "JP_AllergyIntolerance", r.source_key) +
             ",\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
             "CodeSystem/allergyintolerance-clinical\",\"code\":\"active\"}]},"
             "\"verificationStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
             "CodeSystem/allergyintolerance-verification\",\"code\":\"confirmed\"}]},\"type\":"
             "\"allergy\",\"category\":[\"" +
             a.category + "\"],\"criticality\":\"high\",\"code\":{\"coding\":[{\"system\":\"" +
             r.code_system + "\",\"code\":\"" + a.code + "\",\"display\":\"" + a.name +
             "\"}],\"text\":\"" + a.name + "\"}" + Subject("patient") + ",\"onsetDateTime\":\"" +
             r.effective + "\",\"recordedDate\":\"" + DateTime(day, 9, 15) + "\"}";
    return r;
  }

  int64_t hospital_id_;
  std::string facility_;
  std::string subject_system_;
  int64_t index_ = 0;
  std::string local_;
};

// One patient in ten has five times the data of the others. The counts add
// up to exactly `total`.
class Distribution {
 public:
  Distribution(int64_t patients, int64_t total) : total_(total) {
    prefix_.resize(static_cast<size_t>(patients) + 1, 0);
    for (int64_t i = 0; i < patients; ++i) {
      prefix_[static_cast<size_t>(i) + 1] = prefix_[static_cast<size_t>(i)] + Weight(i);
    }
  }
  int64_t CountOf(int64_t i) const { return Upto(i + 1) - Upto(i); }

 private:
  static int64_t Weight(int64_t i) { return (i * 7919) % 10 == 3 ? 5 : 1; }
  int64_t Upto(int64_t i) const {
    const __int128 w = prefix_[static_cast<size_t>(i)];
    return static_cast<int64_t>(w * total_ / prefix_.back());
  }
  int64_t total_;
  std::vector<int64_t> prefix_;
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

int Fail(const std::string& what, const core::Status& s) {
  std::cerr << "clinical_scale_load: " << what << ": " << s.ToString() << "\n";
  return 1;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The secretariat, the hospital, the clinic and their physicians.
core::Status CreateNetwork(Application& app, State& state) {
  TSUNAGU_ASSIGN_OR_RETURN(auto existing, app.db().Query("SELECT COUNT(*) FROM facilities"));
  if (existing.rows[0].Int(0) > 0) {
    return core::Conflict("the database already holds a network that this tool did not create");
  }
  TSUNAGU_RETURN_IF_ERROR(app.facilities().PutArea({"kenpoku", "県北"}));
  registry::Facility secretariat;
  secretariat.type = registry::FacilityType::kMunicipality;
  secretariat.name = "つなぐネットワーク事務局（負荷試験）";
  secretariat.kana = "ツナグネットワークジムキョク";
  secretariat.area = "kenpoku";
  secretariat.address = "福島市五月町4-25";
  secretariat.postcode = "9608536";
  secretariat.phone = "0245000001";
  TSUNAGU_ASSIGN_OR_RETURN(auto s, app.facilities().Create(secretariat));
  registry::Facility hospital = secretariat;
  hospital.type = registry::FacilityType::kHospital;
  hospital.name = "県北大学病院（負荷試験）";
  hospital.kana = "ケンポクダイガクビョウイン";
  hospital.code = InstitutionCode('1', 130001);
  hospital.departments = {"内科", "外科", "小児科", "整形外科", "循環器内科"};
  TSUNAGU_ASSIGN_OR_RETURN(auto h, app.facilities().Create(hospital));
  registry::Facility clinic = secretariat;
  clinic.type = registry::FacilityType::kClinic;
  clinic.name = "信夫山内科クリニック（負荷試験）";
  clinic.kana = "シノブヤマナイカクリニック";
  clinic.code = InstitutionCode('1', 130002);
  clinic.departments = {"内科"};
  TSUNAGU_ASSIGN_OR_RETURN(auto c, app.facilities().Create(clinic));
  state.secretariat_id = s.id;
  state.hospital_id = h.id;
  state.clinic_id = c.id;
  state.hospital_code = h.code;
  state.clinic_code = c.code;

  struct Login {
    const char* login;
    int64_t facility;
    const char* name;
  };
  for (const Login& l : {Login{"scale.dr.hospital", h.id, "病院 医師"},
                         Login{"scale.dr.clinic", c.id, "診療所 医師"}}) {
    auth::NewUser nu;
    nu.facility_id = l.facility;
    nu.login_id = l.login;
    nu.display_name = l.name;
    nu.email = std::string(l.login) + "@scale.tsunagu.local";
    nu.occupation = auth::Occupation::kPhysician;
    nu.role = auth::Role::kStaff;
    nu.password = tsunagu::app::kDemoPassword;
    nu.must_change_password = false;
    TSUNAGU_RETURN_IF_ERROR(app.accounts().Create(nu).status());
  }
  return core::Status::Ok();
}

registry::NewPatient PatientOf(int64_t i) {
  registry::NewPatient np;
  size_t f = static_cast<size_t>(i * 31 % 16), g = static_cast<size_t>(i * 17 % 8);
  np.name = std::string(kFamily[f]) + "　" + kGiven[g];
  np.kana = std::string(kFamilyKana[f]) + "　" + kGivenKana[g];
  np.sex = g % 2 ? registry::Sex::kFemale : registry::Sex::kMale;
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02d-%02d", 1930 + static_cast<int>(i % 90),
                1 + static_cast<int>(i / 90 % 12), 1 + static_cast<int>(i / 1080 % 28));
  np.birth_date = date;
  char postcode[16];
  std::snprintf(postcode, sizeof postcode, "960%04d", static_cast<int>(i % 9000) + 100);
  np.postcode = postcode;
  np.address = "福島市栄町" + std::to_string(1 + i % 9) + "-" + std::to_string(1 + i % 30);
  np.local_id = PatientRecords::LocalId(i);
  return np;
}

// Registers patients [state.patients_registered, patients): at the hospital,
// linked at the clinic, with a consent from the hospital to the clinic.
core::Status RegisterPatients(Application& app, State& state, const std::string& state_path,
                              const std::string& list_path) {
  std::vector<std::string> known = ReadLines(list_path);
  known.resize(std::min<size_t>(known.size(), static_cast<size_t>(state.patients_registered)));
  {
    std::ofstream rewrite(list_path, std::ios::trunc);
    for (const auto& id : known) rewrite << id << "\n";
  }
  std::ofstream list(list_path, std::ios::app);
  const auto start = std::chrono::steady_clock::now();
  const int64_t from = state.patients_registered;
  const registry::Viewer at_hospital{state.hospital_id, false};
  for (int64_t i = from; i < state.patients; ++i) {
    registry::NewPatient np = PatientOf(i);
    std::string regional_id;
    int64_t key = 0;
    auto owner = app.patients().FindByLink(state.hospital_id, np.local_id);
    if (owner) {  // registered before an interruption
      regional_id = owner->regional_id;
      key = owner->patient_id;
    } else {
      TSUNAGU_ASSIGN_OR_RETURN(registry::Patient p, app.patients().Register(np, at_hospital));
      regional_id = p.regional_id;
      key = p.id;
    }
    if (app.patients().LinksAt(key, state.clinic_id).empty()) {
      TSUNAGU_RETURN_IF_ERROR(app.patients().Link(regional_id, state.clinic_id, "C" + np.local_id));
    }
    TSUNAGU_ASSIGN_OR_RETURN(auto consents, app.consents().ListForPatient(key));
    if (consents.empty()) {
      consent::NewConsent c;
      c.patient_id = key;
      c.scope = consent::Scope::kClinicalSharing;
      c.source_facility_id = state.hospital_id;
      c.viewer_facility_id = state.clinic_id;
      c.valid_from = "2024-01-01";
      c.note = "包括同意（負荷試験）";
      TSUNAGU_RETURN_IF_ERROR(app.consents().Create(c, 0).status());
    }
    list << regional_id << "\n";
    if ((i + 1) % 5000 == 0 || i + 1 == state.patients) {
      list.flush();
      state.patients_registered = i + 1;
      state.Save(state_path);
      const double s = Seconds(start);
      std::printf("patients %lld / %lld  (%.0f /s)\n", static_cast<long long>(i + 1),
                  static_cast<long long>(state.patients), static_cast<double>(i + 1 - from) / s);
      std::fflush(stdout);
    }
  }
  return core::Status::Ok();
}

core::Status WriteResources(Application& app, State& state, const std::string& state_path,
                            const std::string& ids_path) {
  Distribution distribution(state.patients, state.resources);
  PatientRecords generator(state.hospital_id, state.hospital_code);
  std::ofstream ids(ids_path, std::ios::app);
  std::vector<ResourceRecord> batch;
  batch.reserve(ResourceStore::kMaxBatch);
  std::vector<ResourceRecord> one;
  const auto start = std::chrono::steady_clock::now();
  const int64_t from_written = state.resources_written;
  int64_t batches = 0;

  auto flush = [&](int64_t patients_done) -> core::Status {
    TSUNAGU_RETURN_IF_ERROR(app.resources().Write(batch).status());
    // A sample of Observation ids for the read-by-id benchmark.
    std::vector<ResourceStore::SourceRef> refs;
    for (size_t k = 0; k < batch.size() && refs.size() < 20; k += 997) {
      for (size_t j = k; j < batch.size(); ++j) {
        if (batch[j].resource_type == "Observation") {
          refs.push_back({batch[j].source_facility_id, batch[j].source_key});
          break;
        }
      }
    }
    TSUNAGU_ASSIGN_OR_RETURN(auto found, app.resources().FindBySourceKeys("Observation", refs));
    for (const auto& f : found) ids << f.record.id << "\n";
    ids.flush();
    state.resources_written += static_cast<int64_t>(batch.size());
    state.patients_with_resources = patients_done;
    state.Save(state_path);
    batch.clear();
    if (++batches % 10 == 0 || patients_done == state.patients) {
      const double s = Seconds(start);
      std::printf("resources %lld / %lld  (%.0f /s, %.0f s)\n",
                  static_cast<long long>(state.resources_written),
                  static_cast<long long>(state.resources),
                  static_cast<double>(state.resources_written - from_written) / s, s);
      std::fflush(stdout);
    }
    return core::Status::Ok();
  };

  for (int64_t i = state.patients_with_resources; i < state.patients; ++i) {
    one.clear();
    generator.Generate(i, distribution.CountOf(i), one);
    if (batch.size() + one.size() > ResourceStore::kMaxBatch) TSUNAGU_RETURN_IF_ERROR(flush(i));
    for (auto& r : one) batch.push_back(std::move(r));
  }
  if (!batch.empty()) TSUNAGU_RETURN_IF_ERROR(flush(state.patients));
  return core::Status::Ok();
}

void WriteNetworkFile(const State& state, const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  out << "SCALE_PATIENTS=" << state.patients << "\nSCALE_RESOURCES=" << state.resources
      << "\nSCALE_HOSPITAL_CODE=" << state.hospital_code
      << "\nSCALE_CLINIC_CODE=" << state.clinic_code
      << "\nSCALE_CLINIC_LOGIN=scale.dr.clinic\nSCALE_HOSPITAL_LOGIN=scale.dr.hospital"
      << "\nSCALE_PASSWORD=" << tsunagu::app::kDemoPassword
      << "\nSCALE_LOAD_SECONDS=" << static_cast<int64_t>(state.load_seconds) << "\n";
}

void WriteLabCodes(const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& lab : kLabItems) out << kJlac10 << "|" << lab.code << "\n";
}

int Usage() {
  std::cerr << "usage: clinical_scale_load --data DIR [--patients N] [--resources N] [--db URL]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    try {
      if (flag == "--data") {
        o.data_dir = value;
      } else if (flag == "--db") {
        o.db_url = value;
      } else if (flag == "--patients") {
        o.patients = std::stoll(value);
      } else if (flag == "--resources") {
        o.resources = std::stoll(value);
      } else {
        return Usage();
      }
    } catch (const std::exception&) {
      return Usage();
    }
  }
  if (argc % 2 == 0 || o.data_dir.empty() || o.patients < 1 || o.resources < o.patients) {
    return Usage();
  }
  core::SetLogLevel(core::LogLevel::kWarn);

  const std::string scale_dir = o.data_dir + "/scale";
  const std::string state_path = scale_dir + "/state";
  std::error_code ec;
  std::filesystem::create_directories(scale_dir, ec);
  if (ec) return Fail("cannot create " + scale_dir, core::Unavailable(ec.message()));
  State state = State::Load(state_path);
  if (state.hospital_id != 0 && (state.patients != o.patients || state.resources != o.resources)) {
    std::cerr << "clinical_scale_load: " << o.data_dir << " holds a load of " << state.patients
              << " patients / " << state.resources
              << " resources; use another --data directory for other sizes\n";
    return 2;
  }
  if (state.hospital_id != 0 && state.patients_with_resources == state.patients) {
    std::printf("already loaded: %lld patients, %lld resources (%.0f s)\n",
                static_cast<long long>(state.patients),
                static_cast<long long>(state.resources_written), state.load_seconds);
    return 0;
  }
  // SQLite needs about 1.6 KB per resource (row, JSON and indexes); ask for more.
  if (o.db_url.empty()) {
    auto space = std::filesystem::space(o.data_dir, ec);
    const auto needed = static_cast<uintmax_t>(o.resources - state.resources_written) * 2200;
    if (!ec && space.available < needed) {
      std::cerr << "clinical_scale_load: " << o.data_dir << " has " << space.available / (1 << 20)
                << " MiB free; this load needs about " << needed / (1 << 20) << " MiB\n";
      return 1;
    }
  }

  std::vector<std::string> args{"--data", o.data_dir};
  if (!o.db_url.empty()) args.insert(args.end(), {"--db", o.db_url});
  auto config = tsunagu::app::ParseConfig(args);
  if (!config) return Fail("configuration", config.error());
  auto app = Application::Open(*config);
  if (!app) return Fail("cannot open " + o.data_dir, app.error());

  state.run_start = std::chrono::steady_clock::now();
  if (state.hospital_id == 0) {
    state.patients = o.patients;
    state.resources = o.resources;
    if (auto st = CreateNetwork(**app, state); !st.ok()) return Fail("network", st);
    state.Save(state_path);
  }
  WriteLabCodes(scale_dir + "/lab_codes.txt");
  if (auto st = RegisterPatients(**app, state, state_path, scale_dir + "/patients.txt"); !st.ok()) {
    return Fail("patients", st);
  }
  if (auto st = WriteResources(**app, state, state_path, scale_dir + "/observation_ids.txt");
      !st.ok()) {
    return Fail("resources", st);
  }
  state.Save(state_path);
  WriteNetworkFile(state, scale_dir + "/network.env");
  std::printf("loaded: %lld patients, %lld resources in %.0f s\n",
              static_cast<long long>(state.patients),
              static_cast<long long>(state.resources_written), state.load_seconds);
  return 0;
}
