#include "fhir/fhir_routes.hpp"

#include <sodium.h>

#include <boost/json.hpp>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "documents/document_service.hpp"
#include "fhir/fhir_service.hpp"
#include "fhir/fhir_writer.hpp"
#include "fhir/operation_outcome.hpp"
#include "fhir/search_params.hpp"
#include "http/router.hpp"
#include "oauth/client_context.hpp"

namespace tsunagu::fhir {
namespace {

using http::Request;
using http::Response;

constexpr const char* kFhirJson = "application/fhir+json; charset=utf-8";
// Bundles may carry documents (base64) of up to 32 MiB.
constexpr size_t kBundleLimit = 48u << 20;
constexpr size_t kResourceLimit = 4u << 20;

Response Fhir(int status, std::string body) {
  Response r = Response::Json(status, std::move(body));
  r.headers.Set("Content-Type", kFhirJson);
  return r;
}

Response Outcome(const core::Status& status) {
  Response r = Fhir(HttpStatusFor(status), OperationOutcomeJson(status));
  if (status.code() == core::Code::kUnauthenticated) {
    r.headers.Set("WWW-Authenticate", "Bearer");
  }
  return r;
}

Response Answer(const FhirAnswer& a) {
  Response r = Fhir(a.status, a.json);
  if (!a.location.empty()) r.headers.Set("Location", a.location);
  return r;
}

// Only JSON is spoken: _format and Accept must allow it.
bool WantsOtherFormat(const Request& req) {
  const std::string format = req.QueryOr("_format");
  if (!format.empty() && format != "json" && format.find("json") == std::string::npos) return true;
  return false;
}

core::Result<clinical::ReadContext> ReaderOf(const Request& req) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("authentication required: a session or a bearer token");
  clinical::ReadContext ctx;
  ctx.viewer = {p->user_id, p->facility_id, p->occupation, p->role};
  ctx.event = audit::EventFromRequest(req, "fhir.read");
  if (ctx.event.user_name.empty()) ctx.event.user_name = p->display_name;
  return ctx;
}

core::Status CheckScope(const Request& req, std::string_view type, bool write) {
  const oauth::ClientGrant* client = oauth::CurrentClient(req);
  if (client && !client->Allows(type, write)) {
    return core::Forbidden("the token's scopes do not allow " +
                           std::string(write ? "writing " : "reading ") + std::string(type));
  }
  return core::Status::Ok();
}

// The types a request may write: a bearer token's scopes (the request
// outlives the write, so its grant is borrowed, not copied).
FhirWriter::TypePermission WritePermission(const Request& req) {
  const oauth::ClientGrant* client = oauth::CurrentClient(req);
  return [client](std::string_view type) { return !client || client->Allows(type, true); };
}

bool Strict(const Request& req) {
  auto prefer = req.Header("Prefer");
  return prefer && prefer->find("handling=strict") != std::string_view::npos;
}

// Runs a handler that needs a reader, mapping every error to an OperationOutcome.
template <typename F>
http::Handler Guarded(F f) {
  return [f](Request& req) -> Response {
    if (WantsOtherFormat(req)) {
      return Fhir(406,
                  OperationOutcomeJson({{"error", "not-supported", "only JSON is supported", ""}}));
    }
    auto reader = ReaderOf(req);
    if (!reader) return Outcome(reader.error());
    core::Result<Response> r = f(req, *reader);
    if (!r) return Outcome(r.error());
    return std::move(*r);
  };
}

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace

void RegisterFhirRoutes(http::Router& router, FhirDeps& deps) {
  FhirDeps* d = &deps;

  router.Get("/fhir/metadata",
             [d](Request&) { return Fhir(200, d->service.CapabilityStatement()); });

  router.Get("/fhir/Patient",
             Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
               TSUNAGU_RETURN_IF_ERROR(CheckScope(req, "Patient", false));
               auto params = ParseQueryString(req.target);
               TSUNAGU_ASSIGN_OR_RETURN(SearchParams p, ParsePatientSearch(params, Strict(req)));
               TSUNAGU_ASSIGN_OR_RETURN(std::string bundle, d->service.SearchPatients(reader, p));
               return Fhir(200, std::move(bundle));
             }));

  router.Get("/fhir/Patient/$ihe-pix",
             Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
               TSUNAGU_RETURN_IF_ERROR(CheckScope(req, "Patient", false));
               std::string source;
               std::vector<std::string> targets;
               for (auto& p : ParseQueryString(req.target)) {
                 if (p.name == "sourceIdentifier") source = p.value;
                 if (p.name == "targetSystem") {
                   size_t start = 0;
                   while (start <= p.value.size()) {
                     size_t comma = p.value.find(',', start);
                     if (comma == std::string::npos) comma = p.value.size();
                     if (comma > start) targets.push_back(p.value.substr(start, comma - start));
                     start = comma + 1;
                   }
                 }
               }
               if (source.empty()) return core::InvalidInput("sourceIdentifier is required");
               TSUNAGU_ASSIGN_OR_RETURN(std::string params,
                                        d->service.CrossReference(reader, source, targets));
               return Fhir(200, std::move(params));
             }));

  router.Get("/fhir/Patient/:id",
             Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
               TSUNAGU_RETURN_IF_ERROR(CheckScope(req, "Patient", false));
               TSUNAGU_ASSIGN_OR_RETURN(std::string patient,
                                        d->service.ReadPatient(reader, req.Param("id")));
               return Fhir(200, std::move(patient));
             }));

  router.Get("/fhir/Binary/:id",
             Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
               TSUNAGU_RETURN_IF_ERROR(CheckScope(req, "Binary", false));
               reader.event.action = "fhir.binary";
               TSUNAGU_ASSIGN_OR_RETURN(documents::BinaryContent content,
                                        d->documents.GetBinary(reader, req.Param("id")));
               const std::string accept(req.Header("Accept").value_or(""));
               const std::string format = req.QueryOr("_format");
               if (accept.find("fhir+json") != std::string::npos || !format.empty()) {
                 boost::json::object binary{
                     {"resourceType", "Binary"},
                     {"id", req.Param("id")},
                     {"contentType", content.content_type},
                     {"securityContext",
                      {{"reference", "DocumentReference/" + content.document_reference_id}}},
                     {"data", Base64(content.bytes)}};
                 std::string body = boost::json::serialize(binary);
                 return Fhir(200, std::move(body));
               }
               Response r;
               r.status = 200;
               r.body = std::move(content.bytes);
               r.headers.Set("Content-Type", content.content_type);
               r.headers.Set("Cache-Control", "private, no-store");
               r.headers.Set("X-Content-Type-Options", "nosniff");
               r.headers.Set("Content-Security-Policy", "sandbox");
               return r;
             }));

  router.Get("/fhir/:type",
             Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
               const std::string type = req.Param("type");
               const ResourceType* t = FindClinicalType(type);
               if (!t) return core::NotFound("resource type " + type + " is not served here");
               TSUNAGU_RETURN_IF_ERROR(CheckScope(req, type, false));
               auto params = ParseQueryString(req.target);
               TSUNAGU_ASSIGN_OR_RETURN(SearchParams p,
                                        ParseClinicalSearch(*t, params, Strict(req)));
               TSUNAGU_ASSIGN_OR_RETURN(std::string bundle, d->service.Search(reader, *t, p));
               return Fhir(200, std::move(bundle));
             }));

  router.Get("/fhir/:type/:id",
             Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
               const std::string type = req.Param("type");
               if (!FindClinicalType(type))
                 return core::NotFound("resource type " + type + " is not served here");
               TSUNAGU_RETURN_IF_ERROR(CheckScope(req, type, false));
               TSUNAGU_ASSIGN_OR_RETURN(std::string json,
                                        d->service.Read(reader, type, req.Param("id")));
               return Fhir(200, std::move(json));
             }));

  auto post_bundle = [d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
    reader.event.action = "fhir.write";
    TSUNAGU_ASSIGN_OR_RETURN(FhirAnswer answer,
                             d->writer.PostBundle(reader, req.body, WritePermission(req)));
    return Answer(answer);
  };
  router.Post("/fhir", Guarded(post_bundle), {kBundleLimit});
  router.Post("/fhir/Bundle", Guarded(post_bundle), {kBundleLimit});

  router.Post("/fhir/:type",
              Guarded([d](Request& req, clinical::ReadContext& reader) -> core::Result<Response> {
                const std::string type = req.Param("type");
                TSUNAGU_RETURN_IF_ERROR(CheckScope(req, type, true));
                reader.event.action = "fhir.write";
                TSUNAGU_ASSIGN_OR_RETURN(FhirAnswer answer, d->writer.Create(reader, type, req.body,
                                                                             WritePermission(req)));
                return Answer(answer);
              }),
              {kResourceLimit});

  // Everything else under /fhir answers as FHIR does.
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    router.Add(method, "/fhir/*rest", [method](Request&) {
      const bool get = std::string_view(method) == "GET";
      return Fhir(get ? 404 : 405,
                  OperationOutcomeJson(
                      {{"error", get ? "not-found" : "not-supported",
                        get ? "no such FHIR endpoint" : "this interaction is not supported", ""}}));
    });
  }
}

}  // namespace tsunagu::fhir
