// ConsentService on SQLite and PostgreSQL.
#include "consent/consent_service.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "unit/consent/consent_fixture.hpp"

namespace tsunagu::consent {
namespace {

const std::string kPdf = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n";
const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11);
const std::string kExe = std::string("MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0", 16);

class ConsentServiceTest : public ConsentDbTest {
 protected:
  void SetUp() override {
    ConsentDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    hospital_ = AddFacility("県立病院");
    clinic_ = AddFacility("信夫山内科クリニック");
    patient_ = AddPatient(hospital_);
  }

  NewConsent Sharing() {
    return {patient_.id, Scope::kClinicalSharing, hospital_, clinic_, "2025-12-01", "2026-11-30",
            "外来で署名"};
  }

  // Number of files in the blob store.
  int BlobFiles() {
    int n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(tdb_->dir() + "/blobs", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) ++n;
    }
    return n;
  }

  int64_t hospital_ = 0, clinic_ = 0;
  registry::Patient patient_;
};

TEST_P(ConsentServiceTest, CreatesListsAndFindsActiveConsents) {
  auto c = consents_->Create(Sharing(), 42);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_GT(c->id, 0);
  EXPECT_EQ(c->patient_id, patient_.id);
  EXPECT_EQ(c->scope, Scope::kClinicalSharing);
  EXPECT_EQ(c->source_facility_id, hospital_);
  EXPECT_EQ(c->viewer_facility_id, clinic_);
  EXPECT_EQ(c->valid_from, "2025-12-01");
  EXPECT_EQ(c->valid_to, "2026-11-30");
  EXPECT_EQ(c->created_by, 42);
  EXPECT_EQ(c->created_at, clock_.NowMillis());
  EXPECT_EQ(c->note, "外来で署名");
  EXPECT_FALSE(c->withdrawn());
  EXPECT_EQ(c->StatusOn(consents_->Today()), "active");

  clock_.Advance(1000);
  auto open = consents_->Create({patient_.id, Scope::kDispensing, 0, 0, "2026-01-01", "", ""}, 42);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->valid_to, "");

  auto list = consents_->ListForPatient(patient_.id);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, open->id);  // newest first

  auto active = consents_->ActiveFor(patient_.id, Scope::kClinicalSharing, "2026-01-01");
  ASSERT_TRUE(active.has_value());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, c->id);
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kClinicalSharing, "2026-12-01")->size(), 0u);
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kClinicalSharing, "2025-11-30")->size(), 0u);
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kDispensing, "2099-12-31")->size(), 1u);
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kFamily, "2026-01-01")->size(), 0u);
  EXPECT_EQ(consents_->Today(), "2026-01-01");

  // Several scopes in one query: each consent once, in creation order.
  constexpr Scope kBoth[] = {Scope::kClinicalSharing, Scope::kDispensing};
  auto both = consents_->ActiveIn(patient_.id, kBoth, "2026-01-01");
  ASSERT_TRUE(both.has_value());
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].id, c->id);
  EXPECT_EQ((*both)[0].scope, Scope::kClinicalSharing);
  EXPECT_EQ((*both)[1].id, open->id);
  EXPECT_EQ((*both)[1].scope, Scope::kDispensing);
  ASSERT_EQ(consents_->ActiveIn(patient_.id, kBoth, "2026-12-01")->size(), 1u);  // one expired
  constexpr Scope kFamilyOnly[] = {Scope::kFamily};
  EXPECT_TRUE(consents_->ActiveIn(patient_.id, kFamilyOnly, "2026-01-01")->empty());
  EXPECT_TRUE(consents_->ActiveIn(patient_.id, {}, "2026-01-01")->empty());
  EXPECT_TRUE(consents_->ActiveIn(patient_.id + 1000, kBoth, "2026-01-01")->empty());
  EXPECT_EQ(consents_->ActiveIn(patient_.id, kBoth, "2026-1-1").error().code(),
            core::Code::kInvalidInput);
}

