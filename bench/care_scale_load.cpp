// Loads a synthetic care SNS at scale into a data directory, for the care
// benchmark (bench/care_scale_bench.sh):
//   care_scale_load --data DIR [--groups N] [--posts N] [--db URL]
// It opens DIR the way `tsunagu serve --data DIR` does (Application::Open, so
// every migration is applied), then writes:
//  - through the services: a secretariat, 50 facilities (clinics, visiting-
//    nurse stations, pharmacies, home-care support offices), one user per
//    facility created by AccountService (password kDemoPassword, no second
//    factor), and one patient per group (PatientService::Register) with a
//    care-team consent for any facility (ConsentService::Create);
//  - with plain SQL in large transactions (the service path appends an audit
//    entry per post, which is the point of the service but not of a loader):
//    the other users (copies of their facility's first user with the same
//    password hash), N groups of 20 members each (every user is in about 40
//    groups, like a care manager with 40 clients; group 1 has 51 members for
//    the WebSocket fan-out test), and per group `--posts` posts over two years
//    (60 % today's status with blood pressure and temperature, 40 % messages;
//    Japanese text from a small vocabulary, search text folded as the service
//    folds it), about 5 read receipts per post and a comment on one post in
//    five.
// Rows go to the tables of CareService::Migrations() (src/care/care_service.cpp)
// with the same columns and meaning as CareService writes them.
// Restartable: progress (groups whose posts are written) is kept in
// DIR/care-scale/state; an interrupted load resumes at the next chunk.
// Writes DIR/care-scale/network.env (logins, the fan-out group) and
// DIR/care-scale/pairs.txt ("login group_id" of users and groups they belong to).
// The generated people and text are fictional.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "app/app_config.hpp"
#include "app/application.hpp"
#include "app/demo.hpp"
#include "auth/account_service.hpp"
#include "care/status_template.hpp"
#include "consent/consent_service.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "registry/facility_service.hpp"
#include "registry/identifiers.hpp"
#include "registry/patient_service.hpp"
#include "store/database.hpp"

namespace {

using tsunagu::app::Application;
namespace core = tsunagu::core;
namespace registry = tsunagu::registry;
namespace auth = tsunagu::auth;
namespace care = tsunagu::care;
namespace consent = tsunagu::consent;
namespace store = tsunagu::store;
using store::Value;

constexpr int kFacilities = 50;
constexpr int kUsersPerFacility = 100;
constexpr int kUsers = kFacilities * kUsersPerFacility;  // 5,000
constexpr int kMembers = 20;
constexpr int kFanoutMembers = 51;  // group 1: the author and 50 recipients
constexpr int kGroupsPerChunk = 50;
constexpr int64_t kStart = 1704034800000;        // 2024-01-01 00:00 JST
constexpr int64_t kSpan = 700LL * 86400 * 1000;  // posts over 700 days

// Phrases of daily care notes; the rare ones make selective searches.
constexpr std::array<const char*, 24> kPhrases{
    "本日は食欲があり昼食を全量摂取されました",
    "デイサービスから帰宅後は穏やかに過ごされています",
    "入浴介助を行いました。皮膚の状態に変化はありません",
    "服薬は確認できました",
    "夜間の睡眠は良好とのことです",
    "歩行時にふらつきがありました。見守りを続けます",
    "ご家族より通院の予定について連絡がありました",
    "リハビリで立ち上がり練習を行いました",
    "血圧はやや高めですが自覚症状はありません",
    "水分摂取を促しました",
    "訪問時、室温が高めでしたのでエアコンの使用をお願いしました",
    "排便がなく腹部の張りがあります",
    "ケアプランの見直しについて次回の担当者会議で相談します",
    "おむつ交換時に発赤を確認しました",
    "ショートステイの利用日程を調整中です",
    "訪問薬剤管理で残薬を確認しました",
    "口腔ケアを実施しました",
    "福祉用具の点検を行いました",
    "体重が先月より減少しています",
    "食事形態をきざみ食に変更しました",
    "仙骨部に褥瘡の疑いがあります",  // rare-ish
    "転倒はありませんでした",
    "不穏な様子が見られました",
    "往診の結果、内服薬が変更になりました"};
constexpr std::array<const char*, 6> kTitles{"今日の様子", "訪問記録", "連絡",
                                             "ご報告",     "申し送り", "相談"};

struct Options {
  std::string data_dir, db_url;
  int64_t groups = 10000, posts = 500;
};

struct State {
  int64_t groups = 0, posts = 0, groups_done = 0;
  int64_t first_user_id = 0;  // users are first_user_id .. + kUsers - 1
  double load_seconds = 0;

