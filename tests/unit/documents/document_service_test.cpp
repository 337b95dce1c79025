// DocumentService against the real registry, consent, clinical and audit
// services on SQLite and PostgreSQL: upload, idempotent re-upload, content
// validation with nothing stored on refusal, consent checks on the binary,
// withdrawal, occupations, and the audit trail.
#include "documents/document_service.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <filesystem>

#include "unit/documents/document_fixture.hpp"

namespace tsunagu::documents {
namespace {

namespace json = boost::json;

std::string Base64Sha1(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha1(), nullptr);
  std::string out(64, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, n);
  out.resize(static_cast<size_t>(len));
  return out;
}

using DocumentServiceTest = DocumentDbTest;

TEST_P(DocumentServiceTest, UploadStoresAReferenceAndItsBinary) {
  const std::string pdf = MinimalPdf();
  StoredDocument stored = MustCreate(Referral(pdf));
  EXPECT_TRUE(stored.created);
  ASSERT_FALSE(stored.binary_id.empty());
  EXPECT_GE(stored.binary_id.size(), 20u);
  EXPECT_EQ(stored.binary_id.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);

  const clinical::ResourceRecord& r = stored.reference.record;
  EXPECT_EQ(r.resource_type, "DocumentReference");
  EXPECT_EQ(r.category, clinical::Category::kDocument);
  EXPECT_EQ(r.source_facility_id, hospital_);
  EXPECT_EQ(r.local_patient_id, "H-123");
  EXPECT_EQ(r.code, "57133-1");
  EXPECT_EQ(r.effective, "2025-07-01");
  EXPECT_EQ(r.source_key.rfind("DOC|", 0), 0u);

  json::value v = json::parse(r.json);
  EXPECT_EQ(v.at("id").as_string(), r.id);
  EXPECT_EQ(v.at("status").as_string(), "current");
  EXPECT_EQ(v.at("subject").at("identifier").at("value").as_string(), "H-123");
  EXPECT_EQ(v.at("type").at("coding").at(0).at("system").as_string(), "http://loinc.org");
  EXPECT_EQ(v.at("type").at("coding").at(0).at("display").as_string(), "診療情報提供書");
  EXPECT_EQ(v.at("author").at(0).at("display").as_string(), "佐藤 一郎");
  const json::value& a = v.at("content").at(0).at("attachment");
  EXPECT_EQ(a.at("contentType").as_string(), "application/pdf");
  EXPECT_EQ(a.at("url").as_string(), "Binary/" + stored.binary_id);
  EXPECT_EQ(a.at("size").as_int64(), static_cast<int64_t>(pdf.size()));
  EXPECT_EQ(a.at("hash").as_string(), Base64Sha1(pdf));
  EXPECT_EQ(a.at("title").as_string(), "紹介状（循環器内科）");
  EXPECT_EQ(a.at("creation").as_string(), "2025-07-01");

  // The writing hospital reads it back without any consent (its own data).
  auto binary = documents_->GetBinary(Ctx(hospital_), stored.binary_id);
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  EXPECT_EQ(binary->bytes, pdf);
  EXPECT_EQ(binary->content_type, "application/pdf");
  EXPECT_EQ(binary->document_reference_id, r.id);
}

TEST_P(DocumentServiceTest, ListedForAConsentedClinicAndInTheTimeline) {
  StoredDocument stored = MustCreate(Referral());
  Consent(patient_, hospital_, clinic_);

  auto list = documents_->List(Ctx(clinic_), patient_.regional_id);
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  const DocumentSummary& d = list->items[0];
  EXPECT_EQ(d.id, stored.reference.record.id);
  EXPECT_EQ(d.binary_id, stored.binary_id);
  EXPECT_EQ(d.type_code, "57133-1");
  EXPECT_EQ(d.type_display, "診療情報提供書");
  EXPECT_EQ(d.title, "紹介状（循環器内科）");
  EXPECT_EQ(d.description, "外来フォローのお願い");
  EXPECT_EQ(d.date, "2025-07-01");
  EXPECT_EQ(d.author, "佐藤 一郎");
  EXPECT_EQ(d.content_type, "application/pdf");
  EXPECT_EQ(d.size, static_cast<int64_t>(MinimalPdf().size()));
  EXPECT_EQ(d.source_facility_name, "県北総合病院");
  EXPECT_EQ(list->total, 1);

  clinical::TimelineQuery q;
  auto timeline = timeline_->GetTimeline(Ctx(clinic_), patient_.regional_id, q);
  ASSERT_TRUE(timeline.has_value());
  ASSERT_EQ(timeline->items.size(), 1u);
  EXPECT_EQ(timeline->items[0].category, clinical::Category::kDocument);
  EXPECT_EQ(timeline->items[0].display, "紹介状（循環器内科）");

  auto binary = documents_->GetBinary(Ctx(clinic_), stored.binary_id);
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  EXPECT_EQ(binary->bytes, MinimalPdf());
}

TEST_P(DocumentServiceTest, ReuploadOfTheSameDocumentIsUnchanged) {
  StoredDocument first = MustCreate(Referral());
  StoredDocument again = MustCreate(Referral());
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.binary_id, first.binary_id);
  EXPECT_EQ(again.reference.record.id, first.reference.record.id);

