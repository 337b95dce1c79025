#pragma once
// Clinical documents: referral letters (診療情報提供書), discharge summaries
// (退院時サマリー), reports and scanned images, shared as a FHIR
// DocumentReference (in the clinical ResourceStore, category "document", so
// the timeline, the FHIR API and the access check read it like any other
// clinical resource) plus its Binary: the bytes in the content-addressed
// BlobStore and one row of this module's own table "document_binaries"
// (binary id -> blob SHA-256, content type, size, DocumentReference id).
// Binary rows never go into the "resources" table, so a document is listed
// once. docs/documents.md describes the model for operators and integrators.
//
// Access: reading goes through TimelineService (consent x occupation x
// category, audited there as "clinical.resource"); this service adds its own
// audit entries "document.create" and "document.read"/"document.list".
// Audit entries never carry titles, descriptions or content.
//
// Thread-safety: safe to share between threads (stateless over the database
// and the blob store). Ownership: borrows every collaborator; they must
// outlive the service.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "audit/audit_log.hpp"
#include "clinical/resource_store.hpp"
#include "clinical/timeline_service.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/blob_store.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace tsunagu::registry {
class PatientService;
}

namespace tsunagu::documents {

inline constexpr const char* kLoincSystem = "http://loinc.org";

// The document types the network names (LOINC). Others are accepted with a
// display text.
struct DocumentType {
  const char* code;
  const char* display;  // Japanese
};
const std::vector<DocumentType>& KnownDocumentTypes();

// The four content types a document may have.
inline constexpr const char* kPdf = "application/pdf";
inline constexpr const char* kFhirJson = "application/fhir+json";
inline constexpr const char* kJpeg = "image/jpeg";
inline constexpr const char* kPng = "image/png";

struct NewDocument {
  std::string local_patient_id;         // the writer facility's local patient ID
  std::string type_code, type_display;  // LOINC; display may be "" for a known code
  std::string title, description;       // title "" = the type's display
  std::string date;                     // YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(+09:00|Z)
  std::string author;                   // author name as written ("" allowed)
  std::string content_type;             // kPdf | kFhirJson | kJpeg | kPng (parameters ignored)
  std::string content;                  // the bytes
  std::string source_key;               // idempotency key; "" = the content's SHA-256
};

struct StoredDocument {
  clinical::StoredResource reference;  // the DocumentReference (json carries its id)
  std::string binary_id;
  bool created = false;  // false: the same document was stored before (unchanged)
};

struct BinaryContent {
  std::string content_type;
  std::string bytes;
  std::string document_reference_id;
  std::string title;  // the attachment title (a file name for downloads)
};

// One line of a patient's document list.
struct DocumentSummary {
  std::string id;         // DocumentReference id
  std::string binary_id;  // "" when the content is not stored here
  std::string type_code, type_display;
  std::string title, description, date, author, content_type;
  int64_t size = 0;
  int64_t source_facility_id = 0;
  std::string source_facility_name;
};

struct DocumentList {
  std::vector<DocumentSummary> items;  // newest first
  std::string next_cursor;             // "" on the last page
  int64_t total = 0;
};

class DocumentService {
 public:
  static constexpr size_t kMaxBytes = 32 * 1024 * 1024;
  static constexpr size_t kMaxTitle = 200;         // bytes
  static constexpr size_t kMaxDescription = 2000;  // bytes
  static constexpr size_t kMaxAuthor = 200;        // bytes
  static constexpr size_t kMaxSourceKey = 200;     // bytes

  DocumentService(clinical::ResourceStore& resources, store::BlobStore& blobs,
                  const clinical::TimelineService& timeline, audit::AuditLog& audit,
                  store::Database& db, const core::Clock& clock,
                  const registry::PatientService& patients);
  static store::MigrationSet Migrations();

  // Stores a document of writer.viewer.facility_id's local patient
  // doc.local_patient_id. Validates the content against its type (PDF:
  // "%PDF-" header and "%%EOF" in the last 1 KiB; FHIR Document Bundle: a JSON
  // Bundle of type "document" whose first entry is a Composition; JPEG/PNG:
  // their signatures), size, type code, date and field lengths, then writes
  // the blob, the binary row and the DocumentReference (status current,
  // subject = the local patient, content.attachment {contentType, url
  // "Binary/<binary_id>", size, hash (base64 SHA-1), title, creation}) with
  // source_key "DOC|<source_key>". The same source_key with the same content
  // returns the stored document (created = false); with other content it is
  // Conflict (a replacement needs a new key). Audit action "document.create"
  // (also for refusals). Errors: InvalidInput (bad field or content; nothing
  // stored), TooLarge (over kMaxBytes), Forbidden (no facility, the network
  // secretariat, or an occupation that may not see documents), Conflict,
  // Internal (storage or audit failure).
  core::Result<StoredDocument> Create(const clinical::ReadContext& writer, const NewDocument& doc);

  // Create for a regional patient: the writer's facility must have a local
  // patient ID linked to that patient (its first link is used when
  // doc.local_patient_id is ""). NotFound for an unknown patient; Forbidden
  // when the facility has no link (the message says to register the patient
  // at the facility first); otherwise as Create.
  core::Result<StoredDocument> CreateForPatient(const clinical::ReadContext& writer,
                                                const std::string& regional_id, NewDocument doc);

  // The content of Binary/<binary_id> after the same access check as its
  // DocumentReference (TimelineService::GetResource: consent + occupation +
  // category, audited as "clinical.resource"), then audit action
  // "document.read". NotFound when unknown or not visible to the reader;
  // Internal when the blob is missing or damaged.
  core::Result<BinaryContent> GetBinary(const clinical::ReadContext& reader,
                                        const std::string& binary_id) const;

  // The documents of a regional patient the reader may see (the timeline's
  // check and audit, category document), newest first. limit 1..200.
  core::Result<DocumentList> List(const clinical::ReadContext& reader,
                                  const std::string& regional_id, int limit = 100,
                                  const std::string& cursor = "") const;

  // Pure: the list line of a stored DocumentReference (source_facility_name
  // left empty).
  static DocumentSummary SummaryOf(const clinical::StoredResource& stored);

  // Pure: Ok when the bytes are what `content_type` (one of the four types,
  // parameters ignored) says; otherwise InvalidInput saying why not.
  static core::Status ValidateContent(const std::string& content_type, const std::string& bytes);

 private:
  struct BinaryRow;
  core::Result<BinaryRow> FindBinary(const std::string& binary_id) const;
  core::Result<std::string> FindReferenceId(int64_t facility_id,
                                            const std::string& source_key) const;
  core::Status Record(const clinical::ReadContext& ctx, const std::string& action,
                      const std::string& patient_id, const std::string& object,
                      const std::string& outcome, const std::string& reason) const;
  std::string RegionalIdOf(int64_t facility_id, const std::string& local_id) const;

  clinical::ResourceStore& resources_;
  store::BlobStore& blobs_;
  const clinical::TimelineService& timeline_;
  audit::AuditLog& audit_;
  store::Database& db_;
  const core::Clock& clock_;
  const registry::PatientService& patients_;
};

}  // namespace tsunagu::documents
