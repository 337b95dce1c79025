// The FHIR API's services on both databases: transactions and batches from a
// hospital, reads and searches under consent, PDQm / PIXm, a JP-CLINS
// document and an MHD provide-document bundle.
#include "fhir/fhir_service.hpp"

#include <sodium.h>

#include <boost/json.hpp>

#include "fhir/fhir_writer.hpp"
#include "unit/documents/document_fixture.hpp"

namespace tsunagu::fhir {
namespace {

namespace json = boost::json;

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return out;
}

json::object Parse(const std::string& text) {
  json::value v = json::parse(text);
  return v.as_object();
}

std::string S(const json::value& v) { return std::string(v.as_string()); }

class FhirTest : public documents::DocumentDbTest {
 protected:
  void SetUp() override {
    DocumentDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    service_ = std::make_unique<FhirService>(*timeline_, *patients_, *facilities_, *policy_,
                                             *audit_, "https://net.example/fhir");
    writer_ = std::make_unique<FhirWriter>(*resources_, *patients_, *facilities_, *documents_,
                                           *audit_, clock_);
    auto h = facilities_->Get(hospital_);
    ASSERT_TRUE(h.has_value());
    hospital_system_ = LocalIdSystem(h->code);
  }

  // The hospital's subject element for its local ID H-123.
  std::string Subject() const {
    return R"({"identifier":{"system":")" + hospital_system_ + R"(","value":"H-123"}})";
  }

  std::string Observation(const std::string& id_value, const std::string& code,
                          const std::string& date, double value) const {
    return R"({"resourceType":"Observation","identifier":[{"system":"urn:lab","value":")" +
           id_value + R"("}],"status":"final","category":[{"coding":[{"code":"laboratory"}]}],
      "code":{"coding":[{"system":"urn:oid:1.2.392.200119.4.504","code":")" +
           code + R"(","display":"HbA1c"}]},"subject":)" + Subject() + R"(,"effectiveDateTime":")" +
           date + R"(","valueQuantity":{"value":)" + std::to_string(value) + R"(,"unit":"%"}})";
  }

  static std::string Transaction(const std::vector<std::string>& resources,
                                 const std::string& type = "transaction") {
    std::string entries;
    for (const auto& r : resources) {
      if (!entries.empty()) entries += ",";
      entries += R"({"resource":)" + r + R"(,"request":{"method":"POST","url":"X"}})";
    }
    return R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)" + entries + "]}";
  }

  FhirAnswer Post(const std::string& body, int64_t facility = 0) {
    auto answer = writer_->PostBundle(Ctx(facility ? facility : hospital_), body, nullptr);
    EXPECT_TRUE(answer.has_value()) << answer.error().ToString();
    return answer.value_or(FhirAnswer{});
  }

  SearchParams Params(const std::string& type, const std::string& query) {
    auto p = ParseClinicalSearch(*FindClinicalType(type),
                                 ParseQueryString("/fhir/" + type + "?" + query), true);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
    return p.value_or(SearchParams{});
  }

  json::object Search(int64_t facility, const std::string& type, const std::string& query) {
    auto bundle = service_->Search(Ctx(facility), *FindClinicalType(type), Params(type, query));
    EXPECT_TRUE(bundle.has_value()) << bundle.error().ToString();
    return bundle ? Parse(*bundle) : json::object{};
  }

  static std::vector<std::string> Types(const json::object& bundle) {
    std::vector<std::string> out;
    if (!bundle.contains("entry")) return out;
    for (const auto& e : bundle.at("entry").as_array()) {
      out.push_back(S(e.at("resource").at("resourceType")) + ":" + S(e.at("search").at("mode")));
    }
    return out;
  }

  std::unique_ptr<FhirService> service_;
  std::unique_ptr<FhirWriter> writer_;
  std::string hospital_system_;
};

