#pragma once
// FHIR JSON building blocks for the SS-MIX2 mapping (internal: Boost.JSON
// stays out of the public headers). Thread-safe, pure.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "hl7v2/message.hpp"

namespace tsunagu::ssmix2::internal {

// Appends compact JSON with decimals written the way people write them
// ("5.2", not "5.2E0"); strings are UTF-8 as is. AppendJsonString appends
// one quoted string.
void AppendJson(std::string& out, const boost::json::value& v);
void AppendJsonString(std::string& out, std::string_view s);

// FHIR code system URI for a JAHIS/HL7 coding system name (HOT, YJ, MDCDX2,
// I10, JC10, MR9P, JAMISDP01, HL70162, ...). Local tables ("99...") map to
// "urn:tsunagu:facility:<id>:codesystem:<name>", other unknown names to
// "urn:tsunagu:codesystem:<name>"; "" when `name` is empty or "ISO+". HOT without a number of
// digits is decided by the code length (7, 9 or 13).
std::string SystemUri(std::string_view name, std::string_view code, int64_t facility_id);

struct Code {
  std::string system;  // URI ("" = none sent)
  std::string code;
  std::string display;
};

// The codings of a CWE/CE value: identifier/text/system (components 1-3) and
// the alternate triple (4-6). `base` selects subcomponents instead when the
// CWE sits inside a component (e.g. TQ1-3.1, CQ units): base = component no.
std::vector<Code> CodesOf(const hl7v2::Segment& s, size_t field, size_t repetition,
                          int64_t facility_id, size_t component_base = 0);

boost::json::object CodingJson(const Code& c);
// {"coding": [...], "text": display of the first code}; nullopt when empty.
std::optional<boost::json::object> CodeableConcept(const std::vector<Code>& codes);
boost::json::object TextConcept(std::string_view text);
boost::json::object SystemCodeConcept(std::string_view system, std::string_view code,
                                      std::string_view display = {});

// The same written directly (what AppendJson writes of the objects above).
// AppendCodeableConcept writes nothing and returns false where
// CodeableConcept gives nullopt. ConceptTextOf is what a reader shows of
// that concept: its text, else its first coding's code.
bool AppendCodeableConcept(std::string& out, const std::vector<Code>& codes);
std::string ConceptTextOf(const std::vector<Code>& codes);
void AppendSystemCodeConcept(std::string& out, std::string_view system, std::string_view code,
                             std::string_view display = {});

// A decimal literal as a JSON number; nullopt when `text` is not one.
std::optional<boost::json::value> Decimal(std::string_view text);

}  // namespace tsunagu::ssmix2::internal
