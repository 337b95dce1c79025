#pragma once
// The care SNS service (docs/care.md): one care group per regional patient,
// its members, posts (today's status from the template, messages), drafts,
// comments, read receipts, files and photos, pins, filters, free-word search
// (per group and across the user's groups) and time series of numeric
// template items. Owns the tables care_groups, care_members, care_posts,
// care_post_values, care_comments, care_reads, care_files and care_pins, and
// the bytes of post files in its own BlobStore (content-addressed, shared by
// no other module, so a blob no care_files row names is garbage).
//
// Access: only current members see a group; removal or leaving ends access
// at once (every call re-reads the membership). Each call also checks consent:
// a staff member's facility must have the patient linked, or an active
// care-team consent must name that facility (or any); a family member needs an
// active family consent. Family members see only published posts marked "to
// the family" and cannot post. Drafts are seen by their author only.
//
// Audit: every call that reads or writes a group appends one audit entry
// (action "care.*", object "care_group:<id>" or "care_post:<id>", the regional
// patient ID; never post content); refused calls are recorded with outcome
// "denied" or "failure".
//
// Errors: InvalidInput (bad or empty fields, out-of-range template values;
// the message names the field), NotFound (unknown group, post or user, or a
// post the actor may not see), Forbidden (not a member, no consent, a role
// that may not do this), Conflict (archived group, deleted post, duplicate
// membership, a second active group for a patient), Internal/Unavailable from
// storage. A failed call stores nothing.
//
// Ownership: borrows every reference; they must outlive the service.
// Thread-safety: stateless over the Database; safe to share between threads.
// Writes of post files are serialised in-process (blob write, commit and
// clean-up of a failed post's blobs happen under one mutex).
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "care/types.hpp"
#include "core/clock.hpp"
#include "core/epoch_cache.hpp"
#include "core/status.hpp"
#include "store/blob_store.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::registry {
class PatientService;
}
namespace tsunagu::consent {
class ConsentService;
}
namespace tsunagu::auth {
class AccountService;
}

namespace tsunagu::care {

class CareService {
 public:
  static constexpr size_t kMaxGroupNameChars = 100;
  static constexpr size_t kMaxTitleChars = 200;
  static constexpr size_t kMaxBodyChars = 10000;
  static constexpr size_t kMaxCommentChars = 4000;
  static constexpr int kMaxLimit = 100;
  static constexpr size_t kMaxFilesPerPost = 10;
  static constexpr size_t kMaxFileNameChars = 255;
  static constexpr size_t kDefaultFileMaxBytes = 20 * 1024 * 1024;
  static constexpr size_t kMaxSeriesItems = 10;
  static constexpr size_t kMaxSeriesPoints = 1000;  // per item, the latest ones

  CareService(store::Database& db, const core::Clock& clock, registry::PatientService& patients,
              const consent::ConsentService& consents, auth::AccountService& accounts,
              audit::AuditLog& audit);
  CareService(const CareService&) = delete;
  CareService& operator=(const CareService&) = delete;
  static store::MigrationSet Migrations();

  // --- groups --------------------------------------------------------------
  // Creates the patient's group with the actor as owner. Only physicians and
  // care managers whose facility has the patient linked may create one.
  // NotFound for a patient the actor's facility cannot see; Conflict when the
  // patient already has an active (not archived) group.
  core::Result<GroupDetail> CreateGroup(const Actor& actor, const NewGroup& group);
  // The groups the actor is a member of (archived ones last), newest first.
  core::Result<std::vector<CareGroup>> ListGroups(const Actor& actor);
  core::Result<GroupDetail> GetGroup(const Actor& actor, int64_t group_id);
  // Owner only. Archived groups stay readable; nothing new can be posted.
  core::Result<CareGroup> ArchiveGroup(const Actor& actor, int64_t group_id);

  // --- approval of new groups (network setting) ------------------------------
  // When required, a new group is "pending": only its owner sees it (and may
  // add members), nobody can post, and the secretariat approves it (members
  // see it from then on) or rejects it (it is archived, so the patient may
  // get another group). Off by default.
  void SetGroupApprovalRequired(bool required) { approval_required_ = required; }
  // Pending groups, oldest first, for network admins (Forbidden otherwise).
  core::Result<std::vector<CareGroup>> PendingGroups(const Actor& actor, auth::Role role);
  // Network admins only. Conflict unless the group is pending; a reason is
  // required to reject.
  core::Result<CareGroup> DecideGroup(const Actor& actor, auth::Role role, int64_t group_id,
                                      bool approve, const std::string& reason);

