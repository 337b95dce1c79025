#pragma once
// Synthetic SS-MIX2 standardized storage for tests and benchmarks: patients
// with Japanese names, visits, admissions, allergies, diseases, prescriptions
// and injections (orders and their execution), lab results with JLAC10 codes,
// radiology orders; some orders are updated (same order number, later
// timestamp) and some cancelled (condition flag 0). Messages are HL7 v2.5 per
// JAHIS, ISO-2022-JP encoded, one per file. Deterministic for a seed.
// Not thread-safe (one generator per thread); writes only below `out`.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace tsunagu::ssmix2gen {

// A patient to generate data for (instead of a random one).
struct PatientSeed {
  std::string id;  // local patient ID
  std::string family, given, family_kana, given_kana;
  char sex = 'M';          // 'M' / 'F'
  std::string birth_date;  // YYYYMMDD
  std::string postcode, address, phone;
};

struct GeneratorOptions {
  int64_t patients = 10;
  int64_t messages = 100;  // total files, spread over the patients (>= 1 each)
  uint64_t seed = 1;
  std::string out;                           // storage root (created)
  std::string facility_code = "0711234569";  // MSH-4: 10-digit institution code
  int update_percent = 5;                    // share of orders re-issued with a later timestamp
  int cancel_percent = 2;                    // share of orders cancelled (file renamed to flag 0)
  std::vector<PatientSeed> given_patients;   // if set: exactly these patients (`patients` ignored)
};

struct GeneratorStats {
  int64_t files = 0;          // files in the tree at the end
  int64_t updates = 0;        // later versions of an order
  int64_t cancellations = 0;  // files with condition flag 0
  std::map<std::string, int64_t> per_type;
};

// Writes the tree. InvalidInput for bad options; Internal when a file
// cannot be written.
core::Result<GeneratorStats> GenerateTree(const GeneratorOptions& options);

}  // namespace tsunagu::ssmix2gen
