#pragma once
// Identifier rules of the registry.
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tsunagu::registry {

// 10-digit medical institution code: prefecture (01-47), score table
// (1 medical, 3 dental, 4 pharmacy, 6 visiting nursing), 6-digit number and a
// check digit: modulus 10 over the 6 digits with weights 2,1,2,1,2,1 from the
// left, two-digit products summed digit by digit, check = (10 - sum % 10) % 10.
core::Status ValidateInstitutionCode(std::string_view code);
char InstitutionCheckDigit(std::string_view six_digits);

// Regional patient ID: 11 random digits + a Luhn check digit. Never derived
// from personal data.
std::string NewRegionalId();
bool IsValidRegionalId(std::string_view id);
char LuhnCheckDigit(std::string_view digits);

// "YYYY-MM-DD" of a real calendar date between 1880-01-01 and today+1y.
bool IsValidDate(std::string_view date);

}  // namespace tsunagu::registry
