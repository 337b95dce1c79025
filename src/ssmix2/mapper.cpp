#include "ssmix2/mapper.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/text.hpp"
#include "ssmix2/internal/fhir_json.hpp"
#include "ssmix2/internal/mapping.hpp"

namespace tsunagu::ssmix2 {
namespace internal {

boost::json::object MappingContext::SubjectRef() const {
  boost::json::object identifier;
  identifier["system"] = id_system;
  identifier["value"] = patient_id;
  boost::json::object ref;
  ref["identifier"] = std::move(identifier);
  return ref;
}

std::string MappingContext::OrderNumber(const hl7v2::Segment* orc,
                                        const hl7v2::Segment* obr) const {
  std::string from_file = core::Trim(source->order_number);
  if (!from_file.empty() && from_file != "-") return from_file;
  for (const hl7v2::Segment* s : {orc, obr}) {
    if (s == nullptr) continue;
    for (size_t field : {size_t{2}, size_t{3}}) {
      std::string v = core::Trim(s->Get(field));
      if (!v.empty()) return v;
    }
  }
  return "-";
}

clinical::ResourceRecord NewRecord(const MappingContext& ctx, std::string_view resource_type,
                                   clinical::Category category, std::string_view order_number,
                                   std::string_view item) {
  clinical::ResourceRecord r;
  r.resource_type = resource_type;
  r.source_facility_id = ctx.source->facility_id;
  r.local_patient_id = ctx.patient_id;
  r.source_key = ctx.data_type + "|" + std::string(order_number) + "|" + std::string(item);
  r.category = category;
  r.source_time = ctx.source_time;
  r.retracted = ctx.source->cancelled;
  return r;
}

void SetPrimaryCode(clinical::ResourceRecord& record, const std::vector<Code>& codes) {
  for (const Code& c : codes) {
    if (c.code.empty()) continue;
    record.code_system = c.system;
    record.code = c.code;
    record.display = c.display;
    return;
  }
  if (!codes.empty()) record.display = codes.front().display;
}

namespace {

// resourceType, meta and (except for a Patient) the identifier holding the
// source key, followed by `more_ids`; the object is left open.
std::string& WriteHead(const MappingContext& ctx, clinical::ResourceRecord& record,
                       std::string_view profile, const boost::json::array* more_ids) {
  const bool patient = record.resource_type == "Patient";
  const std::string source = "urn:tsunagu:facility:" + std::to_string(ctx.source->facility_id);
  std::string& out = record.json;
  out.clear();
  out.reserve(1024);
  out += "{\"resourceType\":";
  AppendJsonString(out, record.resource_type);
  out += ",\"meta\":{";
  if (!profile.empty()) {
    out += "\"profile\":[";
    AppendJsonString(out, profile);
    out += "],";
  }
  out += "\"source\":";
  AppendJsonString(out, source);
  out += '}';
  if (!patient) {
    // The source key doubles as a business identifier: resources of one
    // message can point at each other (DiagnosticReport.result) before the
    // store has assigned logical ids.
    out += ",\"identifier\":[{\"system\":";
    AppendJsonString(out, source + ":" + record.resource_type);
    out += ",\"value\":";
    AppendJsonString(out, record.source_key);
    out += '}';
    if (more_ids != nullptr) {
      for (const auto& id : *more_ids) {
        out += ',';
        AppendJson(out, id);
      }
    }
    out += ']';
  }
  return out;
}

}  // namespace

void Finish(const MappingContext& ctx, clinical::ResourceRecord& record, std::string_view profile,
            const boost::json::object& body) {
  const bool patient = record.resource_type == "Patient";
  const boost::json::value* body_ids = body.if_contains("identifier");
  if (body_ids != nullptr && !body_ids->is_array()) body_ids = nullptr;
  // Written straight: the head, then the body's other members in order.
  std::string& out =
      WriteHead(ctx, record, profile, body_ids != nullptr ? &body_ids->get_array() : nullptr);
  for (const auto& kv : body) {
    // The head's members are the head's (a mapper does not set them).
    if (kv.key() == "resourceType" || kv.key() == "meta") continue;
    if (!patient && kv.key() == "identifier") continue;
    out += ',';
    AppendJsonString(out, kv.key());
    out += ':';
    AppendJson(out, kv.value());
  }
  out += '}';
  if (ctx.summaries != nullptr) {
    ctx.summaries->push_back(
        {record.resource_type, record.source_key, clinical::Summarize(record, body)});
  }
}

std::string& BeginResource(const MappingContext& ctx, clinical::ResourceRecord& record,
                           std::string_view profile) {
  return WriteHead(ctx, record, profile, nullptr);
}

void EndResource(const MappingContext& ctx, clinical::ResourceRecord& record,
                 clinical::ResourceSummary summary) {
  record.json += '}';
  if (ctx.summaries != nullptr)
    ctx.summaries->push_back({record.resource_type, record.source_key, std::move(summary)});
}

core::Result<std::optional<hl7v2::Timestamp>> OptionalTime(std::string_view value,
                                                           std::string_view what) {
  if (core::Trim(value).empty()) return std::optional<hl7v2::Timestamp>();
  TSUNAGU_ASSIGN_OR_RETURN(hl7v2::Timestamp t, hl7v2::ParseTimestamp(value, what));
  return std::optional<hl7v2::Timestamp>(std::move(t));
}

}  // namespace internal

namespace {

using Mapper =
    core::Result<std::vector<clinical::ResourceRecord>> (*)(const internal::MappingContext&);

struct Route {
  std::string_view type;
  std::string_view event;
  Mapper mapper;
};

// Which mapper reads which message (MSH-9.1 ^ MSH-9.2).
constexpr Route kRoutes[] = {
    {"ADT", "A08", internal::MapPatient},          {"ADT", "A31", internal::MapPatient},
    {"ADT", "A60", internal::MapAllergies},        {"ADT", "A04", internal::MapEncounter},
    {"ADT", "A01", internal::MapEncounter},        {"ADT", "A03", internal::MapEncounter},
    {"PPR", "ZD1", internal::MapConditions},       {"PPR", "PC1", internal::MapConditions},
    {"RDE", "O11", internal::MapMedicationOrders}, {"RAS", "O17", internal::MapMedicationRecords},
    {"OUL", "R22", internal::MapLabResults},       {"OML", "O33", internal::MapServiceRequests},
    {"OML", "O21", internal::MapServiceRequests},  {"OMG", "O19", internal::MapServiceRequests},
    {"OMI", "O23", internal::MapServiceRequests},  {"OMI", "Z23", internal::MapServiceRequests},
    {"ORU", "R01", internal::MapReports},
};

bool IsInjectionRoute(std::string_view route) {
  static constexpr std::string_view kInjection[] = {"IV", "IVP", "IVC", "IM", "SC", "ID",
                                                    "IA", "IT",  "IO",  "EP", "IS"};
  return std::find(std::begin(kInjection), std::end(kInjection), route) != std::end(kInjection);
}

// SS-MIX2 data type of a message when the storage path did not say.
std::string InferDataType(const hl7v2::Message& m) {
  const std::string_view type = m.Type();
  const std::string_view event = m.Event();
  auto injection = [&] {
    if (m.Find("RXC") != nullptr) return true;
    for (const hl7v2::Segment* rxr : m.FindAll("RXR"))
      if (IsInjectionRoute(rxr->Get(1))) return true;
    return false;
  };
  if (type == "ADT") {
    if (event == "A60") return "ADT-61";
    if (event == "A04") return "ADT-12";
    if (event == "A01") return "ADT-22";
    if (event == "A03") return "ADT-52";
    return "ADT-00";
  }
  if (type == "PPR") return "PPR-01";
  if (type == "RDE") return injection() ? "OMP-02" : "OMP-01";
  if (type == "RAS") return injection() ? "OMP-12" : "OMP-11";
  if (type == "OUL") return "OML-11";
  if (type == "OML") return "OML-01";
  if (type == "OMI") return event == "Z23" ? "OMG-11" : "OMG-01";
  if (type == "OMG") return "OMG-02";
  if (type == "ORU") return "OMG-11";
  return std::string(type) + "-" + std::string(event);
}

// PID-3: the repetition typed "PI" (patient internal ID), else the first.
std::string PatientIdFromPid(const hl7v2::Segment& pid) {
  const size_t reps = pid.Repetitions(3);
  for (size_t r = 0; r < reps; ++r)
    if (pid.Get(3, 5, 1, r) == "PI") return core::Trim(pid.Get(3, 1, 1, r));
  return core::Trim(pid.Get(3, 1, 1, 0));
}

}  // namespace

namespace {

core::Result<std::vector<clinical::ResourceRecord>> Map(
    const hl7v2::Message& message, const SourceContext& context,
    std::vector<internal::MappingContext::Summarized>* summaries) {
  const std::string_view type = message.Type();
  const std::string_view event = message.Event();
  Mapper mapper = nullptr;
  for (const Route& r : kRoutes)
    if (r.type == type && r.event == event) mapper = r.mapper;
  if (mapper == nullptr) {
    std::string name;
    for (char c : std::string(type) + "^" + std::string(event))
      name.push_back(static_cast<unsigned char>(c) < 0x80 ? c : '?');
    return core::InvalidInput("unsupported message type " + name);
  }

  internal::MappingContext ctx;
  ctx.message = &message;
  ctx.source = &context;
  ctx.summaries = summaries;
  ctx.pid = message.Find("PID");
  if (ctx.pid == nullptr) return core::InvalidInput("message has no PID segment");

  const std::string from_pid = PatientIdFromPid(*ctx.pid);
  const std::string from_path = core::Trim(context.patient_id);
  if (!from_path.empty() && !from_pid.empty() && from_path != from_pid)
    return core::InvalidInput("PID-3 patient ID does not match the storage path");
  ctx.patient_id = from_path.empty() ? from_pid : from_path;
  if (ctx.patient_id.empty()) return core::InvalidInput("PID-3 patient ID is empty");
  if (ctx.patient_id.find('|') != std::string::npos)
    return core::InvalidInput("PID-3 patient ID contains '|'");

  const std::string facility_code = core::Trim(context.facility_code);
  ctx.id_system =
      facility_code.empty()
          ? "urn:tsunagu:facility:" + std::to_string(context.facility_id) + ":patient-id"
          : "urn:oid:1.2.392.100495.20.3.51.1" + facility_code;

  TSUNAGU_ASSIGN_OR_RETURN(std::optional<hl7v2::Timestamp> msh7,
                           internal::OptionalTime(message.Header().Get(7), "MSH-7"));
  if (msh7) ctx.message_time = msh7->fhir;
  if (context.file_time != 0) {
    ctx.source_time = context.file_time;
  } else if (msh7) {
    ctx.source_time = msh7->millis_utc;
  } else {
    return core::InvalidInput("MSH-7 message date/time is empty");
  }
  if (ctx.message_time.empty()) {
    // "2024-04-01T01:30:00.000Z" -> "2024-04-01T01:30:00Z"
    std::string iso = core::FormatIsoUtc(ctx.source_time);
    ctx.message_time = iso.substr(0, 19) + "Z";
  }

  ctx.data_type = core::Trim(context.data_type);
  if (ctx.data_type.empty()) ctx.data_type = InferDataType(message);

  TSUNAGU_ASSIGN_OR_RETURN(std::vector<clinical::ResourceRecord> records, mapper(ctx));
  if (records.empty())
    return core::InvalidInput("message " + std::string(type) + "^" + std::string(event) +
                              " holds nothing to map");
  return records;
}

}  // namespace

core::Result<std::vector<clinical::ResourceRecord>> MapMessage(const hl7v2::Message& message,
                                                               const SourceContext& context) {
  return Map(message, context, nullptr);
}

core::Result<MappedMessage> MapMessageSummarized(const hl7v2::Message& message,
                                                 const SourceContext& context) {
  std::vector<internal::MappingContext::Summarized> summaries;
  TSUNAGU_ASSIGN_OR_RETURN(std::vector<clinical::ResourceRecord> records,
                           Map(message, context, &summaries));
  MappedMessage out;
  out.summaries.reserve(records.size());
  // Each mapper finishes a record just before it adds it to its list, so
  // the summaries come in the records' order; a record whose summary is not
  // at its place (none today) is summarized from its JSON.
  for (size_t i = 0; i < records.size(); ++i) {
    const clinical::ResourceRecord& r = records[i];
    if (summaries.size() == records.size() && summaries[i].resource_type == r.resource_type &&
        summaries[i].source_key == r.source_key) {
      out.summaries.push_back(std::move(summaries[i].summary));
    } else {
      out.summaries.push_back(clinical::Summarize(r));
    }
  }
  out.records = std::move(records);
  return out;
}

}  // namespace tsunagu::ssmix2