  // An explicit key (MHD masterIdentifier / Bundle.identifier).
  NewDocument keyed = Referral(MinimalPdf("Second"));
  keyed.source_key = "urn:oid:1.2.392.1.2.3.100";
  StoredDocument k1 = MustCreate(keyed);
  StoredDocument k2 = MustCreate(keyed);
  EXPECT_TRUE(k1.created);
  EXPECT_FALSE(k2.created);
  EXPECT_EQ(k1.binary_id, k2.binary_id);
  json::value v = json::parse(k1.reference.record.json);
  EXPECT_EQ(v.at("masterIdentifier").at("value").as_string(), "urn:oid:1.2.392.1.2.3.100");

  // The same key with other content is refused, and nothing changes.
  keyed.content = MinimalPdf("Third");
  auto conflict = documents_->Create(Ctx(hospital_), keyed);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().code(), core::Code::kConflict);
  EXPECT_EQ(BinaryRows(), 2);
  EXPECT_EQ(DocumentResources(), 2);
  auto content = documents_->GetBinary(Ctx(hospital_), k1.binary_id);
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(content->bytes, MinimalPdf("Second"));

  auto events = Events("document.create");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[1].reason, "unchanged");
  EXPECT_EQ(events[4].outcome, "failure");
  EXPECT_EQ(events[0].patient_id, patient_.regional_id);
}

TEST_P(DocumentServiceTest, BadContentIsRejectedAndNothingIsStored) {
  struct Case {
    std::string name, content_type, content;
    core::Code code = core::Code::kInvalidInput;
  };
  std::string pdf = MinimalPdf();
  std::vector<Case> cases = {
      {"not a pdf", kPdf, "<html>hello</html>"},
      {"truncated pdf", kPdf, pdf.substr(0, pdf.size() / 2)},
      {"empty", kPdf, ""},
      {"json array", kFhirJson, "[1,2]"},
      {"malformed json", kFhirJson, "{\"resourceType\":"},
      {"collection bundle", kFhirJson,
       R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Composition"}}]})"},
      {"patient first", kFhirJson,
       R"({"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Patient"}}]})"},
      {"jpeg as png", kPng, JpegBytes()},
      {"png as jpeg", kJpeg, PngBytes()},
      {"html type", "text/html", "<html></html>"},
      {"oversize", kPdf, "%PDF-" + std::string(DocumentService::kMaxBytes, ' ') + "%%EOF",
       core::Code::kTooLarge},
  };
  for (const auto& c : cases) {
    NewDocument d = Referral(c.content);
    d.content_type = c.content_type;
    auto created = documents_->Create(Ctx(hospital_), d);
    ASSERT_FALSE(created.has_value()) << c.name;
    EXPECT_EQ(created.error().code(), c.code) << c.name << ": " << created.error().ToString();
    EXPECT_FALSE(created.error().message().empty());
    // The message is about the file, never its content.
    EXPECT_EQ(created.error().message().find("hello"), std::string::npos);
  }

  auto bad_field = [&](auto change, const std::string& name) {
    NewDocument d = Referral();
    change(d);
    auto created = documents_->Create(Ctx(hospital_), d);
    ASSERT_FALSE(created.has_value()) << name;
    EXPECT_EQ(created.error().code(), core::Code::kInvalidInput) << name;
  };
  bad_field([](NewDocument& d) { d.type_code = "referral"; }, "type code");
  bad_field([](NewDocument& d) { d.type_code = "34108-1"; }, "unknown type without display");
  bad_field([](NewDocument& d) { d.date = "2025-13-01"; }, "month 13");
  bad_field([](NewDocument& d) { d.date = "2025-07-01T10:00"; }, "no seconds or zone");
  bad_field([](NewDocument& d) { d.date = ""; }, "no date");
  bad_field([](NewDocument& d) { d.local_patient_id = ""; }, "no patient");
  bad_field([](NewDocument& d) { d.title = std::string(300, 'x'); }, "long title");
  bad_field([](NewDocument& d) { d.author = "\xff\xfe"; }, "bad utf-8");

  EXPECT_EQ(BinaryRows(), 0);
  EXPECT_EQ(DocumentResources(), 0);
  EXPECT_FALSE(blobs_->Exists(std::string(64, '0')));
  std::error_code ec;
  EXPECT_FALSE(std::filesystem::exists(tdb_->dir() + "/blobs", ec) &&
               !std::filesystem::is_empty(tdb_->dir() + "/blobs", ec));
  for (const auto& e : Events("document.create")) EXPECT_EQ(e.outcome, "failure");
}

