#pragma once
// HL7 acknowledgements (original mode) for the MLLP listener.
// Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "hl7v2/message.hpp"

namespace tsunagu::hl7v2 {

enum class AckCode {
  kAccept,  // AA: stored
  kError,   // AE: understood but could not be processed (e.g. unknown patient)
  kReject,  // AR: rejected (unsupported type, malformed content)
};
std::string_view ToString(AckCode code);  // "AA", "AE", "AR"

// Builds "MSH|...|ACK^<event>^ACK|...\rMSA|<code>|<MSH-10>|<text>\r" plus, for
// AE/AR, "ERR|||<HL7 error code>|E||||<text>\r". Sender and receiver are
// swapped from the original; MSH-11/12/18 are copied. `text` is escaped and
// must hold no patient data. The result is encoded in the original message's
// character set (ISO-2022-JP / Shift_JIS / UTF-8) so that the sender can read
// it; when `text` cannot be represented there it falls back to UTF-8 and
// MSH-18 "UNICODE UTF-8". Segments end with CR; no MLLP framing.
std::string BuildAck(const Message& message, AckCode code, std::string_view text,
                     const core::Clock& clock = core::SystemClock::Instance());

// An AR acknowledgement for bytes that Message::Parse rejected: delimiters,
// MSH-3..6, MSH-9.2, MSH-10, MSH-11, MSH-12 are taken from the raw header
// where readable (UTF-8, MSH-18 "UNICODE UTF-8" otherwise defaults).
std::string BuildRejectForUnparsed(std::string_view raw, std::string_view text,
                                   const core::Clock& clock = core::SystemClock::Instance());

}  // namespace tsunagu::hl7v2
