// libFuzzer entry point: any bytes must either parse or fail with a Status;
// a parsed message must survive every accessor and an ACK round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/clock.hpp"
#include "hl7v2/ack.hpp"
#include "hl7v2/message.hpp"
#include "hl7v2/timestamp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsunagu;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  static const core::FakeClock clock;
  auto parsed = hl7v2::Message::Parse(raw);
  if (!parsed) {
    (void)hl7v2::BuildRejectForUnparsed(raw, "malformed", clock);
    return 0;
  }
  const hl7v2::Message& m = *parsed;
  for (const hl7v2::Segment& s : m.segments()) {
    for (size_t f = 1; f <= s.FieldCount() + 1; ++f) {
      for (size_t r = 0; r < s.Repetitions(f) + 1; ++r) {
        (void)s.Get(f, 1, 1, r);
        (void)s.Get(f, 2, 2, r);
      }
    }
  }
  (void)hl7v2::ParseTimestamp(m.Header().Get(7), "MSH-7");
  std::string ack = hl7v2::BuildAck(m, hl7v2::AckCode::kError, "fuzz", clock);
  auto reparsed = hl7v2::Message::Parse(ack);
  if (!reparsed) __builtin_trap();  // our own ACKs must always parse
  return 0;
}
