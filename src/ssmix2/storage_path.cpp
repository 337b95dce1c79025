#include "ssmix2/storage_path.hpp"

#include <array>
#include <vector>

#include "core/clock.hpp"

namespace tsunagu::ssmix2 {
namespace {

constexpr int64_t kJstOffsetMillis = 9LL * 3600 * 1000;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsIdChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int ToInt(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

bool ValidDate(int y, int m, int d) {
  if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1) return false;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= max;
}

core::Status CheckPatientId(std::string_view pid) {
  if (pid.size() < 6) return core::InvalidInput("patient ID must have at least 6 characters");
  if (pid.size() > 64) return core::InvalidInput("patient ID longer than 64 characters");
  for (char c : pid) {
    if (!IsIdChar(c)) return core::InvalidInput("patient ID must be ASCII letters and digits");
  }
  return core::Status::Ok();
}

core::Status CheckDate(std::string_view date) {
  if (date == "-") return core::Status::Ok();
  if (date.size() != 8 || !AllDigits(date)) {
    return core::InvalidInput("date must be YYYYMMDD or \"-\"");
  }
  if (!ValidDate(ToInt(date.substr(0, 4)), ToInt(date.substr(4, 2)), ToInt(date.substr(6, 2)))) {
    return core::InvalidInput("date is not a valid calendar date");
  }
  return core::Status::Ok();
}

}  // namespace

std::string StoragePath::PatientDir() const {
  return patient_id.substr(0, 3) + "/" + patient_id.substr(3, 3) + "/" + patient_id;
}

bool IsDataTypeShape(std::string_view t) {
  if (t.size() != 6 || t[3] != '-') return false;
  for (int i = 0; i < 3; ++i) {
    if (t[i] < 'A' || t[i] > 'Z') return false;
  }
  return AllDigits(t.substr(4));
}

core::Result<int64_t> ParseJstTimestamp(std::string_view s) {
  if (s.size() < 14 || s.size() > 17 || !AllDigits(s)) {
    return core::InvalidInput("timestamp must be YYYYMMDDHHMMSSfff");
  }
  int y = ToInt(s.substr(0, 4)), mo = ToInt(s.substr(4, 2)), d = ToInt(s.substr(6, 2));
  int h = ToInt(s.substr(8, 2)), mi = ToInt(s.substr(10, 2)), sec = ToInt(s.substr(12, 2));
  if (!ValidDate(y, mo, d) || h > 23 || mi > 59 || sec > 59) {
    return core::InvalidInput("timestamp is not a valid date and time");
  }
  int ms = 0;
  std::string_view frac = s.substr(14);
  for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  int64_t secs = core::DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  return secs * 1000 + ms - kJstOffsetMillis;
}

core::Result<StoragePath> ParseStorageFileName(std::string_view name) {
  auto parts = Split(name, '_');
  if (parts.size() != 7) {
    return core::InvalidInput("file name must have 7 fields separated by '_' (found " +
                              std::to_string(parts.size()) + ")");
  }
  StoragePath p;
  TSUNAGU_RETURN_IF_ERROR(CheckPatientId(parts[0]));
  p.patient_id = std::string(parts[0]);
  TSUNAGU_RETURN_IF_ERROR(CheckDate(parts[1]));
  p.date = std::string(parts[1]);
  if (!IsDataTypeShape(parts[2])) {
    return core::InvalidInput("data type must look like \"OML-11\"");
  }
  p.data_type = std::string(parts[2]);
  if (parts[3].empty()) return core::InvalidInput("order number is empty (use \"-\")");
  for (char c : parts[3]) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return core::InvalidInput("order number must be printable ASCII");
    }
  }
  p.order_number = std::string(parts[3]);
  if (parts[4].size() != 17) return core::InvalidInput("timestamp must be YYYYMMDDHHMMSSfff");
  TSUNAGU_ASSIGN_OR_RETURN(p.time_millis, ParseJstTimestamp(parts[4]));
  p.timestamp = std::string(parts[4]);
  if (parts[5].empty()) return core::InvalidInput("department is empty (use \"-\")");
  p.department = std::string(parts[5]);
  if (parts[6] == "1") {
    p.cancelled = false;
  } else if (parts[6] == "0") {
    p.cancelled = true;
  } else {
    return core::InvalidInput("condition flag must be 1 (valid) or 0 (cancelled)");
  }
  return p;
}

core::Result<StoragePath> ParseStoragePath(std::string_view relative) {
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  auto parts = Split(relative, '/');
  if (parts.size() != 6) {
    return core::InvalidInput(
        "path must be <pid[0:3]>/<pid[3:6]>/<pid>/<date>/<data type>/<file> below the root");
  }
  TSUNAGU_ASSIGN_OR_RETURN(StoragePath p, ParseStorageFileName(parts[5]));
  if (parts[2] != p.patient_id) {
    return core::InvalidInput("patient directory does not match the file name");
  }
  if (parts[0] != std::string_view(p.patient_id).substr(0, 3) ||
      parts[1] != std::string_view(p.patient_id).substr(3, 3)) {
    return core::InvalidInput("patient ID prefix directories do not match the patient ID");
  }
  if (parts[3] != p.date) return core::InvalidInput("date directory does not match the file name");
  if (parts[4] != p.data_type) {
    return core::InvalidInput("data type directory does not match the file name");
  }
  p.relative = std::string(relative);
  return p;
}

std::string StandardRelativePath(const StoragePath& p) {
  return p.PatientDir() + "/" + p.date + "/" + p.data_type + "/" + p.patient_id + "_" + p.date +
         "_" + p.data_type + "_" + p.order_number + "_" + p.timestamp + "_" + p.department + "_" +
         (p.cancelled ? "0" : "1");
}

}  // namespace tsunagu::ssmix2