  static State Load(const std::string& path) {
    State s;
    std::ifstream in(path);
    std::string key;
    double v = 0;
    while (in >> key >> v) {
      if (key == "groups") s.groups = static_cast<int64_t>(v);
      if (key == "posts") s.posts = static_cast<int64_t>(v);
      if (key == "groups_done") s.groups_done = static_cast<int64_t>(v);
      if (key == "first_user_id") s.first_user_id = static_cast<int64_t>(v);
      if (key == "load_seconds") s.load_seconds = v;
    }
    return s;
  }
  void Save(const std::string& path) const {
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "groups " << groups << "\nposts " << posts << "\ngroups_done " << groups_done
          << "\nfirst_user_id " << first_user_id << "\nload_seconds " << load_seconds << "\n";
    }
    std::filesystem::rename(tmp, path);
  }
};

uint64_t Mix(uint64_t x) {  // splitmix64: deterministic pseudo-random choices
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Login(int64_t user_index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "care.u%04lld", static_cast<long long>(user_index));
  return buf;
}

// Member k (0..19) of group g (0-based): every user is in about 40 groups.
int64_t MemberIndex(int64_t g, int k) { return (g * 7 + static_cast<int64_t>(k) * 250) % kUsers; }

// Users take the occupation of their facility (facility = user % 50).
constexpr std::array<auth::Occupation, 4> kOccupations{
    auth::Occupation::kPhysician, auth::Occupation::kNurse, auth::Occupation::kPharmacist,
    auth::Occupation::kCareManager};
auth::Occupation OccupationOf(int64_t user_index) {
  return kOccupations[static_cast<size_t>(user_index % kFacilities % 4)];
}
std::string OccupationCode(int64_t user_index) {
  return std::string(auth::ToString(OccupationOf(user_index)));
}

std::vector<int64_t> MembersOf(int64_t g) {
  std::vector<int64_t> m;
  if (g == 0) {
    for (int k = 0; k < kFanoutMembers; ++k) m.push_back(k);
    return m;
  }
  for (int k = 0; k < kMembers; ++k) m.push_back(MemberIndex(g, k));
  return m;
}

int Fail(const std::string& what, const core::Status& s) {
  std::cerr << "care_scale_load: " << what << ": " << s.ToString() << "\n";
  return 1;
}

// Pharmacies use score table 4, clinics 1 (registry/identifiers.hpp).
std::string InstitutionCode(bool pharmacy, int n) {
  char digits[7];
  std::snprintf(digits, sizeof digits, "%06d", 150000 + n);
  std::string code = "07";
  code += pharmacy ? '4' : '1';
  code += digits;
  code += registry::InstitutionCheckDigit(digits);
  return code;
}

// Multi-row INSERT helper: collects rows and flushes `rows_per_statement`
// at a time through one prepared statement text.
class Inserter {
 public:
  // `parent`: rows this table refers to (foreign keys), flushed first.
  Inserter(store::Transaction& tx, std::string head, int columns, int rows_per_statement,
           Inserter* parent = nullptr)
      : tx_(tx),
        head_(std::move(head)),
        columns_(columns),
        per_(rows_per_statement),
        parent_(parent) {}
  core::Status Add(std::initializer_list<Value> row) {
    values_.insert(values_.end(), row.begin(), row.end());
    if (++rows_ == per_) return Flush();
    return core::Status::Ok();
  }
  core::Status Flush() {
    if (rows_ == 0) return core::Status::Ok();
    if (parent_) TSUNAGU_RETURN_IF_ERROR(parent_->Flush());
    std::string sql = head_ + " VALUES ";
    std::string one = "(";
    for (int c = 0; c < columns_; ++c) one += c ? ",?" : "?";
    one += ")";
    for (int r = 0; r < rows_; ++r) sql += (r ? "," : "") + one;
    auto st = tx_.Execute(sql, std::span<const Value>(values_.data(), values_.size())).status();
    values_.clear();
    rows_ = 0;
    if (!st.ok()) {
      return core::Status(st.code(), head_ + ": " + st.message() + " (" + st.detail() + ")");
    }
    return st;
  }