// What an access decision reads, in one batch: the same answers as the
// questions asked one by one.
TEST_P(ConsentServiceTest, FactsForAnAccessDecisionAreReadTogether) {
  constexpr Scope kBoth[] = {Scope::kClinicalSharing, Scope::kDispensing};
  auto none = consents_->FactsFor(patient_.id, hospital_, kBoth, "2026-01-01");
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_TRUE(none->patient_exists);
  EXPECT_TRUE(none->linked_at_facility);  // registered at the hospital
  EXPECT_TRUE(none->active.empty());

  auto sharing = consents_->Create(Sharing(), 42);
  ASSERT_TRUE(sharing.has_value());
  auto dispensing =
      consents_->Create({patient_.id, Scope::kDispensing, 0, 0, "2026-01-01", "", ""}, 42);
  ASSERT_TRUE(dispensing.has_value());
  auto at_clinic = consents_->FactsFor(patient_.id, clinic_, kBoth, "2026-01-01");
  ASSERT_TRUE(at_clinic.has_value());
  EXPECT_TRUE(at_clinic->patient_exists);
  EXPECT_FALSE(at_clinic->linked_at_facility);
  ASSERT_EQ(at_clinic->active.size(), 2u);
  EXPECT_EQ(at_clinic->active[0].id, sharing->id);
  EXPECT_EQ(at_clinic->active[1].id, dispensing->id);
  const auto one_by_one = consents_->ActiveIn(patient_.id, kBoth, "2026-01-01");
  ASSERT_TRUE(one_by_one.has_value());
  ASSERT_EQ(one_by_one->size(), 2u);
  EXPECT_EQ(at_clinic->active[0].scope, (*one_by_one)[0].scope);
  EXPECT_EQ(at_clinic->active[1].valid_to, (*one_by_one)[1].valid_to);

  // Withdrawn, expired or of other scopes: not active.
  ASSERT_TRUE(consents_->Withdraw(dispensing->id, 42).has_value());
  EXPECT_EQ(consents_->FactsFor(patient_.id, clinic_, kBoth, "2026-01-01")->active.size(), 1u);
  EXPECT_TRUE(consents_->FactsFor(patient_.id, clinic_, kBoth, "2026-12-01")->active.empty());
  constexpr Scope kFamilyOnly[] = {Scope::kFamily};
  EXPECT_TRUE(consents_->FactsFor(patient_.id, clinic_, kFamilyOnly, "2026-01-01")->active.empty());
  auto no_scopes = consents_->FactsFor(patient_.id, hospital_, {}, "2026-01-01");
  ASSERT_TRUE(no_scopes.has_value());
  EXPECT_TRUE(no_scopes->linked_at_facility);
  EXPECT_TRUE(no_scopes->active.empty());

  auto unknown = consents_->FactsFor(patient_.id + 1000, hospital_, kBoth, "2026-01-01");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_FALSE(unknown->patient_exists);
  EXPECT_FALSE(unknown->linked_at_facility);
  EXPECT_TRUE(unknown->active.empty());
  EXPECT_EQ(consents_->FactsFor(patient_.id, clinic_, kBoth, "2026-1-1").error().code(),
            core::Code::kInvalidInput);
}

TEST_P(ConsentServiceTest, BadInputIsRefusedAndNothingIsStored) {
  struct Case {
    const char* name;
    NewConsent consent;
    core::Code code;
  };
  NewConsent base = Sharing();
  auto with = [&base](auto change) {
    NewConsent c = base;
    change(c);
    return c;
  };
  const Case cases[] = {
      {"unknown patient", with([](NewConsent& c) { c.patient_id = 987654; }),
       core::Code::kNotFound},
      {"missing valid_from", with([](NewConsent& c) { c.valid_from = ""; }),
       core::Code::kInvalidInput},
      {"impossible date", with([](NewConsent& c) { c.valid_from = "2026-02-30"; }),
       core::Code::kInvalidInput},
      {"compact date", with([](NewConsent& c) { c.valid_to = "20261130"; }),
       core::Code::kInvalidInput},
      {"valid_to before valid_from", with([](NewConsent& c) { c.valid_to = "2025-11-30"; }),
       core::Code::kInvalidInput},
      {"unknown source", with([](NewConsent& c) { c.source_facility_id = 999; }),
       core::Code::kInvalidInput},
      {"negative viewer", with([](NewConsent& c) { c.viewer_facility_id = -1; }),
       core::Code::kInvalidInput},
      {"note too long", with([](NewConsent& c) { c.note = std::string(2001, 'x'); }),
       core::Code::kInvalidInput},
      {"note not UTF-8", with([](NewConsent& c) { c.note = "\xff\xfe"; }),
       core::Code::kInvalidInput},
  };
  for (const Case& tc : cases) {
    auto r = consents_->Create(tc.consent, 1);
    ASSERT_FALSE(r.has_value()) << tc.name;
    EXPECT_EQ(r.error().code(), tc.code) << tc.name;
    EXPECT_FALSE(r.error().message().empty()) << tc.name;
  }
  EXPECT_EQ(CountRows("consents"), 0);
  auto unknown = consents_->ListForPatient(987654);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), core::Code::kNotFound);
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kCareTeam, "2026-13-01").error().code(),
            core::Code::kInvalidInput);
}

