// ssmix2_gen: writes a synthetic SS-MIX2 standardized storage tree.
//   ssmix2_gen --patients N --messages M [--seed S] [--facility CODE] [--updates PCT]
//              [--cancels PCT] --out DIR
#include <charconv>
#include <iostream>
#include <string>
#include <string_view>

#include "tools/ssmix2_gen/generator.hpp"

namespace {

constexpr const char* kUsage =
    "usage: ssmix2_gen --patients N --messages M [--seed S] [--facility CODE]\n"
    "                  [--updates PCT] [--cancels PCT] --out DIR\n";

bool ParseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  tsunagu::ssmix2gen::GeneratorOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "missing value for " << a << "\n" << kUsage;
      return 2;
    }
    std::string_view v = argv[++i];
    int64_t n = 0;
    bool numeric = ParseInt(v, n);
    if (a == "--out") {
      o.out = std::string(v);
    } else if (a == "--facility") {
      o.facility_code = std::string(v);
    } else if (!numeric) {
      std::cerr << "not a number: " << v << "\n" << kUsage;
      return 2;
    } else if (a == "--patients") {
      o.patients = n;
    } else if (a == "--messages") {
      o.messages = n;
    } else if (a == "--seed") {
      o.seed = static_cast<uint64_t>(n);
    } else if (a == "--updates") {
      o.update_percent = static_cast<int>(n);
    } else if (a == "--cancels") {
      o.cancel_percent = static_cast<int>(n);
    } else {
      std::cerr << "unknown option " << a << "\n" << kUsage;
      return 2;
    }
  }
  auto stats = tsunagu::ssmix2gen::GenerateTree(o);
  if (!stats) {
    std::cerr << "error: " << stats.error().message();
    if (!stats.error().detail().empty()) std::cerr << " (" << stats.error().detail() << ")";
    std::cerr << "\n";
    return stats.error().code() == tsunagu::core::Code::kInvalidInput ? 2 : 1;
  }
  std::cout << "files " << stats->files << ", updates " << stats->updates << ", cancellations "
            << stats->cancellations << "\n";
  for (const auto& [type, count] : stats->per_type)
    std::cout << "  " << type << " " << count << "\n";
  return 0;
}