TEST_P(FhirTest, TransactionStoresResourcesThatConsentedFacilitiesRead) {
  const std::string condition =
      R"({"resourceType":"Condition","code":{"coding":[{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_ConditionDiseaseCode_MEDIS","code":"20056598","display":"2型糖尿病"}]},"subject":)" +
      Subject() + R"(,"onsetDateTime":"2023-05-01"})";
  FhirAnswer answer =
      Post(Transaction({condition, Observation("L1", "3D045000001906202", "2025-06-01", 7.1)}));
  ASSERT_EQ(answer.status, 200) << answer.json;
  json::object response = Parse(answer.json);
  EXPECT_EQ(S(response.at("type")), "transaction-response");
  const auto& entries = response.at("entry").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(S(entries[0].at("response").at("status")), "201 Created");
  const std::string location = S(entries[1].at("response").at("location"));
  ASSERT_TRUE(location.starts_with("Observation/")) << location;

  // The same Bundle again changes nothing.
  json::object again = Parse(
      Post(Transaction({condition, Observation("L1", "3D045000001906202", "2025-06-01", 7.1)}))
          .json);
  EXPECT_EQ(S(again.at("entry").as_array()[1].at("response").at("status")), "200 OK");
  EXPECT_EQ(S(again.at("entry").as_array()[1].at("response").at("location")), location);

  // The clinic needs a consent; then it reads the Observation, whose subject
  // now names the regional patient.
  const std::string id = location.substr(12);
  auto denied = service_->Read(Ctx(clinic_), "Observation", id);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code(), core::Code::kForbidden);
  Consent(patient_, hospital_, clinic_);
  auto read = service_->Read(Ctx(clinic_), "Observation", id);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  json::object obs = Parse(*read);
  EXPECT_EQ(S(obs.at("id")), id);
  EXPECT_EQ(S(obs.at("subject").at("reference")), "Patient/" + patient_.regional_id);
  EXPECT_EQ(S(obs.at("meta").at("source")), "urn:tsunagu:facility:" + std::to_string(hospital_));

  json::object bundle =
      Search(clinic_, "Condition", "patient=" + patient_.regional_id + "&_total=accurate");
  EXPECT_EQ(bundle.at("total").as_int64(), 1);
  EXPECT_EQ(Types(bundle), std::vector<std::string>{"Condition:match"});
  // Reads and writes are audited.
  EXPECT_FALSE(Events("fhir.write").empty());
  EXPECT_FALSE(Events("fhir.search").empty());
}

TEST_P(FhirTest, AnInvalidEntryFailsTheWholeTransaction) {
  const std::string no_code = R"({"resourceType":"Observation","status":"final","subject":)" +
                              Subject() + R"(,"effectiveDateTime":"2025-06-01"})";
  const std::string other_patient =
      R"({"resourceType":"Condition","code":{"text":"高血圧"},"subject":{"identifier":{"system":"urn:oid:1.2.392.100495.20.3.51.19999999999","value":"X"}},"onsetDateTime":"2025-01-01"})";
  const std::string bad_date =
      R"({"resourceType":"Condition","code":{"text":"高血圧"},"subject":)" + Subject() +
      R"(,"onsetDateTime":"01/02/2025"})";
  FhirAnswer answer = Post(
      Transaction({Observation("L2", "X", "2025-06-02", 1), no_code, other_patient, bad_date}));
  EXPECT_EQ(answer.status, 422);
  json::object outcome = Parse(answer.json);
  EXPECT_EQ(S(outcome.at("resourceType")), "OperationOutcome");
  std::string all = answer.json;
  EXPECT_NE(all.find("Bundle.entry[1].resource.code"), std::string::npos) << all;
  EXPECT_NE(all.find("Bundle.entry[2].resource.subject"), std::string::npos) << all;
  EXPECT_NE(all.find("Bundle.entry[3].resource.onsetDateTime"), std::string::npos) << all;
  clinical::ResourceQuery q;
  q.all_patients = true;
  q.with_total = true;
  EXPECT_EQ(resources_->Search(q)->total.value_or(-1), 0) << "nothing of the transaction is stored";

  // The same entries as a batch: the good one is stored, the others reported.
  json::object batch =
      Parse(Post(Transaction({Observation("L2", "X", "2025-06-02", 1), no_code}, "batch")).json);
  EXPECT_EQ(S(batch.at("type")), "batch-response");
  EXPECT_EQ(S(batch.at("entry").as_array()[0].at("response").at("status")), "201 Created");
  EXPECT_EQ(S(batch.at("entry").as_array()[1].at("response").at("status")),
            "422 Unprocessable Entity");
  EXPECT_EQ(resources_->Search(q)->total.value_or(-1), 1);

  // Not a Bundle at all.
  auto not_bundle = writer_->PostBundle(Ctx(hospital_), R"({"resourceType":"Patient"})", nullptr);
  ASSERT_FALSE(not_bundle.has_value());
  EXPECT_EQ(not_bundle.error().code(), core::Code::kInvalidInput);
  EXPECT_FALSE(writer_->PostBundle(Ctx(hospital_), "{broken", nullptr).has_value());
  // The secretariat writes no clinical data.
  auto admin =
      writer_->PostBundle(Ctx(hospital_, auth::Occupation::kClerk, auth::Role::kNetworkAdmin),
                          Transaction({Observation("L3", "X", "2025-06-02", 1)}), nullptr);
  ASSERT_FALSE(admin.has_value());
  EXPECT_EQ(admin.error().code(), core::Code::kForbidden);
}

