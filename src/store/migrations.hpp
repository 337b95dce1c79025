#pragma once
// Versioned schema migrations. Each module owns its tables and hands the
// composition root an ordered list of steps; step i of module m is applied
// once, in its own transaction, and recorded in schema_migrations(module,
// version), where version is the 1-based position of the step. Steps are
// portable SQL with the macros "{{ID}}", "{{BLOB}}" (see database.hpp),
// "{{SQLITE:...}}" and "{{POSTGRES:...}}" (see ExpandSqlMacros); a
// step may hold several statements separated by ';' (a ';' inside a string,
// comment or trigger body BEGIN ... END does not separate). Never edit or
// reorder a released step: append a new one.
//
// Several processes may start at once on the same database: each step is
// applied by exactly one of them (SQLite: BEGIN IMMEDIATE serialises;
// PostgreSQL: a transaction-level advisory lock, then a re-check).
#include <string>
#include <vector>

#include "store/database.hpp"

namespace tsunagu::store {

struct MigrationSet {
  std::string module;
  std::vector<std::string> steps;
};

// Applies every pending step, modules in the given order. Never re-applies a
// recorded step; a failing step is rolled back and reported (Internal, the
// message names module and version; earlier steps stay applied). An empty or
// repeated module name is InvalidInput and applies nothing.
Status ApplyMigrations(Database& db, const std::vector<MigrationSet>& sets);

// Splits a step into its statements (trimmed, empty ones dropped).
std::vector<std::string> SplitSqlStatements(const std::string& sql);

// Expands "{{ID}}"/"{{BLOB}}" for the dialect, and keeps the text of
// "{{SQLITE:...}}" / "{{POSTGRES:...}}" on that dialect only (e.g. an index
// that pays on one backend; the text must not contain "}}" nor other macros).
std::string ExpandSqlMacros(const std::string& sql, Dialect dialect);

}  // namespace tsunagu::store