 private:
  store::Transaction& tx_;
  std::string head_;
  int columns_, per_;
  Inserter* parent_;
  int rows_ = 0;
  std::vector<Value> values_;
};

core::Status CreateNetwork(Application& app, State& state, int64_t groups,
                           const std::string& pairs_path) {
  TSUNAGU_ASSIGN_OR_RETURN(auto existing, app.db().Query("SELECT COUNT(*) FROM care_groups"));
  if (existing.rows[0].Int(0) > 0) {
    return core::Conflict("the database already holds care groups that this tool did not create");
  }
  TSUNAGU_RETURN_IF_ERROR(app.facilities().PutArea({"kenpoku", "県北"}));
  const registry::FacilityType kTypes[] = {
      registry::FacilityType::kClinic, registry::FacilityType::kVisitingNurseStation,
      registry::FacilityType::kPharmacy, registry::FacilityType::kHomeCareSupportOffice};
  std::vector<int64_t> facility_ids;
  for (int f = 0; f < kFacilities; ++f) {
    registry::Facility fac;
    fac.type = kTypes[f % 4];
    fac.name = "負荷試験 事業所" + std::to_string(f + 1);
    fac.kana = "フカシケン ジギョウショ";
    fac.area = "kenpoku";
    fac.address = "福島市五月町" + std::to_string(f + 1);
    fac.postcode = "9608536";
    fac.phone = "0245000" + std::to_string(100 + f);
    if (fac.type == registry::FacilityType::kClinic ||
        fac.type == registry::FacilityType::kPharmacy) {
      fac.code = InstitutionCode(fac.type == registry::FacilityType::kPharmacy, f);
    }
    TSUNAGU_ASSIGN_OR_RETURN(auto created, app.facilities().Create(fac));
    facility_ids.push_back(created.id);
  }
  // User i belongs to facility i % 50; the first of each facility through the
  // service (Argon2id hash), the others copy its hash.
  std::vector<int64_t> user_ids(kUsers, 0);
  for (int f = 0; f < kFacilities; ++f) {
    auth::NewUser nu;
    nu.facility_id = facility_ids[f];
    nu.login_id = Login(f);
    nu.display_name = "職員 " + std::to_string(f);
    nu.email = Login(f) + "@care-scale.tsunagu.local";
    nu.occupation = OccupationOf(f);
    nu.role = auth::Role::kStaff;
    nu.password = tsunagu::app::kDemoPassword;
    nu.must_change_password = false;
    TSUNAGU_ASSIGN_OR_RETURN(auto user, app.accounts().Create(nu));
    user_ids[f] = user.id;
  }
  {
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, app.db().Begin());
    for (int i = kFacilities; i < kUsers; ++i) {
      const int f = i % kFacilities;
      TSUNAGU_ASSIGN_OR_RETURN(
          auto rs, tx->Query("INSERT INTO users (facility_id, login_id, display_name, kana, email, "
                             "occupation, role, password_hash, must_change_password, created_at, "
                             "updated_at) SELECT facility_id, ?, ?, kana, ?, occupation, role, "
                             "password_hash, 0, created_at, updated_at FROM users WHERE id = ? "
                             "RETURNING id",
                             {Value{Login(i)}, Value{"職員 " + std::to_string(i)},
                              Value{Login(i) + "@care-scale.tsunagu.local"}, Value{user_ids[f]}}));
      user_ids[i] = rs.rows.at(0).Int(0);
    }
    TSUNAGU_RETURN_IF_ERROR(tx->Commit());
  }
  for (int i = 1; i < kUsers; ++i) {
    if (user_ids[i] != user_ids[0] + i) return core::Internal("user ids are not consecutive");
  }
  state.first_user_id = user_ids[0];

  // One patient per group, registered at the group owner's facility, with a
  // care-team consent for any participating facility.
  std::ofstream pairs(pairs_path, std::ios::trunc);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t g = 0; g < groups; ++g) {
    const std::vector<int64_t> members = MembersOf(g);
    const int64_t owner = members[0];
    registry::NewPatient np;
    np.name = "負荷　太郎" + std::to_string(g);
    np.kana = "フカ　タロウ";
    np.sex = g % 2 ? registry::Sex::kFemale : registry::Sex::kMale;
    np.birth_date = "1935-0" + std::to_string(1 + g % 9) + "-1" + std::to_string(g % 10);
    np.postcode = "9608536";
    np.address = "福島市";
    np.local_id = "CS" + std::to_string(g + 1);
    const int64_t owner_facility = facility_ids[owner % kFacilities];
    TSUNAGU_ASSIGN_OR_RETURN(registry::Patient p,
                             app.patients().Register(np, registry::Viewer{owner_facility, false}));
    consent::NewConsent c;
    c.patient_id = p.id;
    c.scope = consent::Scope::kCareTeam;
    c.viewer_facility_id = 0;
    c.valid_from = "2024-01-01";
    c.note = "多職種連携への参加同意（負荷試験）";
    TSUNAGU_RETURN_IF_ERROR(app.consents().Create(c, 0).status());
    TSUNAGU_ASSIGN_OR_RETURN(auto tx, app.db().Begin());
    TSUNAGU_RETURN_IF_ERROR(
        tx->Execute(
              "INSERT INTO care_groups (id, patient_id, name, owner_id, facility_id, "
              "archived_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
              {Value{g + 1}, Value{p.id}, Value{"負荷 様 支援チーム " + std::to_string(g + 1)},
               Value{state.first_user_id + owner}, Value{owner_facility}, Value{kStart}})
            .status());
    Inserter m(*tx, "INSERT INTO care_members (group_id, user_id, role, added_by, added_at)", 5,
               60);
    for (size_t k = 0; k < members.size(); ++k) {
      TSUNAGU_RETURN_IF_ERROR(m.Add({Value{g + 1}, Value{state.first_user_id + members[k]},
                                     Value{std::string(k == 0 ? "owner" : "member")},
                                     Value{state.first_user_id + owner}, Value{kStart}}));
      if (members[k] < 200) pairs << Login(members[k]) << " " << g + 1 << "\n";
    }
    TSUNAGU_RETURN_IF_ERROR(m.Flush());
    TSUNAGU_RETURN_IF_ERROR(tx->Commit());
    if ((g + 1) % 1000 == 0) {
      std::printf("groups %lld / %lld (%.0f s)\n", static_cast<long long>(g + 1),
                  static_cast<long long>(groups),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      std::fflush(stdout);
    }
  }
  return core::Status::Ok();
}

