#pragma once
// Rewrites the portable '?' placeholders of store SQL into PostgreSQL's
// $1..$n. A '?' inside a string literal ('...', E'...'), a quoted identifier
// ("..."), a dollar-quoted body ($tag$...$tag$) or a comment (-- and nested
// /* */) is left alone. Pure function; thread-safe.
#include <string>
#include <string_view>

namespace tsunagu::store::internal {

struct RewrittenSql {
  std::string sql;
  int parameter_count = 0;
};

RewrittenSql RewritePlaceholders(std::string_view sql);

}  // namespace tsunagu::store::internal