TEST_P(FhirTest, SearchFiltersSortsPagesAndIncludes) {
  std::vector<std::string> labs;
  for (int m = 1; m <= 5; ++m) {
    labs.push_back(Observation("A" + std::to_string(m), m % 2 ? "HBA1C" : "GLU",
                               "2025-0" + std::to_string(m) + "-10", 6.0 + m));
  }
  labs.push_back(
      R"({"resourceType":"DiagnosticReport","status":"final","category":[{"coding":[{"code":"LAB"}]}],"code":{"text":"生化学"},"subject":)" +
      Subject() +
      R"(,"effectiveDateTime":"2025-03-10","result":[{"identifier":{"system":"urn:tsunagu:facility:)" +
      std::to_string(hospital_) + R"(:Observation","value":"FHIR|urn:lab|A3"}}]})");
  ASSERT_EQ(Post(Transaction(labs)).status, 200);
  const std::string rid = patient_.regional_id;

  json::object hba1c =
      Search(hospital_, "Observation", "patient=" + rid + "&code=HBA1C&_sort=date");
  ASSERT_EQ(hba1c.at("entry").as_array().size(), 3u);
  EXPECT_EQ(S(hba1c.at("entry").as_array()[0].at("resource").at("effectiveDateTime")),
            "2025-01-10");

  json::object spring =
      Search(hospital_, "Observation", "patient=" + rid + "&date=ge2025-02&date=le2025-04-30");
  EXPECT_EQ(spring.at("entry").as_array().size(), 3u);

  // Two per page, newest first, following the next links.
  std::vector<std::string> dates;
  std::string page_query = "patient=" + rid + "&_count=2";
  for (int guard = 0; guard < 5; ++guard) {
    json::object page = Search(hospital_, "Observation", page_query);
    for (const auto& e : page.at("entry").as_array())
      dates.push_back(S(e.at("resource").at("effectiveDateTime")));
    std::string next;
    for (const auto& l : page.at("link").as_array()) {
      if (S(l.at("relation")) == "next") next = S(l.at("url"));
    }
    if (next.empty()) break;
    ASSERT_TRUE(next.starts_with("https://net.example/fhir/Observation?")) << next;
    page_query = next.substr(next.find('?') + 1);
  }
  EXPECT_EQ(dates, (std::vector<std::string>{"2025-05-10", "2025-04-10", "2025-03-10", "2025-02-10",
                                             "2025-01-10"}));

  json::object reports = Search(
      hospital_, "DiagnosticReport",
      "patient=" + rid + "&_include=DiagnosticReport:result&_include=DiagnosticReport:patient");
  EXPECT_EQ(Types(reports), (std::vector<std::string>{"DiagnosticReport:match",
                                                      "Observation:include", "Patient:include"}));

  // Another patient's ID or no consent: nothing.
  auto unknown = service_->Search(Ctx(hospital_), *FindClinicalType("Observation"),
                                  Params("Observation", "patient=000000000000"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);
  auto other = service_->Search(Ctx(other_), *FindClinicalType("Observation"),
                                Params("Observation", "patient=" + rid));
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), core::Code::kForbidden);
}