TEST_P(DocumentServiceTest, OtherTypesAndDateTimesAreAccepted) {
  NewDocument bundle = Referral(DocumentBundle());
  bundle.content_type = "application/fhir+json; charset=utf-8";
  bundle.type_code = "18842-5";
  bundle.title = "";
  bundle.date = "2025-07-01T10:30:00+09:00";
  StoredDocument b = MustCreate(bundle);
  EXPECT_EQ(b.reference.record.display, "退院時サマリー");  // the type names an untitled one

  NewDocument png = Referral(PngBytes());
  png.content_type = kPng;
  png.type_code = "34108-1";
  png.type_display = "外来記録";
  MustCreate(png);
  NewDocument jpeg = Referral(JpegBytes());
  jpeg.content_type = kJpeg;
  jpeg.date = "2025-07-02T01:00:00Z";
  MustCreate(jpeg);

  auto list = documents_->List(Ctx(hospital_), patient_.regional_id);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->items.size(), 3u);
  EXPECT_EQ(list->items[0].content_type, "image/jpeg");  // newest first
  auto content = documents_->GetBinary(Ctx(hospital_), b.binary_id);
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(content->content_type, "application/fhir+json");
  EXPECT_EQ(content->bytes, DocumentBundle());
}

TEST_P(DocumentServiceTest, WithoutConsentTheBinaryIsNotFoundAndWithdrawalHidesIt) {
  StoredDocument stored = MustCreate(Referral());
  // An unrelated clinic, and the patient's own clinic before consent.
  for (int64_t facility : {other_, clinic_}) {
    auto denied = documents_->GetBinary(Ctx(facility), stored.binary_id);
    ASSERT_FALSE(denied.has_value());
    EXPECT_EQ(denied.error().code(), core::Code::kNotFound);
  }
  auto list = documents_->List(Ctx(other_), patient_.regional_id);
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code(), core::Code::kForbidden);
  auto own = documents_->List(Ctx(clinic_), patient_.regional_id);
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(own->items.empty());

  int64_t consent = Consent(patient_, hospital_, clinic_);
  EXPECT_TRUE(documents_->GetBinary(Ctx(clinic_), stored.binary_id).has_value());
  ASSERT_TRUE(consents_->Withdraw(consent, 1).has_value());
  auto after = documents_->GetBinary(Ctx(clinic_), stored.binary_id);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), core::Code::kNotFound);
  EXPECT_TRUE(documents_->List(Ctx(clinic_), patient_.regional_id)->items.empty());

  // Unknown ids look the same as invisible ones.
  EXPECT_EQ(documents_->GetBinary(Ctx(clinic_), "nope").error().code(), core::Code::kNotFound);
  EXPECT_EQ(documents_->GetBinary(Ctx(clinic_), "").error().code(), core::Code::kNotFound);

  std::vector<std::string> outcomes;
  for (const auto& e : Events("document.read")) {
    outcomes.push_back(e.outcome);
    EXPECT_EQ(e.object.rfind("Binary/", 0), 0u);
    EXPECT_TRUE(e.reason.find("紹介状") == std::string::npos);
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"denied", "denied", "success", "denied", "failure",
                                                "failure"}));
  auto reads = Events("document.read");
  EXPECT_EQ(reads[2].patient_id, patient_.regional_id);
  EXPECT_EQ(reads[2].facility_id, clinic_);
  // The one access check recorded its own entry for each visible attempt.
  EXPECT_EQ(Events("clinical.resource").size(), 4u);
}

