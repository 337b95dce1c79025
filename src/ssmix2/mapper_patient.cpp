// Patient (ADT-00), AllergyIntolerance (ADT-61), Condition (PPR-01) and
// Encounter (ADT-12/22/52).
#include "core/text.hpp"
#include "ssmix2/internal/fhir_json.hpp"
#include "ssmix2/internal/mapping.hpp"

namespace tsunagu::ssmix2::internal {
namespace {

namespace json = boost::json;
using clinical::Category;
using clinical::ResourceRecord;
using Records = std::vector<ResourceRecord>;

constexpr std::string_view kRepresentationUrl =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

std::string Profile(std::string_view name) { return std::string(kJpCore) + std::string(name); }

bool IsAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// XPN -> HumanName with the JP Core representation extension. JAHIS sends
// the kanji name (XPN-8 "I") and the katakana name (XPN-8 "P").
std::optional<json::object> HumanName(const hl7v2::Segment& pid, size_t rep) {
  std::string family = core::Trim(pid.Get(5, 1, 1, rep));
  std::string given = core::Trim(pid.Get(5, 2, 1, rep));
  std::string middle = core::Trim(pid.Get(5, 3, 1, rep));
  if (family.empty() && given.empty()) return std::nullopt;
  std::string type = pid.Get(5, 7, 1, rep);
  std::string repr = pid.Get(5, 8, 1, rep);
  std::string code;
  if (repr == "I") {
    code = "IDE";
  } else if (repr == "P") {
    code = "SYL";
  } else if (repr == "A") {
    code = "ABC";
  } else if (core::IsKatakanaOrSpace(family + given)) {
    code = "SYL";
  } else if (IsAscii(family + given)) {
    code = "ABC";
  } else {
    code = "IDE";
  }
  json::object ext;
  ext["url"] = kRepresentationUrl;
  ext["valueCode"] = code;
  json::object name;
  name["extension"] = json::array{std::move(ext)};
  if (type == "L" || type.empty()) {
    name["use"] = "official";
  } else if (type == "D") {
    name["use"] = "usual";
  } else if (type == "A" || type == "N") {
    name["use"] = "nickname";
  } else if (type == "M" || type == "B") {
    name["use"] = "maiden";
  }
  std::string text = family;
  json::array givens;
  for (const std::string* g : {&given, &middle}) {
    if (g->empty()) continue;
    if (!text.empty()) text += ' ';
    text += *g;
    givens.push_back(json::string(*g));
  }
  name["text"] = text;
  if (!family.empty()) name["family"] = family;
  if (!givens.empty()) name["given"] = std::move(givens);
  return name;
}

std::optional<json::object> Address(const hl7v2::Segment& pid, size_t rep) {
  std::string street = core::Trim(pid.Get(11, 1, 1, rep));
  std::string other = core::Trim(pid.Get(11, 2, 1, rep));
  std::string city = core::Trim(pid.Get(11, 3, 1, rep));
  std::string state = core::Trim(pid.Get(11, 4, 1, rep));
  std::string zip = core::Trim(pid.Get(11, 5, 1, rep));
  std::string country = core::Trim(pid.Get(11, 6, 1, rep));
  std::string type = core::Trim(pid.Get(11, 7, 1, rep));
  std::string full = core::Trim(pid.Get(11, 8, 1, rep));  // JAHIS: the whole address
  if (street.empty() && other.empty() && city.empty() && state.empty() && zip.empty() &&
      full.empty())
    return std::nullopt;
  json::object a(kBodyMembers);
  if (type == "H" || type == "P") {
    a["use"] = "home";
  } else if (type == "B" || type == "O") {
    a["use"] = "work";
  } else if (type == "C") {
    a["use"] = "temp";
  }
  a["text"] = full.empty() ? state + city + street + other : full;
  json::array lines;
  if (!street.empty()) lines.push_back(json::string(street));
  if (!other.empty()) lines.push_back(json::string(other));
  if (!lines.empty()) a["line"] = std::move(lines);
  if (!city.empty()) a["city"] = city;
  if (!state.empty()) a["state"] = state;
  if (!zip.empty()) a["postalCode"] = zip;
  if (!country.empty()) a["country"] = country == "JPN" ? "JP" : country;
  return a;
}

std::optional<json::object> Telecom(const hl7v2::Segment& pid, size_t field, size_t rep) {
  std::string number = core::Trim(pid.Get(field, 12, 1, rep));
  if (number.empty()) number = core::Trim(pid.Get(field, 1, 1, rep));
  std::string email = core::Trim(pid.Get(field, 4, 1, rep));
  std::string use = pid.Get(field, 2, 1, rep);
  std::string equipment = pid.Get(field, 3, 1, rep);
  json::object t;
  if (equipment == "Internet" || equipment == "X.400" || use == "NET") {
    if (email.empty()) email = number;
    if (email.empty()) return std::nullopt;
    t["system"] = "email";
    t["value"] = email;
  } else {
    if (number.empty()) return std::nullopt;
    t["system"] = equipment == "FX" ? "fax" : equipment == "BP" ? "pager" : "phone";
    t["value"] = number;
  }
  if (equipment == "CP") {
    t["use"] = "mobile";
  } else if (use == "PRN" || use == "ORN" || use == "VHN") {
    t["use"] = "home";
  } else if (use == "WPN" || field == 14) {
    t["use"] = "work";
  }
  return t;
}

// "20240401" / "202404" -> FHIR date; InvalidInput for a bad date.
core::Result<std::string> DateOnly(std::string_view value, std::string_view what) {
  TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> t, OptionalTime(value, what));
  if (!t) return std::string();
  return t->fhir.substr(0, std::min<size_t>(t->fhir.size(), 10));
}

}  // namespace