  // Any staff member (not family) of an active group adds a user of any
  // facility. NotFound for an unknown user; InvalidInput for a disabled one;
  // Forbidden when no consent covers the user; Conflict if already a member.
  core::Result<Member> AddMember(const Actor& actor, int64_t group_id, int64_t user_id);
  // The owner removes anyone but themself; every member may leave (remove
  // themself), except the owner (Conflict: archive the group instead).
  core::Status RemoveMember(const Actor& actor, int64_t group_id, int64_t user_id);
  // The staff of a facility that a staff member of the group may add (search
  // facility -> pick staff): active accounts, no family accounts, current
  // members marked; an unknown facility has none. Forbidden for family
  // members and non-members.
  core::Result<std::vector<Candidate>> Candidates(const Actor& actor, int64_t group_id,
                                                  int64_t facility_id);

  // Where post files are kept and how large one may be (bytes). Borrowed;
  // set before serving. Without a store, posts with files are Unavailable.
  void SetFileStore(store::BlobStore* blobs, size_t max_file_bytes) {
    blobs_ = blobs;
    max_file_bytes_ = max_file_bytes;
  }
  size_t max_file_bytes() const { return max_file_bytes_; }

  // --- posts ---------------------------------------------------------------
  // Status posts need at least one template value; messages need a body;
  // photo posts at least one image; file posts at least one file. Any post
  // may carry up to kMaxFilesPerPost files, each recognised by its content
  // (attachment_type.hpp): InvalidInput "file type not allowed" otherwise, or
  // when a file claimed to be an image is not one; TooLarge over
  // max_file_bytes(). Files are written only after everything is validated,
  // and removed again when the post cannot be committed, so a failed call
  // leaves neither a post nor a blob. Family members may not post (Forbidden).
  core::Result<Post> CreatePost(const Actor& actor, int64_t group_id, const NewPost& post);
  // Publishes the actor's own draft (Conflict if it is not a draft).
  core::Result<Post> PublishDraft(const Actor& actor, int64_t post_id);
  // Author only (Forbidden otherwise); a soft delete kept in the audit trail.
  core::Status DeletePost(const Actor& actor, int64_t post_id);
  // Opens a post and marks it read by the actor.
  core::Result<PostDetail> OpenPost(const Actor& actor, int64_t post_id);
  // The group's timeline (newest first; unread first when asked), filtered
  // by free words: every word must occur in the title, body or text items,
  // compared after core::FoldKana (so ひらがな finds カタカナ and Japanese
  // text matches without spaces).
  // Filters combine: author, the author's occupation when posting, Japan-time
  // dates (on the publication time; drafts on their creation time) and the
  // viewer's pin colour. InvalidInput for a bad limit, offset, date,
  // occupation or colour.
  core::Result<std::vector<PostSummary>> Timeline(const Actor& actor, int64_t group_id,
                                                  const TimelineQuery& query);
  // The same query over every group the actor belongs to and may currently
  // see (consent), newest first; needs words or a filter (InvalidInput).
  // Audited once per call (care.post.search, object care_search).
  core::Result<std::vector<FoundPost>> Search(const Actor& actor, const TimelineQuery& query);
  // Replaces the actor's pins on a post they may see (empty clears); returns
  // them in PinColors() order. InvalidInput for an unknown colour; Conflict
  // for a deleted post.
  core::Result<std::vector<std::string>> SetPins(const Actor& actor, int64_t post_id,
                                                 const std::vector<std::string>& colors);
  // Values of numeric template items over time, oldest first, from the
  // group's published, not deleted posts the actor may see (family: posts
  // published to the family). InvalidInput for unknown or non-numeric items,
  // duplicates, none or more than kMaxSeriesItems, or bad dates.
  core::Result<std::vector<ItemSeries>> Series(const Actor& actor, int64_t group_id,
                                               const SeriesQuery& query);

  // --- files ---------------------------------------------------------------
  // A post's file for a member who may see the post (audited care.file.read,
  // object care_file:<id>). NotFound for unknown files and for files of
  // posts the actor may not see or that were deleted.
  core::Result<AttachmentFile> OpenFile(const Actor& actor, int64_t file_id);

  // --- comments ------------------------------------------------------------
  // Any member who can see the published post, family included (on posts
  // published to the family). Conflict on a deleted post; InvalidInput for an
  // empty or over-long body.
  core::Result<Comment> AddComment(const Actor& actor, int64_t post_id, const std::string& body);

