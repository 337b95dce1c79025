#pragma once
// Shared fixture of the documents tests: the clinical fixture (registry,
// consent, audit, resource store on each backend) plus the timeline and the
// DocumentService. Facilities: H the hospital that writes documents (local
// ID "H-123"), C the clinic where the patient was registered ("C-001"), O an
// unrelated clinic. No consent exists until a test creates one.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "clinical/timeline_service.hpp"
#include "documents/document_service.hpp"
#include "unit/clinical/clinical_fixture.hpp"

namespace tsunagu::documents {

// A small, complete PDF (one page, "Referral").
inline std::string MinimalPdf(const std::string& marker = "Referral") {
  return "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
         "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
         "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R>>endobj\n"
         "4 0 obj<</Length 36>>stream\nBT /F1 12 Tf 20 50 Td (" +
         marker + ") Tj ET\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
}

inline std::string DocumentBundle() {
  return R"({"resourceType":"Bundle","type":"document","identifier":{"value":"urn:uuid:1"},
    "entry":[{"resource":{"resourceType":"Composition","status":"final","title":"退院時サマリー",
      "date":"2025-07-01","author":[{"display":"佐藤 一郎"}],
      "section":[{"title":"経過","text":{"status":"generated",
        "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">経過良好</div>"}}]}},
      {"resource":{"resourceType":"Patient"}}]})";
}

inline std::string PngBytes() { return std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16); }
inline std::string JpegBytes() { return std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11); }

class DocumentDbTest : public clinical::ClinicalDbTest {
 protected:
  void SetUp() override {
    ClinicalDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(store::ApplyMigrations(db(), {DocumentService::Migrations()}).ok());
    hospital_ = AddFacility("県北総合病院", registry::FacilityType::kHospital);
    clinic_ = AddFacility("信夫山内科クリニック");
    other_ = AddFacility("吾妻眼科");
    patient_ = AddPatient(clinic_, "C-001");
    ASSERT_TRUE(patients_->Link(patient_.regional_id, hospital_, "H-123").ok());
    timeline_ = std::make_unique<clinical::TimelineService>(*resources_, *patients_, *facilities_,
                                                            *policy_, *audit_);
    documents_ = std::make_unique<DocumentService>(*resources_, *blobs_, *timeline_, *audit_, db(),
                                                   clock_, *patients_);
  }

  clinical::ReadContext Ctx(int64_t facility,
                            auth::Occupation occupation = auth::Occupation::kPhysician,
                            auth::Role role = auth::Role::kStaff) {
    clinical::ReadContext r;
    r.viewer = {42, facility, occupation, role};
    r.event.user_id = 42;
    r.event.user_name = "連携　医師";
    r.event.facility_id = facility;
    r.event.client_address = "192.0.2.1";
    return r;
  }

  NewDocument Referral(const std::string& content = MinimalPdf()) {
    NewDocument d;
    d.local_patient_id = "H-123";
    d.type_code = "57133-1";
    d.title = "紹介状（循環器内科）";
    d.description = "外来フォローのお願い";
    d.date = "2025-07-01";
    d.author = "佐藤 一郎";
    d.content_type = kPdf;
    d.content = content;
    return d;
  }

  StoredDocument MustCreate(const NewDocument& d) {
    auto created = documents_->Create(Ctx(hospital_), d);
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.has_value() ? std::move(created).value() : StoredDocument{};
  }

  int64_t BinaryRows() {
    auto rs = db().Query("SELECT COUNT(*) FROM document_binaries");
    return rs && !rs->empty() ? rs->rows[0].Int(0) : -1;
  }

  int64_t DocumentResources() {
    clinical::ResourceQuery q;
    q.all_patients = true;
    q.resource_types = {"DocumentReference"};
    q.with_total = true;
    auto page = resources_->Search(q);
    return page ? page->total.value_or(-1) : -1;
  }

  std::vector<audit::AuditEvent> Events(const std::string& action) {
    audit::AuditQuery q;
    q.action = action;
    auto events = audit_->Search(q);
    std::sort(events.begin(), events.end(),
              [](const auto& a, const auto& b) { return a.seq < b.seq; });
    // The prefix match also finds "document.create.x"; keep exact matches.
    std::erase_if(events, [&](const auto& e) { return e.action != action; });
    return events;
  }

  int64_t hospital_ = 0, clinic_ = 0, other_ = 0;
  registry::Patient patient_;
  std::unique_ptr<clinical::TimelineService> timeline_;
  std::unique_ptr<DocumentService> documents_;
};

}  // namespace tsunagu::documents