core::Result<Records> MapPatient(const MappingContext& ctx) {
  const hl7v2::Segment& pid = *ctx.pid;
  ResourceRecord r = NewRecord(ctx, "Patient", Category::kPatientInfo, ctx.patient_id, "patient");
  r.source_key = "ADT-00|" + ctx.patient_id + "|patient";
  json::object p(kBodyMembers);
  json::object id;
  id["system"] = ctx.id_system;
  id["value"] = ctx.patient_id;
  p["identifier"] = json::array{std::move(id)};
  p["active"] = true;
  json::array names;
  for (size_t i = 0; i < pid.Repetitions(5); ++i)
    if (auto n = HumanName(pid, i)) names.push_back(std::move(*n));
  if (!names.empty()) p["name"] = std::move(names);
  json::array telecom;
  for (size_t field : {size_t{13}, size_t{14}})
    for (size_t i = 0; i < pid.Repetitions(field); ++i)
      if (auto t = Telecom(pid, field, i)) telecom.push_back(std::move(*t));
  if (!telecom.empty()) p["telecom"] = std::move(telecom);
  const std::string sex = pid.Get(8);
  if (sex == "M") {
    p["gender"] = "male";
  } else if (sex == "F") {
    p["gender"] = "female";
  } else if (sex == "O") {
    p["gender"] = "other";
  } else if (sex == "U" || sex == "N") {
    p["gender"] = "unknown";
  }
  TSUNAGU_ASSIGN_OR_RETURN(std::string birth, DateOnly(pid.Get(7), "PID-7"));
  if (!birth.empty()) p["birthDate"] = birth;
  TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> death,
                           OptionalTime(pid.Get(29), "PID-29"));
  if (death) {
    p["deceasedDateTime"] = death->fhir;
  } else if (pid.Get(30) == "Y") {
    p["deceasedBoolean"] = true;
  }
  json::array addresses;
  for (size_t i = 0; i < pid.Repetitions(11); ++i)
    if (auto a = Address(pid, i)) addresses.push_back(std::move(*a));
  if (!addresses.empty()) p["address"] = std::move(addresses);
  r.effective = ctx.message_time;
  Finish(ctx, r, Profile("JP_Patient"), std::move(p));
  return Records{std::move(r)};
}

