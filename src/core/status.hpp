#pragma once
// Status and Result<T>: the one error vocabulary of Tsunagu.
// A Status carries a protocol-free code, an external message (safe to show a
// client: no patient data) and an internal detail (for logs only).
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tsunagu::core {

enum class Code {
  kOk = 0,
  kInvalidInput,
  kNotFound,
  kConflict,
  kUnauthenticated,
  kForbidden,
  kUnavailable,
  kTooLarge,
  kInternal,
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string detail = {})
      : code_(code), message_(std::move(message)), detail_(std::move(detail)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Shown to the client.
  const std::string& message() const { return message_; }
  // Logged only.
  const std::string& detail() const { return detail_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string detail_;
};

inline Status InvalidInput(std::string m, std::string d = {}) {
  return {Code::kInvalidInput, std::move(m), std::move(d)};
}
inline Status NotFound(std::string m, std::string d = {}) {
  return {Code::kNotFound, std::move(m), std::move(d)};
}
inline Status Conflict(std::string m, std::string d = {}) {
  return {Code::kConflict, std::move(m), std::move(d)};
}
inline Status Unauthenticated(std::string m, std::string d = {}) {
  return {Code::kUnauthenticated, std::move(m), std::move(d)};
}
inline Status Forbidden(std::string m, std::string d = {}) {
  return {Code::kForbidden, std::move(m), std::move(d)};
}
inline Status Unavailable(std::string m, std::string d = {}) {
  return {Code::kUnavailable, std::move(m), std::move(d)};
}
inline Status TooLarge(std::string m, std::string d = {}) {
  return {Code::kTooLarge, std::move(m), std::move(d)};
}
inline Status Internal(std::string m, std::string d = {}) {
  return {Code::kInternal, std::move(m), std::move(d)};
}

// Result<T>: a value or a non-ok Status; API shaped like std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}        // NOLINT
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    // An ok Status carries no value: turn the programming error into a real error.
    if (std::get<1>(v_).ok())
      v_.template emplace<1>(Code::kInternal, "internal error", "ok status used as Result error");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& error() const { return std::get<1>(v_); }
  Status status() const { return has_value() ? Status::Ok() : error(); }
  template <typename U>
  T value_or(U&& u) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(u));
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tsunagu::core

namespace tsunagu::core {
inline Status ToStatus(Status s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace tsunagu::core

// Propagate a non-ok Status (or a Result's error) out of the current function.
#define TSUNAGU_RETURN_IF_ERROR(expr)                                     \
  do {                                                                    \
    ::tsunagu::core::Status tsunagu_s_ = ::tsunagu::core::ToStatus(expr); \
    if (!tsunagu_s_.ok()) return tsunagu_s_;                              \
  } while (0)

// Statement only (expands to several statements); lhs may not contain a comma.
#define TSUNAGU_CONCAT_INNER(a, b) a##b
#define TSUNAGU_CONCAT(a, b) TSUNAGU_CONCAT_INNER(a, b)
#define TSUNAGU_ASSIGN_OR_RETURN(lhs, expr) \
  TSUNAGU_ASSIGN_OR_RETURN_IMPL(TSUNAGU_CONCAT(tsunagu_r_, __LINE__), lhs, expr)
#define TSUNAGU_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(tmp).value()