TEST_P(ConsentServiceTest, SameDayRangeIsValid) {
  NewConsent c = Sharing();
  c.valid_from = c.valid_to = "2026-01-01";
  auto created = consents_->Create(c, 1);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kClinicalSharing, "2026-01-01")->size(), 1u);
}

TEST_P(ConsentServiceTest, WithdrawIsImmediateAndFinal) {
  auto c = consents_->Create(Sharing(), 1);
  ASSERT_TRUE(c.has_value());
  clock_.Advance(5000);
  auto w = consents_->Withdraw(c->id, 77);
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_TRUE(w->withdrawn());
  EXPECT_EQ(w->withdrawn_at, clock_.NowMillis());
  EXPECT_EQ(w->withdrawn_by, 77);
  EXPECT_EQ(w->StatusOn("2026-01-01"), "withdrawn");
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kClinicalSharing, "2026-01-01")->size(), 0u);
  EXPECT_EQ(consents_->ActiveFor(patient_.id, Scope::kClinicalSharing, "2025-12-15")->size(), 0u);

  auto again = consents_->Withdraw(c->id, 78);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), core::Code::kConflict);
  EXPECT_EQ(consents_->Get(c->id)->withdrawn_by, 77);  // unchanged
  EXPECT_EQ(consents_->Withdraw(123456, 1).error().code(), core::Code::kNotFound);
}

TEST_P(ConsentServiceTest, StoresSignedFormsOfAllowedTypes) {
  struct Case {
    std::string bytes, declared, expected, file;
  };
  const Case cases[] = {{kPdf, "application/pdf", "application/pdf", ".pdf"},
                        {kPng, "image/png", "image/png", ".png"},
                        {kJpeg, "image/jpeg; charset=binary", "image/jpeg", ".jpg"},
                        {kJpeg, "IMAGE/JPG", "image/jpeg", ".jpg"},
                        {kPdf, "", "application/pdf", ".pdf"}};
  for (const Case& tc : cases) {
    auto c = consents_->Create(Sharing(), 1);
    ASSERT_TRUE(c.has_value());
    auto attached = consents_->AttachForm(c->id, tc.bytes, tc.declared);
    ASSERT_TRUE(attached.has_value()) << tc.declared << ": " << attached.error().ToString();
    EXPECT_EQ(attached->form_content_type, tc.expected);
    EXPECT_EQ(attached->form_size, static_cast<int64_t>(tc.bytes.size()));
    EXPECT_EQ(attached->form_sha256.size(), 64u);
    auto form = consents_->Form(c->id);
    ASSERT_TRUE(form.has_value());
    EXPECT_EQ(form->bytes, tc.bytes);
    EXPECT_EQ(form->content_type, tc.expected);
    EXPECT_EQ(form->file_name, "consent-" + std::to_string(c->id) + tc.file);
  }
}