core::Result<Records> MapAllergies(const MappingContext& ctx) {
  const auto iams = ctx.message->FindAll("IAM");
  if (iams.empty()) return core::InvalidInput("ADT^A60 message has no IAM segment");
  Records out;
  const std::string order = ctx.OrderNumber(nullptr);
  for (size_t i = 0; i < iams.size(); ++i) {
    const hl7v2::Segment& iam = *iams[i];
    const std::string where = "IAM[" + std::to_string(i + 1) + "]";
    std::vector<Code> codes = CodesOf(iam, 3, 0, ctx.facility_id());
    if (codes.empty()) return core::InvalidInput(where + ": IAM-3 allergen is empty");
    const std::string type = iam.Get(2);
    std::string item = core::Trim(iam.Get(7));
    if (item.empty() && !codes.front().code.empty()) item = type + ":" + codes.front().code;
    if (item.empty()) item = core::Trim(iam.Get(1));
    if (item.empty()) item = std::to_string(i + 1);
    ResourceRecord r = NewRecord(ctx, "AllergyIntolerance", Category::kAllergy, order, item);
    if (iam.Get(6) == "D") r.retracted = true;
    SetPrimaryCode(r, codes);

    json::object a(kBodyMembers);
    const std::string status = iam.Get(17);
    a["clinicalStatus"] =
        SystemCodeConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                          status == "I" ? "inactive" : "active");
    std::string verification = "confirmed";
    if (status == "U" || status == "P" || status == "S") verification = "unconfirmed";
    if (status == "E" || iam.Get(6) == "D") verification = "entered-in-error";
    a["verificationStatus"] = SystemCodeConcept(
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", verification);
    // HL7 table 0127: xA allergy, xI intolerance; D drug, F food, E/M/A/P/L others.
    if (type.size() == 2 && type[1] == 'I') {
      a["type"] = "intolerance";
    } else {
      a["type"] = "allergy";
    }
    if (!type.empty()) {
      const char kind = type[0];
      a["category"] = json::array{json::string(kind == 'D'   ? "medication"
                                               : kind == 'F' ? "food"
                                                             : "environment")};
    }
    const std::string severity = iam.Get(4);
    if (severity == "SV") {
      a["criticality"] = "high";
    } else if (severity == "MO" || severity == "MI") {
      a["criticality"] = "low";
    } else if (severity == "U") {
      a["criticality"] = "unable-to-assess";
    }
    a["code"] = *CodeableConcept(codes);
    a["patient"] = ctx.SubjectRef();
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> onset,
                             OptionalTime(iam.Get(11), where + " IAM-11"));
    if (onset) a["onsetDateTime"] = onset->fhir;
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> reported,
                             OptionalTime(iam.Get(13, 1), where + " IAM-13"));
    if (reported) a["recordedDate"] = reported->fhir;
    json::array manifestations;
    for (size_t k = 0; k < iam.Repetitions(5); ++k) {
      std::string reaction = core::Trim(iam.Get(5, 1, 1, k));
      if (!reaction.empty()) manifestations.push_back(TextConcept(reaction));
    }
    if (!manifestations.empty()) {
      json::object reaction;
      reaction["manifestation"] = std::move(manifestations);
      a["reaction"] = json::array{std::move(reaction)};
    }
    r.effective = onset ? onset->fhir : reported ? reported->fhir : ctx.message_time;
    Finish(ctx, r, Profile("JP_AllergyIntolerance"), std::move(a));
    out.push_back(std::move(r));
  }
  return out;
}

core::Result<Records> MapConditions(const MappingContext& ctx) {
  const auto prbs = ctx.message->FindAll("PRB");
  if (prbs.empty()) return core::InvalidInput("PPR message has no PRB segment");
  Records out;
  const std::string order = ctx.OrderNumber(nullptr);
  for (size_t i = 0; i < prbs.size(); ++i) {
    const hl7v2::Segment& prb = *prbs[i];
    const std::string where = "PRB[" + std::to_string(i + 1) + "]";
    std::vector<Code> codes = CodesOf(prb, 3, 0, ctx.facility_id());
    if (codes.empty()) return core::InvalidInput(where + ": PRB-3 problem is empty");
    std::string item = core::Trim(prb.Get(4));
    if (item.empty())
      item = codes.front().code.empty() ? std::to_string(i + 1) : codes.front().code;
    ResourceRecord r = NewRecord(ctx, "Condition", Category::kCondition, order, item);
    if (prb.Get(1) == "DE") r.retracted = true;
    SetPrimaryCode(r, codes);

    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> action,
                             OptionalTime(prb.Get(2), where + " PRB-2"));
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> established,
                             OptionalTime(prb.Get(7), where + " PRB-7"));
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> resolved,
                             OptionalTime(prb.Get(9), where + " PRB-9"));
    TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> onset,
                             OptionalTime(prb.Get(16), where + " PRB-16"));
    // PRB-14 life cycle status (JAHIS outcome): 1 cured, 2 died, 3 stopped,
    // 4 transferred; anything after a resolution date is no longer active.
    const std::string outcome = prb.Get(14);
    const std::string outcome_text = prb.Get(14, 2);
    std::string clinical_status = "active";
    if (outcome == "1" || outcome_text == "治癒") {
      clinical_status = "resolved";
    } else if (!outcome.empty() || resolved) {
      clinical_status = outcome.empty() ? "resolved" : "inactive";
    }
    json::object c(kBodyMembers);
    c["clinicalStatus"] = SystemCodeConcept(
        "http://terminology.hl7.org/CodeSystem/condition-clinical", clinical_status);
    const std::string confirmation = prb.Get(13);
    std::string verification;
    if (confirmation == "C") verification = "confirmed";
    if (confirmation == "P" || confirmation == "S") verification = "provisional";
    if (confirmation == "D") verification = "differential";
    if (confirmation == "R") verification = "refuted";
    if (prb.Get(1) == "DE") verification = "entered-in-error";
    if (!verification.empty())
      c["verificationStatus"] = SystemCodeConcept(
          "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification);
    c["category"] = json::array{SystemCodeConcept(
        "http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis")};
    c["code"] = *CodeableConcept(codes);
    c["subject"] = ctx.SubjectRef();
    const std::optional<hl7v2::Timestamp>& start = onset ? onset : established;
    if (start) c["onsetDateTime"] = start->fhir;
    if (resolved) c["abatementDateTime"] = resolved->fhir;
    if (established) {
      c["recordedDate"] = established->fhir;
    } else if (action) {
      c["recordedDate"] = action->fhir;
    }
    if (!outcome_text.empty()) c["note"] = json::array{json::object{{"text", outcome_text}}};
    r.effective = start ? start->fhir : action ? action->fhir : ctx.message_time;
    if (resolved) r.effective_end = resolved->fhir;
    Finish(ctx, r, Profile("JP_Condition"), std::move(c));
    out.push_back(std::move(r));
  }
  return out;
}