  // --- for the other care services (messages, board, schedule, files) ------
  // The one membership + consent check. On refusal it appends the audit entry
  // (outcome "denied"/"failure") and returns NotFound (unknown group) or
  // Forbidden (not a member, no consent); on success it appends nothing: the
  // caller records its own action with Record().
  core::Result<GroupAccess> Authorize(const Actor& actor, int64_t group_id,
                                      const std::string& action, const std::string& object);
  // Loads a post the actor may see, with the group access. NotFound for
  // unknown/invisible posts; Conflict for deleted ones (refusals audited).
  core::Result<GroupAccess> AuthorizePost(const Actor& actor, int64_t post_id,
                                          const std::string& action, Post* post);
  // Appends one audit entry completed from the actor's event template.
  void Record(const Actor& actor, const std::string& action, const std::string& object,
              const std::string& regional_id, const std::string& outcome = "success",
              const std::string& reason = {});
  // Receives published posts and comments after they are committed (for
  // live and email notifications). Borrowed; may be null. Set before serving.
  void SetListener(CareListener* listener) { listener_ = listener; }
  CareListener* listener() const { return listener_; }

 private:
  using Access = GroupAccess;
  // The actor's access to the group (audited when refused). `also` are
  // reads of the group's rows sent in the same round trip as the group's
  // (their results in *also_rows); they are used only once access is granted.
  core::Result<Access> RequireMember(const Actor& actor, int64_t group_id,
                                     const std::string& action, const std::string& object,
                                     std::vector<store::Statement> also = {},
                                     std::vector<store::ResultSet>* also_rows = nullptr);
  core::Result<Access> RequirePost(const Actor& actor, int64_t post_id, const std::string& action,
                                   Post* post, const std::string& object = {});
  core::Result<CareGroup> LoadGroup(int64_t group_id) const;
  core::Result<Post> LoadPost(int64_t post_id, int64_t* deleted_at) const;
  core::Status CheckConsent(int64_t patient_id, int64_t facility_id,
                            auth::Occupation occupation) const;
  std::vector<Member> LoadMembers(int64_t group_id) const;
  std::map<int64_t, std::vector<Member>> LoadMembersOf(const std::set<int64_t>& group_ids) const;
  std::string NameOf(int64_t user_id) const;
  // Group id -> its members.
  using MembersByGroup = std::map<int64_t, const std::vector<Member>*>;
  core::Result<CareGroup> GroupFromRows(const store::ResultSet& rs) const;
  std::map<int64_t, std::vector<Member>> MembersFromRows(const store::ResultSet& rs) const;
  void NameAuthors(std::vector<Post>& posts, const MembersByGroup& members) const;
  // Summaries of a page of posts (read state, "read by N of M", comment
  // counts, the viewer's pins); with `complete`, the posts' values, files and
  // author names are filled in too. One batch of statements for the page.
  core::Result<std::vector<PostSummary>> Summaries(int64_t viewer_id, std::vector<Post> posts,
                                                   const MembersByGroup& members,
                                                   bool complete = false);
  core::Result<std::vector<Attachment>> CheckFiles(const NewPost& post) const;
  void RemoveUnreferencedBlobs(const std::vector<std::string>& hashes);
  void Audit(const Actor& actor, const std::string& action, const std::string& object,
             const std::string& regional_id, const std::string& outcome = "success",
             const std::string& reason = {});
  void Notify(CareEvent::Kind kind, const Access& access, const Post& post, int64_t comment_id,
              int64_t actor_id = 0);

  store::Database& db_;
  const core::Clock& clock_;
  registry::PatientService& patients_;
  const consent::ConsentService& consents_;
  auth::AccountService& accounts_;
  audit::AuditLog& audit_;
  CareListener* listener_ = nullptr;
  bool approval_required_ = false;
  store::BlobStore* blobs_ = nullptr;
  size_t max_file_bytes_ = kDefaultFileMaxBytes;
  std::mutex file_write_mutex_;

  // Consent decisions (patient, viewer facility, family?) -> Ok/Forbidden.
  static constexpr int64_t kConsentCacheMillis = 1000;
  static constexpr size_t kConsentCacheEntries = 100000;
  struct ConsentKey {
    int64_t patient_id;
    int64_t facility_id;
    bool family;
    bool operator==(const ConsentKey&) const = default;
  };
  struct ConsentKeyHash {
    size_t operator()(const ConsentKey& k) const {
      return std::hash<int64_t>()(k.patient_id * 1000003 + k.facility_id * 2 + (k.family ? 1 : 0));
    }
  };
  core::EpochCache<ConsentKey, core::Status, ConsentKeyHash> consent_cache_{kConsentCacheMillis,
                                                                            kConsentCacheEntries};
};

}  // namespace tsunagu::care