// Posts, template values, read receipts and comments of groups [from, to).
core::Status WritePosts(Application& app, const State& state, int64_t from, int64_t to) {
  TSUNAGU_ASSIGN_OR_RETURN(auto tx, app.db().Begin());
  Inserter posts(*tx,
                 "INSERT INTO care_posts (id, group_id, patient_id, author_id, kind, title, body, "
                 "search_text, to_family, draft, created_at, published_at, sort_at, "
                 "author_occupation, value_text, comment_count)",
                 16, 100);
  Inserter values(*tx, "INSERT INTO care_post_values (post_id, patient_id, position, item, value)",
                  5, 300, &posts);
  Inserter reads(*tx, "INSERT INTO care_reads (post_id, user_id, read_at)", 3, 500, &posts);
  Inserter comments(*tx, "INSERT INTO care_comments (id, post_id, author_id, body, created_at)", 5,
                    200, &posts);
  TSUNAGU_ASSIGN_OR_RETURN(
      auto patients, tx->Query("SELECT id, patient_id FROM care_groups WHERE id > ? AND id <= ?",
                               {Value{from}, Value{to}}));
  std::map<int64_t, int64_t> patient_of;
  for (const auto& r : patients.rows) patient_of[r.Int(0)] = r.Int(1);
  for (int64_t g = from; g < to; ++g) {
    const std::vector<int64_t> members = MembersOf(g);
    const int64_t patient = patient_of.at(g + 1);
    for (int64_t j = 0; j < state.posts; ++j) {
      const int64_t id = g * state.posts + j + 1;
      const uint64_t h = Mix(static_cast<uint64_t>(id));
      const int64_t author_index = members[h % members.size()];
      const int64_t author = state.first_user_id + author_index;
      const bool status = j % 5 < 3;
      const int64_t at = kStart + j * (kSpan / state.posts) + static_cast<int64_t>(h % 3600000);
      std::string title = kTitles[(h >> 8) % kTitles.size()];
      std::string body = std::string(kPhrases[(h >> 16) % kPhrases.size()]) + "。" +
                         kPhrases[(h >> 24) % kPhrases.size()] + "。";
      // Positions follow the status template's catalogue order.
      std::vector<care::TemplateValue> filled;
      if (status) {
        const int64_t sys = 110 + static_cast<int64_t>((h >> 32) % 50);
        const int64_t dia = 60 + static_cast<int64_t>((h >> 40) % 30);
        const int64_t t10 = 358 + static_cast<int64_t>((h >> 48) % 20);
        filled = {{"vital.bp_systolic", std::to_string(sys)},
                  {"vital.bp_diastolic", std::to_string(dia)},
                  {"vital.temperature", std::to_string(t10 / 10) + "." + std::to_string(t10 % 10)}};
      }
      const bool commented = j % 5 == 0;
      TSUNAGU_RETURN_IF_ERROR(posts.Add(
          {Value{id}, Value{g + 1}, Value{patient}, Value{author},
           Value{std::string(status ? "status" : "message")}, Value{title}, Value{body},
           Value{core::FoldKana(title + "\n" + body)}, Value{int64_t{0}}, Value{int64_t{0}},
           Value{at}, Value{at}, Value{at}, Value{OccupationCode(author_index)},
           Value{care::EncodeTemplateValues(filled)}, Value{int64_t{commented ? 1 : 0}}}));
      for (const auto& v : filled) {
        const int64_t position = care::FindTemplateItem(v.item) - care::StatusTemplate().data();
        TSUNAGU_RETURN_IF_ERROR(values.Add(
            {Value{id}, Value{patient}, Value{position}, Value{v.item}, Value{v.value}}));
      }
      // About a quarter of the other members read each post (fewer of the newest).
      const int modulo = j >= state.posts - 30 ? 8 : 4;
      for (size_t k = 0; k < members.size(); ++k) {
        const int64_t reader = state.first_user_id + members[k];
        if (reader == author || Mix(h + k) % modulo != 0) continue;
        TSUNAGU_RETURN_IF_ERROR(reads.Add({Value{id}, Value{reader}, Value{at + 3600000}}));
      }
      if (commented) {
        TSUNAGU_RETURN_IF_ERROR(comments.Add(
            {Value{id}, Value{id}, Value{state.first_user_id + members[(h >> 4) % members.size()]},
             Value{std::string("確認しました。ありがとうございます。")}, Value{at + 1800000}}));
      }
    }
  }
  TSUNAGU_RETURN_IF_ERROR(posts.Flush());
  TSUNAGU_RETURN_IF_ERROR(values.Flush());
  TSUNAGU_RETURN_IF_ERROR(reads.Flush());
  TSUNAGU_RETURN_IF_ERROR(comments.Flush());
  return tx->Commit();
}