TEST_P(FhirTest, PdqmAndPixm) {
  auto by_kana = ParsePatientSearch(
      ParseQueryString("/fhir/Patient?family=やまだ&birthdate=1948-05-03"), true);
  ASSERT_TRUE(by_kana.has_value());
  auto found = service_->SearchPatients(Ctx(hospital_), *by_kana);
  ASSERT_TRUE(found.has_value()) << found.error().ToString();
  json::object bundle = Parse(*found);
  ASSERT_EQ(bundle.at("entry").as_array().size(), 1u);
  const json::object& patient = bundle.at("entry").as_array()[0].at("resource").as_object();
  EXPECT_EQ(S(patient.at("id")), patient_.regional_id);
  EXPECT_EQ(S(patient.at("gender")), "male");
  EXPECT_EQ(S(patient.at("name").as_array()[0].at("family")), "山田");
  EXPECT_EQ(S(patient.at("name").as_array()[1].at("text")), "ヤマダ　タロウ");

  // An unrelated clinic finds nobody (the registry's visibility rule).
  auto other = service_->SearchPatients(Ctx(other_), *by_kana);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(Parse(*other).contains("entry") && !Parse(*other).at("entry").as_array().empty());

  // By the hospital's local identifier.
  auto by_id = ParsePatientSearch(
      ParseQueryString("/fhir/Patient?identifier=" + hospital_system_ + "|H-123"), true);
  json::object by_id_bundle = Parse(service_->SearchPatients(Ctx(hospital_), *by_id).value());
  EXPECT_EQ(by_id_bundle.at("entry").as_array().size(), 1u);

  // PIXm: the hospital's local ID -> the regional ID (and, with consent,
  // the clinic's local ID).
  auto pix = service_->CrossReference(Ctx(hospital_), hospital_system_ + "|H-123", {});
  ASSERT_TRUE(pix.has_value()) << pix.error().ToString();
  EXPECT_NE(pix->find(patient_.regional_id), std::string::npos);
  EXPECT_EQ(pix->find("C-001"), std::string::npos) << "no consent covers the clinic yet";
  Consent(patient_, clinic_, hospital_);
  auto pix2 = service_->CrossReference(Ctx(hospital_), hospital_system_ + "|H-123", {});
  EXPECT_NE(pix2->find("C-001"), std::string::npos);
  auto only_regional = service_->CrossReference(Ctx(hospital_), hospital_system_ + "|H-123",
                                                {std::string(kRegionalIdSystem)});
  EXPECT_EQ(only_regional->find("C-001"), std::string::npos);
  auto missing = service_->CrossReference(Ctx(hospital_), hospital_system_ + "|NOPE", {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), core::Code::kNotFound);
  auto bad_domain = service_->CrossReference(Ctx(hospital_), "urn:unknown|1", {});
  ASSERT_FALSE(bad_domain.has_value());
  EXPECT_EQ(bad_domain.error().code(), core::Code::kInvalidInput);
  EXPECT_FALSE(Events("fhir.pix").empty());
}

