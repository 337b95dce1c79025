#include "app/demo.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "app/application.hpp"
#include "audit/audit_log.hpp"
#include "auth/account_service.hpp"
#include "auth/totp.hpp"
#include "care/care_service.hpp"
#include "clinical/fhir_summary.hpp"
#include "clinical/resource_store.hpp"
#include "consent/consent_service.hpp"
#include "core/log.hpp"
#include "jahis/dispensing_mapper.hpp"
#include "jahis/notebook.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"
#include "ssmix2/importer.hpp"
#include "store/database.hpp"
#include "tools/ssmix2_gen/generator.hpp"

namespace tsunagu::app {
namespace {

using auth::Occupation;
using auth::Role;
using registry::FacilityType;

struct DemoFacility {
  FacilityType type;
  const char* name;
  const char* kana;
  const char* area;
  const char* address;
  const char* postcode;
  const char* phone;
  const char* departments;
};

// Fictional facilities in two secondary medical areas (県北, 県中).
constexpr std::array<DemoFacility, 23> kFacilities{{
    {FacilityType::kMunicipality, "つなぐネットワーク事務局（県医師会）",
     "ツナグネットワークジムキョク", "kenpoku", "福島市五月町4-25", "9608536", "0245000001", ""},
    {FacilityType::kHospital, "県北中央病院", "ケンポクチュウオウビョウイン", "kenpoku",
     "福島市栄町1-1", "9608031", "0245000100", "内科,外科,整形外科,小児科,循環器内科,救急科"},
    {FacilityType::kHospital, "あづま総合病院", "アヅマソウゴウビョウイン", "kenpoku",
     "福島市笹谷東部2-10", "9602156", "0245000200", "内科,外科,脳神経外科,リハビリテーション科"},
    {FacilityType::kClinic, "信夫山内科クリニック", "シノブヤマナイカクリニック", "kenpoku",
     "福島市御山町3-8", "9608201", "0245000300", "内科,消化器内科"},
    {FacilityType::kClinic, "さくら通りファミリークリニック", "サクラドオリファミリークリニック",
     "kenpoku", "伊達市保原町5-12", "9600600", "0245000400", "内科,小児科,在宅医療"},
    {FacilityType::kDentalClinic, "吾妻歯科医院", "アヅマシカイイン", "kenpoku",
     "福島市南矢野目7-3", "9608055", "0245000500", "歯科,訪問歯科"},
    {FacilityType::kPharmacy, "県北みどり薬局", "ケンポクミドリヤッキョク", "kenpoku",
     "福島市栄町2-4", "9608031", "0245000600", ""},
    {FacilityType::kVisitingNurseStation, "ふくしま訪問看護ステーション",
     "フクシマホウモンカンゴステーション", "kenpoku", "福島市野田町1-6", "9608055", "0245000700",
     ""},
    {FacilityType::kHomeCareSupportOffice, "居宅介護支援事業所あかつき",
     "キョタクカイゴシエンジギョウショアカツキ", "kenpoku", "福島市渡利9-2", "9608141",
     "0245000800", ""},
    {FacilityType::kCareHome, "グループホームひだまり", "グループホームヒダマリ", "kenpoku",
     "二本松市本町3-1", "9640904", "0243000900", ""},
    {FacilityType::kLtcFacility, "介護老人保健施設さくらの里",
     "カイゴロウジンホケンシセツサクラノサト", "kenpoku", "伊達市梁川町6-8", "9600700",
     "0245001000", ""},
    {FacilityType::kEms, "県北消防本部", "ケンポクショウボウホンブ", "kenpoku", "福島市天神町11-1",
     "9608104", "0245001100", ""},
    {FacilityType::kHospital, "郡山中央総合病院", "コオリヤマチュウオウソウゴウビョウイン",
     "kenchu", "郡山市駅前1-3", "9638002", "0249001200",
     "内科,外科,産婦人科,小児科,呼吸器内科,救急科"},
    {FacilityType::kClinic, "安積こどもクリニック", "アサカコドモクリニック", "kenchu",
     "郡山市安積町2-7", "9630107", "0249001300", "小児科"},
    {FacilityType::kClinic, "逢瀬内科・循環器クリニック", "オウセナイカジュンカンキクリニック",
     "kenchu", "郡山市逢瀬町5-5", "9630211", "0249001400", "内科,循環器内科,在宅医療"},
    {FacilityType::kDentalClinic, "開成歯科クリニック", "カイセイシカクリニック", "kenchu",
     "郡山市開成3-14", "9638851", "0249001500", "歯科,小児歯科"},
    {FacilityType::kPharmacy, "あさか調剤薬局", "アサカチョウザイヤッキョク", "kenchu",
     "郡山市駅前1-8", "9638002", "0249001600", ""},
    {FacilityType::kVisitingNurseStation, "訪問看護ステーションつばさ",
     "ホウモンカンゴステーションツバサ", "kenchu", "須賀川市八幡町4-2", "9620844", "0248001700",
     ""},
    {FacilityType::kHomeCareSupportOffice, "ケアプランセンターこおりやま",
     "ケアプランセンターコオリヤマ", "kenchu", "郡山市桑野2-20", "9638025", "0249001800", ""},
    {FacilityType::kLtcFacility, "特別養護老人ホーム安積苑",
     "トクベツヨウゴロウジンホームアサカエン", "kenchu", "郡山市富田町8-1", "9638041", "0249001900",
     ""},
    {FacilityType::kEms, "郡山地方広域消防組合", "コオリヤマチホウコウイキショウボウクミアイ",
     "kenchu", "郡山市堤下町1-2", "9638025", "0249002000", ""},
    {FacilityType::kMunicipality, "郡山市地域包括支援センター",
     "コオリヤマシチイキホウカツシエンセンター", "kenchu", "郡山市朝日1-23", "9638601",
     "0249002100", ""},
    {FacilityType::kLabCenter, "県中臨床検査センター", "ケンチュウリンショウケンサセンター",
     "kenchu", "郡山市富久山町3-3", "9638061", "0249002200", ""},
}};

struct Name {
  const char* kanji;
  const char* kana;
};
constexpr std::array<Name, 30> kFamily{
    {{"佐藤", "サトウ"},   {"鈴木", "スズキ"},   {"高橋", "タカハシ"}, {"田中", "タナカ"},
     {"渡辺", "ワタナベ"}, {"伊藤", "イトウ"},   {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
     {"小林", "コバヤシ"}, {"加藤", "カトウ"},   {"吉田", "ヨシダ"},   {"山田", "ヤマダ"},
     {"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"}, {"井上", "イノウエ"},
     {"木村", "キムラ"},   {"林", "ハヤシ"},     {"斎藤", "サイトウ"}, {"清水", "シミズ"},
     {"遠藤", "エンドウ"}, {"菅野", "カンノ"},   {"渡部", "ワタナベ"}, {"阿部", "アベ"},
     {"三浦", "ミウラ"},   {"大槻", "オオツキ"}, {"本田", "ホンダ"},   {"橋本", "ハシモト"},
     {"石川", "イシカワ"}, {"安藤", "アンドウ"}}};
constexpr std::array<Name, 16> kMale{{{"太郎", "タロウ"},
                                      {"一郎", "イチロウ"},
                                      {"健一", "ケンイチ"},
                                      {"誠", "マコト"},
                                      {"浩", "ヒロシ"},
                                      {"茂", "シゲル"},
                                      {"清", "キヨシ"},
                                      {"勇", "イサム"},
                                      {"大輔", "ダイスケ"},
                                      {"翔太", "ショウタ"},
                                      {"蓮", "レン"},
                                      {"悠真", "ユウマ"},
                                      {"正", "タダシ"},
                                      {"和夫", "カズオ"},
                                      {"俊介", "シュンスケ"},
                                      {"三郎", "サブロウ"}}};
constexpr std::array<Name, 16> kFemale{{{"花子", "ハナコ"},
                                        {"幸子", "サチコ"},
                                        {"洋子", "ヨウコ"},
                                        {"恵子", "ケイコ"},
                                        {"京子", "キョウコ"},
                                        {"美咲", "ミサキ"},
                                        {"陽菜", "ヒナ"},
                                        {"結衣", "ユイ"},
                                        {"さくら", "サクラ"},
                                        {"千代", "チヨ"},
                                        {"トメ", "トメ"},
                                        {"和子", "カズコ"},
                                        {"久美子", "クミコ"},
                                        {"由美", "ユミ"},
                                        {"愛", "アイ"},
                                        {"ミツ", "ミツ"}}};

// Staff per facility type: occupations (the first of a facility is its admin).
std::vector<Occupation> StaffFor(FacilityType t) {
  switch (t) {
    case FacilityType::kHospital:
      return {Occupation::kClerk,    Occupation::kPhysician,  Occupation::kPhysician,
              Occupation::kNurse,    Occupation::kPharmacist, Occupation::kSocialWorker,
              Occupation::kTherapist};
    case FacilityType::kClinic:
      return {Occupation::kClerk, Occupation::kPhysician, Occupation::kNurse};
    case FacilityType::kDentalClinic:
      return {Occupation::kClerk, Occupation::kDentist};
    case FacilityType::kPharmacy:
      return {Occupation::kPharmacist, Occupation::kPharmacist};
    case FacilityType::kVisitingNurseStation:
      return {Occupation::kVisitingNurse, Occupation::kVisitingNurse, Occupation::kTherapist};
    case FacilityType::kHomeCareSupportOffice:
      return {Occupation::kCareManager, Occupation::kCareManager};
    case FacilityType::kCareHome:
    case FacilityType::kLtcFacility:
      return {Occupation::kCareManager, Occupation::kHomeHelper, Occupation::kNurse};
    case FacilityType::kEms:
      return {Occupation::kClerk, Occupation::kEms, Occupation::kEms};
    case FacilityType::kMunicipality:
      return {Occupation::kClerk, Occupation::kSocialWorker};
    case FacilityType::kLabCenter:
      return {Occupation::kClerk};
  }
  return {Occupation::kClerk};
}

std::string InstitutionCode(FacilityType t, int serial) {
  char table = t == FacilityType::kDentalClinic ? '3' : t == FacilityType::kPharmacy ? '4' : '1';
  char six[12];  // six digits for the demo's few hundred facilities
  std::snprintf(six, sizeof six, "%06d", (110000 + serial * 137) % 1000000);
  std::string code = "07";  // Fukushima prefecture
  code += table;
  code += six;
  code += registry::InstitutionCheckDigit(six);
  return code;
}

struct FixedLogin {
  const char* login;
  int facility_index;
  Occupation occupation;
  Role role;
  bool totp;
  Name name;
};
// The logins printed for trying the network out.
constexpr std::array<FixedLogin, 8> kFixedLogins{{
    {"admin",
     0,
     Occupation::kClerk,
     Role::kNetworkAdmin,
     true,
     {"事務局 管理者", "ジムキョク カンリシャ"}},
    {"hosp-admin",
     1,
     Occupation::kClerk,
     Role::kFacilityAdmin,
     true,
     {"橋本 聡子", "ハシモト サトコ"}},
    {"dr.sato", 1, Occupation::kPhysician, Role::kStaff, false, {"佐藤 健一", "サトウ ケンイチ"}},
    {"dr.kato", 4, Occupation::kPhysician, Role::kStaff, false, {"加藤 誠", "カトウ マコト"}},
    {"ns.suzuki",
     7,
     Occupation::kVisitingNurse,
     Role::kStaff,
     false,
     {"鈴木 恵子", "スズキ ケイコ"}},
    {"ph.tanaka", 6, Occupation::kPharmacist, Role::kStaff, false, {"田中 洋子", "タナカ ヨウコ"}},
    {"cm.ito", 8, Occupation::kCareManager, Role::kStaff, false, {"伊藤 京子", "イトウ キョウコ"}},
    {"ems.abe", 11, Occupation::kEms, Role::kStaff, false, {"阿部 大輔", "アベ ダイスケ"}},
}};

// The demo hospital discloses clinical data the way a real one does: its EHR
// writes SS-MIX2 standardized storage, which is imported. Each of these
// patients has a comprehensive clinical-sharing consent (any source, any
// participating facility), as collected at the hospital's registration desk.
core::Status SeedClinicalData(Application& app, int64_t hospital_id,
                              const std::vector<ssmix2gen::PatientSeed>& patients,
                              const std::vector<int64_t>& patient_keys) {
  if (patients.empty()) return core::Status::Ok();
  TSUNAGU_ASSIGN_OR_RETURN(registry::Facility hospital, app.facilities().Get(hospital_id));
  ssmix2gen::GeneratorOptions g;
  g.given_patients = patients;
  g.patients = static_cast<int64_t>(patients.size());
  g.messages = g.patients * 40;
  g.seed = 20261121;
  g.facility_code = hospital.code;
  g.out = app.config().data_dir + "/demo-ssmix2";
  g.update_percent = 5;
  g.cancel_percent = 2;
  TSUNAGU_RETURN_IF_ERROR(ssmix2gen::GenerateTree(g).status());
  ssmix2::Ssmix2Importer importer(app.db(), app.resources(), core::SystemClock::Instance());
  ssmix2::ImportOptions io;
  io.facility_id = hospital.id;
  io.facility_code = hospital.code;
  auto summary = importer.Import(g.out, io);
  std::error_code ec;
  std::filesystem::remove_all(g.out, ec);
  TSUNAGU_RETURN_IF_ERROR(summary.status());
  std::set<int64_t> consented;
  for (int64_t key : patient_keys) {
    if (!consented.insert(key).second) continue;
    consent::NewConsent c;
    c.patient_id = key;
    c.scope = consent::Scope::kClinicalSharing;
    c.valid_from = "2024-01-01";
    c.note = "包括同意（デモ）";
    TSUNAGU_RETURN_IF_ERROR(app.consents().Create(c, 0).status());
  }
  return core::Status::Ok();
}

// Generics the demo pharmacy hands out, by YJ ingredient (first 7
// characters) of the drugs the demo hospital prescribes.
struct DemoGeneric {
  const char* ingredient;
  const char* name;
  const char* usage;
  int per_day;
};
constexpr std::array<DemoGeneric, 10> kGenerics{{
    {"1149019", "ロキソプロフェンＮａ錠６０ｍｇ「サワイ」", "１日３回毎食後", 3},
    {"2329021", "レバミピド錠１００ｍｇ「サワイ」", "１日３回毎食後", 3},
    {"2171022", "アムロジピン錠５ｍｇ「サワイ」", "１日１回朝食後", 1},
    {"2325003", "ファモチジン錠２０ｍｇ「サワイ」", "１日２回朝夕食後", 2},
    {"3962002", "メトホルミン塩酸塩錠２５０ｍｇＭＴ「トーワ」", "１日２回朝夕食後", 2},
    {"2344009", "酸化マグネシウム錠３３０ｍｇ「ヨシダ」", "１日３回毎食後", 3},
    {"1141007", "アセトアミノフェン錠２００ｍｇ「タカタ」", "１日３回毎食後", 3},
    {"6149003", "クラリスロマイシン錠２００ｍｇ「サワイ」", "１日２回朝夕食後", 2},
    {"2189015", "アトルバスタチン錠１０ｍｇ「サワイ」", "１日１回朝食後", 1},
    {"2149040", "カンデサルタン錠８ｍｇ「サワイ」", "１日１回朝食後", 1},
}};

// The demo pharmacy uploads お薬手帳 (JAHIS notebook) data for a few of the
// hospital's patients: a generic of a drug the hospital prescribes, filled a
// week before the hospital's course starts on another clinic's
// prescription. The periods overlap, so the timeline warns of a duplicate.
core::Status SeedPharmacyDispensings(Application& app, int64_t hospital_id, int64_t pharmacy_id,
                                     int64_t clinic_id,
                                     const std::vector<ssmix2gen::PatientSeed>& patients,
                                     const std::vector<int64_t>& patient_keys) {
  TSUNAGU_ASSIGN_OR_RETURN(registry::Facility pharmacy, app.facilities().Get(pharmacy_id));
  TSUNAGU_ASSIGN_OR_RETURN(registry::Facility clinic, app.facilities().Get(clinic_id));
  int seeded = 0;
  for (size_t i = 0; i < patients.size() && seeded < 5; ++i) {
    clinical::ResourceQuery q;
    q.patients = {{hospital_id, patients[i].id}};
    q.categories = {clinical::Category::kPrescription};
    q.resource_types = {"MedicationRequest"};
    q.limit = 100;
    TSUNAGU_ASSIGN_OR_RETURN(clinical::ResourcePage page, app.resources().Search(q));
    const DemoGeneric* generic = nullptr;
    std::string start;
    for (const auto& stored : page.items) {
      const clinical::ResourceRecord& r = stored.record;
      if (!clinical::IsYjCodeSystem(r.code_system) || r.effective.size() < 10) continue;
      for (const auto& g : kGenerics) {
        if (r.code.rfind(g.ingredient, 0) == 0) generic = &g;
      }
      if (generic != nullptr) {
        start = r.effective.substr(0, 10);
        break;
      }
    }
    if (generic == nullptr) continue;
    TSUNAGU_ASSIGN_OR_RETURN(std::string regional_id, app.patients().RegionalIdOf(patient_keys[i]));
    auto links = app.patients().LinksAt(patient_keys[i], pharmacy_id);
    std::string local_id =
        links.empty() ? "MD" + std::to_string(50000 + i) : links.front().local_id;
    if (links.empty()) {
      TSUNAGU_RETURN_IF_ERROR(app.patients().Link(regional_id, pharmacy_id, local_id));
    }
    const int64_t day =
        core::DaysFromCivil(std::stoi(start.substr(0, 4)), std::stoi(start.substr(5, 2)),
                            std::stoi(start.substr(8, 2))) -
        7;
    std::string date = core::DateFromDays(day);
    date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
    const auto& p = patients[i];
    const std::string code = pharmacy.code;
    std::string file = "JAHISTC04,1\r\n";
    file += "1," + p.family + "　" + p.given + "," + (p.sex == 'F' ? "2" : "1") + "," +
            p.birth_date + ",,,,,,," + p.family_kana + "　" + p.given_kana + "\r\n";
    file += "5," + date + ",1\r\n";
    file += "11," + pharmacy.name + "," + code.substr(0, 2) + "," + code.substr(2, 1) + "," +
            code.substr(3) + ",,,,1\r\n";
    file += "15,田中　洋子,,1\r\n";
    file += "51," + clinic.name + ",,,,1\r\n";
    file += "55,加藤　誠,内科,1\r\n";
    file += "201,1," + std::string(generic->name) + "," + std::to_string(generic->per_day) +
            ",錠,4," + generic->ingredient + "F1999,1\r\n";
    file += "301,1," + std::string(generic->usage) + ",28,日分,1,,,1\r\n";
    TSUNAGU_ASSIGN_OR_RETURN(jahis::Notebook notebook, jahis::ParseNotebook(file));
    jahis::MappingTarget target{pharmacy_id, code, local_id};
    std::vector<clinical::ResourceRecord> records;
    for (auto& m : jahis::MapDispenses(notebook, target)) records.push_back(std::move(m.record));
    TSUNAGU_RETURN_IF_ERROR(app.resources().Write(records).status());
    ++seeded;
  }
  return core::Status::Ok();
}

}  // namespace

std::string DemoLoginSheet() {
  std::string s;
  s += "Demo logins (password for all: ";
  s += kDemoPassword;
  s += ")\n";
  s += "  admin       secretariat (network admin)   two-factor: TOTP secret ";
  s += kDemoTotpSecret;
  s += "\n";
  s += "  hosp-admin  facility admin, 県北中央病院     two-factor: same TOTP secret\n";
  s += "  dr.sato     physician, 県北中央病院\n";
  s += "  dr.kato     physician, さくら通りファミリークリニック\n";
  s += "  ns.suzuki   visiting nurse, ふくしま訪問看護ステーション\n";
  s += "  ph.tanaka   pharmacist, 県北みどり薬局\n";
  s += "  cm.ito      care manager, 居宅介護支援事業所あかつき\n";
  s += "  ems.abe     EMS crew, 県北消防本部\n";
  s += "  family.yamada  family member (長女) in the care team of 山田ハナ様\n";
  s += "  Clinical data: 県北中央病院 shares its patients' SS-MIX2 data under consent;\n";
  s += "  log in as dr.sato, search a patient and open 診療情報 / 検査結果.\n";
  s += "  県北みどり薬局 uploaded お薬手帳 (JAHIS) data for some of them: their timeline shows\n";
  s += "  the pharmacy's dispensings and a duplicate-medication warning (ph.tanaka: tab "
       "お薬手帳取込).\n";
  s += "  Care SNS: 山田ハナ様 在宅療養チーム (dr.kato, ns.suzuki, ph.tanaka, cm.ito and\n";
  s += "  family.yamada) has a few days of posts: menu 多職種連携.\n";
  s += "  (TOTP codes: `oathtool --totp -b ";
  s += kDemoTotpSecret;
  s += "` or any authenticator app)\n";
  return s;
}

// A home-care team (多職種連携) for one patient of the family clinic: the
// clinic's physician created the group; the visiting nurse, the pharmacist,
// the care manager and the patient's daughter are members; a few days of
// posts, one of them published to the family.
core::Status SeedCareTeam(Application& app) {
  auto user = [&app](const char* login) -> core::Result<auth::User> {
    return app.accounts().FindByLogin(login);
  };
  TSUNAGU_ASSIGN_OR_RETURN(auth::User kato, user("dr.kato"));
  TSUNAGU_ASSIGN_OR_RETURN(auth::User suzuki, user("ns.suzuki"));
  TSUNAGU_ASSIGN_OR_RETURN(auth::User tanaka, user("ph.tanaka"));
  TSUNAGU_ASSIGN_OR_RETURN(auth::User ito, user("cm.ito"));

  auth::NewUser daughter;
  daughter.facility_id = kato.facility_id;  // invited by the clinic's team
  daughter.login_id = "family.yamada";
  daughter.display_name = "山田 真理";
  daughter.kana = "ヤマダ マリ";
  daughter.email = "family.yamada@demo.tsunagu.local";
  daughter.occupation = auth::Occupation::kFamily;
  daughter.role = auth::Role::kStaff;
  daughter.password = kDemoPassword;
  daughter.must_change_password = false;
  TSUNAGU_ASSIGN_OR_RETURN(auth::User family, app.accounts().Create(daughter));

  registry::NewPatient np;
  np.name = "山田　ハナ";
  np.kana = "ヤマダ　ハナ";
  np.sex = registry::Sex::kFemale;
  np.birth_date = "1936-04-12";
  np.postcode = "9600101";
  np.address = "福島市瀬上町2-14";
  np.phone = "0245550123";
  np.local_id = "20000001";
  TSUNAGU_ASSIGN_OR_RETURN(registry::Patient p,
                           app.patients().Register(np, registry::Viewer{kato.facility_id, false}));
  TSUNAGU_RETURN_IF_ERROR(app.patients().Link(p.regional_id, ito.facility_id, "K-0417"));
  for (auto scope : {consent::Scope::kCareTeam, consent::Scope::kFamily}) {
    consent::NewConsent c;
    c.patient_id = p.id;
    c.scope = scope;
    c.valid_from = "2026-01-01";
    c.note =
        scope == consent::Scope::kFamily ? "長女への共有に同意" : "在宅療養チームでの共有に同意";
    TSUNAGU_RETURN_IF_ERROR(app.consents().Create(c, kato.id).status());
  }

  auto actor = [](const auth::User& u) {
    care::Actor a;
    a.user_id = u.id;
    a.facility_id = u.facility_id;
    a.occupation = u.occupation;
    return a;
  };
  care::CareService& care = app.care();
  care::NewGroup ng{p.regional_id, "山田ハナ様 在宅療養チーム"};
  TSUNAGU_ASSIGN_OR_RETURN(care::GroupDetail group, care.CreateGroup(actor(kato), ng));
  const int64_t gid = group.group.id;
  for (const auth::User* u : {&suzuki, &tanaka, &ito, &family}) {
    TSUNAGU_RETURN_IF_ERROR(care.AddMember(actor(kato), gid, u->id).status());
  }

  care::NewPost visit;
  visit.kind = care::PostKind::kStatus;
  visit.title = "訪問看護 定期訪問";
  visit.values = {{"vital.bp_systolic", "138"},
                  {"vital.bp_diastolic", "82"},
                  {"vital.pulse", "76"},
                  {"vital.temperature", "36.6"},
                  {"vital.spo2", "97"},
                  {"meal.amount", "most"},
                  {"sleep.night", "good"},
                  {"mood.level", "good"},
                  {"note.text", "午後に訪問。表情は穏やかで、庭の花の話をされていました。"}};
  visit.to_family = true;
  TSUNAGU_RETURN_IF_ERROR(care.CreatePost(actor(suzuki), gid, visit).status());

  care::NewPost meds;
  meds.kind = care::PostKind::kStatus;
  meds.title = "訪問服薬指導";
  meds.values = {{"medication.adherence", "partly"},
                 {"medication.leftover", "夕食後のアムロジピンが5日分残っています"}};
  TSUNAGU_ASSIGN_OR_RETURN(care::Post meds_post, care.CreatePost(actor(tanaka), gid, meds));
  TSUNAGU_RETURN_IF_ERROR(
      care.AddComment(actor(suzuki), meds_post.id, "次回の訪問で一包化の希望を伺います。")
          .status());

  care::NewPost meeting;
  meeting.kind = care::PostKind::kMessage;
  meeting.title = "サービス担当者会議のお知らせ";
  meeting.body =
      "来週火曜日14時からご自宅でサービス担当者会議を行います。デイサービスの回数について"
      "ご相談します。";
  TSUNAGU_RETURN_IF_ERROR(care.CreatePost(actor(ito), gid, meeting).status());

  care::NewPost plan;
  plan.kind = care::PostKind::kMessage;
  plan.body = "血圧がやや高めの日が続いています。次回往診で降圧薬を見直します。";
  TSUNAGU_ASSIGN_OR_RETURN(care::Post plan_post, care.CreatePost(actor(kato), gid, plan));
  TSUNAGU_RETURN_IF_ERROR(care.OpenPost(actor(suzuki), plan_post.id).status());
  return core::Status::Ok();
}

core::Result<std::string> SeedDemo(Application& app) {
  auto existing = app.db().Query("SELECT COUNT(*) FROM facilities");
  if (!existing) return existing.error();
  if (existing->rows[0].Int(0) > 0) return core::Conflict("the database already holds a network");

  TSUNAGU_RETURN_IF_ERROR(app.facilities().PutArea({"kenpoku", "県北"}));
  TSUNAGU_RETURN_IF_ERROR(app.facilities().PutArea({"kenchu", "県中"}));

  std::vector<int64_t> facility_ids;
  std::vector<FacilityType> facility_types;
  int serial = 0;
  for (const auto& df : kFacilities) {
    registry::Facility f;
    f.type = df.type;
    f.name = df.name;
    f.kana = df.kana;
    f.area = df.area;
    f.address = df.address;
    f.postcode = df.postcode;
    f.phone = df.phone;
    std::string deps = df.departments;
    for (size_t start = 0; start < deps.size();) {
      size_t comma = deps.find(',', start);
      if (comma == std::string::npos) comma = deps.size();
      f.departments.push_back(deps.substr(start, comma - start));
      start = comma + 1;
    }
    if (registry::RequiresInstitutionCode(df.type)) f.code = InstitutionCode(df.type, ++serial);
    TSUNAGU_ASSIGN_OR_RETURN(registry::Facility created, app.facilities().Create(f));
    facility_ids.push_back(created.id);
    facility_types.push_back(df.type);
  }

  std::mt19937 rng(20261121);
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };

  // Fixed logins first, then generated staff for every facility.
  for (const auto& fl : kFixedLogins) {
    auth::NewUser nu;
    nu.facility_id = facility_ids[fl.facility_index];
    nu.login_id = fl.login;
    nu.display_name = fl.name.kanji;
    nu.kana = fl.name.kana;
    nu.email = std::string(fl.login) + "@demo.tsunagu.local";
    nu.occupation = fl.occupation;
    nu.role = fl.role;
    nu.password = kDemoPassword;
    nu.must_change_password = false;
    TSUNAGU_ASSIGN_OR_RETURN(auth::User u, app.accounts().Create(nu));
    if (fl.totp) {
      TSUNAGU_RETURN_IF_ERROR(app.accounts().SetPendingTotpSecret(u.id, kDemoTotpSecret));
      TSUNAGU_RETURN_IF_ERROR(app.accounts().EnableTotp(u.id, 0));
    }
  }
  int staff_serial = 0;
  for (size_t i = 1; i < facility_ids.size(); ++i) {
    auto occupations = StaffFor(facility_types[i]);
    for (size_t k = 0; k < occupations.size(); ++k) {
      bool female = rng() % 2;
      const Name& fam = kFamily[pick(kFamily.size())];
      const Name& given = female ? kFemale[pick(kFemale.size())] : kMale[pick(kMale.size())];
      auth::NewUser nu;
      nu.facility_id = facility_ids[i];
      char login[32];
      std::snprintf(login, sizeof login, "staff%03d", ++staff_serial);
      nu.login_id = login;
      nu.display_name = std::string(fam.kanji) + " " + given.kanji;
      nu.kana = std::string(fam.kana) + " " + given.kana;
      nu.email = nu.login_id + "@demo.tsunagu.local";
      nu.occupation = occupations[k];
      // The first account of facilities without a fixed admin manages it.
      nu.role = (k == 0 && i != 1) ? Role::kFacilityAdmin : Role::kStaff;
      nu.password = kDemoPassword;
      nu.must_change_password = false;
      TSUNAGU_ASSIGN_OR_RETURN(auth::User u, app.accounts().Create(nu));
      if (nu.role == Role::kFacilityAdmin) {
        TSUNAGU_RETURN_IF_ERROR(app.accounts().SetPendingTotpSecret(u.id, kDemoTotpSecret));
        TSUNAGU_RETURN_IF_ERROR(app.accounts().EnableTotp(u.id, 0));
      }
    }
  }