int Usage() {
  std::cerr << "usage: care_scale_load --data DIR [--groups N] [--posts N] [--db URL]\n";
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
      } else if (flag == "--groups") {
        o.groups = std::stoll(value);
      } else if (flag == "--posts") {
        o.posts = std::stoll(value);
      } else {
        return Usage();
      }
    } catch (const std::exception&) {
      return Usage();
    }
  }
  if (argc % 2 == 0 || o.data_dir.empty() || o.groups < 2 || o.posts < 31) return Usage();
  core::SetLogLevel(core::LogLevel::kWarn);

  const std::string dir = o.data_dir + "/care-scale";
  const std::string state_path = dir + "/state";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail("cannot create " + dir, core::Unavailable(ec.message()));
  State state = State::Load(state_path);
  if (state.first_user_id != 0 && (state.groups != o.groups || state.posts != o.posts)) {
    std::cerr << "care_scale_load: " << o.data_dir << " holds " << state.groups << " groups x "
              << state.posts << " posts; use another --data directory for other sizes\n";
    return 2;
  }
  if (state.first_user_id != 0 && state.groups_done == state.groups) {
    std::printf("already loaded: %lld groups x %lld posts (%.0f s)\n",
                static_cast<long long>(state.groups), static_cast<long long>(state.posts),
                state.load_seconds);
    return 0;
  }

  std::vector<std::string> args{"--data", o.data_dir};
  if (!o.db_url.empty()) args.insert(args.end(), {"--db", o.db_url});
  auto config = tsunagu::app::ParseConfig(args);
  if (!config) return Fail("configuration", config.error());
  auto app = Application::Open(*config);
  if (!app) return Fail("cannot open " + o.data_dir, app.error());
  Application& a = **app;

  const auto t0 = std::chrono::steady_clock::now();
  const double earlier = state.load_seconds;
  auto elapsed = [&] {
    return earlier + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (state.first_user_id == 0) {
    state.groups = o.groups;
    state.posts = o.posts;
    if (auto st = CreateNetwork(a, state, o.groups, dir + "/pairs.txt"); !st.ok()) {
      return Fail("network", st);
    }
    state.load_seconds = elapsed();
    state.Save(state_path);
  }
  const int64_t from_done = state.groups_done;
  while (state.groups_done < state.groups) {
    const int64_t to = std::min(state.groups, state.groups_done + kGroupsPerChunk);
    if (auto st = WritePosts(a, state, state.groups_done, to); !st.ok()) return Fail("posts", st);
    state.groups_done = to;
    state.load_seconds = elapsed();
    state.Save(state_path);
    if (to % 500 == 0 || to == state.groups) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("posts of %lld / %lld groups (%.0f posts/s)\n", static_cast<long long>(to),
                  static_cast<long long>(state.groups),
                  static_cast<double>((to - from_done) * state.posts) / s);
      std::fflush(stdout);
    }
  }
  if (a.db().dialect() == store::Dialect::kPostgres) {
    for (const char* table : {"care_groups", "care_posts", "care_comments"}) {
      std::string sql = std::string("SELECT setval(pg_get_serial_sequence('") + table +
                        "', 'id'), (SELECT MAX(id) FROM " + table + "))";
      if (auto st = a.db().Query(sql).status(); !st.ok()) return Fail("sequences", st);
    }
    if (auto st = a.db().Execute("ANALYZE").status(); !st.ok()) return Fail("analyze", st);
  } else if (auto st = a.db().Execute("ANALYZE").status(); !st.ok()) {
    return Fail("analyze", st);
  }
  {
    std::ofstream env(dir + "/network.env", std::ios::trunc);
    env << "CARE_GROUPS=" << state.groups << "\nCARE_POSTS=" << state.posts
        << "\nCARE_PASSWORD=" << tsunagu::app::kDemoPassword << "\nCARE_FANOUT_GROUP=1"
        << "\nCARE_FANOUT_AUTHOR=" << Login(0) << "\nCARE_USERS=" << kUsers
        << "\nCARE_LOAD_SECONDS=" << static_cast<int64_t>(state.load_seconds) << "\n";
  }
  std::printf("loaded: %lld groups x %lld posts in %.0f s\n", static_cast<long long>(state.groups),
              static_cast<long long>(state.posts), state.load_seconds);
  return 0;
}
