#pragma once
// THE access check for clinical data: consent x occupation permission x data
// category. Every API, page and export that shows clinical data asks this
// class, nothing else. Thread-safe.
//
//   auto grant = policy.Evaluate(viewer, patient_id);
//   if (!grant.ok()) ...            // no active consent covers this viewer
//   grant->Allows(source_facility_id, Category::kLabResult)
#include <cstdint>
#include <set>
#include <string>

#include "auth/types.hpp"
#include "clinical/resource.hpp"
#include "core/epoch_cache.hpp"
#include "core/status.hpp"

namespace tsunagu::consent {

class ConsentService;

struct Viewer {
  int64_t user_id = 0;
  int64_t facility_id = 0;
  auth::Occupation occupation = auth::Occupation::kClerk;
  auth::Role role = auth::Role::kStaff;
};

// What a viewer may see of one patient, right now.
class AccessGrant {
 public:
  // True if data of `category` from `source_facility_id` is visible.
  bool Allows(int64_t source_facility_id, clinical::Category category) const;
  // The categories the viewer's occupation may see at all.
  std::set<clinical::Category> categories() const;
  bool HasCategory(clinical::Category category) const {
    return (categories_ >> static_cast<unsigned>(category) & 1u) != 0;
  }
  // Source facilities covered by consent; empty and any_source() false = none.
  // Includes the viewer's own facility when the patient is linked there.
  const std::set<int64_t>& sources() const { return sources_; }
  bool any_source() const { return any_source_; }
  // Sources whose prescription and dispensing data (only) are covered by a
  // dispensing-scope consent (調剤情報閲覧同意), on top of sources().
  const std::set<int64_t>& medication_sources() const { return medication_sources_; }
  bool any_medication_source() const { return any_medication_source_; }
  int64_t viewer_facility_id() const { return viewer_facility_; }

 private:
  friend class AccessPolicy;
  // A bit per clinical::Category: a grant is copied out of the cache for
  // every request, and a std::set of thirteen categories was thirteen
  // allocations each time.
  uint32_t categories_ = 0;
  std::set<int64_t> sources_;
  bool any_source_ = false;
  std::set<int64_t> medication_sources_;
  bool any_medication_source_ = false;
  int64_t viewer_facility_ = 0;
};

class AccessPolicy {
 public:
  explicit AccessPolicy(const ConsentService& consents);
  // The occupation x category matrix (docs/consent.md). Fixed by the network.
  static bool OccupationMay(auth::Occupation occupation, clinical::Category category);
  // The categories of OccupationMay(occupation, *) (empty for home helpers
  // and family: they use the care SNS, not clinical data).
  static std::set<clinical::Category> CategoriesFor(auth::Occupation occupation);
  // A viewer always sees its own facility's data of permitted categories
  // (when the patient is linked there); other sources only under an active
  // (not withdrawn, within from/to on today's Japan date) clinical-sharing
  // consent naming the viewer's facility (or any) and the source (or any). A
  // dispensing consent adds prescription and dispensing data of its sources.
  // The network secretariat (Role::kNetworkAdmin) sees no clinical data.
  // Errors: NotFound for an unknown patient; Forbidden when nothing at all is
  // visible (secretariat, an occupation without clinical categories, a viewer
  // without a facility, no link and no covering consent); storage errors.
  // Grants are cached per (patient, facility, occupation) for
  // kGrantCacheMillis; any change of consents, links or merges in this
  // process (core::AccessEpoch) drops the cache at once, so a withdrawal
  // takes effect immediately.
  static constexpr int64_t kGrantCacheMillis = 1000;
  core::Result<AccessGrant> Evaluate(const Viewer& viewer, int64_t patient_id) const;

 private:
  core::Result<AccessGrant> Compute(const Viewer& viewer, int64_t patient_id) const;

  struct Key {
    int64_t patient_id;
    int64_t facility_id;
    int occupation;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<int64_t>()(k.patient_id * 1000003 + k.facility_id * 31 + k.occupation);
    }
  };
  static constexpr size_t kMaxCachedGrants = 50000;
  const ConsentService& consents_;
  core::EpochCache<Key, AccessGrant, KeyHash> cache_{kGrantCacheMillis, kMaxCachedGrants};
};

}  // namespace tsunagu::consent
