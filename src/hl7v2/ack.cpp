#include "hl7v2/ack.hpp"

#include <cctype>
#include <cstdio>
#include <optional>
#include <vector>

#include "core/text.hpp"
#include "hl7v2/timestamp.hpp"

namespace tsunagu::hl7v2 {
namespace {

struct AckHeader {
  Delimiters d;
  std::string sending_app, sending_facility, receiving_app, receiving_facility;  // original's
  std::string event, control_id, processing_id, version, charset;
};

std::string ControlIdFor(int64_t millis) {
  char ms[8];
  std::snprintf(ms, sizeof ms, "%03d", static_cast<int>(((millis % 1000) + 1000) % 1000));
  return "A" + FormatHl7Jst(millis) + ms;
}

std::string Render(const AckHeader& h, AckCode code, std::string_view text, int64_t now) {
  const Delimiters& d = h.d;
  const std::string f(1, d.field);
  const std::string c(1, d.component);
  std::string out = "MSH" + f + d.component + d.repetition + d.escape + d.subcomponent;
  auto field = [&](std::string_view v) {
    out += f;
    out += v;
  };
  field(h.receiving_app);
  field(h.receiving_facility);
  field(h.sending_app);
  field(h.sending_facility);
  field(FormatHl7Jst(now));
  field("");
  field("ACK" + c + h.event + c + "ACK");
  field(ControlIdFor(now));
  field(h.processing_id.empty() ? "P" : h.processing_id);
  // Literals go through Escape(): a sender may pick "." as its escape character.
  field(h.version.empty() ? Escape("2.5", d) : h.version);
  if (!h.charset.empty()) {
    for (int i = 13; i < 18; ++i) field("");
    field(h.charset);
  }
  out += '\r';
  const std::string escaped = Escape(text, d);
  out += "MSA" + f + std::string(ToString(code)) + f + h.control_id + f + escaped + '\r';
  if (code != AckCode::kAccept) {
    const std::string err = code == AckCode::kError
                                ? "207" + c + "Application internal error" + c + "HL70357"
                                : "200" + c + "Unsupported message type" + c + "HL70357";
    out += "ERR" + f + f + f + err + f + "E" + f + f + f + f + escaped + '\r';
  }
  return out;
}

bool IsPrintableAscii(std::string_view s) {
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u >= 0x7F) return false;
  }
  return true;
}

}  // namespace

std::string_view ToString(AckCode code) {
  switch (code) {
    case AckCode::kAccept:
      return "AA";
    case AckCode::kError:
      return "AE";
    case AckCode::kReject:
      return "AR";
  }
  return "AR";
}

std::string BuildAck(const Message& message, AckCode code, std::string_view text,
                     const core::Clock& clock) {
  const Segment& msh = message.Header();
  AckHeader h;
  h.d = message.delimiters();
  h.sending_app = msh.Raw(3);
  h.sending_facility = msh.Raw(4);
  h.receiving_app = msh.Raw(5);
  h.receiving_facility = msh.Raw(6);
  h.event = msh.RawPart(9, 0, 2);
  h.control_id = msh.Raw(10);
  h.processing_id = msh.Raw(11);
  h.version = msh.Raw(12);
  h.charset = msh.Raw(18);
  const int64_t now = clock.NowMillis();
  std::string ack = Render(h, code, text, now);
  std::optional<std::string> encoded;
  switch (message.Encoding()) {
    case TextEncoding::kUtf8:
      return ack;
    case TextEncoding::kIso2022Jp:
      encoded = core::EncodeIso2022Jp(ack);
      break;
    case TextEncoding::kShiftJis:
      encoded = core::EncodeShiftJis(ack);
      break;
  }
  if (encoded) return *encoded;
  h.charset = "UNICODE UTF-8";
  return Render(h, code, text, now);
}

std::string BuildRejectForUnparsed(std::string_view raw, std::string_view text,
                                   const core::Clock& clock) {
  AckHeader h;
  size_t first = raw.find_first_not_of("\r\n \t");
  if (first != std::string_view::npos) raw.remove_prefix(first);
  std::string_view line = raw.substr(0, raw.find_first_of("\r\n"));
  if (line.substr(0, 3) == "MSH" && line.size() >= 8) {
    Delimiters d;
    d.field = line[3];
    d.component = line[4];
    d.repetition = line[5];
    d.escape = line[6];
    d.subcomponent = line[7];
    const char all[] = {d.field, d.component, d.repetition, d.escape, d.subcomponent};
    bool ok = true;
    for (size_t i = 0; i < 5 && ok; ++i) {
      auto u = static_cast<unsigned char>(all[i]);
      ok = u > 0x20 && u < 0x7F && !std::isalnum(u);
      for (size_t j = i + 1; j < 5 && ok; ++j) ok = all[i] != all[j];
    }
    if (ok) {
      h.d = d;
      std::vector<std::string_view> parts;
      size_t start = 4;
      while (start <= line.size()) {
        size_t end = line.find(d.field, start);
        if (end == std::string_view::npos) end = line.size();
        parts.push_back(line.substr(start, end - start));
        start = end + 1;
      }
      // parts[0] is MSH-2; parts[n - 2] is MSH-n.
      auto get = [&](size_t n) -> std::string {
        if (n < 2 || n - 2 >= parts.size()) return {};
        std::string_view v = parts[n - 2];
        if (!IsPrintableAscii(v) || v.find(d.escape) != std::string_view::npos) return {};
        return std::string(v);
      };
      h.sending_app = get(3);
      h.sending_facility = get(4);
      h.receiving_app = get(5);
      h.receiving_facility = get(6);
      std::string type = get(9);
      size_t c1 = type.find(d.component);
      if (c1 != std::string::npos) {
        size_t c2 = type.find(d.component, c1 + 1);
        h.event = type.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
      }
      h.control_id = get(10);
      h.processing_id = get(11);
      h.version = get(12);
    }
  }
  if (!IsPrintableAscii(text)) h.charset = "UNICODE UTF-8";
  return Render(h, AckCode::kReject, text, clock.NowMillis());
}

}  // namespace tsunagu::hl7v2