TEST_P(DocumentServiceTest, OccupationsThatMayNotSeeDocumentsMayNotWriteThem) {
  for (auto occupation : {auth::Occupation::kClerk, auth::Occupation::kHomeHelper,
                          auth::Occupation::kEms, auth::Occupation::kFamily}) {
    auto created = documents_->Create(Ctx(hospital_, occupation), Referral());
    ASSERT_FALSE(created.has_value());
    EXPECT_EQ(created.error().code(), core::Code::kForbidden);
  }
  auto admin = documents_->Create(
      Ctx(hospital_, auth::Occupation::kPhysician, auth::Role::kNetworkAdmin), Referral());
  EXPECT_EQ(admin.error().code(), core::Code::kForbidden);
  EXPECT_EQ(documents_->Create(Ctx(0), Referral()).error().code(), core::Code::kForbidden);
  EXPECT_EQ(BinaryRows(), 0);
  for (const auto& e : Events("document.create")) EXPECT_EQ(e.outcome, "denied");

  // A nurse or a care manager may.
  EXPECT_TRUE(documents_->Create(Ctx(hospital_, auth::Occupation::kNurse), Referral()));
  // A clerk cannot read what others may.
  StoredDocument stored = MustCreate(Referral());
  EXPECT_EQ(documents_->GetBinary(Ctx(hospital_, auth::Occupation::kClerk), stored.binary_id)
                .error()
                .code(),
            core::Code::kNotFound);
}

TEST_P(DocumentServiceTest, CreateForPatientNeedsALinkAtTheFacility) {
  auto unlinked = documents_->CreateForPatient(Ctx(other_), patient_.regional_id, Referral());
  ASSERT_FALSE(unlinked.has_value());
  EXPECT_EQ(unlinked.error().code(), core::Code::kForbidden);
  EXPECT_NE(unlinked.error().message().find("register the patient"), std::string::npos);

  auto unknown = documents_->CreateForPatient(Ctx(hospital_), "000000000000", Referral());
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);

  NewDocument d = Referral();
  d.local_patient_id = "";
  auto created = documents_->CreateForPatient(Ctx(hospital_), patient_.regional_id, d);
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  EXPECT_EQ(created->reference.record.local_patient_id, "H-123");

  d.local_patient_id = "C-001";  // the clinic's ID, not the hospital's
  auto wrong = documents_->CreateForPatient(Ctx(hospital_), patient_.regional_id, d);
  EXPECT_EQ(wrong.error().code(), core::Code::kInvalidInput);
  EXPECT_EQ(BinaryRows(), 1);
}

TEST(DocumentContentTest, ValidatesEachType) {
  EXPECT_TRUE(DocumentService::ValidateContent(kPdf, MinimalPdf()).ok());
  EXPECT_TRUE(DocumentService::ValidateContent("Application/PDF; x=y", MinimalPdf()).ok());
  // %%EOF must be near the end, not only somewhere in the file.
  std::string padded = MinimalPdf() + std::string(2000, '\n');
  EXPECT_FALSE(DocumentService::ValidateContent(kPdf, padded).ok());
  EXPECT_TRUE(DocumentService::ValidateContent(kFhirJson, DocumentBundle()).ok());
  EXPECT_TRUE(DocumentService::ValidateContent(kPng, PngBytes()).ok());
  EXPECT_TRUE(DocumentService::ValidateContent(kJpeg, JpegBytes()).ok());
  EXPECT_FALSE(DocumentService::ValidateContent("image/gif", "GIF89a").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, DocumentServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::documents
