#include "documents/document_routes.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "audit/request_event.hpp"
#include "auth/principal_context.hpp"
#include "documents/document_service.hpp"
#include "http/json.hpp"
#include "http/router.hpp"
#include "registry/facility_service.hpp"

namespace tsunagu::documents {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

Response Fail(const core::Status& s) { return Response::Error(s); }

core::Result<clinical::ReadContext> ContextOf(const Request& req, const char* action) {
  const auth::Principal* p = auth::CurrentPrincipal(req);
  if (!p) return core::Unauthenticated("login required");
  clinical::ReadContext ctx;
  ctx.viewer = {p->user_id, p->facility_id, p->occupation, p->role};
  ctx.event = audit::EventFromRequest(req, action);
  return ctx;
}

std::string ContentUrl(const std::string& binary_id) {
  return "/api/v1/documents/" + binary_id + "/content";
}

json::object DocumentJson(const DocumentSummary& d) {
  return {{"id", d.id},
          {"binary_id", d.binary_id},
          {"content_url",
           d.binary_id.empty() ? json::value(nullptr) : json::value(ContentUrl(d.binary_id))},
          {"type_code", d.type_code},
          {"type_display", d.type_display},
          {"title", d.title},
          {"description", d.description},
          {"date", d.date},
          {"author", d.author},
          {"content_type", d.content_type},
          {"size", d.size},
          {"source_facility_id", d.source_facility_id},
          {"source_facility_name", d.source_facility_name}};
}

// RFC 5987 / RFC 6266: an ASCII fallback plus the UTF-8 name.
std::string ContentDisposition(const std::string& title, const std::string& content_type) {
  std::string ext = content_type == kPdf    ? ".pdf"
                    : content_type == kJpeg ? ".jpg"
                    : content_type == kPng  ? ".png"
                                            : ".json";
  std::string name = (title.empty() ? std::string("document") : title) + ext;
  std::string encoded;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0xF];
    }
  }
  return "inline; filename=\"document" + ext + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace

void RegisterDocumentRoutes(http::Router& r, DocumentDeps& d) {
  r.Post("/api/v1/patients/:rid/documents",
         [&d](Request& req) {
           auto writer = ContextOf(req, "document.create");
           if (!writer) return Fail(writer.error());
           NewDocument doc;
           doc.local_patient_id = req.QueryOr("local_id");
           doc.type_code = req.QueryOr("type_code");
           doc.type_display = req.QueryOr("type_display");
           doc.title = req.QueryOr("title");
           doc.description = req.QueryOr("description");
           doc.date = req.QueryOr("date");
           doc.author = req.QueryOr("author", auth::CurrentPrincipal(req)->display_name);
           doc.content_type = std::string(req.Header("content-type").value_or(""));
           doc.source_key = req.QueryOr("source_key");
           doc.content = std::move(req.body);
           auto stored = d.documents.CreateForPatient(*writer, req.Param("rid"), std::move(doc));
           if (!stored) return Fail(stored.error());
           DocumentSummary summary = DocumentService::SummaryOf(stored->reference);
           summary.source_facility_name = d.facilities.NameOf(summary.source_facility_id);
           return http::JsonResponse(stored->created ? 201 : 200, DocumentJson(summary));
         },
         {.body_limit = DocumentService::kMaxBytes});

  r.Get("/api/v1/patients/:rid/documents", [&d](Request& req) {
    auto reader = ContextOf(req, "clinical.read");
    if (!reader) return Fail(reader.error());
    int limit = 100;
    if (std::string s = req.QueryOr("limit"); !s.empty()) {
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
      if (ec != std::errc() || ptr != s.data() + s.size()) {
        return Fail(core::InvalidInput("limit must be a number"));
      }
    }
    auto list = d.documents.List(*reader, req.Param("rid"), limit, req.QueryOr("cursor"));
    if (!list) return Fail(list.error());
    json::array items;
    for (const auto& doc : list->items) items.push_back(DocumentJson(doc));
    return http::JsonResponse(
        200,
        json::object{{"items", std::move(items)},
                     {"next_cursor", list->next_cursor.empty() ? json::value(nullptr)
                                                               : json::value(list->next_cursor)},
                     {"total", list->total}});
  });

  r.Get("/api/v1/documents/:binary_id/content", [&d](Request& req) {
    auto reader = ContextOf(req, "document.read");
    if (!reader) return Fail(reader.error());
    auto content = d.documents.GetBinary(*reader, req.Param("binary_id"));
    if (!content) return Fail(content.error());
    Response res;
    res.status = 200;
    res.headers.Set("Content-Type", content->content_type);
    res.headers.Set("Content-Disposition",
                    ContentDisposition(content->title, content->content_type));
    res.headers.Set("X-Content-Type-Options", "nosniff");
    // Untrusted bytes: no scripts, no same-origin access. Framed only by our
    // own pages (the viewer dialog).
    res.headers.Set("Content-Security-Policy", "sandbox; frame-ancestors 'self'");
    res.headers.Set("X-Frame-Options", "SAMEORIGIN");
    res.headers.Set("Cache-Control", "private, no-store");
    res.body = std::move(content->bytes);
    return res;
  });
}

}  // namespace tsunagu::documents
