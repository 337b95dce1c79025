#include "consent/access_policy.hpp"

#include "consent/consent_service.hpp"
#include "core/access_epoch.hpp"

namespace tsunagu::consent {
namespace {

using auth::Occupation;
using clinical::Category;

const std::set<Category>& AllCategories() {
  static const std::set<Category> kAll = {
      Category::kPatientInfo,    Category::kAllergy,      Category::kCondition,
      Category::kPrescription,   Category::kInjection,    Category::kDispensing,
      Category::kAdministration, Category::kImmunization, Category::kLabResult,
      Category::kReport,         Category::kEncounter,    Category::kOrder,
      Category::kDocument};
  return kAll;
}

bool IsMedication(Category c) { return c == Category::kPrescription || c == Category::kDispensing; }

}  // namespace

std::set<Category> AccessGrant::categories() const {
  std::set<Category> out;
  for (Category c : AllCategories()) {
    if (HasCategory(c)) out.insert(c);
  }
  return out;
}

bool AccessGrant::Allows(int64_t source_facility_id, Category category) const {
  if (!HasCategory(category)) return false;
  if (any_source_ || sources_.contains(source_facility_id)) return true;
  return IsMedication(category) &&
         (any_medication_source_ || medication_sources_.contains(source_facility_id));
}

AccessPolicy::AccessPolicy(const ConsentService& consents) : consents_(consents) {}

// The reasons for each row are in docs/consent.md ("Occupation x category").
std::set<Category> AccessPolicy::CategoriesFor(Occupation occupation) {
  switch (occupation) {
    case Occupation::kPhysician:
    case Occupation::kDentist:
    case Occupation::kNurse:
    case Occupation::kVisitingNurse:
      return AllCategories();
    case Occupation::kPharmacist: {
      std::set<Category> s = AllCategories();
      s.erase(Category::kReport);
      s.erase(Category::kOrder);
      return s;
    }
    case Occupation::kTherapist:
      return {Category::kPatientInfo,  Category::kAllergy,   Category::kCondition,
              Category::kPrescription, Category::kEncounter, Category::kReport,
              Category::kDocument};
    case Occupation::kCareManager:
      return {Category::kPatientInfo,  Category::kAllergy,    Category::kCondition,
              Category::kPrescription, Category::kDispensing, Category::kEncounter,
              Category::kDocument};
    case Occupation::kSocialWorker:
      return {Category::kPatientInfo, Category::kCondition, Category::kEncounter,
              Category::kDocument};
    case Occupation::kClerk:
      return {Category::kPatientInfo};
    case Occupation::kEms:
      return {Category::kAllergy, Category::kCondition, Category::kPrescription,
              Category::kDispensing};
    case Occupation::kHomeHelper:
    case Occupation::kFamily:
      return {};
  }
  return {};
}

bool AccessPolicy::OccupationMay(Occupation occupation, Category category) {
  return CategoriesFor(occupation).contains(category);
}

core::Result<AccessGrant> AccessPolicy::Evaluate(const Viewer& viewer, int64_t patient_id) const {
  if (viewer.role == auth::Role::kNetworkAdmin) {
    return core::Forbidden("the network secretariat does not see clinical data");
  }
  // The epoch is read before the database: a change committed meanwhile
  // moves it, and the entry stored below is then never used.
  const uint64_t epoch = core::AccessEpoch();
  const int64_t now = consents_.NowMillis();
  const Key key{patient_id, viewer.facility_id, static_cast<int>(viewer.occupation)};
  if (auto hit = cache_.Find(key, epoch, now)) return std::move(*hit);
  auto grant = Compute(viewer, patient_id);
  if (grant) cache_.Store(key, *grant, epoch, now);
  return grant;
}

core::Result<AccessGrant> AccessPolicy::Compute(const Viewer& viewer, int64_t patient_id) const {
  AccessGrant grant;
  for (Category c : CategoriesFor(viewer.occupation)) {
    grant.categories_ |= 1u << static_cast<unsigned>(c);
  }
  grant.viewer_facility_ = viewer.facility_id;
  if (grant.categories_ == 0) {
    return core::Forbidden("your occupation does not see clinical data");
  }
  constexpr Scope kScopes[] = {Scope::kClinicalSharing, Scope::kDispensing};
  TSUNAGU_ASSIGN_OR_RETURN(
      ConsentService::AccessFacts facts,
      consents_.FactsFor(patient_id, viewer.facility_id, kScopes, consents_.Today()));
  if (!facts.patient_exists) return core::NotFound("patient not found");
  if (viewer.facility_id <= 0) return core::Forbidden("no facility to see this patient from");

  if (facts.linked_at_facility) grant.sources_.insert(viewer.facility_id);
  for (const Consent& c : facts.active) {
    const bool medication_only = c.scope == Scope::kDispensing;
    if (c.viewer_facility_id != 0 && c.viewer_facility_id != viewer.facility_id) continue;
    bool& any = medication_only ? grant.any_medication_source_ : grant.any_source_;
    auto& sources = medication_only ? grant.medication_sources_ : grant.sources_;
    if (c.source_facility_id == 0) {
      any = true;
    } else {
      sources.insert(c.source_facility_id);
    }
  }

  bool sees_medication =
      grant.HasCategory(Category::kPrescription) || grant.HasCategory(Category::kDispensing);
  bool anything =
      grant.any_source_ || !grant.sources_.empty() ||
      (sees_medication && (grant.any_medication_source_ || !grant.medication_sources_.empty()));
  if (!anything) return core::Forbidden("no active consent covers this patient for your facility");
  return grant;
}

}  // namespace tsunagu::consent