TEST_P(ConsentServiceTest, DisguisedEmptyOrOversizeFormsAreRefusedAndNothingIsStored) {
  auto c = consents_->Create(Sharing(), 1);
  ASSERT_TRUE(c.has_value());
  struct Case {
    const char* name;
    std::string bytes;
    std::string declared;
    core::Code code;
  };
  const Case cases[] = {
      {"exe as png", kExe, "image/png", core::Code::kInvalidInput},
      {"exe as pdf", kExe, "application/pdf", core::Code::kInvalidInput},
      {"html as png", "<html><script>alert(1)</script></html>", "image/png",
       core::Code::kInvalidInput},
      {"png declared as pdf", kPng, "application/pdf", core::Code::kInvalidInput},
      {"pdf declared as html", kPdf, "text/html", core::Code::kInvalidInput},
      {"empty", "", "application/pdf", core::Code::kInvalidInput},
      {"oversize", kPdf + std::string(ConsentService::kMaxFormBytes, ' '), "application/pdf",
       core::Code::kTooLarge},
  };
  for (const Case& tc : cases) {
    auto r = consents_->AttachForm(c->id, tc.bytes, tc.declared);
    ASSERT_FALSE(r.has_value()) << tc.name;
    EXPECT_EQ(r.error().code(), tc.code) << tc.name;
  }
  EXPECT_TRUE(consents_->Get(c->id)->form_sha256.empty());
  EXPECT_EQ(consents_->Form(c->id).error().code(), core::Code::kNotFound);
  EXPECT_EQ(BlobFiles(), 0);
  EXPECT_EQ(consents_->AttachForm(999999, kPdf, "application/pdf").error().code(),
            core::Code::kNotFound);
}

TEST_P(ConsentServiceTest, ASignedFormIsNeverReplacedNorAddedAfterWithdrawal) {
  auto c = consents_->Create(Sharing(), 1);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(consents_->AttachForm(c->id, kPdf, "application/pdf").has_value());
  auto replace = consents_->AttachForm(c->id, kPng, "image/png");
  ASSERT_FALSE(replace.has_value());
  EXPECT_EQ(replace.error().code(), core::Code::kConflict);
  EXPECT_EQ(consents_->Form(c->id)->bytes, kPdf);

  auto other = consents_->Create(Sharing(), 1);
  ASSERT_TRUE(consents_->Withdraw(other->id, 1).has_value());
  EXPECT_EQ(consents_->AttachForm(other->id, kPng, "image/png").error().code(),
            core::Code::kConflict);
}

TEST_P(ConsentServiceTest, MergeMovesLinksAndConsentsToTheSurvivor) {
  registry::Patient duplicate = AddPatient(clinic_);
  auto kept = consents_->Create(Sharing(), 1);
  NewConsent moved_consent = Sharing();
  moved_consent.patient_id = duplicate.id;
  auto moved = consents_->Create(moved_consent, 1);
  ASSERT_TRUE(kept.has_value() && moved.has_value());

  auto merged = consents_->MergePatients(patient_.regional_id, duplicate.regional_id, 9);
  ASSERT_TRUE(merged.has_value()) << merged.error().ToString();
  EXPECT_EQ(merged->survivor_id, patient_.id);
  EXPECT_EQ(merged->duplicate_id, duplicate.id);
  EXPECT_EQ(merged->links_moved, 1);
  EXPECT_EQ(merged->consents_moved, 1);

  EXPECT_EQ(consents_->ListForPatient(patient_.id)->size(), 2u);
  EXPECT_EQ(consents_->ListForPatient(duplicate.id).error().code(), core::Code::kNotFound);
  EXPECT_TRUE(patients_->IsLinkedTo(patient_.id, clinic_));
  EXPECT_TRUE(patients_->IsLinkedTo(patient_.id, hospital_));
  EXPECT_EQ(patients_->IdOf(duplicate.regional_id).error().code(), core::Code::kNotFound);
  EXPECT_EQ(patients_->Get(duplicate.regional_id, {0, true}).error().code(), core::Code::kNotFound);

  // Merging again, into itself or from an unknown ID changes nothing.
  EXPECT_EQ(consents_->MergePatients(patient_.regional_id, duplicate.regional_id, 9).error().code(),
            core::Code::kNotFound);
  EXPECT_EQ(consents_->MergePatients(patient_.regional_id, patient_.regional_id, 9).error().code(),
            core::Code::kInvalidInput);
  EXPECT_EQ(consents_->ListForPatient(patient_.id)->size(), 2u);
}

TEST_P(ConsentServiceTest, FailedMergeRollsBackEverything) {
  auto c = consents_->Create(Sharing(), 1);
  ASSERT_TRUE(c.has_value());
  auto r = consents_->MergePatients("000000000000", patient_.regional_id, 9);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), core::Code::kNotFound);
  EXPECT_TRUE(patients_->IdOf(patient_.regional_id).has_value());
  EXPECT_EQ(consents_->ListForPatient(patient_.id)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsentServiceTest, tsunagu::testing::AllBackends(),
                         tsunagu::testing::BackendParamName);

}  // namespace
}  // namespace tsunagu::consent