core::Result<Records> MapEncounter(const MappingContext& ctx) {
  const hl7v2::Segment* pv1 = ctx.message->Find("PV1");
  if (pv1 == nullptr) return core::InvalidInput("ADT message has no PV1 segment");
  const hl7v2::Segment* evn = ctx.message->Find("EVN");
  const std::string_view event = ctx.message->Event();
  TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> admit,
                           OptionalTime(pv1->Get(44), "PV1-44"));
  TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> discharge,
                           OptionalTime(pv1->Get(45), "PV1-45"));
  std::optional<hl7v2::Timestamp> occurred;
  if (evn != nullptr) {
    TSUNAGU_ASSIGN_OR_RETURN(occurred, OptionalTime(evn->Get(6), "EVN-6"));
    if (!occurred) {
      TSUNAGU_ASSIGN_OR_RETURN(occurred, OptionalTime(evn->Get(2), "EVN-2"));
    }
  }
  const std::string patient_class = pv1->Get(2);
  std::string cls = event == "A04" ? "AMB" : "IMP";
  if (patient_class == "O") cls = "AMB";
  if (patient_class == "I") cls = "IMP";
  if (patient_class == "E") cls = "EMER";
  const std::string start = admit ? admit->fhir : occurred ? occurred->fhir : ctx.message_time;
  std::string end;
  if (event == "A03")
    end = discharge ? discharge->fhir : occurred ? occurred->fhir : ctx.message_time;

  // Admission (A01) and discharge (A03) describe one stay: they share the
  // key, so that the discharge completes the admission's Encounter.
  std::string visit = core::Trim(pv1->Get(19));
  if (visit.empty()) {
    visit = start.substr(0, 10);
    visit.erase(std::remove(visit.begin(), visit.end(), '-'), visit.end());
  }
  ResourceRecord r = NewRecord(ctx, "Encounter", Category::kEncounter, visit, "encounter");
  r.source_key = std::string(event == "A04" ? "ADT-12" : "ADT-22") + "|" + visit + "|encounter";
  r.effective = start;
  r.effective_end = end;
  const char* display = cls == "AMB"   ? "ambulatory"
                        : cls == "IMP" ? "inpatient encounter"
                                       : "emergency";
  r.code_system = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
  r.code = cls;
  r.display = display;

  json::object e(kBodyMembers);
  e["status"] = event == "A03" ? "finished" : event == "A01" ? "in-progress" : "arrived";
  json::object cls_coding;
  cls_coding["system"] = r.code_system;
  cls_coding["code"] = cls;
  cls_coding["display"] = display;
  e["class"] = std::move(cls_coding);
  std::vector<Code> service = CodesOf(*pv1, 10, 0, ctx.facility_id());
  if (auto sc = CodeableConcept(service)) e["serviceType"] = std::move(*sc);
  e["subject"] = ctx.SubjectRef();
  json::object period;
  period["start"] = start;
  if (!end.empty()) period["end"] = end;
  e["period"] = std::move(period);
  std::string doctor = core::Trim(pv1->Get(7, 2) + " " + pv1->Get(7, 3));
  if (!doctor.empty()) {
    json::object individual;
    individual["display"] = doctor;
    json::object participant;
    participant["individual"] = std::move(individual);
    e["participant"] = json::array{std::move(participant)};
  }
  std::string ward = core::Trim(pv1->Get(3, 1));
  std::string room = core::Trim(pv1->Get(3, 2));
  if (!ward.empty() || !room.empty()) {
    json::object loc;
    loc["display"] = core::Trim(ward + " " + room);
    json::object location;
    location["location"] = std::move(loc);
    e["location"] = json::array{std::move(location)};
  }
  if (!pv1->Get(19).empty()) {
    json::object vid;
    vid["system"] = "urn:tsunagu:facility:" + std::to_string(ctx.facility_id()) + ":visit-number";
    vid["value"] = pv1->Get(19);
    e["identifier"] = json::array{std::move(vid)};
  }
  Finish(ctx, r, Profile("JP_Encounter"), std::move(e));
  return Records{std::move(r)};
}

}  // namespace tsunagu::ssmix2::internal