  // Patients, each registered at one facility and linked to one or two more.
  std::vector<size_t> sharing;  // facilities that keep patient IDs
  for (size_t i = 1; i < facility_ids.size(); ++i) {
    FacilityType t = facility_types[i];
    if (t != FacilityType::kEms && t != FacilityType::kLabCenter &&
        t != FacilityType::kMunicipality) {
      sharing.push_back(i);
    }
  }
  // Patients known to the demo hospital, for its SS-MIX2 clinical data.
  std::vector<ssmix2gen::PatientSeed> hospital_patients;
  std::vector<int64_t> hospital_patient_keys;
  auto seed_of = [](const registry::NewPatient& np, const std::string& local_id) {
    ssmix2gen::PatientSeed seed;
    seed.id = local_id;
    auto split = [](const std::string& full, std::string& a, std::string& b) {
      auto sp = full.find("　");
      a = full.substr(0, sp);
      b = sp == std::string::npos ? "" : full.substr(sp + std::string("　").size());
    };
    split(np.name, seed.family, seed.given);
    split(np.kana, seed.family_kana, seed.given_kana);
    seed.sex = np.sex == registry::Sex::kFemale ? 'F' : 'M';
    seed.birth_date =
        np.birth_date.substr(0, 4) + np.birth_date.substr(5, 2) + np.birth_date.substr(8, 2);
    seed.postcode = np.postcode;
    seed.address = np.address;
    seed.phone = np.phone;
    return seed;
  };
  static const char* kStreets[] = {"栄町",   "本町", "大町", "新町",
                                   "桜木町", "緑町", "旭町", "駅前"};
  for (int n = 0; n < 300; ++n) {
    bool female = rng() % 2;
    const Name& fam = kFamily[pick(kFamily.size())];
    const Name& given = female ? kFemale[pick(kFemale.size())] : kMale[pick(kMale.size())];
    registry::NewPatient np;
    np.name = std::string(fam.kanji) + "　" + given.kanji;
    np.kana = std::string(fam.kana) + "　" + given.kana;
    np.sex = female ? registry::Sex::kFemale : registry::Sex::kMale;
    char date[16];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", 1928 + static_cast<int>(pick(95)),
                  1 + static_cast<int>(pick(12)), 1 + static_cast<int>(pick(28)));
    np.birth_date = date;
    size_t home = sharing[pick(sharing.size())];
    bool kenpoku = std::string(kFacilities[home].area) == "kenpoku";
    char postcode[8], phone[16];
    std::snprintf(postcode, sizeof postcode, "%s%04d", kenpoku ? "960" : "963",
                  static_cast<int>(pick(9000)) + 100);
    std::snprintf(phone, sizeof phone, "0%d0%04d%04d", kenpoku ? 8 : 9,
                  static_cast<int>(pick(10000)), static_cast<int>(pick(10000)));
    np.postcode = postcode;
    np.phone = phone;
    np.address = std::string(kenpoku ? "福島市" : "郡山市") + kStreets[pick(8)] +
                 std::to_string(1 + pick(9)) + "-" + std::to_string(1 + pick(30));
    np.local_id = std::to_string(10000000 + n * 7 + static_cast<int>(home));
    registry::Viewer viewer{facility_ids[home], false};
    TSUNAGU_ASSIGN_OR_RETURN(registry::Patient p, app.patients().Register(np, viewer));
    if (home == 1) {
      hospital_patients.push_back(seed_of(np, np.local_id));
      hospital_patient_keys.push_back(p.id);
    }
    size_t extra = pick(3);
    for (size_t e = 0; e < extra; ++e) {
      size_t other = sharing[pick(sharing.size())];
      if (other == home) continue;
      std::string local = "P" + std::to_string(200000 + n * 11 + static_cast<int>(other));
      if (app.patients().Link(p.regional_id, facility_ids[other], local).ok() && other == 1) {
        hospital_patients.push_back(seed_of(np, local));
        hospital_patient_keys.push_back(p.id);
      }
    }
  }

  TSUNAGU_RETURN_IF_ERROR(
      SeedClinicalData(app, facility_ids[1], hospital_patients, hospital_patient_keys));
  TSUNAGU_RETURN_IF_ERROR(SeedPharmacyDispensings(app, facility_ids[1], facility_ids[6],
                                                  facility_ids[3], hospital_patients,
                                                  hospital_patient_keys));
  TSUNAGU_RETURN_IF_ERROR(SeedCareTeam(app));

  audit::AuditEvent e;
  e.action = "system.demo_seed";
  e.object = "network";
  e.outcome = "success";
  e.reason = "demo network seeded";
  (void)app.audit().Append(e);
  (void)app.audit().SignHead();

  std::string sheet = DemoLoginSheet();
  std::ofstream(app.config().data_dir + "/DEMO-LOGINS.txt") << sheet;
  core::LogInfo("demo.seeded", {{"facilities", std::to_string(facility_ids.size())},
                                {"staff", std::to_string(kFixedLogins.size() + staff_serial)},
                                {"patients", "300"}});
  return sheet;
}

}  // namespace tsunagu::app