TEST_P(FhirTest, JpClinsDocumentIsStoredAndItsEntriesJoinTheTimeline) {
  const std::string doc = R"({"resourceType":"Bundle","type":"document",
    "identifier":{"system":"http://jpfhir.jp/fhir/clins/bundle-identifier","value":"1311234567^2025^0001"},
    "timestamp":"2025-07-01T10:00:00+09:00",
    "entry":[
     {"fullUrl":"urn:uuid:c1","resource":{"resourceType":"Composition","status":"final",
       "type":{"coding":[{"system":"http://loinc.org","code":"18842-5","display":"退院時サマリー"}]},
       "subject":{"reference":"urn:uuid:p1"},"date":"2025-07-01","title":"退院時サマリー",
       "author":[{"reference":"urn:uuid:dr1"}],
       "section":[{"title":"入院中経過","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">軽快退院</div>"}}]}},
     {"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient","identifier":[{"system":")" +
                          hospital_system_ + R"(","value":"H-123"}]}},
     {"fullUrl":"urn:uuid:dr1","resource":{"resourceType":"Practitioner","name":[{"text":"佐藤 一郎"}]}},
     {"fullUrl":"urn:uuid:cond1","resource":{"resourceType":"Condition","code":{"text":"肺炎"},"subject":{"reference":"urn:uuid:p1"},"onsetDateTime":"2025-06-20"}},
     {"fullUrl":"urn:uuid:alg1","resource":{"resourceType":"AllergyIntolerance","code":{"text":"ペニシリン"},"patient":{"reference":"urn:uuid:p1"}}}
    ]})";
  FhirAnswer answer = Post(doc);
  ASSERT_EQ(answer.status, 201) << answer.json;
  ASSERT_TRUE(answer.location.starts_with("DocumentReference/")) << answer.location;

  Consent(patient_, hospital_, clinic_);
  json::object docs = Search(clinic_, "DocumentReference", "patient=" + patient_.regional_id);
  ASSERT_EQ(docs.at("entry").as_array().size(), 1u);
  const auto& ref = docs.at("entry").as_array()[0].at("resource").as_object();
  EXPECT_EQ(S(ref.at("type").at("coding").as_array()[0].at("code")), "18842-5");
  json::object conditions = Search(clinic_, "Condition", "patient=" + patient_.regional_id);
  EXPECT_EQ(conditions.at("entry").as_array().size(), 1u);
  // The allergy has no date of its own: the Composition's date orders it.
  json::object allergies = Search(clinic_, "AllergyIntolerance", "patient=" + patient_.regional_id);
  ASSERT_EQ(allergies.at("entry").as_array().size(), 1u);

  // Posting the same document again stores nothing new.
  FhirAnswer again = Post(doc);
  EXPECT_EQ(again.status, 200) << again.json;
  EXPECT_EQ(DocumentResources(), 1);
  json::object conditions_again = Search(clinic_, "Condition", "patient=" + patient_.regional_id);
  EXPECT_EQ(conditions_again.at("entry").as_array().size(), 1u);

  // A document without a Composition first is refused.
  FhirAnswer bad = Post(
      R"({"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Patient"}}]})");
  EXPECT_EQ(bad.status, 422);
}

TEST_P(FhirTest, MhdProvideDocumentBundle) {
  const std::string pdf = documents::MinimalPdf("MHD");
  const std::string body = R"({"resourceType":"Bundle","type":"transaction",
    "meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle"]},
    "entry":[
     {"fullUrl":"urn:uuid:ss","resource":{"resourceType":"List","meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"]},"status":"current","mode":"working"},"request":{"method":"POST","url":"List"}},
     {"fullUrl":"urn:uuid:dr","resource":{"resourceType":"DocumentReference","status":"current",
       "masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.2.3.4.5"},
       "type":{"coding":[{"system":"http://loinc.org","code":"57133-1","display":"診療情報提供書"}]},
       "subject":{"reference":"Patient/)" +
                           patient_.regional_id + R"("},"date":"2025-08-01T09:00:00+09:00",
       "description":"紹介状","content":[{"attachment":{"contentType":"application/pdf","url":"urn:uuid:bin","title":"referral.pdf"}}]},
       "request":{"method":"POST","url":"DocumentReference"}},
     {"fullUrl":"urn:uuid:bin","resource":{"resourceType":"Binary","contentType":"application/pdf","data":")" +
                           Base64(pdf) + R"("},"request":{"method":"POST","url":"Binary"}}
    ]})";
  FhirAnswer answer = Post(body);
  ASSERT_EQ(answer.status, 200) << answer.json;
  json::object response = Parse(answer.json);
  const auto& entries = response.at("entry").as_array();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(S(entries[1].at("response").at("status")), "201 Created");
  const std::string binary = S(entries[2].at("response").at("location"));
  ASSERT_TRUE(binary.starts_with("Binary/")) << answer.json;
  auto content = documents_->GetBinary(Ctx(hospital_), binary.substr(7));
  ASSERT_TRUE(content.has_value()) << content.error().ToString();
  EXPECT_EQ(content->bytes, pdf);
  EXPECT_EQ(content->content_type, "application/pdf");

  // Broken base64 or a fake PDF: 422, nothing stored.
  std::string broken = body;
  broken.replace(broken.find(Base64(pdf)), Base64(pdf).size(), Base64("not a pdf"));
  broken.replace(broken.find("urn:oid:1.2.3.4.5"), 17, "urn:oid:1.2.3.4.6");
  EXPECT_EQ(Post(broken).status, 422);
  EXPECT_EQ(DocumentResources(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, FhirTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::fhir
